"""⇄ `rocketpy admin` prints what `mqadmin` prints, against the Java 4.9.7 NameServer + Broker and against rocketpy's
(issue 9). One server boot per target for the whole module."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interop.harness.environment import TARGETS, InteropEnv, environment
from interop.harness.normalise import diff_paths
from rocketpy.admin.offset_commands import mq_hash_order
from tests.interop import admin_cli_scenarios as scenarios
from tests.interop.online_consumer import OnlineConsumer

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module", params=TARGETS)
def admin_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, interop_build: Any
) -> Iterator[tuple[InteropEnv, OnlineConsumer]]:
    target: str = request.param
    workdir: Path = tmp_path_factory.mktemp(f"admin-cli-{target}")
    with environment(interop_build, target, workdir, with_broker=False, broker_kind=target) as env:
        env.start_broker(conf_extra=scenarios.BROKER_CONF)
        held = scenarios.HeldConsumer(env)
        held.start()
        online: OnlineConsumer | None = None
        try:
            consumed = scenarios.consume_some(env)
            assert consumed["consumed"]["complete"], consumed
            scenarios.prepare_messages(env)
            online = scenarios.online_consumer(env)
            held.wait_ready()
            yield env, online
        finally:
            if online is not None:
                online.close()
            held.stop()


def _reset_order() -> list[int]:
    """The queue ids of CONSUMED_TOPIC in the HashMap order mqadmin prints them."""
    return [qid for _, _, qid in mq_hash_order([(scenarios.CONSUMED_TOPIC, "broker-a", q) for q in range(4)])]


def test_rocketpy_admin_prints_what_mqadmin_prints(admin_env: tuple[InteropEnv, OnlineConsumer]) -> None:
    admin_env, online = admin_env
    java_cli = scenarios.observe(admin_env, "mqadmin", scenarios.run_mqadmin(admin_env))
    raw, times = scenarios.run_rocketpy_admin(admin_env)
    py_cli = scenarios.observe(admin_env, "rocketpy", raw)

    differences = diff_paths(java_cli, py_cli)
    assert not differences, (
        f"rocketpy admin differs from mqadmin against the {admin_env.kind} server "
        "(left = mqadmin, right = rocketpy admin):\n" + "\n".join(differences)
    )
    # What a script sees besides stdout: rocketpy admin exits non-zero exactly where mqadmin's command failed.
    failing = {label for (label, _, _), result in zip(scenarios.STEPS, raw, strict=True) if result["exit"] != 0}
    assert failing == {
        "updateTopicIllegal",
        "topicRouteMissing",
        "topicStatusMissing",
        "updateOrderConfGetMissing",
        "consumerProgressUnknown",
        "consumerConnectionOffline",
        "consumerConnectionOfflineBroker",
        "producerConnectionOffline",
        "sendMessageUnknownBroker",
        "queryMsgByKeyMissing",
        "cloneGroupOffsetUnknown",
        "resetOffsetByTimeMissingTopic",
        "resetOffsetByTimeUnknownGroup",
        "skipAccumulatedUnknownGroup",
        "consumerStatusOffline",
        "consumerStatusUnknownClient",
        "queryMsgByKeyUnknownTopic",
        "queryMsgByIdMissing",
        "queryMsgByUniqueKeyMissing",
        "printMsgUnknownTopic",
        "queryMsgTraceByIdNoTopic",
    }
    for label in scenarios.MAINTENANCE:
        assert java_cli[label]["stdout"] == "success", (label, java_cli[label])
    for label in failing:
        assert py_cli[label]["stdout"] in ("", []), label
    assert java_cli["topicRouteMissing"]["errors"] == [
        "CODE: 17  DESC: No topic route info in name server for the topic: NoSuchAdminCliTopic"
    ]
    assert "AdmCli<cli>Topic1" in java_cli["topicList"]["stdout"]
    allocation = json.loads(java_cli["allocateMQ"]["stdout"])["result"]
    assert list(allocation) == ["10.0.0.3", "10.0.0.2", "10.0.0.1"]  # Java's HashMap order, reproduced
    assert sorted(q["queueId"] for queues in allocation.values() for q in queues) == [0, 1, 2, 3]
    assert java_cli["sendMessage"]["stdout"][1] == ["broker-a", "1", "SEND_OK", "<msgid>"]
    assert java_cli["queryMsgByKey"]["stdout"][1] == ["<msgid>", "1", "0"]
    assert [row[1:4] for row in java_cli["topicStatus"]["stdout"][1:]] == [
        ["0", "0", "0"],
        ["1", "0", "1"],
        ["2", "0", "0"],
    ]
    assert not any("AdmCli" in t for t in java_cli["topicListAfter"]["stdout"])
    # The held client's producer groups, as the broker lists them.
    producers = [line.split(" instance : ")[0] for line in java_cli["producer"]["stdout"]]
    assert producers == [f"producer group ({g})" for g in ("CLIENT_INNER_PRODUCER", scenarios.HELD_PRODUCER_GROUP)]
    # consumerStatus found the held Java consumer (one running-info file, same subscription) through both CLIs.
    status = java_cli["consumerStatus"]["stdout"].splitlines()
    assert status[0].split() == ["#Index", "#ClientId", "#Version", "#ConsumerRunningInfoFile"], status
    assert status[1].split()[0] == "1" and "Rebalance OK" in status, status
    # resetOffsetByTime with the client online: the broker answers with the offsets of time 0 and has the client
    # reset them; it then receives the topic's 40 messages again, once per CLI (40 before both phases).
    assert [row.split() for row in java_cli["resetOffsetByTimeLive"]["stdout"].splitlines()[2:]] == [
        ["broker-a", str(qid), "0"] for qid in _reset_order()
    ]
    # startMonitoring (mqadmin's runs until killed and logs to a file): one round, with the held consumer caught up.
    monitor = scenarios.monitor_round(admin_env)
    assert monitor[0].endswith("beginRound") and monitor[-1].endswith("endRound"), monitor
    assert (
        f"[MONITOR] reportUndoneMsgs: UndoneMsgs [consumerGroup={scenarios.HELD_GROUP}, "
        f"topic={scenarios.CONSUMED_TOPIC}, undoneMsgsTotal=0, undoneMsgsSingleMQ=0, undoneMsgsDelayTimeMills=<ms>]"
    ) in monitor, monitor
    assert not any(scenarios.CONSUMED_GROUP in line for line in monitor), monitor  # offline: not reported
    held = scenarios.HELD[admin_env.namesrv.addr]
    assert held.wait_received(40 * 3, timeout=60) >= 40 * 3, held.received()
    # The message subcommands (issue 9) saw the prepared messages and traces, not just equal emptiness.
    by_id = java_cli["queryMsgById"]["stdout"]
    assert ["Topic:", scenarios.MSG_TOPIC] in by_id and ["Tags:", "[TagA]"] in by_id
    # MessageTrack.toString of each group, one after the other on one line (Java's HashSet order)
    tracks = sorted("MessageTrack [" + t for t in " ".join(by_id[-1]).split("MessageTrack [")[1:])
    assert tracks == [
        f"MessageTrack [consumerGroup={scenarios.TRACK_CONSUMED}, trackType=CONSUMED, exceptionDesc=null]",
        f"MessageTrack [consumerGroup={scenarios.TRACK_NO_OFFSET}, trackType=NOT_ONLINE, exceptionDesc=CODE:206 "
        "DESC:Not found the consumer group consume stats, because return offset table is empty, maybe the consumer "
        "not consume any message]",
        f"MessageTrack [consumerGroup={scenarios.TRACK_PENDING}, trackType=NOT_CONSUME_YET, exceptionDesc=null]",
    ], by_id
    assert java_cli["queryMsgByIdDirect"]["stdout"] == (
        "ConsumeMessageDirectlyResult [order=false, autoCommit=true, consumeResult=CR_SUCCESS, remark=null, "
        "spentTimeMills=0]"
    ), java_cli["queryMsgByIdDirect"]
    relayed = [(r.get("consumerGroup"), r.get("clientId"), r["message"]) for r in online.direct_requests]
    direct = (scenarios.TRACK_CONSUMED, scenarios.ONLINE_CLIENT, [(scenarios.MSG_TOPIC, 1, 0)])
    assert relayed == [direct, direct], online.direct_requests  # one per phase
    resent = " ".join(java_cli["queryMsgByIdResend"]["stdout"][0])
    assert resent.startswith("prepare resend msg. originalMsgId=") and "sendStatus=SEND_OK" in resent, resent
    assert f"[topic={scenarios.RESEND_TOPIC}, brokerName=broker-a, queueId=0], queueOffset=<varies>]" in resent
    assert java_cli["queryMsgByIdResendMissing"]["errors"] == [
        "CODE: 208  DESC: query message by id finished, but no message."
    ]
    assert java_cli["queryMsgByKeyUnknownTopic"]["errors"] == [
        "CODE: 17  DESC: The topic[NoSuchAdminCliTopic] not matched route info"
    ]
    assert by_id[1:] == java_cli["queryMsgByUniqueKey"]["stdout"]  # the same message, without the OffsetID line
    assert java_cli["queryMsgByOffset"]["stdout"][13][:3] == ["Properties:", "{MIN_OFFSET=0,", "MAX_OFFSET=1,"]
    assert java_cli["queryMsgByIdDirectOffline"]["errors"] == [
        "CODE: 1  DESC: The Consumer <NoSuchAdminCliGroup> <no-such-client> not online"
    ], java_cli["queryMsgByIdDirectOffline"]
    track = " ".join(java_cli["queryMsgByOffsetTrack"]["stdout"][-1])
    assert f"consumerGroup={scenarios.CONSUMED_GROUP}, trackType=NOT_ONLINE" in track, track
    assert java_cli["printMsgByQueue"]["stdout"][-1] == ["Tag:", "TagA", "Count:", "1"]
    assert [row[0] for row in java_cli["queryMsgTraceById"]["stdout"]] == ["#Type", "Pub", "#Type", "Sub"]
    assert [row[:3] for row in java_cli["checkMsgSendRT"]["stdout"][1:4]] == [["broker-a", "0", "true"]] * 3
    assert sum("SendResult=SendResult" in " ".join(row) for row in java_cli["sendMsgStatus"]["stdout"]) == 2
    # Start-up: mqadmin pays 1-3 s of JVM per command; rocketpy admin's median is far below that.
    median = sorted(times)[len(times) // 2]
    assert median < 1.5, f"median rocketpy admin time {median:.2f} s"


def test_export_files_hold_the_cluster(admin_env: tuple[InteropEnv, OnlineConsumer]) -> None:
    """What the export steps of the module's run wrote (issue 9): read back from mqadmin's files."""
    admin_env, _ = admin_env
    files = {label: scenarios.read_export(admin_env, "mqadmin", label) for label in scenarios.EXPORTS}
    meta = files["exportMetadata"]
    assert {"AdmCliMqTopic1", "AdmCliMqTopic2", "AdmCliMqTopic3"} <= set(meta["topicConfigTable"])
    assert not any(t.startswith(("%RETRY%", "%DLQ%", "RMQ_SYS_")) for t in meta["topicConfigTable"])
    assert "%RETRY%interop_restart_consumer" in files["exportMetadataTopics"]["topicConfigTable"]
    assert scenarios.CONSUMED_GROUP in files["exportMetadataBrokerGroups"]["subscriptionGroupTable"]
    configs = files["exportConfigs"]
    assert configs["clusterScale"] == {"namesrvSize": 1, "masterBrokerSize": 1, "slaveBrokerSize": 0}
    assert configs["brokerConfigs"]["broker-a"]["brokerClusterName"] == "DefaultCluster"
    report = files["exportMetrics"]["evaluateReport"]["broker-a"]
    # the held Java consumer is online through both phases: its language and version, as exportMetrics lists them
    assert report["runtimeVersion"] == {"rocketmqVersion": "V4_9_8", "clientInfo": ["JAVA%V4_9_8"]}
    assert report["runtimeQuota"]["topicSize"] >= 3
