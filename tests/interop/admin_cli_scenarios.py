"""⇄ `rocketpy admin` against `mqadmin`: the same command lines through both CLIs, outputs compared after
normalisation (addresses, the per-CLI object names, times and rates).

Both CLIs act on one server, one after the other: first every mqadmin step (one driver JVM, MQAdminStartup.main0),
then every `rocketpy admin` step (one process each, as a script would run it). Each phase creates its own topics
and groups (names ending in `Mq` / `Py`) and removes them, and restores what it changed (orderMessageEnable, write
permission), so that both phases start from the same server state.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
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
]
MAINTENANCE = ("cleanUnusedTopic", "deleteExpiredCommitLog")
assert DEFAULT_CLUSTER == "DefaultCluster"

PREFIX = {"mqadmin": "AdmCliMq", "rocketpy": "AdmCliPy"}
# brokerStatus figures that change with time on their own (flush lag, the last minute's put latencies)
SAMPLED = {"remainHowManyDataToFlush", "putMessageDistributeTime"}
# The broker.conf of this module: no transaction check within the test (the first check creates
# RMQ_SYS_TRANS_HALF_TOPIC on either broker, which would change the topic list between the two phases).
BROKER_CONF = {"transactionCheckInterval": "3600000"}
_MSG_VARYING = re.compile(r"(bornHost=/|Born Host: +|Timestamp=)[0-9.:]+")
_RT_VARYING = re.compile(r"(rt=|queueOffset=)\d+")
_ERROR = re.compile(r"CODE: (-?\d+)\s+DESC: ([^\n]*)")


def _argv(template: str, env: InteropEnv, cli: str) -> list[str]:
    assert env.broker is not None
    prefix = PREFIX[cli]
    text = template.format(ns=env.namesrv.addr, br=env.broker.addr, T=prefix + "Topic", G=prefix + "Group", **MSG_IDS)
    return text.split(" ")


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
    if kind == "msg":  # the producer's port (born host) and the raw millis of MessageExt.toString vary by run
        return mqadmin_output.text_shape(_MSG_VARYING.sub(r"\1<varies>", stdout))
    if kind == "rt":  # response times; the offsets of the broker's own topic grow with the other phase's sends
        rows = mqadmin_output.text_shape(_RT_VARYING.sub(r"\1<varies>", stdout))
        return [[*row[:-1], "<rt>"] if row[:1] == [DEFAULT_BROKER] else row for row in rows]
    if kind == "progress":  # the groups' table: #TPS (next to last column) is a rate
        rows = mqadmin_output.text_shape(stdout)
        return rows[:1] + [[*row[:-2], "<tps>", row[-1]] for row in rows[1:]]
    return stdout


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
    for _, _, template in STEPS:
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "rocketpy", "admin", *_argv(template, env, "rocketpy")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        times.append(time.monotonic() - started)
        results.append({"stdout": proc.stdout, "errors": _errors(proc.stderr.splitlines()), "exit": proc.returncode})
    return results, times


def observe(env: InteropEnv, cli: str, raw: list[dict[str, Any]]) -> dict[str, Any]:
    """By label: the output in its compared form, addresses and the CLI's name prefix normalised."""
    normalise = env.normaliser()
    out = {}
    for (label, kind, _), result in zip(STEPS, raw, strict=True):
        stdout = normalise(result["stdout"]).replace(PREFIX[cli], "AdmCli<cli>")
        errors = [normalise(e).replace(PREFIX[cli], "AdmCli<cli>") for e in result["errors"]]
        out[label] = {"stdout": _compare_form(kind, stdout), "errors": errors}
    return out
