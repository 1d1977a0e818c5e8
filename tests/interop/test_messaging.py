"""⇄ A NameServer under test with the official Java 4.9.7 broker registered: Java clients produce and consume."""

from __future__ import annotations

import functools

import pytest

from interop.harness.environment import DEFAULT_BROKER, DEFAULT_CLUSTER, InteropEnv, Server
from tests.interop import scenarios
from tests.interop.conftest import JavaBaseline

pytestmark = pytest.mark.interop


def test_producer_and_push_consumer_via_namesrv(
    interop_env: InteropEnv, java_broker: Server, baseline: JavaBaseline, client_serialization: str
) -> None:
    observed = scenarios.produce_consume(interop_env, client_serialization)
    # Cross-target comparison first: a rocketpy failure then shows every difference from the reference.
    baseline.check(
        f"produce_consume-{client_serialization}",
        interop_env,
        observed,
        functools.partial(scenarios.produce_consume, serialize_type=client_serialization),
    )

    route = observed["route"]
    assert route["brokerDatas"] == [
        {"brokerAddrs": {"0": "<broker>"}, "brokerName": DEFAULT_BROKER, "cluster": DEFAULT_CLUSTER}
    ]
    assert route["queueDatas"] == [
        {"brokerName": DEFAULT_BROKER, "perm": 6, "readQueueNums": 4, "topicSysFlag": 0, "writeQueueNums": 4}
    ]
    assert observed["sendStatuses"] == {"SEND_OK": scenarios.MESSAGE_COUNT}
    bodies = sorted(m["body"] for m in observed["received"])
    assert bodies == sorted(f"body-{i}" for i in range(scenarios.MESSAGE_COUNT)), "lost or duplicated messages"
    for message in observed["received"]:
        assert message["topic"] == scenarios.MSG_TOPIC
        assert message["tags"] == "TagA"
        assert message["keys"] == "key-" + message["body"].removeprefix("body-")
