"""⇄ Broker administration and restarts (issue 4): mqadmin and DefaultMQAdminExt against the Java 4.9.7
NameServer+Broker and against rocketpy's; a consumer group's offsets survive a graceful broker restart."""

from __future__ import annotations

import pytest

from interop.harness.environment import InteropEnv
from tests.interop import broker_scenarios as bs
from tests.interop.conftest import JavaBaseline

pytestmark = pytest.mark.interop


def test_mqadmin_against_broker(broker_env: InteropEnv, baseline: JavaBaseline) -> None:
    obs = bs.broker_admin(broker_env)
    baseline.check("broker_admin", broker_env, obs, bs.broker_admin, as_pinned=bs.broker_admin_as_4_9_8)

    assert obs["autoCreateSend"] == "SEND_OK"
    assert [
        (q["brokerName"], q["readQueueNums"], q["writeQueueNums"], q["perm"])
        for q in obs["autoCreateRoute"]["queueDatas"]
    ] == [("broker-a", 4, 4, 6)]
    assert [q["readQueueNums"] for q in obs["routeByCluster"]["queueDatas"]] == [3]
    assert [q["readQueueNums"] for q in obs["routeByBroker"]["queueDatas"]] == [2]
    for label in (
        "updateTopicByCluster",
        "updateTopicByBroker",
        "topicStatusText",
        "consumerProgressText",
        "consumerConnectionText",
        "producerConnectionText",
        "brokerStatusText",
        "clusterList",
        "queryMsgByIdText",
        "queryMsgByKeyText",
    ):
        assert obs[label]["errors"] == [], (label, obs[label]["errors"])
    assert obs["sends"] == {"SEND_OK": 9} and obs["consumed"] is True
    topic = "InteropTopicByCluster"
    assert obs["consumeStats"] == {f"{topic}/broker-a/{q}": {"brokerOffset": 3, "consumerOffset": 3} for q in range(3)}
    assert obs["topicStats"] == {
        f"broker-a/{q}": {"minOffset": 0, "maxOffset": 3, "lastUpdateTimestampSet": True} for q in range(3)
    }
    conn = obs["consumerConnection"]
    assert conn["consumeType"] == "CONSUME_PASSIVELY" and conn["messageModel"] == "CLUSTERING"
    assert conn["subscriptionTable"][topic]["tagsSet"] == ["TagA", "TagB"]
    assert [c["language"] for c in conn["connections"]] == ["JAVA"]
    assert [c["language"] for c in obs["producerConnection"]] == ["JAVA"]
    assert "brokerVersionDesc" in obs["brokerStatus"] and "commitLogMaxOffset" in obs["brokerStatus"]
    assert [r["addr"] for r in obs["clusterList"]["stdout"]["rows"]] == ["<broker>"]
    assert obs["brokerStatusText"]["stdout"]["brokerVersionDesc"] == "VN_N_N"
    assert obs["viewMessage"]["body"] == "admin-4" and obs["viewMessage"]["keys"] == "qkey-1"
    assert sorted(m["body"] for m in obs["queryMessage"]) == ["admin-1", "admin-4", "admin-7"]


def test_consumer_offsets_survive_broker_restart(broker_env: InteropEnv, baseline: JavaBaseline) -> None:
    obs = bs.offsets_restart(broker_env)
    baseline.check("offsets_restart", broker_env, obs, bs.offsets_restart)

    before, after = obs["before"], obs["after"]
    stats = {f"InteropRestartTopic/broker-a/{q}": {"brokerOffset": 10, "consumerOffset": 10} for q in range(4)}
    assert before["consumed"] == {"complete": True, "received": {f"r1-{i}": 1 for i in range(40)}}
    assert before["consumeStats"] == stats
    assert after["consumeStatsAfterRestart"] == stats
    assert after["consumed"] == {"complete": True, "received": {f"r2-{i}": 1 for i in range(40)}}, "resumed"
    assert after["consumeStats"] == {
        f"InteropRestartTopic/broker-a/{q}": {"brokerOffset": 20, "consumerOffset": 20} for q in range(4)
    }
