"""Request-reply (SEND_REPLY_MESSAGE_V2 + PUSH_REPLY_MESSAGE_TO_CLIENT) and message trace, against the Java
reference and rocketpy (issue 7).

One NameServer + broker per target, shared by the module, with traceTopicEnable=true (RMQ_SYS_TRACE_TOPIC is then
created at boot with one queue); the trace scenario also runs on a broker with the defaults, where the clients'
first trace send auto-creates the trace topic from TBW102.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interop.golden_frames import RESPONSE_FLAG, Frame, encode_request
from interop.harness.driver import run_driver
from interop.harness.environment import TARGETS, InteropEnv, environment, start_serve
from interop.harness.raw_client import RawConnection, describe
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


# -- raw frames: the push itself and the replier's answers ----------------------------------------------------------

RAW_REQUESTER = "127.0.0.1@raw-requester"
_HEX_ID = re.compile(r"^[0-9A-F]{32}$")
_PUSH_TIME = re.compile("PUSH_REPLY_TIME\x01\\d+")


def _props(*pairs: tuple[str, str]) -> str:
    return "\x02".join(f"{k}\x01{v}" for k, v in pairs)


def _reply_props(reply_to: str | None = RAW_REQUESTER) -> str:
    """What MessageUtil.createReplyMessage + a user property + send put in a reply (the client's HashMap order)."""
    pairs = [("MSG_TYPE", "reply"), ("CORRELATION_ID", "corr-raw"), ("TTL", "3000"), ("replyProp", "p")]
    if reply_to is not None:
        pairs.insert(2, ("REPLY_TO_CLIENT", reply_to))
    return _props(*pairs, ("UNIQ_KEY", "7F00000100002A9F0000000000000001"), ("WAIT", "true"))


def _reply_ext(topic: str = "DefaultCluster_REPLY_TOPIC", props: str | None = None, **over: str) -> dict[str, str]:
    ext = {"a": "raw_reply_group", "b": topic, "c": "TBW102", "d": "4", "e": "0", "f": "0", "g": "1700000000000",
           "h": "3", "i": _reply_props() if props is None else props, "j": "0", "k": "false", "m": "false",
           "n": "broker-a", **over}  # fmt: skip
    return {k: v for k, v in ext.items() if v != "<absent>"}


def _long_names(ext: dict[str, str]) -> dict[str, str]:
    long = ["producerGroup", "topic", "defaultTopic", "defaultTopicQueueNums", "queueId", "sysFlag", "bornTimestamp",
            "flag", "properties", "reconsumeTimes", "unitMode", "batch"]  # fmt: skip
    names = dict(zip("abcdefghijkm", long, strict=True))
    return {names[k]: v for k, v in ext.items() if k in names}


def _next_request(conn: RawConnection, wait: float) -> Frame | None:
    """The next request frame (not a response) the server sends on `conn`."""
    deadline = time.monotonic() + wait
    while True:
        for i, frame in enumerate(conn.pending):
            if not frame.header()["flag"] & RESPONSE_FLAG:
                return conn.pending.pop(i)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        conn.sock.settimeout(remaining)
        try:
            data = conn.sock.recv(65536)
        except TimeoutError:
            return None
        if not data:
            return None
        conn.pending += conn.splitter.feed(data)


def _exchange(
    replier: RawConnection,
    requester: RawConnection,
    code: int,
    ext: dict[str, str],
    answer: int | None,
    st: str = "JSON",
) -> dict[str, Any]:
    """Send a reply on `replier`; if `answer` is a code, expect the push on `requester` and answer it so."""
    replier.opaque += 1
    opaque = replier.opaque
    replier.send_raw(encode_request(code, opaque, ext, b"raw pong", st))
    out: dict[str, Any] = {}
    if answer is not None:
        push = _next_request(requester, 15.0)
        out["push"] = describe(push)
        if push is not None:
            header = push.header()
            requester.send_raw(encode_request(answer, header["opaque"], None, b"", push.serialize_type, flag=1))
    out["response"] = describe(replier.wait_response(opaque, 15.0))
    return out


def _shape(view: Any, base: list[int]) -> Any:
    """Times, offset msg ids and absolute queue offsets out (an offset is kept relative to the first stored)."""
    ext = view.get("extFields") if isinstance(view, dict) else None
    if not isinstance(ext, dict):
        return view
    ext = dict(ext)
    if "storeTimestamp" in ext:
        ext["storeTimestamp"] = "<time>"
    if "properties" in ext:
        ext["properties"] = _PUSH_TIME.sub("PUSH_REPLY_TIME\x01<time>", ext["properties"])
    if _HEX_ID.match(ext.get("msgId", "")):
        ext["msgId"] = "<offsetMsgId>"
        if not base:
            base.append(int(ext["queueOffset"]))
        ext["queueOffset"] = f"first+{int(ext['queueOffset']) - base[0]}"
    return {**view, "extFields": ext, "version": "<server version>"}


def raw_reply(env: InteropEnv) -> dict[str, Any]:
    """SEND_REPLY_MESSAGE(_V2) from hand-built frames; the requester is a raw connection that heartbeats as a
    producer, so the PUSH_REPLY_MESSAGE_TO_CLIENT frame itself is compared. The answers' `version` is the server's
    (407 for the 4.9.7 reference, 409 pinned), so it is left out."""
    assert env.broker is not None
    addr = env.broker.addr
    requester, replier = RawConnection(addr), RawConnection(addr)
    out: dict[str, Any] = {}
    base: list[int] = []
    try:
        heartbeat = {"clientID": RAW_REQUESTER, "consumerDataSet": [], "producerDataSet": [{"groupName": "raw_req"}]}
        beat = requester.call(34, None, json.dumps(heartbeat).encode())
        assert beat is not None and beat.header()["code"] == 0, describe(beat)
        v2, v1 = 325, 324
        probes: list[tuple[str, int, dict[str, str], int | None, str]] = [
            ("pushed", v2, _reply_ext(), 0, "JSON"),
            ("pushedBinaryHeader", v2, _reply_ext(), 0, "ROCKETMQ"),
            ("longNames", v1, _long_names(_reply_ext()), 0, "JSON"),
            ("randomQueue", v2, _reply_ext(e="-1"), 0, "JSON"),
            ("autoCreatedTopic", v2, _reply_ext("RawReplyNewTopic"), 0, "JSON"),
            ("pushRefused", v2, _reply_ext(), 1, "JSON"),
            ("requesterUnknown", v2, _reply_ext(props=_reply_props("127.0.0.1@nobody")), None, "JSON"),
            ("noReplyToClient", v2, _reply_ext(props=_reply_props(None)), None, "JSON"),
            ("badTopic", v2, _reply_ext("bad topic"), None, "JSON"),
            ("forbiddenTopic", v2, _reply_ext("SCHEDULE_TOPIC_XXXX"), None, "JSON"),
            ("queueIdTooBig", v2, _reply_ext(e="5"), None, "JSON"),
            ("compressedSysFlag", v2, _reply_ext(f="1"), 0, "JSON"),
        ]
        for label, code, ext, answer, st in probes:
            out[label] = _exchange(replier, requester, code, ext, answer, st)
        # Malformed headers: Java decodes leniently (a missing field stays null) and fails later, often with a
        # NullPointerException whose text is the JVM's; rocketpy refuses the header at once (docs/architecture.md,
        # "protocol"). Both answer SYSTEM_ERROR, which is what a client acts on, so the code alone is compared.
        malformed = [
            ("missingTopic", _reply_ext(b="<absent>"), "JSON"),
            ("missingTopicBinaryHeader", _reply_ext(b="<absent>"), "ROCKETMQ"),
            ("queueIdNotANumber", _reply_ext(e="abc"), "JSON"),
            ("missingBornTimestamp", _reply_ext(g="<absent>"), "JSON"),
        ]
        for label, ext, st in malformed:
            frame = replier.call(v2, ext, b"raw pong", st, wait=15.0)
            out[label] = {"code": describe(frame).get("code")}
        update = replier.call(25, None, b"storeReplyMessageEnable=false\n")
        out["storeDisabled"] = _exchange(replier, requester, v2, _reply_ext(), 0)
        out["storeDisabledRequesterUnknown"] = _exchange(
            replier, requester, v2, _reply_ext(props=_reply_props("127.0.0.1@nobody")), None
        )
        restore = replier.call(25, None, b"storeReplyMessageEnable=true\n")
        out["configUpdates"] = [describe(f)["code"] for f in (update, restore)]
        out["unexpectedPushes"] = describe(_next_request(requester, 0.5))
    finally:
        requester.close()
        replier.close()
    shaped = {
        label: {part: _shape(view, base) for part, view in value.items()} if isinstance(value, dict) else value
        for label, value in out.items()
    }
    observed: dict[str, Any] = env.normaliser()(shaped)
    return observed


def test_raw_reply_frames(trace_env: InteropEnv, baseline: JavaBaseline) -> None:
    observed = raw_reply(trace_env)
    baseline.check("raw_reply", trace_env, observed, _on_java(raw_reply), with_broker=False)
    assert observed["pushed"]["response"]["code"] == 0
    assert observed["requesterUnknown"]["response"]["remark"] == (
        "push reply message fail, channel of <127.0.0.1@nobody> not found."
    )
    assert observed["storeDisabled"]["response"]["extFields"]["msgId"] == "0"
    assert observed["unexpectedPushes"] == {"response": None}
