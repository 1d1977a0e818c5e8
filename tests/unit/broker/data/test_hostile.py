"""Codecs and handlers under odd and hostile input: only clear RocketMQ answers, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rocketpy.broker.processors.send_support import BatchError, decode_batch, encode_batch, java_int
from rocketpy.protocol.codes import RequestCode, ResponseCode
from tests.unit.broker.data.conftest import PULL_SUBSCRIPTION, PULL_SUSPEND, DataPlane, pull_ext, send_v2_ext

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


@given(st.lists(st.tuples(st.integers(-(2**31), 2**31 - 1), st.binary(max_size=64), text), max_size=6))
def test_batch_round_trip(entries: list[tuple[int, bytes, str]]) -> None:
    decoded = decode_batch(encode_batch(entries))
    assert [(e.flag, e.body, e.properties.decode()) for e in decoded] == entries


@given(st.binary(max_size=200))
def test_batch_decoder_refuses_garbage_cleanly(data: bytes) -> None:
    try:
        entries = decode_batch(data)
    except BatchError:
        return
    assert sum(20 + len(e.body) + 2 + len(e.properties) for e in entries) == len(data)


def test_java_int_is_lenient_where_java_would_throw() -> None:
    assert (java_int("3"), java_int(" 4 "), java_int("x"), java_int(None), java_int("-2")) == (3, 4, 0, 0, -2)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("e", "abc"),
        ("e", "99999999999"),
        ("g", "soon"),
        ("f", "2147483648"),
        ("d", "-1"),
        ("i", "\x01\x02\x02\x01=\x02"),
        ("j", "-5"),
    ],
)
async def test_odd_send_headers_get_clear_answers(plane: DataPlane, field: str, value: str) -> None:
    ext = send_v2_ext("Odd")
    ext[field] = value
    reply = await plane.call(RequestCode.SEND_MESSAGE_V2, ext, b"x")
    assert reply.code in (ResponseCode.SUCCESS, ResponseCode.SYSTEM_ERROR), (reply.code, reply.remark)
    if reply.code == ResponseCode.SYSTEM_ERROR:
        assert reply.remark


async def test_topic_with_no_queues(plane: DataPlane) -> None:
    reply = await plane.call(RequestCode.SEND_MESSAGE_V2, send_v2_ext("Empty", default_topic_queue_nums=0), b"x")
    assert reply.code == ResponseCode.SYSTEM_ERROR  # queueId 0 >= max(0, 0), as in Java
    random_queue = await plane.call(RequestCode.SEND_MESSAGE_V2, send_v2_ext("Empty", queue_id=-1), b"x")
    assert random_queue.code == ResponseCode.SYSTEM_ERROR and "/ by zero" in (random_queue.remark or "")


@pytest.mark.parametrize(
    "changes",
    [
        {"maxMsgNums": "0"},
        {"queueOffset": "-7"},
        {"suspendTimeoutMillis": "-1", "sysFlag": str(PULL_SUBSCRIPTION | PULL_SUSPEND)},
        {"queueId": "4294967296"},
        {"subscription": "a||b||"},
        {"expressionType": ""},
    ],
)
async def test_odd_pull_headers_get_clear_answers(plane: DataPlane, changes: dict[str, str]) -> None:
    await plane.send_one()
    ext = {**pull_ext("G1", "TopicTest", 0, 0), **changes}
    reply = await plane.call(RequestCode.PULL_MESSAGE, ext)
    assert 0 <= reply.code <= 26 and reply.code != ResponseCode.REQUEST_CODE_NOT_SUPPORTED
