"""⇄ Broker registration lifecycle seen through the NameServer under test: a master and a slave (4.9.7) register,
the slave dies (connection closed), the master shuts down gracefully (UNREGISTER_BROKER)."""

from __future__ import annotations

from typing import Any

import pytest

from interop.harness.environment import DEFAULT_BROKER, DEFAULT_CLUSTER, InteropEnv
from tests.interop import scenarios
from tests.interop.conftest import JavaBaseline

pytestmark = pytest.mark.interop


def _results(phase: list[dict[str, Any]]) -> list[Any]:
    for step in phase:
        assert "error" not in step, f"{step['op']} failed: {step['error']}"
    return [step.get("result") for step in phase]


def _check(obs: dict[str, Any]) -> None:
    waited, _, _, route, _, cluster_list = _results(obs["withSlave"])
    assert waited["brokerAddrTable"][DEFAULT_BROKER]["brokerAddrs"] == {"0": "<broker>", "1": "<broker-slave>"}
    assert route["brokerDatas"][0]["brokerAddrs"] == {"0": "<broker>", "1": "<broker-slave>"}
    assert [(q["brokerName"], q["readQueueNums"], q["perm"]) for q in route["queueDatas"]] == [(DEFAULT_BROKER, 2, 6)]
    rows = [(r["bid"], r["addr"]) for r in cluster_list["stdout"]["rows"]]
    assert sorted(rows) == [("0", "<broker>"), ("1", "<broker-slave>")]

    waited, route, info = _results(obs["slaveKilled"])
    assert route["brokerDatas"][0]["brokerAddrs"] == {"0": "<broker>"}
    assert info["clusterAddrTable"] == {DEFAULT_CLUSTER: [DEFAULT_BROKER]}

    phase = obs["masterStopped"]
    waited, info = _results(phase[:2])
    assert DEFAULT_BROKER not in info["brokerAddrTable"]
    assert phase[2]["error"]["responseCode"] == 17, "the topic's only broker is gone: TOPIC_NOT_EXIST"
    topics, cluster_list = _results(phase[3:])
    assert scenarios.LIFECYCLE_TOPIC not in topics
    assert cluster_list["stdout"]["rows"] == []


def test_broker_registration_lifecycle(interop_env: InteropEnv, baseline: JavaBaseline) -> None:
    # Broker-to-NameServer traffic is JSON whatever the clients use; ROCKETMQ clients are covered by the other
    # scenarios, so this (slowest) one runs once per target.
    obs = scenarios.broker_lifecycle(interop_env)
    baseline.check("broker_lifecycle", interop_env, obs, scenarios.broker_lifecycle, with_broker=False)
    _check(obs)
