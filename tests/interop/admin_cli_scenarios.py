"""⇄ `rocketpy admin` against `mqadmin`: the same command lines through both CLIs, outputs compared after
normalisation (addresses, the per-CLI object names, times and rates).

Both CLIs act on one server, one after the other: first every mqadmin step (one driver JVM, MQAdminStartup.main0),
then every `rocketpy admin` step (one process each, as a script would run it). Each phase creates its own topics
and groups (names ending in `Mq` / `Py`) and removes them, and restores what it changed (orderMessageEnable, write
permission), so that both phases start from the same server state.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import trio

from interop.harness import mqadmin_output
from interop.harness.driver import run_admin_steps, run_driver
from interop.harness.environment import DEFAULT_BROKER, DEFAULT_CLUSTER, InteropEnv
from rocketpy.admin import main as admin_main
from tests.interop.online_consumer import OnlineConsumer

# A group with committed offsets and no client online, and its topic: the driver's "offsets-before" scenario
# (Restarts.java) leaves them behind before the two phases.
CONSUMED_GROUP = "interop_restart_consumer"
CONSUMED_TOPIC = "InteropRestartTopic"
# A Java push consumer kept online on CONSUMED_TOPIC through both phases (HeldConsumer.java): consumerStatus asks
# it for its running info, and the last step of each phase resets its offsets to the start (the client then
# consumes the 40 messages again).
HELD_GROUP = "interop_admin_held_consumer"
HELD_PRODUCER_GROUP = "interop_admin_held_producer"
REBALANCE_EVERY_SECOND = "-Drocketmq.client.rebalance.waitInterval=1000"
# The topic of the message look-ups: one message with a key and a tag in queue 1, sent before both phases.
MSG_TOPIC = "AdminMsgLookupTopic"
NO_SUCH_ID = "0123456789ABCDEF0123456789ABCDEF"
# A trace topic holding one trace message (a Pub and a SubAfter record, as client.trace.TraceDataEncoder writes
# them) about the message id TRACED_ID, its key.
TRACE_TOPIC = "AdminMsgTraceTopic"
TRACED_ID = "7F00000100002A9F0000000000000001"
# One client online during both phases (tests/interop/online_consumer.py), its groups subscribed to MSG_TOPIC:
# offset 1 (past the message), offset 0, and no offset committed.
ONLINE_CLIENT = "127.0.0.1@AdminCliOnline"
TRACK_CONSUMED, TRACK_PENDING = "AdminTrackConsumedGroup", "AdminTrackPendingGroup"
TRACK_NO_OFFSET = "AdminTrackNoOffsetGroup"
# A topic (one queue) holding one message that queryMsgById -s true sends again ({rid}: its offset id).
RESEND_TOPIC = "AdminMsgResendTopic"
MSG_IDS: dict[str, str] = {}  # {mid}, {uid}, {rid} of the templates: set by prepare_messages for the server under test

# (label, how the output is compared, argv template). {ns} {br}: addresses; {T}/{G}: per-CLI topic/group prefix.
# Comparisons: text = exact; lines = sorted lines (Java HashSet/HashMap order); shape = text with times, ids and
# decimals (rates, hours since the first message) masked; config = "====X====" sections of key = value;
# status = brokerStatus keys with value shapes (rates masked); progress = shape with the #TPS column masked;
# totals = clusterList -m with the day's message counters masked (the other phase's sends are in them).
STEPS: list[tuple[str, str, str]] = [
    ("updateTopicCluster", "text", "updateTopic -n {ns} -c DefaultCluster -t {T}1 -r 3 -w 3"),
    ("updateTopicBroker", "text", "updateTopic -n {ns} -b {br} -t {T}2 -r 2 -w 2 -p 4"),
    ("updateTopicOrder", "text", "updateTopic -n {ns} -b {br} -t {T}3 -o true"),
    ("updateTopicNoCluster", "text", "updateTopic -n {ns} -c NoSuchCluster -t {T}4"),
    ("updateTopicIllegal", "text", "updateTopic -n {ns} -b {br} -t bad%topic!"),
    ("topicRoute", "text", "topicRoute -n {ns} -t {T}1"),
    ("topicRouteList", "text", "topicRoute -n {ns} -t {T}2 -l"),
    ("topicRouteMissing", "text", "topicRoute -n {ns} -t NoSuchAdminCliTopic"),
    (
        "sendMessage",
        "shape",
        f"sendMessage -n {{ns}} -t {{T}}1 -p hello-admin -k {{T}}Key -c TagA -b {DEFAULT_BROKER} -i 1",
    ),
    ("sendMessageNoBroker", "text", "sendMessage -n {ns} -t {T}1 -p hello -i 1"),
    ("sendMessageUnknownBroker", "text", "sendMessage -n {ns} -t {T}1 -p hello -b no-such-broker -i 0"),
    ("queryMsgByKey", "shape", "queryMsgByKey -n {ns} -t {T}1 -k {T}Key"),
    ("queryMsgByKeyMissing", "text", "queryMsgByKey -n {ns} -t {T}1 -k NoSuchKey"),
    ("queryMsgByKeyUnknownTopic", "text", "queryMsgByKey -n {ns} -t NoSuchAdminCliTopic -k NoSuchKey"),
    ("topicStatus", "shape", "topicStatus -n {ns} -t {T}1"),
    ("topicStatusMissing", "text", "topicStatus -n {ns} -t NoSuchAdminCliTopic"),
    ("topicClusterList", "lines", "topicClusterList -n {ns} -t {T}1"),
    ("topicList", "lines", "topicList -n {ns}"),
    ("topicListCluster", "lines", "topicList -n {ns} -c"),
    ("clusterList", "shape", "clusterList -n {ns}"),
    ("clusterListMore", "totals", "clusterList -n {ns} -m"),
    ("updateSubGroupCluster", "text", "updateSubGroup -n {ns} -c DefaultCluster -g {G}1"),
    ("getConsumerConfig", "text", "getConsumerConfig -n {ns} -g {G}1"),
    ("getConsumerConfigUnknown", "text", "getConsumerConfig -n {ns} -g NoSuchAdminCliGroup"),
    ("updateSubGroupBroker", "text", "updateSubGroup -n {ns} -b {br} -g {G}2 -r 5 -s false -d true -q 2 -i 1"),
    # export*: stdout and the JSON file written under -f ({F}: the CLI's own directory), compared normalised
    ("exportMetadata", "export", "exportMetadata -n {ns} -c DefaultCluster -f {F}/meta"),
    ("exportMetadataTopics", "export", "exportMetadata -n {ns} -c DefaultCluster -t -s -f {F}/metaTopics"),
    ("exportMetadataGroups", "export", "exportMetadata -n {ns} -c DefaultCluster -g -f {F}/metaGroups"),
    ("exportMetadataBrokerTopics", "export", "exportMetadata -n {ns} -b {br} -t -f {F}/brokerTopics"),
    ("exportMetadataBrokerGroups", "export", "exportMetadata -n {ns} -b {br} -g -f {F}/brokerGroups"),
    ("exportMetadataBrokerNothing", "text", "exportMetadata -n {ns} -b {br} -f {F}/nothing"),
    ("exportMetadataNoCluster", "export", "exportMetadata -n {ns} -c NoSuchCluster -f {F}/none"),
    ("exportConfigs", "export", "exportConfigs -n {ns} -c DefaultCluster -f {F}/configs"),
    ("exportConfigsNoCluster", "export", "exportConfigs -n {ns} -c NoSuchCluster -f {F}/configsNone"),
    ("exportMetrics", "export", "exportMetrics -n {ns} -c DefaultCluster -f {F}/metrics"),
    ("deleteSubGroupBroker", "text", "deleteSubGroup -n {ns} -b {br} -g {G}2 -r true"),
    ("deleteSubGroupCluster", "text", "deleteSubGroup -n {ns} -c DefaultCluster -g {G}1"),
    ("updateBrokerConfig", "text", "updateBrokerConfig -n {ns} -b {br} -k rejectTransactionMessage -v false"),
    (
        "updateBrokerConfigCluster",
        "text",
        "updateBrokerConfig -n {ns} -c DefaultCluster -k rejectTransactionMessage -v false",
    ),
    ("getBrokerConfig", "config", "getBrokerConfig -n {ns} -b {br}"),
    ("getBrokerConfigCluster", "config", "getBrokerConfig -n {ns} -c DefaultCluster"),
    ("brokerStatus", "status", "brokerStatus -n {ns} -b {br}"),
    ("getNamesrvConfig", "config", "getNamesrvConfig -n {ns}"),
    ("updateNamesrvConfig", "text", "updateNamesrvConfig -n {ns} -k orderMessageEnable -v true"),
    ("updateKvConfig", "text", "updateKvConfig -n {ns} -s {T}ns -k k1 -v v1"),
    ("deleteKvConfig", "text", "deleteKvConfig -n {ns} -s {T}ns -k k1"),
    # before wipe/addWritePerm: those change the NameServer's queue perms until the broker registers again
    ("updateTopicPermBroker", "text", "updateTopicPerm -n {ns} -b {br} -t {T}2 -p 6"),
    ("updateTopicPermSame", "text", "updateTopicPerm -n {ns} -b {br} -t {T}1 -p 6"),
    ("updateTopicPermCluster", "text", "updateTopicPerm -n {ns} -c DefaultCluster -t {T}2 -p 4"),
    ("updateTopicPermNotMaster", "text", "updateTopicPerm -n {ns} -b 127.0.0.1:1 -t {T}2 -p 2"),
    ("updateOrderConfPut", "text", "updateOrderConf -n {ns} -t {T}2 -m put -v broker-a:2"),
    ("updateOrderConfGet", "text", "updateOrderConf -n {ns} -t {T}2 -m get"),
    ("updateOrderConfDelete", "text", "updateOrderConf -n {ns} -t {T}2 -m delete"),
    ("updateOrderConfGetMissing", "text", "updateOrderConf -n {ns} -t {T}2 -m get"),
    ("wipeWritePerm", "text", f"wipeWritePerm -n {{ns}} -b {DEFAULT_BROKER}"),
    ("addWritePerm", "text", f"addWritePerm -n {{ns}} -b {DEFAULT_BROKER}"),
    ("wipeWritePermUnknown", "text", "wipeWritePerm -n {ns} -b no-such-broker"),
    ("deleteTopic1", "text", "deleteTopic -n {ns} -c DefaultCluster -t {T}1"),
    ("deleteTopic3", "text", "deleteTopic -n {ns} -c DefaultCluster -t {T}3"),
    ("deleteTopicNoCluster", "text", "deleteTopic -n {ns} -c NoSuchCluster -t {T}4"),
    ("deleteOrderConf", "text", "deleteKvConfig -n {ns} -s ORDER_TOPIC_CONFIG -k {T}3"),
    ("restoreOrderMessageEnable", "text", "updateNamesrvConfig -n {ns} -k orderMessageEnable -v false"),
    ("consumerProgressGroup", "shape", f"consumerProgress -n {{ns}} -g {CONSUMED_GROUP}"),
    ("consumerProgressAll", "progress", "consumerProgress -n {ns}"),
    ("consumerProgressUnknown", "text", "consumerProgress -n {ns} -g NoSuchAdminCliGroup"),
    ("consumerConnectionOffline", "text", f"consumerConnection -n {{ns}} -g {CONSUMED_GROUP}"),
    ("consumerConnectionOfflineBroker", "text", f"consumerConnection -n {{ns}} -g {CONSUMED_GROUP} -b {{br}}"),
    ("producerConnectionOffline", "text", f"producerConnection -n {{ns}} -g NoSuchAdminCliGroup -t {CONSUMED_TOPIC}"),
    ("allocateMQ", "text", f"allocateMQ -n {{ns}} -t {CONSUMED_TOPIC} -i 10.0.0.1,10.0.0.2,10.0.0.3"),
    ("allocateMQOne", "text", f"allocateMQ -n {{ns}} -t {CONSUMED_TOPIC} -i 10.0.0.9"),
    ("getConsumerConfigConsumed", "text", f"getConsumerConfig -n {{ns}} -g {CONSUMED_GROUP}"),
    # Statistics and offsets (issue 9, operations). statsAll: rates and the day's counters masked ("stats").
    ("statsAllTopic", "stats", f"statsAll -n {{ns}} -t {CONSUMED_TOPIC}"),
    ("statsAllActiveIdle", "text", "statsAll -n {ns} -a -t {T}2"),
    ("statsAll", "stats", "statsAll -n {ns}"),
    # once only: mqadmin's BrokerConsumeStatsSubCommad keeps its (shut down) admin client for a second run in one JVM
    ("brokerConsumeStats", "shape", "brokerConsumeStats -n {ns} -b {br} -l 0 -o false -t 10000"),
    ("producer", "producers", "producer -n {ns} -b {br}"),
    ("cleanExpiredCQ", "text", "cleanExpiredCQ -n {ns} -b {br}"),
    ("cleanExpiredCQCluster", "text", "cleanExpiredCQ -n {ns} -c DefaultCluster"),
    ("cleanExpiredCQNoCluster", "text", "cleanExpiredCQ -n {ns} -c NoSuchCluster"),
    # A per-CLI copy of CONSUMED_GROUP's offsets, moved back and forth with no client online (the old-client
    # fallback of resetOffsetByTime), then removed with its offsets, so that both phases leave the same state.
    ("cloneGroupOffset", "text", f"cloneGroupOffset -n {{ns}} -s {CONSUMED_GROUP} -d {{G}}Clone -t {CONSUMED_TOPIC}"),
    (
        "cloneGroupOffsetUnknown",
        "text",
        f"cloneGroupOffset -n {{ns}} -s NoSuchAdminCliGroup -d {{G}}Clone -t {CONSUMED_TOPIC}",
    ),
    ("resetOffsetByTimeOld", "text", f"resetOffsetByTime -n {{ns}} -g {{G}}Clone -t {CONSUMED_TOPIC} -s 0"),
    (
        "resetOffsetByTimeNoForce",
        "text",
        f"resetOffsetByTime -n {{ns}} -g {{G}}Clone -t {CONSUMED_TOPIC} -s now -f false",
    ),
    ("skipAccumulatedMessageOld", "text", f"skipAccumulatedMessage -n {{ns}} -g {{G}}Clone -t {CONSUMED_TOPIC}"),
    ("resetOffsetByTimeMissingTopic", "text", "resetOffsetByTime -n {ns} -g {G}Clone -t NoSuchAdminCliTopic -s now"),
    (
        "resetOffsetByTimeUnknownGroup",
        "text",
        f"resetOffsetByTime -n {{ns}} -g NoSuchAdminCliGroup -t {CONSUMED_TOPIC} -s now",
    ),
    (
        "skipAccumulatedUnknownGroup",
        "text",
        f"skipAccumulatedMessage -n {{ns}} -g NoSuchAdminCliGroup -t {CONSUMED_TOPIC}",
    ),
    ("deleteCloneGroup", "text", "deleteSubGroup -n {ns} -b {br} -g {G}Clone -r true"),
    ("consumerStatus", "files", f"consumerStatus -n {{ns}} -g {HELD_GROUP}"),
    ("consumerStatusBroker", "files", f"consumerStatus -n {{ns}} -g {HELD_GROUP} -b {{br}}"),
    ("consumerStatusClient", "running", f"consumerStatus -n {{ns}} -g {HELD_GROUP} -i {{cid}}"),
    ("consumerStatusOffline", "text", f"consumerStatus -n {{ns}} -g {CONSUMED_GROUP}"),
    ("consumerStatusUnknownClient", "text", f"consumerStatus -n {{ns}} -g {HELD_GROUP} -i 10.0.0.9@nobody"),
    ("deleteTopic2", "text", "deleteTopic -n {ns} -c DefaultCluster -t {T}2"),
    ("topicListAfter", "lines", "topicList -n {ns}"),
    # Broker maintenance codes (CLEAN_UNUSED_TOPIC 316, DELETE_EXPIRED_COMMITLOG 329): "success" from both servers.
    ("cleanUnusedTopic", "text", "cleanUnusedTopic -n {ns} -b {br}"),
    ("deleteExpiredCommitLog", "text", "deleteExpiredCommitLog -n {ns} -c DefaultCluster"),
    # Message look-ups (issue 9) of MSG_TOPIC's one message, sent before both phases ({mid}: its offset id, {uid}:
    # its unique key), and of CONSUMED_TOPIC's first message (its group is offline: a NOT_ONLINE track). The
    # TRACK_GROUPS of ONLINE_CLIENT are online on MSG_TOPIC: CONSUMED, NOT_CONSUME_YET and (no offsets) NOT_ONLINE.
    ("queryMsgById", "msg", "queryMsgById -n {ns} -i {mid}"),
    # -g/-d with the client online: the broker relays the message to it, its ConsumeMessageDirectlyResult printed
    ("queryMsgByIdDirect", "text", f"queryMsgById -n {{ns}} -i {{mid}} -g {TRACK_CONSUMED} -d {ONLINE_CLIENT}"),
    ("queryMsgByIdMissing", "text", "queryMsgById -n {ns} -i 0123"),
    # -s true: RESEND_TOPIC's message sent again by each phase (no other step reads that topic)
    ("queryMsgByIdResend", "rt", "queryMsgById -n {ns} -i {rid} -s true"),
    ("queryMsgByIdResendMissing", "text", "queryMsgById -n {ns} -i 0123 -s true"),
    # -g/-d: consume directly through the broker; no such client online (mqadmin prints the failure and exits 0)
    ("queryMsgByIdDirectOffline", "text", "queryMsgById -n {ns} -i {mid} -g NoSuchAdminCliGroup -d no-such-client"),
    ("queryMsgByUniqueKey", "msg", f"queryMsgByUniqueKey -n {{ns}} -t {MSG_TOPIC} -i {{uid}}"),
    ("queryMsgByUniqueKeyMissing", "text", f"queryMsgByUniqueKey -n {{ns}} -t {MSG_TOPIC} -i {NO_SUCH_ID}"),
    ("queryMsgByOffset", "msg", f"queryMsgByOffset -n {{ns}} -t {MSG_TOPIC} -b {DEFAULT_BROKER} -i 1 -o 0"),
    ("queryMsgByOffsetTrack", "msg", f"queryMsgByOffset -n {{ns}} -t {CONSUMED_TOPIC} -b {DEFAULT_BROKER} -i 0 -o 0"),
    ("printMsg", "msg", f"printMsg -n {{ns}} -t {MSG_TOPIC}"),
    ("printMsgTag", "msg", f"printMsg -n {{ns}} -t {MSG_TOPIC} -s TagB -d false"),
    ("printMsgUnknownTopic", "text", "printMsg -n {ns} -t NoSuchAdminCliTopic"),
    (
        "printMsgByQueue",
        "msg",
        f"printMsgByQueue -n {{ns}} -t {MSG_TOPIC} -a {DEFAULT_BROKER} -i 1 -p true -d true -f true",
    ),
    ("printMsgByQueueCount", "text", f"printMsgByQueue -n {{ns}} -t {CONSUMED_TOPIC} -a {DEFAULT_BROKER} -i 0 -f true"),
    ("queryCq", "text", f"queryCq -n {{ns}} -t {MSG_TOPIC} -q 1 -i 0"),
    ("consumeMessage", "msg", f"consumeMessage -n {{ns}} -t {MSG_TOPIC} -b {DEFAULT_BROKER} -i 1"),
    ("queryMsgTraceById", "msg", f"queryMsgTraceById -n {{ns}} -i {TRACED_ID} -t {TRACE_TOPIC}"),
    ("queryMsgTraceByIdNoTopic", "text", f"queryMsgTraceById -n {{ns}} -i {TRACED_ID}"),
    ("sendMsgStatus", "rt", f"sendMsgStatus -n {{ns}} -b {DEFAULT_BROKER} -c 2"),
    ("checkMsgSendRT", "rt", f"checkMsgSendRT -n {{ns}} -t {DEFAULT_BROKER} -a 3"),  # the broker's own topic
    # Last: the client suspends itself for 10 s, then consumes the topic again (see test_admin_cli).
    ("resetOffsetByTimeLive", "text", f"resetOffsetByTime -n {{ns}} -g {HELD_GROUP} -t {CONSUMED_TOPIC} -s 0"),
]
MAINTENANCE = ("cleanUnusedTopic", "deleteExpiredCommitLog")
assert DEFAULT_CLUSTER == "DefaultCluster"

PREFIX = {"mqadmin": "AdmCliMq", "rocketpy": "AdmCliPy"}
# brokerStatus figures that change with time on their own (flush lag, the last minute's put latencies)
SAMPLED = {"remainHowManyDataToFlush", "putMessageDistributeTime"}
# The broker.conf of this module: no transaction check within the test (the first check creates
# RMQ_SYS_TRANS_HALF_TOPIC on either broker, which would change the topic list between the two phases).
BROKER_CONF = {"transactionCheckInterval": "3600000"}
_DELAY = re.compile(r"undoneMsgsDelayTimeMills=-?\d+")
_RUNNING_INFO_FILE = re.compile(r"\b\d{13}/")
_PQ_TIME = re.compile(r"\b(last\w*Timestamp)=\d+")
_HEARTBEAT_TIME = re.compile(r"lastUpdateTimestamp=\d+")
_MSG_VARYING = re.compile(r"(bornHost=/|Born Host: +|Timestamp=)[0-9.:]+")
_RT_VARYING = re.compile(r"(rt=|queueOffset=)\d+")
_ERROR = re.compile(r"CODE: (-?\d+)\s+DESC: ([^\n]*)")


def export_dir(env: InteropEnv, cli: str) -> str:
    """Where the CLI's export* steps write their files ({F})."""
    return str(env.workdir / f"export-{cli}")


def _argv(template: str, env: InteropEnv, cli: str) -> list[str]:
    assert env.broker is not None
    prefix = PREFIX[cli]
    cid = HELD_CLIENT_IDS.get(env.namesrv.addr, "")
    text = template.format(
        ns=env.namesrv.addr,
        br=env.broker.addr,
        T=prefix + "Topic",
        G=prefix + "Group",
        cid=cid,
        F=export_dir(env, cli),
        **MSG_IDS,
    )
    return text.split(" ")


HELD_CLIENT_IDS: dict[str, str] = {}  # NameServer address -> the held consumer's client id
HELD: dict[str, HeldConsumer] = {}


class HeldConsumer:
    """The "held-consumer" driver scenario in a thread: online from start() until stop()."""

    def __init__(self, env: InteropEnv) -> None:
        self.env = env
        self.home = env.driver_home("held-consumer")
        self.home.mkdir(parents=True, exist_ok=True)
        self.ready, self.count, self.stop_file = (self.home / n for n in ("ready", "count", "stop"))
        self.result: dict[str, Any] = {}
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        args = {
            "namesrv": self.env.namesrv.addr,
            "group": HELD_GROUP,
            "topic": CONSUMED_TOPIC,
            "count": "40",
            "ready-file": str(self.ready),
            "count-file": str(self.count),
            "stop-file": str(self.stop_file),
        }
        try:
            self.result["observations"] = run_driver(
                self.env.build, "held-consumer", args, self.home, timeout=900, jvm_props=[REBALANCE_EVERY_SECOND]
            ).observations
        except Exception as exc:  # reported by start() / stop()
            self.result["error"] = exc

    def start(self) -> None:
        """Boots the JVM (in parallel with what the caller does next: sending the topic's messages)."""
        self.thread.start()

    def wait_ready(self, timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        while not self.ready.exists():
            if "error" in self.result or time.monotonic() > deadline:
                raise AssertionError(f"held consumer not ready: {self.result}")
            time.sleep(0.1)
        client_id = self.ready.read_text().strip()
        HELD_CLIENT_IDS[self.env.namesrv.addr] = client_id
        HELD[self.env.namesrv.addr] = self
        return client_id

    def received(self) -> int:
        return int(self.count.read_text()) if self.count.exists() else 0

    def wait_received(self, at_least: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while self.received() < at_least and time.monotonic() < deadline:
            time.sleep(0.2)
        return self.received()

    def stop(self) -> dict[str, Any]:
        self.stop_file.touch()
        self.thread.join(timeout=120)
        return self.result


def _errors(lines: list[str]) -> list[str]:
    """The response code and the remark's first line of each failure reported, in order."""
    return [f"CODE: {m.group(1)}  DESC: {m.group(2).strip()}" for line in lines for m in _ERROR.finditer(line)]


def _compare_form(kind: str, stdout: str) -> Any:
    if kind == "lines":
        return mqadmin_output.sorted_lines(stdout)
    if kind == "shape":
        return mqadmin_output.text_shape(stdout)
    if kind == "config":
        return mqadmin_output.namesrv_config(stdout)
    if kind == "status":  # rates are sampled over time (empty until the broker's first sample); so is the flush lag
        shapes = mqadmin_output.broker_status(stdout)
        return {k: "<runtime>" if k.endswith("Tps") or k in SAMPLED else v for k, v in shapes.items()}
    if kind == "totals":  # message counters of the day: they grow with the other phase's sends
        rows = [line.split() for line in stdout.splitlines() if line.strip()]
        return rows[:1] + [[t if not t.isdigit() else "<count>" for t in row] for row in rows[1:]]
    if kind == "stats":  # statsAll: rates and the day's counters (the other phase's traffic is in them) masked
        rows = [line.split() for line in stdout.splitlines() if line.strip()]
        masked = [
            [*row[:-4], "<stats>"] if row[-1] != "NO_CONSUMER" else [*row[:-3], "<stats>", "NO_CONSUMER"]
            for row in rows[1:]
        ]
        return rows[:1] + sorted(masked)
    if kind == "producers":  # the held client's groups; the Java CLI's own CLIENT_INNER_PRODUCER left out
        lines = [line for line in stdout.splitlines() if line.strip() and _held_or_not_inner(line)]
        return sorted(_HEARTBEAT_TIME.sub("lastUpdateTimestamp=<time>", line) for line in lines)
    if kind == "files":  # consumerStatus: the running-info files are named after the time of the command
        return _RUNNING_INFO_FILE.sub("<millis>/", stdout)
    if kind == "running":  # a client's running info: times, rates masked; Properties order is the JVM's
        masked = _PQ_TIME.sub(r"\1=<time>", stdout)
        return sorted(mqadmin_output.text_shape(masked))
    if kind == "msg":  # the producer's port (born host) and the raw millis of MessageExt.toString vary by run
        return mqadmin_output.text_shape(_MSG_VARYING.sub(r"\1<varies>", stdout))
    if kind == "rt":  # response times; the offsets of the broker's own topic grow with the other phase's sends
        rows = mqadmin_output.text_shape(_RT_VARYING.sub(r"\1<varies>", stdout))
        return [[*row[:-1], "<rt>"] if row[:1] == [DEFAULT_BROKER] else row for row in rows]
    if kind == "progress":  # the groups' table: #TPS (next to last column) is a rate
        rows = mqadmin_output.text_shape(stdout)
        return rows[:1] + [[*row[:-2], "<tps>", row[-1]] for row in rows[1:]]
    return stdout


def _held_or_not_inner(line: str) -> bool:
    """The internal producer every Java client instance registers counts only for the held consumer's instance
    (mqadmin's own instances heartbeat or not depending on time)."""
    return "(CLIENT_INNER_PRODUCER)" not in line or "@held-consumer," in line


def consume_some(env: InteropEnv) -> Any:
    """40 messages sent to CONSUMED_TOPIC and consumed by CONSUMED_GROUP, offsets committed; clients then stop."""
    return run_driver(
        env.build, "offsets-before", {"namesrv": env.namesrv.addr, "count": "40"}, env.driver_home("offsets")
    ).observations


def prepare_messages(env: InteropEnv) -> None:
    """MSG_TOPIC (2 queues) with one message in queue 1, TRACE_TOPIC with one trace message and RESEND_TOPIC with
    one message; the messages' ids into MSG_IDS. Done with rocketpy admin's commands in this process (no
    interpreter start per command); the look-ups that read the ids back are then compared against mqadmin's."""

    def admin(*argv: str) -> str:
        out, err = io.StringIO(), io.StringIO()
        parsed = admin_main.parse([*argv, "-n", env.namesrv.addr], out, err)
        assert not isinstance(parsed, int), err.getvalue()
        status = trio.run(admin_main.execute, *parsed, out, err)
        assert status == 0, err.getvalue()
        return out.getvalue()

    assert env.broker is not None
    admin("updateTopic", "-b", env.broker.addr, "-t", MSG_TOPIC, "-r", "2", "-w", "2")
    sent = admin(
        "sendMessage", "-t", MSG_TOPIC, "-p", "hello-msg", "-k", "MsgKey", "-c", "TagA", "-b", DEFAULT_BROKER, "-i", "1"
    )
    MSG_IDS["uid"] = sent.split()[-1]
    admin("updateTopic", "-b", env.broker.addr, "-t", TRACE_TOPIC, "-r", "1", "-w", "1")
    now = str(int(time.time() * 1000))
    pub = ["Pub", now, "DefaultRegion", "TracedGroup", MSG_TOPIC, TRACED_ID, "TagA", "MsgKey", "127.0.0.1:10911"]
    sub = ["SubAfter", "req-1", TRACED_ID, "7", "true", "MsgKey", "0", now, "TracedConsumer"]
    trace = "\x01".join([*pub, "9", "3", "0", "0123", "true"]) + "\x02" + "\x01".join(sub)
    admin("sendMessage", "-t", TRACE_TOPIC, "-p", trace, "-k", TRACED_ID, "-b", DEFAULT_BROKER, "-i", "0")
    admin("updateTopic", "-b", env.broker.addr, "-t", RESEND_TOPIC, "-r", "1", "-w", "1")
    admin("sendMessage", "-t", RESEND_TOPIC, "-p", "resend-me", "-k", "ResendKey", "-b", DEFAULT_BROKER, "-i", "0")
    for label, topic, queue in (("mid", MSG_TOPIC, "1"), ("rid", RESEND_TOPIC, "0")):
        listed = admin("printMsgByQueue", "-t", topic, "-a", DEFAULT_BROKER, "-i", queue, "-p", "true")
        found = re.search(r"msgId=([0-9A-F]{32})", listed)
        assert found, listed
        MSG_IDS[label] = found.group(1)


def online_consumer(env: InteropEnv) -> OnlineConsumer:
    """ONLINE_CLIENT with the TRACK_GROUPS on MSG_TOPIC, their offsets on its queue 1 committed (after
    prepare_messages)."""
    assert env.broker is not None
    groups = dict.fromkeys((TRACK_CONSUMED, TRACK_PENDING, TRACK_NO_OFFSET), MSG_TOPIC)
    offsets = [(TRACK_CONSUMED, MSG_TOPIC, 1, 1), (TRACK_PENDING, MSG_TOPIC, 1, 0)]
    return OnlineConsumer(env.broker.addr, ONLINE_CLIENT, groups, offsets)


def run_mqadmin(env: InteropEnv) -> list[dict[str, Any]]:
    steps = [{"op": "mqadmin", "args": _argv(t, env, "mqadmin")} for _, _, t in STEPS]
    observed = run_admin_steps(env.build, env.namesrv.addr, steps, env.driver_home("admin-cli"))
    return [{"stdout": o["result"]["stdout"], "errors": _errors(o["result"]["errors"])} for o in observed]


def run_rocketpy_admin(env: InteropEnv) -> tuple[list[dict[str, Any]], list[float]]:
    """Each step as its own `python -m rocketpy admin` process; also the wall time of each."""
    results, times = [], []
    home = env.driver_home("rocketpy-admin")
    home.mkdir(parents=True, exist_ok=True)
    for _, _, template in STEPS:
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "rocketpy", "admin", *_argv(template, env, "rocketpy")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=home,  # consumerStatus writes its running-info files under the working directory, as mqadmin
        )
        times.append(time.monotonic() - started)
        results.append({"stdout": proc.stdout, "errors": _errors(proc.stderr.splitlines()), "exit": proc.returncode})
    return results, times


MONITOR_ONE_ROUND = ("--rounds", "1", "--delay", "0")


def monitor_round(env: InteropEnv, timeout: float = 30.0) -> list[str]:
    """`rocketpy admin startMonitoring --rounds 1 --delay 0` once the held group has committed all it consumed; the
    report lines with the (time-dependent) delay masked."""
    deadline = time.monotonic() + timeout
    while True:
        proc = subprocess.run(
            [sys.executable, "-m", "rocketpy", "admin", "startMonitoring", "-n", env.namesrv.addr, *MONITOR_ONE_ROUND],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        lines = [_DELAY.sub("undoneMsgsDelayTimeMills=<ms>", line) for line in proc.stdout.splitlines()]
        caught_up = any(f"topic={CONSUMED_TOPIC}, undoneMsgsTotal=0," in line for line in lines)
        if caught_up or time.monotonic() > deadline:
            return lines
        time.sleep(0.5)


# export files whose bytes must be equal too (fastjson's layout, HashMap and Properties order)
EXACT_FILES = {"exportConfigs", "exportConfigsNoCluster"}
_EXPORTED = re.compile(r"export (\S+) success")
# exportMetrics figures that are rates, counters of the day, sizes on disk or in memory: kept as their JSON type
_METRIC_FIGURES = {
    "commitLogDiskRatio",
    "consumeQueueDiskRatio",
    "totalMemKBytes",
    "messageAverageSize",
    *("normalInTps", "normalOutTps", "transInTps", "scheduleInTps"),
    *("normalOneDayInNum", "normalOneDayOutNum", "transOneDayInNum", "scheduleOneDayInNum"),
    *("totalNormalInTps", "totalNormalOutTps", "totalTransInTps", "totalScheduleInTps"),
    # a topic's order flag: the broker sets it from the NameServer's ORDER_TOPIC_CONFIG (updateTopic -o true) when
    # it next registers (every 30 s), so whether an export sees it yet is a matter of time
    "order",
}


def _export_shape(value: Any) -> Any:
    """An exported file's data without what time changes: exportTime, data versions (the other phase's changes
    bumped them), the metrics' rates and counters and the topics' order flag (their type is kept)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key == "exportTime":
                out[key] = "<time>"
            elif key == "dataVersion":
                out[key] = {k: f"<{k}>" for k in item}
            elif key in _METRIC_FIGURES:
                out[key] = f"<{type(item).__name__}>"
            else:
                out[key] = _export_shape(item)
        return out
    if isinstance(value, list):
        return [_export_shape(v) for v in value]
    return value


def _exported_file(stdout: str) -> Any:
    """The file an export step reported (`export PATH success`), read back; None when there is none."""
    match = _EXPORTED.search(stdout)
    if match is None:
        return None
    path = Path(match.group(1))
    return path.read_text(encoding="utf-8") if path.is_file() else f"<missing {match.group(1)}>"


EXPORTS = {label: template for label, kind, template in STEPS if kind == "export"}


def read_export(env: InteropEnv, cli: str, label: str) -> Any:
    """The JSON file an export step of `cli` wrote (the file name: the one its subcommand and options choose)."""
    directory = Path(export_dir(env, cli)) / EXPORTS[label].split("{F}/")[1]
    (path,) = directory.glob("*.json")
    return json.loads(path.read_text(encoding="utf-8"))


def observe(env: InteropEnv, cli: str, raw: list[dict[str, Any]]) -> dict[str, Any]:
    """By label: the output in its compared form, addresses and the CLI's name prefix normalised."""
    normalise = env.normaliser()
    exports = export_dir(env, cli)

    def text(value: str) -> str:
        return normalise(value.replace(exports, "<export>")).replace(PREFIX[cli], "AdmCli<cli>")

    out = {}
    for (label, kind, _), result in zip(STEPS, raw, strict=True):
        stdout = text(result["stdout"])
        errors = [text(e) for e in result["errors"]]
        out[label] = {"stdout": _compare_form(kind, stdout), "errors": errors}
        if kind == "export":
            content = _exported_file(result["stdout"])
            out[label]["file"] = _export_shape(json.loads(text(content))) if content and content[0] == "{" else content
            if label in EXACT_FILES:  # no per-CLI names or sampled figures in it: byte for byte
                out[label]["text"] = content
    return out
