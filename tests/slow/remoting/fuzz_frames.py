"""A seeded generator of hostile request frames for the NameServer and broker ports.

Each frame starts from a valid request of one request-code family (its header fields and, for the codes that parse
one, its body) and is mutated: header values of the wrong type or range, fields dropped or added, malformed or
mistyped JSON bodies, odd flags, versions and codes, in both serialisations (JSON and ROCKETMQ headers). Such frames
are well framed: the server must answer every one (or stay silent for a oneway). `fatal()` makes the byte-level
kind that ends a connection: truncated frames, oversized or negative length fields, header lengths past the frame,
unknown serialise types, random header bytes.

Identity values (topics, groups, keys, broker names) come from small pools so that the server's state stops
growing early and its memory can be compared between the first and the last third of a run.
"""

from __future__ import annotations

import json
import random
import struct
from collections.abc import Callable
from typing import Any

from rocketpy.broker.processors.send_support import encode_batch
from rocketpy.protocol.codes import RequestCode as C
from rocketpy.protocol.codes import SerializeType
from rocketpy.remoting.codec import encode
from rocketpy.remoting.command import ONEWAY_FLAG, RESPONSE_FLAG, RemotingCommand

TOPICS = ["FuzzT0", "FuzzT1", "FuzzT2", "TBW102", "%RETRY%FuzzG0", "%DLQ%FuzzG0", "RMQ_SYS_TRANS_HALF_TOPIC",
          "SCHEDULE_TOPIC_XXXX", "", "a" * 300, "bad topic!", "中文"]  # fmt: skip
GROUPS = ["FuzzG0", "FuzzG1", "CID_RMQ_SYS_TRANS", "", "g" * 300, "bad group!"]
BROKERS = ["FuzzBroker0", "FuzzBroker1", ""]
ADDRS = ["127.0.0.1:1", "10.0.0.1:10911", "nohost", "", ":", "1.2.3.4:99999"]
WEIRD = ["", "-1", "0", "2147483647", "2147483648", "-2147483649", "9223372036854775807", "9223372036854775808",
         "-9223372036854775809", "1e3", "1.5", "abc", "true", "false", "null", "0x10", " 1", "1 ", "١٢", "\x00",
         "%s%n", "{}", "[]", "中文", "\x01\x02", "a" * 1000, "99999999999999999999999999"]  # fmt: skip
PROPS = ["", "KEYS\x01k1\x02TAGS\x01TagA", "DELAY\x013", "DELAY\x0199", "TRAN_MSG\x01true\x02PGROUP\x01FuzzG0",
         "UNIQ_KEY\x01ABC\x02WAIT\x01false", "\x01\x02\x01", "KEYS", "MSG_TYPE\x01reply\x02CLUSTER\x01DefaultCluster",
         "REPLY_TO_CLIENT\x01nobody\x02CORRELATION_ID\x01x", "RETRY_TOPIC\x01FuzzT0\x02REAL_TOPIC\x01FuzzT1",
         "MAX_OFFSET\x01-5\x02MIN_OFFSET\x01x", "TRAN_PREPARED_QUEUE_OFFSET\x01q"]  # fmt: skip


def _num(r: random.Random) -> str:
    return str(r.choice([0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 100, 1 << 20, -1, r.randint(-(2**40), 2**40)]))


def _bool(r: random.Random) -> str:
    return r.choice(["true", "false"])


Gen = Callable[[random.Random], Any]
V: dict[str, Gen] = {
    "topic": lambda r: r.choice(TOPICS),
    "group": lambda r: r.choice(GROUPS),
    "broker": lambda r: r.choice(BROKERS),
    "addr": lambda r: r.choice(ADDRS),
    "num": _num,
    "bool": _bool,
    "props": lambda r: r.choice(PROPS),
    "ts": lambda r: str(r.choice([0, 1700000000000, 4102444800000, -1])),
    "str": lambda r: r.choice(["k", "FuzzKey", "", "x" * 200, "中文"]),
    "expr": lambda r: r.choice(["*", "TagA || TagB", "a > 1", "", "(((", "TAG", "SQL92"]),
    "msgid": lambda r: r.choice(["0A0000010000000000000000", "", "zz", "7F0000010000270F0000000000000000"]),
}

# code: ({field: value kind}, body kind or None)
HEADER_SEND = {"producerGroup": "group", "topic": "topic", "defaultTopic": "topic", "defaultTopicQueueNums": "num",
               "queueId": "num", "sysFlag": "num", "bornTimestamp": "ts", "flag": "num", "properties": "props",
               "reconsumeTimes": "num", "unitMode": "bool", "batch": "bool", "maxReconsumeTimes": "num"}  # fmt: skip
HEADER_SEND_V2 = dict(zip("abcdefghijklm", HEADER_SEND.values(), strict=True))
HEADER_PULL = {"consumerGroup": "group", "topic": "topic", "queueId": "num", "queueOffset": "num", "maxMsgNums": "num",
               "sysFlag": "num", "commitOffset": "num", "suspendTimeoutMillis": "num", "subscription": "expr",
               "subVersion": "num", "expressionType": "expr"}  # fmt: skip
GQ = {"consumerGroup": "group", "topic": "topic", "queueId": "num"}
TQ = {"topic": "topic", "queueId": "num"}
BROKER_ID = {"brokerName": "broker", "brokerAddr": "addr", "clusterName": "str", "brokerId": "num"}

NAMESRV: dict[int, tuple[dict[str, str], str | None]] = {
    C.PUT_KV_CONFIG: ({"namespace": "str", "key": "str", "value": "str"}, None),
    C.GET_KV_CONFIG: ({"namespace": "str", "key": "str"}, None),
    C.DELETE_KV_CONFIG: ({"namespace": "str", "key": "str"}, None),
    C.GET_KVLIST_BY_NAMESPACE: ({"namespace": "str"}, None),
    C.REGISTER_BROKER: ({**BROKER_ID, "haServerAddr": "addr", "compressed": "bool"}, "register"),
    C.UNREGISTER_BROKER: (BROKER_ID, None),
    C.QUERY_DATA_VERSION: (BROKER_ID, "dataversion"),
    C.GET_ROUTEINFO_BY_TOPIC: ({"topic": "topic", "acceptStandardJsonOnly": "bool"}, None),
    C.GET_BROKER_CLUSTER_INFO: ({}, None),
    C.WIPE_WRITE_PERM_OF_BROKER: ({"brokerName": "broker"}, None),
    C.ADD_WRITE_PERM_OF_BROKER: ({"brokerName": "broker"}, None),
    C.GET_ALL_TOPIC_LIST_FROM_NAMESERVER: ({}, None),
    C.DELETE_TOPIC_IN_NAMESRV: ({"topic": "topic"}, None),
    C.GET_TOPICS_BY_CLUSTER: ({"cluster": "str"}, None),
    C.GET_SYSTEM_TOPIC_LIST_FROM_NS: ({}, None),
    C.GET_UNIT_TOPIC_LIST: ({}, None),
    C.GET_HAS_UNIT_SUB_TOPIC_LIST: ({}, None),
    C.GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST: ({}, None),
    C.UPDATE_NAMESRV_CONFIG: ({}, "properties"),
    C.GET_NAMESRV_CONFIG: ({}, None),
}

BROKER: dict[int, tuple[dict[str, str], str | None]] = {
    C.SEND_MESSAGE: (HEADER_SEND, "message"),
    C.SEND_MESSAGE_V2: (HEADER_SEND_V2, "message"),
    C.SEND_BATCH_MESSAGE: (HEADER_SEND_V2, "batch"),
    C.SEND_REPLY_MESSAGE_V2: (HEADER_SEND_V2, "message"),
    C.PULL_MESSAGE: (HEADER_PULL, None),
    C.QUERY_MESSAGE: (
        {"topic": "topic", "key": "str", "maxNum": "num", "beginTimestamp": "ts", "endTimestamp": "ts"},
        None,
    ),
    C.QUERY_CONSUMER_OFFSET: (GQ, None),
    C.UPDATE_CONSUMER_OFFSET: ({**GQ, "commitOffset": "num"}, None),
    C.UPDATE_AND_CREATE_TOPIC: (
        {
            "topic": "topic",
            "defaultTopic": "topic",
            "readQueueNums": "num",
            "writeQueueNums": "num",
            "perm": "num",
            "topicFilterType": "expr",
            "topicSysFlag": "num",
            "order": "bool",
        },
        None,
    ),
    C.GET_ALL_TOPIC_CONFIG: ({}, None),
    C.GET_BROKER_CONFIG: ({}, None),
    C.UPDATE_BROKER_CONFIG: ({}, "properties"),
    C.GET_BROKER_RUNTIME_INFO: ({}, None),
    C.SEARCH_OFFSET_BY_TIMESTAMP: ({**TQ, "timestamp": "ts"}, None),
    C.GET_MAX_OFFSET: (TQ, None),
    C.GET_MIN_OFFSET: (TQ, None),
    C.GET_EARLIEST_MSG_STORETIME: (TQ, None),
    C.VIEW_MESSAGE_BY_ID: ({"offset": "num"}, None),
    C.HEART_BEAT: ({}, "heartbeat"),
    C.UNREGISTER_CLIENT: ({"clientID": "str", "producerGroup": "group", "consumerGroup": "group"}, None),
    C.CONSUMER_SEND_MSG_BACK: (
        {
            "offset": "num",
            "group": "group",
            "delayLevel": "num",
            "originMsgId": "msgid",
            "originTopic": "topic",
            "unitMode": "bool",
            "maxReconsumeTimes": "num",
        },
        None,
    ),
    C.END_TRANSACTION: (
        {
            "producerGroup": "group",
            "tranStateTableOffset": "num",
            "commitLogOffset": "num",
            "commitOrRollback": "num",
            "fromTransactionCheck": "bool",
            "msgId": "msgid",
            "transactionId": "str",
        },
        None,
    ),
    C.GET_CONSUMER_LIST_BY_GROUP: ({"consumerGroup": "group"}, None),
    C.LOCK_BATCH_MQ: ({}, "lock"),
    C.UNLOCK_BATCH_MQ: ({}, "lock"),
    C.GET_ALL_CONSUMER_OFFSET: ({}, None),
    C.GET_ALL_DELAY_OFFSET: ({}, None),
    C.CHECK_CLIENT_CONFIG: ({}, "clientconfig"),
    C.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP: ({}, "subgroup"),
    C.GET_ALL_SUBSCRIPTIONGROUP_CONFIG: ({}, None),
    C.GET_TOPIC_STATS_INFO: ({"topic": "topic"}, None),
    C.GET_CONSUMER_CONNECTION_LIST: ({"consumerGroup": "group"}, None),
    C.GET_PRODUCER_CONNECTION_LIST: ({"producerGroup": "group"}, None),
    C.DELETE_SUBSCRIPTIONGROUP: ({"groupName": "group", "removeOffset": "bool"}, None),
    C.GET_CONSUME_STATS: ({"consumerGroup": "group", "topic": "topic"}, None),
    C.DELETE_TOPIC_IN_BROKER: ({"topic": "topic"}, None),
    C.INVOKE_BROKER_TO_RESET_OFFSET: ({"topic": "topic", "group": "group", "timestamp": "ts", "isForce": "bool"}, None),
    C.INVOKE_BROKER_TO_GET_CONSUMER_STATUS: ({"topic": "topic", "group": "group", "clientAddr": "addr"}, None),
    C.QUERY_TOPIC_CONSUME_BY_WHO: ({"topic": "topic"}, None),
    C.QUERY_CONSUME_TIME_SPAN: ({"topic": "topic", "group": "group"}, None),
    C.GET_SYSTEM_TOPIC_LIST_FROM_BROKER: ({}, None),
    C.GET_CONSUMER_RUNNING_INFO: ({"consumerGroup": "group", "clientId": "str", "jstackEnable": "bool"}, None),
    C.CONSUME_MESSAGE_DIRECTLY: (
        {"consumerGroup": "group", "clientId": "str", "msgId": "msgid", "brokerName": "broker"},
        None,
    ),
    C.CLONE_GROUP_OFFSET: ({"srcGroup": "group", "destGroup": "group", "topic": "topic", "offline": "bool"}, None),
    C.VIEW_BROKER_STATS_DATA: ({"statsName": "str", "statsKey": "str"}, None),
    C.GET_BROKER_CONSUME_STATS: ({"isOrder": "bool", "timeoutMillis": "num"}, None),
    C.QUERY_CONSUME_QUEUE: ({**GQ, "index": "num", "count": "num"}, None),
    C.RESUME_CHECK_HALF_MESSAGE: ({"msgId": "msgid"}, None),
    C.GET_ALL_PRODUCER_INFO: ({}, None),
    C.QUERY_CORRECTION_OFFSET: ({"topic": "topic", "compareGroup": "group", "filterGroups": "group"}, None),
}


def _json(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def _mq(r: random.Random) -> dict[str, Any]:
    return {"topic": V["topic"](r), "brokerName": V["broker"](r), "queueId": r.randint(-1, 9)}


BODIES: dict[str, Callable[[random.Random], bytes]] = {
    "message": lambda r: r.choice([b"hello", b"", b"\x00" * 64, r.randbytes(r.randint(1, 300))]),
    "batch": lambda r: encode_batch(
        (r.randint(0, 3), r.randbytes(r.randint(0, 40)), V["props"](r)) for _ in range(r.randint(1, 4))
    ),
    "register": lambda r: _json(
        {
            "topicConfigSerializeWrapper": {
                "topicConfigTable": {
                    t: {
                        "topicName": t,
                        "readQueueNums": r.randint(-1, 16),
                        "writeQueueNums": 4,
                        "perm": r.randint(0, 7),
                        "order": False,
                    }
                    for t in r.sample(TOPICS, 2)
                },
                "dataVersion": {"timestamp": r.randint(0, 2**40), "counter": r.randint(-1, 100)},
            },
            "filterServerList": r.choice([[], ["1.2.3.4:1"], None]),
        }
    ),
    "dataversion": lambda r: _json({"timestamp": r.randint(0, 2**40), "counter": r.randint(-1, 100)}),
    "properties": lambda r: r.choice([b"fuzzNoSuchKey=1\n", b"=\n=", b"\xff\xfe", b"a.b.c=\\u12zz\n", b""]),
    "heartbeat": lambda r: _json(
        {
            "clientID": r.choice(["fuzz@1", "", None]),
            "producerDataSet": [{"groupName": V["group"](r)}],
            "consumerDataSet": [
                {
                    "groupName": V["group"](r),
                    "consumeType": r.choice(["CONSUME_PASSIVELY", "NOPE", 3]),
                    "messageModel": r.choice(["CLUSTERING", "BROADCASTING", None]),
                    "consumeFromWhere": "CONSUME_FROM_LAST_OFFSET",
                    "unitMode": False,
                    "subscriptionDataSet": [
                        {
                            "topic": V["topic"](r),
                            "subString": V["expr"](r),
                            "tagsSet": ["TagA"],
                            "codeSet": [1],
                            "subVersion": r.randint(-1, 9),
                            "expressionType": r.choice(["TAG", "SQL92", "XYZ"]),
                        }
                    ],
                }
            ],
        }
    ),
    "lock": lambda r: _json(
        {
            "consumerGroup": V["group"](r),
            "clientId": "fuzz@1",
            "mqSet": [_mq(r) for _ in range(r.randint(0, 3))],
            "onlyThisBroker": False,
        }
    ),
    "clientconfig": lambda r: _json(
        {
            "clientID": "fuzz@1",
            "group": V["group"](r),
            "subscriptionData": {
                "topic": V["topic"](r),
                "subString": V["expr"](r),
                "expressionType": r.choice(["TAG", "SQL92", None]),
            },
        }
    ),
    "subgroup": lambda r: _json(
        {
            "groupName": V["group"](r),
            "consumeEnable": r.choice([True, False, "x"]),
            "retryQueueNums": r.randint(-1, 3),
            "retryMaxTimes": r.randint(-1, 20),
            "brokerId": 0,
            "whichBrokerWhenConsumeSlowly": 1,
        }
    ),
}


def _malformed_body(r: random.Random, valid: bytes) -> bytes:
    kind = r.randrange(8)
    if kind == 0 and valid:
        return valid[: r.randrange(len(valid))]  # truncated JSON
    if kind == 1:
        return r.choice([b"[]", b"1", b"null", b'"x"', b"true", b"{}", b'{"a":'])
    if kind == 2:
        return b"[" * 5000 + b"]" * 5000  # deep nesting
    if kind == 3:
        return b"\xff\xfe\xfa" + valid  # invalid UTF-8
    if kind == 4:
        return valid.replace(b":", b":[", 1) if valid else b"{"
    if kind == 5:  # values of the wrong JSON type
        return re_typed(r, valid)
    if kind == 6:
        return r.randbytes(r.randint(0, 200))
    return valid + b"garbage"


def re_typed(r: random.Random, valid: bytes) -> bytes:
    try:
        doc = json.loads(valid)
    except ValueError:
        return valid
    replacement = r.choice([None, "str", -1, 2**70, 1.5, [], {}, [1, 2], True])

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (replacement if r.random() < 0.3 else walk(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return _json(walk(doc))


class FrameFuzzer:
    def __init__(self, seed: int, templates: dict[int, tuple[dict[str, str], str | None]]) -> None:
        self.r = random.Random(seed)
        self.templates = templates
        self.codes = sorted(templates)
        self.all_codes = [int(c) for c in C]

    def command(self) -> RemotingCommand:
        r = self.r
        roll = r.random()
        if roll < 0.88:
            code = r.choice(self.codes)
        elif roll < 0.97:
            code = r.choice(self.all_codes)
        else:
            code = r.choice([0, -1, 9999, 2**31 - 1, -(2**31), r.randint(0, 1000)])
        fields, body_kind = self.templates.get(code, ({}, None))
        ext: dict[str, str] = {}
        for name, kind in fields.items():
            if r.random() < 0.06:
                continue  # a required field missing
            ext[name] = r.choice(WEIRD) if r.random() < 0.2 else V[kind](r)
        if r.random() < 0.05:
            ext[r.choice(["zz", "topic", "queueId", "", "中"])] = r.choice(WEIRD)
        body = None
        if body_kind is not None and r.random() < 0.95:
            body = BODIES[body_kind](r)
            if r.random() < 0.35:
                body = _malformed_body(r, body)
        elif r.random() < 0.05:
            body = r.randbytes(r.randint(1, 100))
        cmd = RemotingCommand.request(code, ext if ext or r.random() < 0.5 else None, body)
        if r.random() < 0.05:
            cmd.flag |= ONEWAY_FLAG
        if r.random() < 0.01:
            cmd.flag |= RESPONSE_FLAG  # a "response" that matches no request
        if r.random() < 0.05:
            cmd.version = r.choice([-1, 0, 2**31 - 1, r.randint(0, 500)])
        if r.random() < 0.03:
            cmd.remark = r.choice(WEIRD)
        cmd.opaque = r.randint(0, 2**31 - 1)
        short = all(-(2**15) <= v < 2**15 for v in (cmd.code, cmd.version))  # int16 in the ROCKETMQ header
        cmd.serialize_type = SerializeType.ROCKETMQ if short and r.random() < 0.5 else SerializeType.JSON
        return cmd

    def frame(self) -> bytes:
        return encode(self.command())

    def huge(self) -> bytes:
        """Three frames near the 16 MiB limit: a 12 MiB body, extFields value and remark."""
        big = 12 * 1024 * 1024
        body, ext, remark = self.command(), self.command(), self.command()
        body.body = self.r.randbytes(big)
        ext.ext_fields = {name: "v" * big for name in list(ext.ext_fields or {"topic": ""})[:1]}
        remark.remark = "r" * big
        return b"".join(encode(c) for c in (body, ext, remark))

    def fatal(self) -> bytes:
        """A frame that is not one: the server must close the connection (or wait for more bytes)."""
        r = self.r
        valid = self.frame()
        kind = r.randrange(7)
        if kind == 0:
            return valid[: r.randint(1, len(valid) - 1)]  # truncated, then the connection closes
        if kind == 1:
            return struct.pack(">i", r.choice([16 * 1024 * 1024 - 3, 2**31 - 1, 1 << 28])) + valid[4:]
        if kind == 2:
            return struct.pack(">i", r.choice([-1, -(2**31), -4])) + valid[4:]
        if kind == 3:  # header length past the frame
            return valid[:4] + struct.pack(">i", (valid[4] << 24) | 0xFFFFFF) + valid[8:]
        if kind == 4:  # unknown serialise type
            return valid[:4] + bytes([r.choice([2, 3, 0x7F, 0xFF])]) + valid[5:]
        if kind == 5:  # random header bytes in a well-formed frame
            header = r.randbytes(r.randint(0, 60))
            return struct.pack(">ii", 4 + len(header), (r.randint(0, 1) << 24) | len(header)) + header
        data = bytearray(valid)  # bytes flipped anywhere after the length prefix
        for _ in range(r.randint(1, 6)):
            data[r.randrange(4, len(data))] = r.randrange(256)
        return bytes(data)
