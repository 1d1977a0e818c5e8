"""⇄ The official quickstart (org.apache.rocketmq.example.quickstart Producer + Consumer logic, reproduced in the
driver because rocketmq-example 4.9.x is not on Maven Central) against `rocketpy serve` and against the Java
NameServer + Broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interop.harness.environment import InteropEnv, environment, start_serve
from tests.interop import broker_scenarios as bs
from tests.interop.conftest import JavaBaseline

pytestmark = pytest.mark.interop


def _start_default_named_broker(env: InteropEnv) -> None:
    env.start_broker(conf_extra={"brokerName": None})


def _java_quickstart(env: InteropEnv) -> dict[str, Any]:
    """The reference run when the Java test did not run in this session: its broker, then the scenario."""
    _start_default_named_broker(env)
    return bs.quickstart(env)


@pytest.fixture
def quickstart_env(broker_target: str, tmp_path: Path, interop_build: Any) -> Iterator[InteropEnv]:
    """java: NamesrvStartup + BrokerStartup; rocketpy: one `rocketpy serve` process.

    The Java broker's broker.conf leaves brokerName out, as `rocketpy serve` is given none: both default to the
    host name (BrokerConfig.brokerName = localHostName()).
    """
    if broker_target == "java":
        with environment(interop_build, "java", tmp_path / "java", with_broker=False) as env:
            _start_default_named_broker(env)
            yield env
        return
    env = start_serve(interop_build, tmp_path / "rocketpy")
    try:
        yield env
    finally:
        env.stop()


def test_quickstart_producer_and_consumer(quickstart_env: InteropEnv, baseline: JavaBaseline) -> None:
    obs = bs.quickstart(quickstart_env)
    baseline.check("quickstart", quickstart_env, obs, _java_quickstart, with_broker=False)

    assert obs["sendStatuses"] == {"SEND_OK": 1000}
    assert (obs["complete"], obs["received"], obs["missing"], obs["duplicates"]) == (True, 1000, 0, 0)
    assert obs["otherTags"] == []
    assert [(q["readQueueNums"], q["writeQueueNums"], q["perm"]) for q in obs["route"]["queueDatas"]] == [(4, 4, 6)]
