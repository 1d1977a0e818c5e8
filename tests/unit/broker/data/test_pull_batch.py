"""PULL_MESSAGE frames parsed in C over whole reads (`FastPull.batch`, `_sendpath.pull_frame`; issue 12).

The golden pull cases (test_pull_golden_cases.py, recorded on the general path) go in as wire frames through the
batch first, then, for a frame it leaves, the connection's route (FastPull, then the general handler): the replies
and effects must be the recorded ones, and the batch must take exactly the pulls the Python fast path takes. A read
mixing sends, pulls and other requests through the broker's combined batch handler must answer and store as the
frame-by-frame route does. Mangled frames are never taken where the decoder refuses them.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rocketpy.broker.processors import send_fast
from rocketpy.broker.processors.data_plane import build_data_plane
from rocketpy.broker.processors.pull_fast import FastPull
from rocketpy.broker.processors.send_fast import _LANGUAGES
from rocketpy.protocol.bodies.topic_config import TopicConfig
from rocketpy.protocol.codes import LanguageCode, RequestCode
from rocketpy.remoting.codec import CodecError, FrameDecoder, encode
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import RequestContext, _as_reply
from rocketpy.store.message_store import MessageStore
from tests.unit.broker.conftest import heartbeat
from tests.unit.broker.data.conftest import (
    PULL_COMMIT,
    DataPlane,
    PlaneFactory,
    pull_ext,
    send_v2_ext,
)
from tests.unit.broker.data.pull_support import java_subscription
from tests.unit.broker.data.test_pull_golden_cases import CONSUMER, ParkingConnection, check_fast_route

FROZEN_NOW = 1_700_000_123.456

if send_fast.NATIVE:
    from rocketpy.broker import _sendpath

pytestmark = pytest.mark.skipif(not send_fast.NATIVE, reason="test_send_native.test_extension_built fails instead")


async def test_pull_cases_batch_route(make_plane: PlaneFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_700_000_123.456)

    def batch(plane: DataPlane, cmd: RemotingCommand, conn: ParkingConnection) -> bytes | None:
        frame = encode(cmd)
        pos, replies = FastPull(plane.pull).batch(conn, frame, 0)  # type: ignore[arg-type]
        assert pos in (0, len(frame)) and (pos or not replies)
        return replies if pos else None

    await check_fast_route(make_plane, batch)


def frame(code: int, ext: dict[str, str] | None, opaque: int, body: bytes | None = None) -> bytes:
    cmd = RemotingCommand.request(code, ext, body)
    cmd.language, cmd.version, cmd.opaque = LanguageCode.JAVA, 409, opaque
    return encode(cmd)


BEAT = heartbeat("10.0.0.8@1", consumers={"G1": [java_subscription("TopicTest", "*", 100)]})


def read_of(kinds: list[str]) -> bytes:
    """Frames of the kinds given, each with its own opaque: a send, an everyday pull, a pull the fast path leaves
    (the subscription flag of a lite pull), a heartbeat."""
    out = []
    for n, kind in enumerate(kinds):
        if kind == "send":
            ext = send_v2_ext("TopicTest", queue_id=n % 2)
            out.append(frame(RequestCode.SEND_MESSAGE_V2, ext, 100 + n, b"body-%d" % n))
        elif kind == "pull":
            ext = pull_ext("G1", "TopicTest", n % 2, 0, sys_flag=PULL_COMMIT, sub_version=100, commit_offset=n)
            out.append(frame(RequestCode.PULL_MESSAGE, ext, 100 + n))
        elif kind == "lite":
            out.append(frame(RequestCode.PULL_MESSAGE, pull_ext("G1", "TopicTest", n % 2, 0), 100 + n))
        else:
            out.append(frame(RequestCode.HEART_BEAT, None, 100 + n, BEAT))
    return b"".join(out)


async def broker(make_plane: PlaneFactory) -> tuple[DataPlane, Any, dict[int, Any], ParkingConnection]:
    """A plane whose TopicTest has a record in each queue and the consumer group G1 of BEAT subscribed."""
    test_plane = make_plane()
    test_plane.controller.topics.update_topic_config(TopicConfig("TopicTest", 2, 2, 6))
    plane = build_data_plane(test_plane.controller, test_plane.store)
    plane.send._fast_send().now_ms = int(FROZEN_NOW * 1000)
    handlers = {**test_plane.controller.handlers(), **plane.handlers()}
    conn = ParkingConnection(CONSUMER.remote_addr)
    beat = RemotingCommand.request(RequestCode.HEART_BEAT, None, BEAT)
    await handlers[RequestCode.HEART_BEAT](RequestContext(conn, None, beat), beat)  # type: ignore[arg-type]
    for q in range(2):  # something to pull
        seed = RemotingCommand.request(RequestCode.SEND_MESSAGE_V2, send_v2_ext("TopicTest", queue_id=q), b"seed")
        await handlers[RequestCode.SEND_MESSAGE_V2](RequestContext(conn, None, seed), seed)  # type: ignore[arg-type]
    return test_plane, plane, handlers, conn


async def serve(make_plane: PlaneFactory, data: bytes, batched: bool) -> tuple[bytes, Any]:
    """The read through the broker's combined batch handler first (or not), the rest frame by frame as a connection
    serves it (fast handler, then the table's)."""
    test_plane, plane, handlers, conn = await broker(make_plane)
    out: list[bytes] = []
    pos = 0
    if batched:
        batch = plane.batch_handler()
        assert batch is not None
        pos, replies = batch(conn, data, 0)  # type: ignore[arg-type]
        out.append(replies)
    fast = plane.fast_handlers()
    try:
        commands = FrameDecoder().feed(data[pos:])
    except CodecError as exc:
        commands = exc.decoded
    for cmd in commands:
        handler = fast.get(cmd.code)
        got = handler(conn, cmd) if handler is not None else None  # type: ignore[arg-type]
        if got is None:
            reply = await handlers[cmd.code](RequestContext(conn, None, cmd), cmd)  # type: ignore[arg-type]
            got = encode(_as_reply(cmd, reply))  # type: ignore[arg-type]
        out.append(got)
    stats = plane.stats
    effects = ([test_plane.store.get_max_offset_in_queue("TopicTest", q) for q in range(2)],
               sorted((k, sorted(v.items())) for k, v in test_plane.controller.offsets.table.items()),
               [stats.get_found.total, stats.get_miss.total, stats.get_transferred.total])  # fmt: skip
    return b"".join(out), effects


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["send", "pull", "pull", "lite", "beat"]), min_size=1, max_size=12))
async def test_mixed_reads_as_frame_by_frame(make_plane: PlaneFactory, kinds: list[str]) -> None:
    """A read of sends, pulls and other requests through the combined batch handler answers and counts as the
    frame-by-frame route does."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(time, "time", lambda: FROZEN_NOW)
        data = read_of(kinds)
        assert await serve(make_plane, data, True) == await serve(make_plane, data, False)


async def test_a_pull_the_store_fails_is_left_to_the_connections_route(
    make_plane: PlaneFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception serving a pull (here the store's read) is answered by the connection as a failing fast handler's
    (SYSTEM_ERROR, Java's answer to a processor's exception): the batch leaves that frame to it, with the frames
    before it answered, instead of letting the exception close the connection."""
    _, plane, _, conn = await broker(make_plane)
    data = read_of(["pull", "pull"])
    batch = plane.batch_handler()
    assert batch is not None
    end, replies = batch(conn, data, 0)  # type: ignore[arg-type]
    assert end == len(data) and replies

    def fail(*args: object) -> None:
        raise OSError("the disk is gone")

    monkeypatch.setattr(MessageStore, "get_message_joined", fail)
    assert batch(conn, data, 0) == (0, b"")  # type: ignore[arg-type]
    cmd = FrameDecoder().feed(data)[0]
    with pytest.raises(OSError):
        plane.fast_handlers()[RequestCode.PULL_MESSAGE](conn, cmd)  # type: ignore[arg-type]


PULL_FRAME = frame(RequestCode.PULL_MESSAGE, {**pull_ext("G1", "TopicTest", 1, 7, sys_flag=3, sub_version=100),
                                              "bname": "broker-a"}, 4242)  # fmt: skip


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(PULL_FRAME)), st.sampled_from(["set", "cut", "insert"]),
                          st.integers(0, 255)), min_size=1, max_size=4))  # fmt: skip
def test_mangled_pull_frames_are_taken_only_as_the_decoder_reads_them(edits: list[tuple[int, str, int]]) -> None:
    data = bytearray(PULL_FRAME)
    for at, how, byte in edits:
        at = min(at, len(data))
        if how == "set" and at < len(data):
            data[at] = byte
        elif how == "cut":
            del data[at : at + 1 + byte % 8]
        else:
            data[at:at] = bytes([byte])
    got = _sendpath.pull_frame(bytes(data), 0, 1 << 24, _LANGUAGES)
    if got is None:
        return
    end, opaque, group, topic, *numbers = got
    (cmd,) = FrameDecoder().feed(bytes(data[:end]))  # whole, and the decoder takes it
    ext = cmd.ext_fields or {}
    assert (cmd.code, cmd.flag, cmd.opaque, cmd.body) == (RequestCode.PULL_MESSAGE, 0, opaque, None)
    assert (ext["consumerGroup"], ext["topic"]) == (group, topic)
    names = ["queueId", "queueOffset", "maxMsgNums", "sysFlag", "commitOffset", "suspendTimeoutMillis", "subVersion"]
    assert [int(ext[k]) for k in names] == numbers


def test_pull_frame_reads_the_java_clients_header() -> None:
    got = _sendpath.pull_frame(b"xy" + PULL_FRAME + b"z", 2, 1 << 24, _LANGUAGES)
    assert got == (2 + len(PULL_FRAME), 4242, "G1", "TopicTest", 1, 7, 32, 3, 0, 15000, 100)
    assert _sendpath.pull_frame(PULL_FRAME[:-1], 0, 1 << 24, _LANGUAGES) is None  # incomplete
    assert _sendpath.pull_frame(PULL_FRAME, 0, len(PULL_FRAME) - 1, _LANGUAGES) is None  # over the frame limit


PULL_NAMES = ["consumerGroup", "topic", "queueId", "queueOffset", "maxMsgNums", "sysFlag", "commitOffset",
              "suspendTimeoutMillis", "subVersion"]  # fmt: skip
_texts = st.sampled_from(["G1", "TopicTest", "", "é", "a b", "\U0001f600", "\x7f", "\ufffe", "\x00", '"', "\\"])
_odd_digits = st.sampled_from(["-1", "+1", " 1", "1.0", "", "0" * 19, "1" * 10, "\u0661", "0x1"])
_json_ws = st.sampled_from(["", "", "", " ", "\n", "\t", "\r"])
_top_values = st.sampled_from(["0", "-0", "11", "2147483648", "-2147483649", "1.0", "1e1", '"11"', "null", "01"])


def _json_text(value: str, how: int) -> str:
    """A JSON string as a writer may choose to escape it: raw UTF-8, ASCII escapes, or every character escaped."""
    if how == 1:
        return json.dumps(value, ensure_ascii=True)
    if how == 2:
        return '"' + "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else c for c in value) + '"'
    return json.dumps(value, ensure_ascii=False)


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_pull_headers_written_any_json_way_are_taken_only_as_the_decoder_reads_them(data: st.DataObject) -> None:
    """Headers a JSON writer could produce (any key order, whitespace, escapes, duplicate or unknown keys, odd
    numbers): what pull_frame takes, the decoder decodes to the same values and FastPull._serve would take."""
    draw = data.draw

    def rare() -> bool:  # most headers hold a single oddity, or none
        return draw(st.integers(0, 9)) == 0

    ext = {
        k: draw(_texts) if rare() else draw(st.sampled_from(["G1", "TopicTest", "é\U0001f600"])) for k in PULL_NAMES[:2]
    }
    for k in PULL_NAMES[2:]:
        short = k in ("queueId", "maxMsgNums", "sysFlag")
        ext[k] = str(draw(st.one_of(st.integers(0, 999), st.integers(0, 10**9 - 1 if short else 10**18 - 1))))
    if rare():
        ext[draw(st.sampled_from(PULL_NAMES[2:]))] = draw(_odd_digits)
    items = [(k, _json_text(v, draw(st.integers(1, 2)) if rare() else 0)) for k, v in ext.items()]
    if rare():
        items.append((draw(st.sampled_from([*PULL_NAMES, "bname", "other"])),
                      draw(st.sampled_from(['"1"', '"TAG"', "1", "null", "true"]))))  # fmt: skip
    items = draw(st.permutations(items))
    top = {"code": "11", "flag": "0", "language": '"JAVA"', "opaque": str(draw(st.integers(-(2**31), 2**31 - 1)))}
    if rare():
        top[draw(st.sampled_from([*top, "version", "remark"]))] = draw(_top_values)
    if rare():
        top["language"] = draw(st.sampled_from(['"CPP"', '"java"', '"J\\u0041VA"', "0", '"NOPE"']))

    def ws() -> str:
        return draw(_json_ws)

    ext_text = "{" + ",".join(f'{ws()}"{k}"{ws()}:{ws()}{v}{ws()}' for k, v in items) + "}"
    fields = draw(st.permutations([*top.items(), ("extFields", ext_text)]))
    header = (ws() + "{" + ",".join(f'{ws()}"{k}"{ws()}:{ws()}{v}{ws()}' for k, v in fields) + "}" + ws()).encode()
    wire = (4 + len(header)).to_bytes(4) + len(header).to_bytes(4) + header
    got = _sendpath.pull_frame(wire, 0, 1 << 24, _LANGUAGES)
    event("taken" if got is not None else "left")
    if got is None:
        return
    end, opaque, group, topic, *numbers = got
    (cmd,) = FrameDecoder().feed(wire)
    taken = cmd.ext_fields or {}
    assert end == len(wire)
    assert (cmd.code, cmd.flag, cmd.opaque, cmd.body) == (RequestCode.PULL_MESSAGE, 0, opaque, None)
    assert (taken["consumerGroup"], taken["topic"]) == (group, topic)
    texts = [taken[k] for k in PULL_NAMES[2:]]
    assert all(t.isascii() and t.isdigit() and len(t) < (10 if k in (2, 4, 5) else 19) for k, t in enumerate(texts, 2))
    assert [int(t) for t in texts] == numbers
