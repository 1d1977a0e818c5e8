"""Request-reply (SEND_REPLY_MESSAGE_V2 + PUSH_REPLY_MESSAGE_TO_CLIENT) and message trace, against the Java
reference and rocketpy (issue 7).

One NameServer + broker per target, shared by the module, with traceTopicEnable=true (RMQ_SYS_TRACE_TOPIC is then
created at boot with one queue); the trace scenario also runs on a broker with the defaults, where the clients'
first trace send auto-creates the trace topic from TBW102.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interop.harness.driver import run_driver
from interop.harness.environment import TARGETS, InteropEnv, environment, start_serve
from tests.interop.conftest import JavaBaseline

pytestmark = pytest.mark.interop

TRACE_ENABLED = {"traceTopicEnable": "true"}
_COST = re.compile(r"cost \[\d+\]ms")
_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
_MS = re.compile(r"\b\d+ms\b")


def _run(env: InteropEnv, scenario: str, args: dict[str, str], serialize_type: str | None = None) -> Any:
    home = env.driver_home(f"{scenario}-{args.get('prefix')}")
    run = run_driver(env.build, scenario, {"namesrv": env.namesrv.addr, **args}, home, serialize_type)
    return env.normaliser()(run.observations)


def _scrub(value: Any) -> Any:
    """Send costs in client error messages are times."""
    if isinstance(value, str):
        return _COST.sub("cost [<ms>]ms", value)
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _rename(value: Any, name: re.Pattern[str], to: str) -> Any:
    if isinstance(value, str):
        return name.sub(to, value)
    if isinstance(value, dict):
        return {k: _rename(v, name, to) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename(v, name, to) for v in value]
    return value


def _trace_rows(stdout: str) -> list[list[str]]:
    """queryMsgTraceById output as token rows, with the send/consume time and the cost columns replaced."""
    rows = []
    for line in stdout.splitlines():
        line = _MS.sub("<cost>", _TIME.sub("<time>", line))
        if line.strip():
            rows.append(line.split())
    return rows


def request_reply(env: InteropEnv, prefix: str = "reply", serialize_type: str | None = None) -> dict[str, Any]:
    args = {"count": "3", "prefix": prefix}
    observed: dict[str, Any] = _scrub(_run(env, "request-reply", args, serialize_type))
    return observed


def trace(env: InteropEnv, prefix: str, trace_topic: str | None = None) -> dict[str, Any]:
    args = {"topic": f"InteropTrace_{prefix}", "prefix": prefix, "count": "3"}
    if trace_topic is not None:
        args["trace-topic"] = trace_topic
    observed: dict[str, Any] = _run(env, "trace", args)
    for run in observed["queryMsgTraceById"].values():
        run["stdout"] = _trace_rows(run["stdout"])
    return observed


@pytest.fixture(scope="module", params=TARGETS)
def trace_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, interop_build: Any
) -> Iterator[InteropEnv]:
    """NameServer + broker of one target with traceTopicEnable=true, shared by this module's scenarios."""
    kind: str = request.param
    workdir: Path = tmp_path_factory.mktemp(f"reply-trace-{kind}")
    with environment(interop_build, kind, workdir, with_broker=False, broker_kind=kind) as env:
        env.start_broker(conf_extra=TRACE_ENABLED)
        yield env


def _on_java(scenario: Any) -> Any:
    """For an on-demand Java baseline: the module's broker configuration, then the scenario."""

    def run(env: InteropEnv) -> Any:
        env.start_broker(conf_extra=TRACE_ENABLED)
        return scenario(env)

    return run


def test_request_reply(trace_env: InteropEnv, baseline: JavaBaseline) -> None:
    observed = request_reply(trace_env)
    baseline.check("request_reply", trace_env, observed, _on_java(request_reply), with_broker=False)
    reply_to = observed["requestsSeenByConsumer"]["sync-0"]["properties"]["REPLY_TO_CLIENT"]
    assert reply_to.endswith("@reply-requester")
    _assert_replies(observed)


def test_request_reply_rocketmq_serialization(trace_env: InteropEnv, baseline: JavaBaseline) -> None:
    """The same with the clients' binary (ROCKETMQ) headers: SEND_REPLY_MESSAGE_V2 comes in that format."""

    def scenario(env: InteropEnv) -> dict[str, Any]:
        return request_reply(env, "binary", "ROCKETMQ")

    observed = scenario(trace_env)
    baseline.check("request_reply_rocketmq", trace_env, observed, _on_java(scenario), with_broker=False)
    _assert_replies(observed)


def _assert_replies(observed: dict[str, Any]) -> None:
    for one in observed["sync"] + list(observed["async"].values()):
        assert one["topic"] == "DefaultCluster_REPLY_TOPIC" and one["flag"] == 7
        assert one["properties"]["MSG_TYPE"] == "reply" and one["properties"]["PUSH_REPLY_TIME"] == "<volatile>"
    assert [r["body"] for r in observed["sync"]] == [f"reply to sync-{i}" for i in range(3)]
    assert observed["compressed"][0]["bodyLength"] > 4096
    assert observed["asyncAllCalledBack"] is True
    assert observed["unanswered"]["class"].endswith("RequestTimeoutException")
    gone = observed["requesterGone"]
    assert gone["responseCode"] == 1
    assert gone["cause"]["errorMessage"].startswith("push reply message fail, channel of <")
    # 7 delivered replies, then the late reply tried 3 times (SYSTEM_ERROR is retried): all stored
    assert observed["repliesStored"] == 10


def test_request_reply_on_rocketpy_serve(tmp_path: Path, interop_build: Any, baseline: JavaBaseline) -> None:
    """`rocketpy serve` (NameServer and broker in one process) answers request-reply as the Java broker does."""
    env = start_serve(interop_build, tmp_path / "serve")
    try:
        observed = request_reply(env)
    finally:
        env.stop()
    [route] = observed["replyTopicRoute"]
    assert route["brokerName"] not in ("", "broker-a")  # serve names its broker after the host, as Java's default
    # the name the reference broker is configured with, wherever the broker name shows
    observed = _rename(observed, re.compile(rf"\b{re.escape(route['brokerName'])}\b"), "broker-a")
    baseline.check("request_reply", env, observed, _on_java(request_reply), with_broker=False)


def test_trace_with_trace_topic_enabled(trace_env: InteropEnv, baseline: JavaBaseline) -> None:
    observed = trace(trace_env, "enabled")
    baseline.check("trace_enabled", trace_env, observed, _on_java(lambda e: trace(e, "enabled")), with_broker=False)
    _assert_trace(observed, queues=1)


def test_trace_with_broker_defaults(broker_env: InteropEnv, baseline: JavaBaseline) -> None:
    observed = trace(broker_env, "defaults")
    baseline.check("trace_defaults", broker_env, observed, lambda e: trace(e, "defaults"))
    _assert_trace(observed, queues=4)  # auto-created from TBW102 by the first trace send


def _assert_trace(observed: dict[str, Any], queues: int) -> None:
    assert observed["allConsumed"] is True
    for views in observed["traceViews"].values():
        assert sorted(v["msgType"] for v in views) == ["Pub", "SubAfter", "SubBefore"]
        assert all(v["traceMessageTopic"] == "RMQ_SYS_TRACE_TOPIC" for v in views)
    for run in observed["queryMsgTraceById"].values():
        kinds = [row[0] for row in run["stdout"]]
        assert kinds == ["#Type", "Pub", "#Type", "Sub"], run
    [route] = observed["traceTopicRoute"]
    assert (route["readQueueNums"], route["writeQueueNums"]) == (queues, queues)
