"""The C send path (rocketpy/broker/_sendpath.c) against the Python paths, on random reads (issue 12).

Two brokers over two fresh stores get the same requests: one frame by frame through the fast handler and the
general handler (the Python paths, themselves held to the golden bytes of test_send_golden.py), the other as whole
reads offered to the C path first, what it leaves going the Python way. Replies, the position of every record and
every byte of the stores (commit log, consume queues, index files; small files, so that they roll) must be equal.
The requests are what producers send and what they might: property names in any order with CLUSTER, WAIT, DELAY
and TRAN_MSG among them, keys with spaces, non-ASCII names and values, malformed property strings, JSON escapes,
unknown languages, odd digits, queues out of range, retry and system topics, other request codes in between.
"""

from __future__ import annotations

import itertools
import struct
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rocketpy.broker.processors import send_fast
from rocketpy.protocol.codes import LanguageCode, RequestCode, ResponseCode
from rocketpy.remoting.codec import FrameDecoder
from tests.unit.broker.data.conftest import PRODUCER, DataPlane, PlaneFactory
from tests.unit.broker.data.test_send_golden import (
    FROZEN_NOW,
    _serve,
    frames,
    seen_topics,
    serve_reads,
    split_replies,
    store_files,
)

TOPICS = ["TopicTest", "TopicB", "T2", "%RETRY%G1", "SCHEDULE_TOPIC_XXXX", "Bad Topic", "NotCreated"]
NAMES = ["TAGS", "KEYS", "UNIQ_KEY", "WAIT", "CLUSTER", "DELAY", "TRAN_MSG", "a", "MSG_REGION", "名字", "ké", "x😀"]
LONG_NAMES = dict(zip("abcdefghijklm", ["producerGroup", "topic", "defaultTopic", "defaultTopicQueueNums", "queueId",
                                        "sysFlag", "bornTimestamp", "flag", "properties", "reconsumeTimes", "unitMode",
                                        "maxReconsumeTimes", "batch"], strict=True))  # fmt: skip
VALUE = st.one_of(
    st.sampled_from(["TagA", "k1 k2", " k3  k4 ", "true", "false", "1", "7F0000010B6418B4AAC27A3E6B2C0000", "值"]),
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x01\x02"), min_size=1, max_size=12),
)


def test_extension_built() -> None:
    """CI builds the extension (pip install -e .); without it the broker runs frame by frame, and this says so."""
    assert send_fast.NATIVE, "rocketpy.broker._sendpath is not built: run `pip install -e .` (needs a C compiler)"


@st.composite
def properties(draw: st.DrawFn) -> str | None:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return None
    if kind == 1:  # anything, malformed strings included
        return "".join(draw(st.lists(st.sampled_from(["\x01", "\x02", "a", "TAGS", "é", " "]), max_size=12)))
    names = draw(st.lists(st.sampled_from(NAMES), max_size=8))
    return "\x02".join(f"{name}\x01{draw(VALUE)}" for name in names)


@st.composite
def request(draw: st.DrawFn) -> tuple[int, dict[str, str] | None, bytes | None, int]:
    others = [RequestCode.GET_MAX_OFFSET, RequestCode.SEND_MESSAGE, RequestCode.SEND_BATCH_MESSAGE]
    code = draw(st.sampled_from([RequestCode.SEND_MESSAGE_V2] * 7 + others))
    if code == RequestCode.GET_MAX_OFFSET:  # another request of a producer's connection, between its sends
        return code, {"topic": "TopicTest", "queueId": draw(st.sampled_from(["0", "1"]))}, None, 0
    ext = {"a": "PG", "b": draw(st.sampled_from(TOPICS)), "c": "TBW102", "d": "4",
           "e": draw(st.sampled_from(["0", "1", "3", "7", "01", "-1", "x"])),
           "f": draw(st.sampled_from(["0", "0", "1", "4", "8", "2"])),
           "g": "1700000000000", "h": draw(st.sampled_from(["0", "0", "3", "99"])),
           "k": "false", "m": draw(st.sampled_from(["false", "false", "true", "TRUE", "x"]))}  # fmt: skip
    props = draw(properties())
    if props is not None:
        ext["i"] = props
    if draw(st.booleans()):
        ext["j"] = draw(st.sampled_from(["0", "2", "1234567890"]))
    if draw(st.integers(0, 9)) == 0:
        del ext[draw(st.sampled_from(["a", "b", "c", "e", "g"]))]
    if code == RequestCode.SEND_MESSAGE:  # the same fields by SEND_MESSAGE's long names
        ext = {LONG_NAMES[k]: v for k, v in ext.items() if k in LONG_NAMES}
    body = draw(st.one_of(st.binary(max_size=64), st.sampled_from([b"", b"x" * 3000, b"y" * 70_000])))
    if code == RequestCode.SEND_BATCH_MESSAGE:
        ext["m"] = draw(st.sampled_from(["true", "true", "True", "false"]))
        body = draw(batch_body())
    return code, ext, body, 0


@st.composite
def batch_body(draw: st.DrawFn) -> bytes:
    """MessageDecoder.encodeMessages of random entries, now and then cut short or with properties that are not
    UTF-8."""
    out = b""
    for _ in range(draw(st.integers(0, 5))):
        props = draw(properties())
        raw = (props or "").encode() if draw(st.integers(0, 9)) else b"\xc3(" + (props or "").encode()
        body = draw(st.binary(max_size=40))
        out += struct.pack(">iiiii", 0, 0, 0, draw(st.sampled_from([0, 1, 5])), len(body)) + body
        out += struct.pack(">h", len(raw)) + raw
    if out and draw(st.integers(0, 9)) == 0:
        out = out[: draw(st.integers(0, len(out) - 1))]
    return out


async def serve_native(plane: DataPlane, reads: list[bytes]) -> tuple[list[str], int]:
    """The reads as the connection serves them: the C path first, then one frame the Python way, and so on."""
    replies: list[str] = []
    taken = await serve_reads(plane, reads, plane.send.fast_handlers(), replies, native=True)
    return replies, taken


def assert_same_stores(python: DataPlane, native: DataPlane) -> None:
    """After a flush, every file of the two stores (commit log, consume queues, index) has the same bytes."""
    for plane in (python, native):
        plane.store.flush()
    assert store_files(Path(native.store.config.store_path_root_dir)) == store_files(
        Path(python.store.config.store_path_root_dir)
    )


async def compare_planes(
    make_plane: PlaneFactory,
    requests: list[Any],
    cuts: Iterable[int] = (),
    languages: list[LanguageCode] | None = None,
    prepared: list[Any] | None = None,
) -> tuple[DataPlane, DataPlane, int]:
    """Two brokers over fresh stores, both prepared for `prepared` (the requests themselves unless given), get the
    requests' frames: one frame by frame the Python way, the other as reads cut before the frames at `cuts`, the C
    path first. Their replies, their commit logs' ends and, after a flush, every store file must be equal. The two
    planes (stores closed) and how many requests the C path took."""
    python, native = make_plane(), make_plane()
    try:
        for plane in (python, native):
            prepare(plane, requests if prepared is None else prepared)
        encoded = frames(requests, languages)
        bounds = [0, *cuts, len(encoded)]
        reads = [b"".join(encoded[a:b]) for a, b in itertools.pairwise(bounds) if a < b]
        want: list[str] = []
        await _serve(python, encoded, python.send.fast_handlers(), want)
        got, taken = await serve_native(native, reads)
        assert got == want
        assert native.store.max_phy_offset == python.store.max_phy_offset
        python_ends, native_ends = ({k: cq.max_physic_offset for k, cq in plane.store.queues.items()}
                                    for plane in (python, native))  # fmt: skip
        assert native_ends == python_ends  # the consume queues' record ends (the C path hands them over)
        assert_same_stores(python, native)
    finally:
        python.store.close()
        native.store.close()
    return python, native, taken


def prepare(plane: DataPlane, requests: list[Any]) -> None:
    sends = [r for r in requests if r[0] == RequestCode.SEND_MESSAGE_V2 and r[1] and {"b", "c"} <= r[1].keys()]
    seen_topics(plane, sends, True)
    fast = plane.send._fast_send()
    fast.now_ms = int(FROZEN_NOW * 1000)
    for topic in plane.send._sendable_topics:  # as the general path's first send of each teaches it
        fast._learn_topic(topic)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(request(), min_size=1, max_size=40),
    st.data(),
)
async def test_native_equals_python(
    make_plane: PlaneFactory, monkeypatch: pytest.MonkeyPatch, requests: list[Any], data: st.DataObject
) -> None:
    monkeypatch.setattr(time, "time", lambda: FROZEN_NOW)
    languages = [data.draw(st.sampled_from([LanguageCode.JAVA] * 6 + [LanguageCode.GO, LanguageCode.CPP]))
                 for _ in requests]  # fmt: skip
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(requests) - 1)), max_size=4)))
    await compare_planes(make_plane, requests, cuts, languages)


async def test_native_takes_everyday_sends(make_plane: PlaneFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A producer's everyday sends after the first all take the C path, and index and consume-queue files roll
    under it (256 index entries, 100 units per consume-queue file here)."""
    from tests.unit.broker.data.conftest import client_properties, send_v2_ext

    monkeypatch.setattr(time, "time", lambda: FROZEN_NOW)
    requests = [(RequestCode.SEND_MESSAGE_V2,
                 send_v2_ext("TopicTest", queue_id=n % 2,
                             properties=client_properties(keys=f"k{n} j{n}", uniq=f"U{n}")),
                 b"b" * (n % 50), 0) for n in range(400)]  # fmt: skip
    _, _, taken = await compare_planes(make_plane, requests, range(64, len(requests), 64))  # reads of 64
    # the C path took all but the first (whose put_message creates the commit log's first file) and the few
    # where an index file rolls (4 of 256 entries for 1,200 keys) or the commit log reserves room ahead
    assert 390 <= taken < 400, taken


@pytest.mark.parametrize(
    "header",
    [
        b'{"code":310,"extFields":{"b":"TopicTest"},"flag":0,"language":"NOPE","opaque":1,"version":409}',
        b'{"code":310,"extFields":{"b":"TopicTest"},"flag":0,"language":"JAVA","opaque":1,"version":409',
        b'{"code":310,"code":310,"extFields":{},"flag":0,"language":"JAVA","opaque":1}',
        b'{"code":310,"extFields":{"b":"\\ud800"},"flag":0,"language":"JAVA","opaque":1}',
        b'{"code":310,"extFields":{"b":"T\xff"},"flag":0,"language":"JAVA","opaque":1}',
        b'{"code":3.1e2,"extFields":{},"flag":0,"language":"JAVA","opaque":1}',
        b'{"code":310,"extFields":{},"flag":0,"language":"JAVA","opaque":99999999999}',
        b'{"code":310,"extFields":{},"flag":0,"language":"JAVA","opaque":1,"remark":"r"}',
    ],
)
async def test_native_leaves_odd_headers(make_plane: PlaneFactory, header: bytes) -> None:
    """Headers the Python decoder refuses or reads its own way are left to it: nothing taken, nothing written."""
    plane = make_plane()
    prepare(plane, [])
    await plane.send_one()  # the commit log's first file, so that only the header decides
    before = plane.store.max_phy_offset
    batch = plane.send.batch_handler()
    assert batch is not None
    frame = (4 + len(header) + 1).to_bytes(4, "big") + len(header).to_bytes(4, "big") + header + b"x"
    assert batch(PRODUCER, frame, 0) == (0, b"")  # type: ignore[arg-type]
    assert plane.store.max_phy_offset == before


async def test_native_takes_send_message_by_long_names(
    make_plane: PlaneFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SEND_MESSAGE (10), the same fields by their long names, takes the C path too, with the same bytes."""
    from tests.unit.broker.data.conftest import client_properties, send_v2_ext

    monkeypatch.setattr(time, "time", lambda: FROZEN_NOW)
    requests = []
    for n in range(6):
        ext = send_v2_ext("TopicTest", queue_id=n % 3, properties=client_properties(keys=f"k{n}", uniq=f"U{n}"))
        requests.append((RequestCode.SEND_MESSAGE, {LONG_NAMES[k]: v for k, v in ext.items() if k in LONG_NAMES},
                         b"v1-%d" % n, 0))  # fmt: skip
    prepared = [(RequestCode.SEND_MESSAGE_V2, send_v2_ext("TopicTest"), b"", 0)]
    _, _, taken = await compare_planes(make_plane, requests, prepared=prepared)
    assert taken == len(requests) - 1, send_fast._sendpath.last_stop_line()  # the first creates the first file


@pytest.mark.parametrize("code", [RequestCode.SEND_MESSAGE_V2, RequestCode.SEND_MESSAGE])
async def test_first_send_teaches_the_native_path(make_plane: PlaneFactory, code: int) -> None:
    """On a fresh broker the first send of a topic goes the general way (it creates the topic and the commit
    log's first file) and every later one the C path, whichever of the two send codes the producer uses."""
    from tests.unit.broker.data.conftest import client_properties, send_v2_ext

    plane = make_plane()
    requests = []
    for n in range(4):
        ext = send_v2_ext("FreshTopic", queue_id=n % 2, properties=client_properties(uniq=f"U{n}"))
        if code == RequestCode.SEND_MESSAGE:
            ext = {LONG_NAMES[k]: v for k, v in ext.items() if k in LONG_NAMES}
        requests.append((code, ext, b"m%d" % n, 0))
    replies, taken = await serve_native(plane, frames(requests))
    assert taken == 3
    assert [FrameDecoder().feed(bytes.fromhex(r))[0].code for r in replies] == [ResponseCode.SUCCESS] * 4
    offsets = [
        (await plane.call(RequestCode.GET_MAX_OFFSET, {"topic": "FreshTopic", "queueId": str(q)})) for q in (0, 1)
    ]
    assert [int((o.ext_fields or {})["offset"]) for o in offsets] == [2, 2]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
async def test_native_on_mangled_frames(
    make_plane: PlaneFactory, monkeypatch: pytest.MonkeyPatch, data: st.DataObject
) -> None:
    """Bytes of a valid send changed, cut or added anywhere (length words included): the C path never takes a
    frame the Python decoder refuses, never reads or writes past what it was given (the process survives), and
    whatever it takes it stores and answers as the Python paths do."""
    from tests.unit.broker.data.conftest import client_properties, send_v2_ext

    monkeypatch.setattr(time, "time", lambda: FROZEN_NOW)
    ext = send_v2_ext("TopicTest", queue_id=1, properties=client_properties(keys="a b", uniq="U1"))
    if data.draw(st.booleans()):
        (frame,) = frames([(RequestCode.SEND_MESSAGE_V2, ext, b"body", 0)])
    else:  # a batch: its entries' lengths are more to get wrong
        from rocketpy.broker.processors.send_support import encode_batch

        entries = [(0, b"e0", "TAGS\x01T\x02KEYS\x01k1 k2"), (1, b"e1", "UNIQ_KEY\x01U9")]
        batch_ext = send_v2_ext("TopicTest", queue_id=1, batch=True, properties="WAIT\x01true")
        (frame,) = frames([(RequestCode.SEND_BATCH_MESSAGE, batch_ext, encode_batch(entries), 0)])
    mangled = bytearray(frame)
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["set", "cut", "insert"]))
        at = data.draw(st.integers(0, max(0, len(mangled) - 1)))
        if kind == "set" and mangled:
            mangled[at] = data.draw(st.sampled_from([0, 1, 0x22, 0x5C, 0x7B, 0x7D, 0x2C, 0x3A, 0x80, 0xFF, 0x30, 0x75]))
        elif kind == "cut":
            del mangled[at : at + data.draw(st.integers(1, 8))]
        else:
            mangled[at:at] = data.draw(st.binary(min_size=1, max_size=6))
    if data.draw(st.booleans()) and len(mangled) >= 8:  # keep the length words consistent: reach the header
        mangled[0:4] = (len(mangled) - 4).to_bytes(4, "big")
        hlen = int.from_bytes(mangled[4:8], "big") & 0xFFFFFF
        if hlen > len(mangled) - 8:
            mangled[5:8] = (len(mangled) - 8 - 4).to_bytes(3, "big") if len(mangled) >= 12 else b"\0\0\0"
    warm = frames([(RequestCode.SEND_MESSAGE_V2, ext, b"warm", 0)])[0]
    python, native = make_plane(), make_plane()
    try:
        want: list[str] = []
        for plane in (python, native):
            prepare(plane, [(RequestCode.SEND_MESSAGE_V2, ext, b"", 0)])
            await _serve(plane, [warm], plane.send.fast_handlers(), [])  # the commit log's first file
        batch = native.send.batch_handler()
        assert batch is not None
        pos, out = batch(PRODUCER, bytes(mangled), 0)  # type: ignore[arg-type]
        if pos == 0:
            assert out == b""
            return
        # taken: a whole frame the decoder reads, answered and stored as the Python paths do
        decoded = FrameDecoder().feed(bytes(mangled[:pos]))
        assert len(decoded) == 1
        await _serve(python, [bytes(mangled[:pos])], python.send.fast_handlers(), want)
        assert split_replies(out) == want
        assert_same_stores(python, native)
    finally:
        python.store.close()
        native.store.close()


async def test_consume_queue_failure_leaves_the_batch_to_recovery(
    make_plane: PlaneFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A consume-queue write failing in the middle of a batch (a full disk creating a file): the store stops
    taking writes as after any dispatch failure, and after a restart every message of the batch is in its queue
    (the queues dispatched before the failure keep none of the batch, so recovery starts before it)."""
    from rocketpy.store.consumequeue import ConsumeQueue
    from rocketpy.store.message_store import MessageStore
    from tests.unit.broker.data.conftest import client_properties, send_v2_ext

    monkeypatch.setattr(time, "time", lambda: FROZEN_NOW)
    plane = make_plane()
    warm = (RequestCode.SEND_MESSAGE_V2, send_v2_ext("TopicTest", properties=client_properties(keys="w")), b"w", 0)
    prepare(plane, [warm])
    await serve_native(plane, frames([warm]))  # the commit log's first file
    real = ConsumeQueue.put_run

    def put_run(self: ConsumeQueue, first: int, units: bytes | bytearray, max_end: int | None = None) -> None:
        if self.queue_id == 1:
            raise OSError(28, "No space left on device")
        real(self, first, units, max_end)

    monkeypatch.setattr(ConsumeQueue, "put_run", put_run)
    requests = [(RequestCode.SEND_MESSAGE_V2,
                 send_v2_ext("TopicTest", queue_id=q, properties=client_properties(keys=f"k{n}", uniq=f"U{n}")),
                 b"m%d" % n, 0) for n, q in enumerate([0, 1, 0, 1, 0])]  # fmt: skip
    _, taken = await serve_native(plane, [b"".join(frames(requests))])
    assert taken == 5
    assert not plane.store.writeable
    monkeypatch.setattr(ConsumeQueue, "put_run", real)
    config = plane.store.config
    plane.store.close()
    store = MessageStore(config)
    store.open()
    try:
        assert [store.get_max_offset_in_queue("TopicTest", q) for q in (0, 1)] == [4, 2]
        assert len(store.query_message("TopicTest", "k3", 4, 0, 2**62).buffers) == 1
    finally:
        store.close()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(0, 7))
def test_crc32_is_zlibs(data: bytes, skew: int) -> None:
    """The record's BODYCRC comes from the extension's own CRC-32 (no zlib headers needed to build it)."""
    import zlib

    view = memoryview(bytes(skew) + data)[skew:]  # every alignment of the slicing-by-8 loop
    assert send_fast._sendpath.crc32(view) == zlib.crc32(data)
    assert send_fast._sendpath.crc32(b"x" * 100_000 + data) == zlib.crc32(b"x" * 100_000 + data)


async def test_native_takes_batches(make_plane: PlaneFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """SEND_BATCH_MESSAGE takes the C path: entries with their own TAGS, KEYS and UNIQ_KEY (or the batch's),
    consecutive offsets, one reply with every message id; between single sends, with the same bytes as Python."""
    from rocketpy.broker.processors.send_support import encode_batch, properties_string
    from tests.unit.broker.data.conftest import client_properties, send_v2_ext

    monkeypatch.setattr(time, "time", lambda: FROZEN_NOW)
    requests: list[Any] = []
    for n in range(12):
        if n % 3:
            entries = [(i, b"e%d-%d" % (n, i), properties_string({"TAGS": f"T{i}", "KEYS": f"k{n} j{i}",
                                                                  "UNIQ_KEY": f"U{n}-{i}"}))
                       for i in range(n % 4 + 1)]  # fmt: skip
            entries.append((0, b"bare", ""))  # the batch's own properties only
            ext = send_v2_ext("TopicTest", queue_id=n % 2, batch=True,
                              properties=properties_string({"WAIT": "true", "KEYS": "bk"}))  # fmt: skip
            requests.append((RequestCode.SEND_BATCH_MESSAGE, ext, encode_batch(entries), 0))
        else:
            ext = send_v2_ext("TopicTest", queue_id=n % 2, properties=client_properties(keys=f"s{n}", uniq=f"S{n}"))
            requests.append((RequestCode.SEND_MESSAGE_V2, ext, b"single", 0))
    python, native, taken = await compare_planes(make_plane, requests)
    assert taken == len(requests) - 1, send_fast._sendpath.last_stop_line()
    assert native.stats.put_times.total == python.stats.put_times.total  # (latencies: each path's own)
    assert sum(native.stats.latency.distribution) == sum(python.stats.latency.distribution)
