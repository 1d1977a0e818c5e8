"""Golden stored bytes and reply frames of the send path (issue 12).

Recorded from the send path as it was before the hot-path work (commit 5a96f98), so that every code path a fast
path replaces is proven to store the same bytes (commit log, consume queues, index files) and to answer the same
reply frames. Each case sends its requests as wire frames (JSON and ROCKETMQ headers) through the FrameDecoder,
the send handler and the frame encoder, over a fresh store with a frozen wall clock, then hashes every store file.

Regenerate only for an intended change of behaviour: ROCKETPY_REGEN_SEND_GOLDEN=1 pytest this file.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rocketpy.broker.processors import send_fast
from rocketpy.broker.processors.send_support import encode_batch, properties_string
from rocketpy.broker.topic_validator import refuse_not_allowed_send, validate_topic
from rocketpy.protocol.codes import LanguageCode, RequestCode, SerializeType
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.message_headers import SendMessageRequestHeaderV2
from rocketpy.remoting.codec import FrameDecoder, encode
from rocketpy.remoting.command import RESPONSE_FLAG, RemotingCommand
from rocketpy.remoting.connection import RequestContext
from rocketpy.store.config import FlushDiskType
from tests.unit.broker.data.conftest import PRODUCER, DataPlane, PlaneFactory, send_v2_ext

GOLDEN_PATH = Path(__file__).with_name("send_golden.json")
REGEN = os.environ.get("ROCKETPY_REGEN_SEND_GOLDEN") == "1"
FROZEN_NOW = 1_700_000_123.456
V1, V2, BATCH = RequestCode.SEND_MESSAGE, RequestCode.SEND_MESSAGE_V2, RequestCode.SEND_BATCH_MESSAGE
UNIQ = "7F0000010B6418B4AAC27A3E6B2C0000"

Request = tuple[int, dict[str, str], bytes | None, int]  # code, ext, body, serialize type


def props(**kv: str) -> str:
    return properties_string(kv)


def v2(topic: str = "TopicTest", body: bytes | None = b"hello", ser: int = SerializeType.JSON, **kw: Any) -> Request:
    return (V2, send_v2_ext(topic, **kw), body, ser)


def v1(topic: str = "TopicTest", body: bytes = b"hello-v1", **kw: Any) -> Request:
    ext = SendMessageRequestHeaderV2.from_ext(send_v2_ext(topic, **kw)).to_v1().to_ext()
    return (V1, ext, body, SerializeType.JSON)


def batch(entries: list[tuple[int, bytes, str]], topic: str = "TopicTest", **kw: Any) -> Request:
    kw.setdefault("properties", props(WAIT="true"))
    return (BATCH, send_v2_ext(topic, batch=True, **kw), encode_batch(entries), SerializeType.JSON)


def raw(code: int, ext: dict[str, str], body: bytes | None = b"x") -> Request:
    return (code, ext, body, SerializeType.JSON)


def without(ext: dict[str, str], key: str) -> dict[str, str]:
    return {k: v for k, v in ext.items() if k != key}


def with_(ext: dict[str, str], **kv: str) -> dict[str, str]:
    return {**ext, **kv}


BASE = send_v2_ext("TopicTest")
ENTRIES = [
    (0, b"batch-0", props(KEYS="B1", UNIQ_KEY=UNIQ[:-2] + "10", WAIT="true", TAGS="TagA")),
    (7, b"batch-1", props(UNIQ_KEY=UNIQ[:-2] + "11", WAIT="true")),
    (0, "\u00e9t\u00e9".encode(), props(TAGS="T\u00e9", KEYS="k1 k2  k3", UNIQ_KEY=UNIQ[:-2] + "12")),
]

CASES: dict[str, list[Request]] = {
    "v2_tags_keys": [v2(properties=props(TAGS="TagA", KEYS="KEY1 KEY2", WAIT="true", UNIQ_KEY=UNIQ), flag=3)],
    "v2_no_properties": [v2(properties="", queue_id=1)],
    "v2_plain_uniq_only": [v2(properties=props(UNIQ_KEY=UNIQ), queue_id=2), v2(properties=props(UNIQ_KEY=UNIQ))],
    "v2_rocketmq_header": [v2(ser=SerializeType.ROCKETMQ, queue_id=3), v2(ser=SerializeType.ROCKETMQ)],
    "v2_many_to_one_queue": [v2(body=bytes([i]) * (i + 1), queue_id=1) for i in range(6)],
    "v2_empty_body": [v2(body=None), v2(body=b"")],
    "v2_random_queue": [v2(queue_id=-1) for _ in range(4)],
    "v2_unicode_properties": [
        v2(
            properties=props(
                TAGS="\u6807\u7b7e",
                KEYS="\u043a\u043b\u044e\u0447 \U0001f600",
                WAIT="true",
                UNIQ_KEY=UNIQ,
                userProp="v\u00e4l\u00fce",
            ),
            body="\u00fcber".encode(),
        )
    ],
    "v2_wait_false": [v2(properties=props(TAGS="TagA", WAIT="false", UNIQ_KEY=UNIQ))],
    "v2_wait_garbage": [v2(properties=props(WAIT="TRUE", UNIQ_KEY=UNIQ)), v2(properties=props(WAIT="nope"))],
    "v2_cluster_already_set": [v2(properties=props(CLUSTER="Other", TAGS="T", UNIQ_KEY=UNIQ))],
    "v2_odd_properties_string": [
        v2(properties="\x02\x02TAGS\x01A\x02a\x01\x02\x01b\x02KEYS\x01k\x02x\x02WAIT\x01true"),
        v2(properties="TAGS\x01A\x02TAGS\x01B\x02KEYS\x01\x02"),
    ],
    "v2_compressed_flag": [v2(sys_flag=0x1, body=b"\x78\x9c\x03\x00\x00\x00\x00\x01")],
    "v2_multi_keys": [v2(properties=props(KEYS="  a  b a\u0000 c ", UNIQ_KEY=UNIQ, TAGS=""))],
    "v2_delay_no_schedule": [v2(properties=props(DELAY="3", TAGS="TagD", WAIT="true", UNIQ_KEY=UNIQ))],
    "v2_delay_scheduled": [
        v2(properties=props(DELAY="3", TAGS="TagD", WAIT="true", UNIQ_KEY=UNIQ), queue_id=1),
        v2(properties=props(DELAY="99", KEYS="kd", UNIQ_KEY=UNIQ)),
        v2(properties=props(DELAY="0", WAIT="false")),
        v2(properties=props(DELAY="2", TRAN_MSG="true"), sys_flag=0x4),
        batch(ENTRIES[:1], properties=props(DELAY="2")),
    ],
    "v1_long_names": [v1(queue_id=2), v1(properties=props(TAGS="V1", KEYS="kv1"))],
    "v2_auto_create_topic": [v2("AutoCreated", queue_id=0), v2("AutoCreated", queue_id=3)],
    "v2_queue_id_too_large": [v2(queue_id=99)],
    "v2_bad_topic": [v2("bad topic!"), v2("a" * 128), v2("")],
    "v2_system_topic": [v2("SCHEDULE_TOPIC_XXXX"), v2("RMQ_SYS_TRACE_TOPIC")],
    "v2_retry_topic": [
        v2("%RETRY%G1", reconsume_times=1, properties=props(RETRY_TOPIC="TopicTest", WAIT="true")),
        v2("%RETRY%G1", reconsume_times=16, max_reconsume_times=16),
        v2("%RETRY%G1", reconsume_times=3, max_reconsume_times=2, properties=props(DELAY="2", UNIQ_KEY=UNIQ)),
    ],
    "v2_tran_msg": [v2(properties=props(TRAN_MSG="true", PGROUP="PG", TAGS="TX", UNIQ_KEY=UNIQ), sys_flag=0x4)],
    "v2_tran_commit_flag": [v2(properties=props(UNIQ_KEY=UNIQ), sys_flag=0x8)],
    "v2_oversize_body": [v2(body=b"x" * (4 * 1024 * 1024 + 1))],
    "v2_oversize_properties": [v2(properties=props(TAGS="T", big="p" * 40000))],
    "batch_three": [batch(ENTRIES, queue_id=1), batch(ENTRIES[:1], queue_id=1)],
    "batch_random_queue": [batch(ENTRIES[1:], queue_id=-1)],
    "batch_empty_body": [batch([], queue_id=2)],
    "batch_with_delay": [batch(ENTRIES, properties=props(DELAY="1", WAIT="true"))],
    "batch_wait_false": [batch(ENTRIES[:2], properties=props(WAIT="false"))],
    "batch_tran_flag": [batch(ENTRIES, sys_flag=0x4)],
    "batch_truncated_body": [(BATCH, send_v2_ext("TopicTest", batch=True), encode_batch(ENTRIES)[:-3], 0)],
    "batch_bad_utf8": [
        batch([(0, b"b", "TAGS\x01A")], properties=props(WAIT="true")),
        (BATCH, send_v2_ext("TopicTest", batch=True), encode_batch([(0, b"b", "")])[:-2] + b"\x00\x02\xff\xfe", 0),
    ],
    "batch_flag_on_v2_code": [(V2, send_v2_ext("TopicTest", batch=True), encode_batch(ENTRIES[:2]), 0)],
    "bad_header_missing_topic": [raw(V2, without(BASE, "b")), raw(V2, without(BASE, "g"))],
    "bad_header_missing_properties_ok": [raw(V2, without(BASE, "i")), raw(V2, without(BASE, "j"))],
    "bad_header_numbers": [
        raw(V2, with_(BASE, e="x")),
        raw(V2, with_(BASE, e="2147483648")),
        raw(V2, with_(BASE, d="-1")),
        raw(V2, with_(BASE, g="12.5")),
        raw(V2, with_(BASE, h=" 1")),
        raw(V2, with_(BASE, k="yes", m="TRUE")),
    ],
    "bad_header_v1_missing": [raw(V1, {"topic": "TopicTest", "queueId": "0"})],
    "no_ext_fields": [(V2, {}, b"x", 0), (BATCH, {}, b"x", 1)],
}


def store_files(root: Path) -> dict[str, str]:
    """sha256 of every file of the store (commit log, consume queues, index) by its path under the root."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel.split("/")[0] in ("commitlog", "consumequeue", "index"):
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


# Cases a Java producer's everyday send makes: every request of them must take the fast path (send_fast).
ALL_FAST = {
    "v2_tags_keys", "v2_no_properties", "v2_plain_uniq_only", "v2_many_to_one_queue", "v2_empty_body",
    "v2_unicode_properties", "v2_wait_false", "v2_wait_garbage", "v2_cluster_already_set", "v2_compressed_flag",
}  # fmt: skip


def seen_topics(plane: DataPlane, requests: list[Request], create: bool) -> None:
    """A broker that took a send to each topic before: remembered as the general path remembers a topic it let
    through, and with `create` auto-created as the case's first send creates it (no store file changes)."""
    for _, ext, _, _ in requests:
        topic = (ext or {}).get("b")
        try:
            validate_topic(topic)
            refuse_not_allowed_send(topic or "")
        except RocketMQError:
            continue
        assert topic is not None and ext is not None
        plane.send._sendable_topics.add(topic)
        if create and plane.controller.topics.select(topic) is None:
            plane.controller.topics.create_in_send_message(topic, ext["c"], PRODUCER.remote_addr, int(ext["d"]), 0)


def frames(requests: list[Request], languages: list[LanguageCode] | None = None) -> list[bytes]:
    """The requests as wire frames (opaques from 100), written by a Java client unless `languages` says which."""
    assert languages is None or len(languages) == len(requests)
    out = []
    for n, (code, ext, body, ser) in enumerate(requests):
        request = RemotingCommand.request(code, dict(ext) if ext else None, body)
        request.language = LanguageCode.JAVA if languages is None else languages[n]
        request.version, request.opaque, request.serialize_type = 409, 100 + n, ser
        out.append(encode(request))
    return out


def split_replies(data: bytes) -> list[str]:
    out, pos = [], 0
    while pos < len(data):
        end = pos + 4 + int.from_bytes(data[pos : pos + 4], "big")
        out.append(data[pos:end].hex())
        pos = end
    return out


async def run_case(plane: DataPlane, requests: list[Request], fast: bool = False, native: str = "") -> dict[str, Any]:
    """The requests through the general handler; with `fast` offered to the fast path first; with `native`
    ("each": a read per request, "one": all requests in one read) offered to the C path before both."""
    replies: list[str] = []
    fast_handlers = plane.send.fast_handlers() if fast or native else {}
    if native:
        plane.send._fast_send().now_ms = int(FROZEN_NOW * 1000)
    encoded = frames(requests)
    reads = [b"".join(encoded)] if native == "one" else encoded
    taken = await serve_reads(plane, reads, fast_handlers, replies, native=bool(native))
    return {"replies": replies, "max_phy": plane.store.max_phy_offset, **({"fast": taken} if fast or native else {})}


async def serve_reads(
    plane: DataPlane, reads: list[bytes], fast_handlers: dict[int, Any], replies: list[str], native: bool = False
) -> int:
    """The reads as the connection serves them: with `native` the C path (_sendpath) first, the frame it stops at
    the Python way, then the C path again; each frame the Python way is offered to `fast_handlers` first, then to
    the general handler (_serve). Appends the reply frames (hex) to `replies`; how many the C path gave with
    `native`, the fast handlers without."""
    batch = plane.send.batch_handler() if native else None
    if native:
        assert batch is not None, "the C extension rocketpy.broker._sendpath is not built (pip install -e .)"
    taken = 0
    for data in reads:
        pos = 0
        while pos < len(data):
            if batch is not None:
                pos, out = batch(PRODUCER, data, pos)  # type: ignore[arg-type]
                taken += len(split_replies(out))
                replies.extend(split_replies(out))
                if pos == len(data):
                    break
            end = pos + 4 + int.from_bytes(data[pos : pos + 4], "big")
            served = await _serve(plane, [data[pos:end]], fast_handlers, replies)
            taken += 0 if native else served
            pos = end
    return taken


async def _serve(plane: DataPlane, encoded: list[bytes], fast_handlers: dict[int, Any], replies: list[str]) -> int:
    taken = 0
    for frame in encoded:
        (cmd,) = FrameDecoder().feed(frame)
        fast_handler = fast_handlers.get(cmd.code)
        data = fast_handler(PRODUCER, cmd) if fast_handler is not None else None  # type: ignore[arg-type]
        if data is not None:
            taken += 1
            replies.append(data.hex())
            continue
        handler = plane.table[cmd.code]
        try:
            reply = await handler(RequestContext(PRODUCER, None, cmd), cmd)  # type: ignore[arg-type]
        except RocketMQError as exc:
            reply = RemotingCommand.response(exc.code, exc.remark)
        except Exception as exc:  # the connection answers SYSTEM_ERROR with the text and a source line
            replies.append(f"exception {type(exc).__name__}")
            continue
        reply.opaque, reply.serialize_type = cmd.opaque, cmd.serialize_type
        reply.flag |= RESPONSE_FLAG
        replies.append(encode(reply).hex())
    return taken


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    monkeypatch.setattr(time, "time", lambda: FROZEN_NOW)
    return lambda: None


def _load() -> dict[str, Any]:
    return json.loads(GOLDEN_PATH.read_text()) if GOLDEN_PATH.exists() else {}


@pytest.mark.parametrize("name", sorted(CASES))
async def test_send_golden(name: str, make_plane: PlaneFactory, frozen_clock: object, tmp_path: Path) -> None:
    plane = make_plane(schedule_delayed=name.endswith("_scheduled"))
    got = await run_case(plane, CASES[name])
    plane.store.flush()
    got["files"] = store_files(plane.store.config.store_path_root_dir)
    golden = _load()
    if REGEN:
        golden[name] = got
        GOLDEN_PATH.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
        return
    assert name in golden, f"no golden for {name}: run with ROCKETPY_REGEN_SEND_GOLDEN=1 on the reference code"
    assert got["replies"] == golden[name]["replies"]
    assert got == golden[name]


@pytest.mark.parametrize("name", sorted(n for n, requests in CASES.items() if any(r[0] == V2 for r in requests)))
async def test_send_golden_fast_path(name: str, make_plane: PlaneFactory, frozen_clock: object) -> None:
    """The same requests offered to SEND_MESSAGE_V2's fast path first (the connection's order), on a broker that
    has seen the topics before: the same stored bytes and reply frames as the general path recorded."""
    plane = make_plane(schedule_delayed=name.endswith("_scheduled"))
    seen_topics(plane, CASES[name], create=name in ALL_FAST)
    got = await run_case(plane, CASES[name], fast=True)
    plane.store.flush()
    got["files"] = store_files(plane.store.config.store_path_root_dir)
    taken = got.pop("fast")
    if name in ALL_FAST:
        assert taken == len(CASES[name])
    golden = _load()[name]
    assert got["replies"] == golden["replies"]
    assert got == golden


@pytest.mark.parametrize("read", ["each", "one"])
@pytest.mark.parametrize(
    "name", sorted(n for n, requests in CASES.items() if any(r[0] in (V1, V2, BATCH) for r in requests))
)
async def test_send_golden_native_path(name: str, read: str, make_plane: PlaneFactory, frozen_clock: object) -> None:
    """The same requests offered to the C path first (_sendpath, whole reads: a read per request, and all of a
    case's requests in one read), then to the fast path, then the general one: the same stored bytes and replies.
    Everyday sends all take the C path but the first: the store's first commit-log file is put_message's to create."""
    plane = make_plane(schedule_delayed=name.endswith("_scheduled"))
    seen_topics(plane, CASES[name], create=name in ALL_FAST)
    # the per-frame fast path learns a topic on its first send; the C path needs it learnt before
    for topic in plane.send._sendable_topics:
        plane.send._fast_send()._learn_topic(topic)
    got = await run_case(plane, CASES[name], native=read)
    plane.store.flush()
    got["files"] = store_files(plane.store.config.store_path_root_dir)
    taken = got.pop("fast")
    if name in ALL_FAST:
        assert taken == len(CASES[name]) - 1, f"stopped at line {send_fast._sendpath.last_stop_line()} of _sendpath.c"
    if name in ("batch_three", "batch_wait_false"):  # batches too, all but the store's very first request
        assert taken == len(CASES[name]) - 1
    golden = _load()[name]
    assert got["replies"] == golden["replies"]
    assert got == golden


async def test_send_golden_sync_flush(make_plane: PlaneFactory, frozen_clock: object) -> None:
    """The SYNC_FLUSH handler (a task of its own, waits for the flush) stores and answers as the inline one."""
    plane = make_plane(flush=FlushDiskType.SYNC_FLUSH)
    got = await run_case(plane, CASES["v2_tags_keys"] + CASES["batch_three"])
    plane.store.flush()
    got["files"] = store_files(plane.store.config.store_path_root_dir)
    golden = _load()
    if REGEN:
        golden["sync_flush"] = got
        GOLDEN_PATH.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
        return
    assert got == golden["sync_flush"]
