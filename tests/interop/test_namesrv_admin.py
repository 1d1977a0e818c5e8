"""⇄ mqadmin (4.9.8 tools, in one driver JVM) and DefaultMQAdminExt against the NameServer under test.

A Java 4.9.7 broker is registered so that cluster, topic and permission commands have something to act on. Besides
the cross-target comparison, each observation is checked against what the Java reference is known to answer, so the
Java run also validates the harness.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from interop.harness.environment import DEFAULT_BROKER, DEFAULT_CLUSTER, InteropEnv, Server
from tests.interop import scenarios
from tests.interop.conftest import JavaBaseline

pytestmark = pytest.mark.interop

NO_PERMISSION = 16
TOPIC_NOT_EXIST = 17
QUERY_NOT_FOUND = 22


def _ok(obs: dict[str, Any], label: str) -> Any:
    step = obs[label]
    assert "error" not in step, f"{label} failed: {step['error']}"
    result = step["result"]
    if step["op"] == "mqadmin":
        assert result["errors"] == [], f"mqadmin {label} reported: {result['errors']}"
        return result["stdout"]
    return result


def _error(obs: dict[str, Any], label: str) -> dict[str, Any]:
    step = obs[label]
    assert "error" in step, f"{label} should have been refused, got {step.get('result')!r}"
    error: dict[str, Any] = step["error"]
    return error


def _check_cluster_and_topics(obs: dict[str, Any]) -> None:
    rows = _ok(obs, "clusterList")["rows"]
    assert [(r["cluster"], r["brokerName"], r["bid"], r["addr"], r["version"]) for r in rows] == [
        (DEFAULT_CLUSTER, DEFAULT_BROKER, "0", "<broker>", "V4_9_7")
    ]
    topics = _ok(obs, "topicList")
    assert {scenarios.ADMIN_TOPIC, "TBW102", DEFAULT_CLUSTER, DEFAULT_BROKER} <= set(topics)
    assert _ok(obs, "fetchAllTopicList") == topics
    assert scenarios.ADMIN_TOPIC in _ok(obs, "fetchTopicsByCluster")
    assert _ok(obs, "topicClusterList") == [DEFAULT_CLUSTER]
    assert f'"brokerName":"{DEFAULT_BROKER}"' in _ok(obs, "topicRoute")
    info = _ok(obs, "examineBrokerClusterInfo")
    assert info["clusterAddrTable"] == {DEFAULT_CLUSTER: [DEFAULT_BROKER]}
    assert info["brokerAddrTable"][DEFAULT_BROKER]["brokerAddrs"] == {"0": "<broker>"}


def _check_kv(obs: dict[str, Any]) -> None:
    assert _ok(obs, "updateKvConfig1") == "create or update kv config to namespace success.\n"
    assert _ok(obs, "getKVConfig") == "v1"
    assert _ok(obs, "getKVList") == {"k1": "v1", "k2": "v2"}
    assert _ok(obs, "deleteKvConfig") == "delete kv config from namespace success.\n"
    assert _error(obs, "getKVConfigDeleted")["responseCode"] == QUERY_NOT_FOUND
    assert _ok(obs, "getKVListAfterDelete") == {"k2": "v2"}
    assert _error(obs, "getKVListUnknownNamespace")["responseCode"] == QUERY_NOT_FOUND
    # The Java NameServer keeps a namespace whose last key was deleted (ORDER_TOPIC_CONFIG is emptied later on).
    assert obs["kvConfigFile"] == {"configTable": {"ORDER_TOPIC_CONFIG": {}, scenarios.KV_NAMESPACE: {"k2": "v2"}}}


def _check_perms_and_delete(obs: dict[str, Any]) -> None:
    wiped = _ok(obs, "wipeWritePerm")
    assert wiped.startswith(f"wipe write perm of broker[{DEFAULT_BROKER}] in name server[<namesrv>] OK, ")
    assert int(wiped.rsplit(" ", 1)[1]) >= 1
    assert [q["perm"] for q in _ok(obs, "routeAfterWipe")["queueDatas"]] == [4]
    assert _ok(obs, "routeOrderConfDisabled")["orderTopicConf"] is None
    assert _ok(obs, "routeWithOrderConf")["orderTopicConf"] == "broker-a:4"
    assert _ok(obs, "routeWithoutOrderConf")["orderTopicConf"] is None
    added = _ok(obs, "addWritePerm")
    assert added.startswith(f"add write perm of broker[{DEFAULT_BROKER}] in name server[<namesrv>] OK, ")
    assert [q["perm"] for q in _ok(obs, "routeAfterAdd")["queueDatas"]] == [6]
    assert "from NameServer success" in _ok(obs, "deleteTopic")
    assert _error(obs, "routeAfterDelete")["responseCode"] == TOPIC_NOT_EXIST
    assert any("CODE: 17" in line for line in obs["topicRouteAfterDelete"]["result"]["errors"])


def _check_namesrv_config(obs: dict[str, Any], kind: str) -> None:
    config = _ok(obs, "getNamesrvConfig")["<namesrv>"]
    assert config["orderMessageEnable"] == "false"
    assert config["listenPort"] == "<namesrv-port>"
    assert config["kvConfigPath"] == "<workdir>/namesrv/namesrv/kvConfig.json"
    assert "update name server config success!" in _ok(obs, "updateOrderMessageEnable")
    assert _ok(obs, "configAfterUpdate")["<namesrv>"]["orderMessageEnable"] == "true"
    # Observed: the 4.9.7 reference refuses configStorePath/kvConfigPath with NO_PERMISSION (16), remark "Can not
    # update config path", and leaves its config unchanged. 4.9.8 (pinned for rocketpy) answers the same code with
    # "Can not update config in black list." (configBlackList, 4.9.8 DefaultRequestProcessor.updateConfig).
    refusal = {
        "class": "org.apache.rocketmq.client.exception.MQClientException",
        "responseCode": NO_PERMISSION,
        "errorMessage": scenarios.REFUSAL_4_9_7 if kind == "java" else scenarios.REFUSAL_4_9_8,
    }
    assert _error(obs, "apiUpdateConfigStorePath") == refusal
    assert _error(obs, "apiUpdateKvConfigPath") == refusal
    assert any("CODE: 16" in line for line in obs["updateConfigStorePath"]["result"]["errors"])
    after = _ok(obs, "configAfterRefusals")["<namesrv>"]
    assert after["configStorePath"] == config["configStorePath"] != "/tmp/interop-evil.properties"
    assert after["kvConfigPath"] == config["kvConfigPath"]


def test_mqadmin_against_namesrv(
    interop_env: InteropEnv, java_broker: Server, baseline: JavaBaseline, client_serialization: str
) -> None:
    obs = scenarios.namesrv_admin(interop_env, client_serialization)
    # Cross-target comparison first: a rocketpy failure then shows every difference from the reference.
    baseline.check(
        f"namesrv_admin-{client_serialization}",
        interop_env,
        obs,
        functools.partial(scenarios.namesrv_admin, serialize_type=client_serialization),
        scenarios.admin_as_4_9_8,
    )
    assert _ok(obs, "createTopic") == [DEFAULT_BROKER]
    _check_cluster_and_topics(obs)
    _check_kv(obs)
    _check_perms_and_delete(obs)
    _check_namesrv_config(obs, interop_env.kind)
