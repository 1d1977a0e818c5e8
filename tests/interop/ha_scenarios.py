"""Master/slave replication scenarios (issue 10): one broker group, a master and a slave of either implementation.

The Java 4.9.8 producer of the store scenario (StoreCompat "store-write") sends to the master; the observations
are what a client sees of the *slave*: its commit log against the master's (byte for byte), every message read
back from it by queue offset (PULL_MESSAGE, slaveReadEnable=true) and a sample by key (QUERY_MESSAGE), the
metadata SlaveSynchronize copied (topics, consumer offsets, subscription groups, delayOffset.json), and, once
the slave is gone, what the master answers a send (SLAVE_NOT_AVAILABLE on a SYNC_MASTER).
"""

from __future__ import annotations

import json
import os
import re
import time
import zlib
from pathlib import Path
from typing import Any

from interop.harness import processes
from interop.harness.environment import InteropEnv
from interop.harness.raw_client import RawConnection
from rocketpy.store.config_files import loads_tolerant
from rocketpy.store.format import decode_records, parse_properties
from tests.interop import broker_scenarios as bs

BULK = int(os.environ.get("ROCKETPY_INTEROP_HA_BULK", "50000"))  # the acceptance's 50,000
TOPIC, GROUP, NEW_GROUP = "InteropStoreTopic", "interop_store_group", "interop_ha_group"
PROBE_TOPIC = "InteropHaProbe"
CONF = {
    "slaveReadEnable": "true",
    "haSendHeartbeatInterval": "1000",
    "messageDelayLevel": "1s 2s",
    # A loaded 2-core machine keeps the Java reference's SYNC_MASTER sends in its queue past the 200 ms default,
    # which it answers with [TIMEOUT_CLEAN_QUEUE] flow control; the replication is what is under test here.
    "waitTimeMillsInSendQueue": "10000",
}
SYNC_BOUND_S = 10 + 3 + 5  # SlaveSynchronize's period and first delay, and the time to see it


def _start(env: InteropEnv, kind: str, role: str, extra: dict[str, str]) -> None:
    conf = {**CONF, **extra}
    workdir = env.workdir / role
    server: Any
    if kind == "java":
        server = processes.start_java_broker(env.build, workdir, env.namesrv.addr, conf_extra=conf)
    else:
        server = processes.start_rocketpy_broker(workdir, env.namesrv.addr, conf_extra=conf)
    env.brokers[role] = server
    env.servers.append(server)


def _body(frame: Any) -> bytes:
    return bytes(frame.raw[8 + frame.header_length :])


def _call(addr: str, code: int, ext: dict[str, str] | None = None, body: bytes = b"") -> Any:
    conn = RawConnection(addr, timeout=10)
    try:
        frame = conn.call(code, ext, body, wait=10)
        assert frame is not None, f"no answer to {code} from {addr}"
        return frame
    finally:
        conn.close()


def _max_offset(addr: str) -> int:
    """commitLogMaxOffset of GET_BROKER_RUNTIME_INFO (-1 when the broker does not answer it yet)."""
    frame = _call(addr, 28)
    if frame.header()["code"] != 0 or not _body(frame):
        print(f"runtime info of {addr}: {frame.header()}")
        return -1
    return int(json.loads(_body(frame))["table"]["commitLogMaxOffset"])


def _log_bytes(store: Path, end: int) -> bytes:
    out = bytearray()
    for f in sorted((store / "commitlog").iterdir()):
        start = int(f.name)
        if start >= end:
            break
        with f.open("rb") as fh:
            out += fh.read(min(end - start, f.stat().st_size))
    return bytes(out)


def _text(body: bytes, flag: int) -> str:
    return (zlib.decompress(body) if flag & 1 else body).decode()


def _send(addr: str, properties: str, topic: str = TOPIC) -> dict[str, Any]:
    ext = {
        "producerGroup": "interop_ha_producer", "topic": topic, "defaultTopic": "TBW102",
        "defaultTopicQueueNums": "4", "queueId": "0", "sysFlag": "0", "bornTimestamp": "1700000000000",
        "flag": "0", "properties": properties, "reconsumeTimes": "0", "unitMode": "false", "batch": "false",
    }  # fmt: skip
    frame = _call(addr, 10, ext, b"ha")
    header = frame.header()
    remark = header["remark"]  # without the disk ratios of a SERVICE_NOT_AVAILABLE remark
    return {"code": header["code"], "remark": re.sub(r"\[CL:[^]]*\]", "[CL: ...]", remark) if remark else remark}


def _pull_all(addr: str, manifest: list[dict[str, Any]]) -> dict[str, Any]:
    expected = {(e["queueId"], e["queueOffset"]): e["i"] for e in manifest}
    served, delayed, mismatches, suggest, ends = 0, 0, [], set(), []
    conn = RawConnection(addr, timeout=10)
    try:
        for q in range(4):
            offset = 0
            while True:
                ext = {"consumerGroup": GROUP, "topic": TOPIC, "queueId": str(q), "queueOffset": str(offset),
                       "maxMsgNums": "32", "sysFlag": "4", "commitOffset": "0", "suspendTimeoutMillis": "0",
                       "subscription": "*", "subVersion": "0", "expressionType": "TAG"}  # fmt: skip
                frame = conn.call(11, ext, wait=10)
                assert frame is not None
                header = frame.header()
                ext_fields = header["extFields"] or {}
                suggest.add(ext_fields.get("suggestWhichBrokerId"))
                if header["code"] != 0:
                    ends.append([header["code"], header["remark"]])
                    break
                msgs = decode_records(_body(frame))
                for m in msgs:
                    i = expected.get((q, m.queue_offset))
                    body = _text(m.body, m.sys_flag)
                    if body == "ha":  # the delayed message, delivered to its real topic
                        delayed += 1
                        continue
                    keys = parse_properties(m.properties).get("KEYS")
                    if i is None or body != _store_body(i) or keys != f"skey-{i} sgroup-{i % 5}":
                        mismatches.append([q, m.queue_offset])
                served += len(msgs)

                offset = int(ext_fields["nextBeginOffset"])
    finally:
        conn.close()
    suggested = sorted(map(str, suggest))
    return {"served": served - delayed, "delayed": delayed, "mismatches": mismatches[:10], "ends": ends,
            "suggestWhichBrokerId": suggested}  # fmt: skip


def _store_body(i: int) -> str:
    from tests.interop.test_store_compat import _store_body as body

    return body(i)


def _by_key(addr: str, count: int) -> dict[str, Any]:
    sample = range(0, count, max(1, count // 40))
    found, mismatches = 0, []
    for i in sample:
        ext = {"topic": TOPIC, "key": f"skey-{i}", "maxNum": "32", "beginTimestamp": "0",
               "endTimestamp": str(2**62)}  # fmt: skip
        frame = _call(addr, 12, ext)
        msgs = decode_records(_body(frame)) if frame.header()["code"] == 0 else []
        if [_text(m.body, m.sys_flag) for m in msgs] != [_store_body(i)]:
            mismatches.append(i)
        found += len(msgs)
    return {"asked": len(sample), "found": found, "mismatches": mismatches[:10]}


def _metadata(slave: str, store: Path) -> dict[str, Any]:
    topics = loads_tolerant(_body(_call(slave, 21)).decode())["topicConfigTable"]
    offsets = loads_tolerant(_body(_call(slave, 43)).decode())["offsetTable"]
    groups = loads_tolerant(_body(_call(slave, 201)).decode())["subscriptionGroupTable"]
    delay = store / "config" / "delayOffset.json"
    return {
        "topic": {k: topics[TOPIC][k] for k in ("readQueueNums", "writeQueueNums", "perm")}
        if TOPIC in topics
        else None,
        "offsets": offsets.get(f"{TOPIC}@{GROUP}"),
        "group": NEW_GROUP in groups,
        "delayOffsets": delay.read_text() if delay.exists() else None,  # fastjson's, with bare number keys
    }


def replication(env: InteropEnv, master_kind: str, slave_kind: str, role: str) -> dict[str, Any]:
    """One group: master `master_kind` with brokerRole `role`, slave `slave_kind`; the slave's observations."""
    _start(env, master_kind, "broker", {"brokerRole": role})
    _start(env, slave_kind, "broker-slave", {"brokerId": "1", "brokerRole": "SLAVE"})
    master, slave = env.brokers["broker"].addr, env.brokers["broker-slave"].addr
    stores = {r: env.workdir / r / "store" for r in ("broker", "broker-slave")}
    out: dict[str, Any] = {}
    # The slave's HA client connects up to 5 s after it learned the master's address (Java's waitForRunning):
    # until then a SYNC_MASTER answers SLAVE_NOT_AVAILABLE. Probe messages on a topic of their own until it is
    # connected and has caught up, so that the observations do not depend on that moment.
    deadline = time.monotonic() + 30
    while _send(master, "", PROBE_TOPIC)["code"] != 0 and time.monotonic() < deadline:
        time.sleep(0.5)
    while _max_offset(slave) != _max_offset(master) and time.monotonic() < deadline:
        time.sleep(0.2)
    manifest = env.workdir / "store-manifest.json"
    began = time.monotonic()
    written = bs._run(env, "store-write", {"manifest": str(manifest), "count": str(BULK)})
    out["sendMs"] = int((time.monotonic() - began) * 1000)
    out["written"] = written
    group = {"groupName": NEW_GROUP, "consumeEnable": True, "consumeFromMinEnable": True,
             "consumeBroadcastEnable": True, "retryQueueNums": 1, "retryMaxTimes": 16, "brokerId": 0,
             "whichBrokerWhenConsumeSlowly": 1, "notifyConsumerIdsChangedEnable": True}  # fmt: skip
    out["createGroup"] = _call(master, 200, None, json.dumps(group).encode()).header()["code"]
    out["delayedSend"] = _send(master, "DELAY\x011\x02")
    changed = time.monotonic()

    deadline = time.monotonic() + 60
    end = _max_offset(master)
    while _max_offset(slave) != end and time.monotonic() < deadline:
        time.sleep(0.2)
        end = _max_offset(master)
    out["caughtUp"] = _max_offset(slave) == end
    # clusterList's source: GET_BROKER_CLUSTER_INFO (106) lists the group's master (0) and slave (1)
    info = loads_tolerant(_body(_call(env.namesrv.addr, 106)).decode())
    roles = {master: "<broker>", slave: "<broker-slave>"}
    addrs = info["brokerAddrTable"]["broker-a"]["brokerAddrs"]
    out["clusterInfo"] = {str(bid): roles.get(addr, addr) for bid, addr in sorted(addrs.items())}
    mlog, slog = _log_bytes(stores["broker"], end), _log_bytes(stores["broker-slave"], end)
    out["commitLog"] = {"identical": mlog == slog, "lengthsEqual": len(mlog) == len(slog) == end}

    entries = json.loads(manifest.read_text())
    expected_meta = {
        "topic": {"readQueueNums": 4, "writeQueueNums": 4, "perm": 6},
        "offsets": {q: q + 1 for q in range(4)},
        "group": True,
        "delayOffsets": '{"offsetTable":{1:1}}',
    }
    meta = _metadata(slave, stores["broker-slave"])
    while meta != expected_meta and time.monotonic() - changed < 40:
        time.sleep(0.5)
        meta = _metadata(slave, stores["broker-slave"])
    out["metadataMs"] = int((time.monotonic() - changed) * 1000)
    out["metadata"] = meta

    out["byQueueOffset"] = _pull_all(slave, entries)
    out["byKey"] = _by_key(slave, BULK)
    out["slaveRefusesSend"] = _send(slave, "")

    env.stop_broker("broker-slave")
    answer = _send(master, "")
    deadline = time.monotonic() + 10
    while role == "SYNC_MASTER" and answer["code"] == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = _send(master, "")
    out["sendWithoutSlave"] = answer
    return out
