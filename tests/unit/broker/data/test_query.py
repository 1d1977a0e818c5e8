"""QUERY_MESSAGE (by key and by unique key) and VIEW_MESSAGE_BY_ID as mqadmin queryMsgByKey/ById send them."""

from __future__ import annotations

from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.store.format import decode_message_id, decode_records
from tests.unit.broker.data.conftest import DataPlane, client_properties

QUERY = RequestCode.QUERY_MESSAGE
UNIQ = "7F0000010B6418B4AAC27A3E6B2C00AA"


def query_ext(key: str, max_num: int = 64, unique: bool | None = None, topic: str = "TopicTest") -> dict[str, str]:
    ext = {"topic": topic, "key": key, "maxNum": str(max_num), "beginTimestamp": "0", "endTimestamp": str(2**62)}
    if unique is not None:
        ext["_UNIQUE_KEY_QUERY"] = "true" if unique else "false"
    return ext


async def send_keyed(plane: DataPlane, n: int) -> list[str]:
    ids = []
    for i in range(n):
        props = client_properties("TagA", keys=f"order-{i} shared", uniq=f"{UNIQ[:-2]}{i:02X}")
        reply = await plane.send_one(body=f"b{i}".encode(), queue_id=i % 4, properties=props)
        ids.append((reply.ext_fields or {})["msgId"])
    return ids


async def test_query_by_key(plane: DataPlane) -> None:
    await send_keyed(plane, 3)
    reply = await plane.call(QUERY, query_ext("order-1"))
    assert reply.code == ResponseCode.SUCCESS
    [record] = decode_records(bytes(reply.body or b""))
    assert record.body == b"b1" and record.topic == "TopicTest"
    ext = reply.ext_fields or {}
    assert int(ext["indexLastUpdatePhyoffset"]) >= record.phys_offset
    assert int(ext["indexLastUpdateTimestamp"]) >= record.store_timestamp


async def test_query_shared_key_respects_max_num(plane: DataPlane) -> None:
    await send_keyed(plane, 5)
    everything = decode_records(bytes((await plane.call(QUERY, query_ext("shared"))).body or b""))
    assert sorted(r.body for r in everything) == [b"b0", b"b1", b"b2", b"b3", b"b4"]
    two = decode_records(bytes((await plane.call(QUERY, query_ext("shared", max_num=2))).body or b""))
    assert len(two) == 2


async def test_query_by_unique_key_forces_default_max_num(plane: DataPlane) -> None:
    await send_keyed(plane, 3)
    reply = await plane.call(QUERY, query_ext(f"{UNIQ[:-2]}02", max_num=0, unique=True))
    [record] = decode_records(bytes(reply.body or b""))  # maxNum 0 replaced by defaultQueryMaxNum (32)
    assert record.body == b"b2"


async def test_query_not_found(plane: DataPlane) -> None:
    await send_keyed(plane, 1)
    reply = await plane.call(QUERY, query_ext("nope"))
    assert (reply.code, reply.remark) == (
        ResponseCode.QUERY_NOT_FOUND,
        "can not find message, maybe time range not correct",
    )
    assert "indexLastUpdateTimestamp" in (reply.ext_fields or {})
    wrong_topic = await plane.call(QUERY, query_ext("order-0", topic="Other"))
    assert wrong_topic.code == ResponseCode.QUERY_NOT_FOUND


async def test_view_message_by_id(plane: DataPlane) -> None:
    ids = await send_keyed(plane, 2)
    offset = decode_message_id(ids[1])[1]
    reply = await plane.call(RequestCode.VIEW_MESSAGE_BY_ID, {"offset": str(offset)})
    assert reply.code == ResponseCode.SUCCESS
    [record] = decode_records(bytes(reply.body or b""))
    assert (record.body, record.msg_id) == (b"b1", ids[1])


async def test_view_message_by_bad_offset(plane: DataPlane) -> None:
    await send_keyed(plane, 1)
    for offset in (10**9, -5):
        reply = await plane.call(RequestCode.VIEW_MESSAGE_BY_ID, {"offset": str(offset)})
        assert (reply.code, reply.remark) == (
            ResponseCode.SYSTEM_ERROR,
            f"can not find message by the offset, {offset}",
        )
    missing = await plane.call(RequestCode.VIEW_MESSAGE_BY_ID, {})
    assert (missing.code, missing.remark) == (ResponseCode.SYSTEM_ERROR, "the custom field <offset> is null")
