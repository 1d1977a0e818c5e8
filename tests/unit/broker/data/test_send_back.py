"""CONSUMER_SEND_MSG_BACK as a push consumer sends it when its listener returns RECONSUME_LATER."""

from __future__ import annotations

from rocketpy.protocol.bodies.subscription_group import SubscriptionGroupConfig
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.store.format import StoredMessage, decode_message_id, decode_records
from tests.unit.broker.data.conftest import CONSUMER, DataPlane, PlaneFactory

BACK = RequestCode.CONSUMER_SEND_MSG_BACK


def back_ext(offset: int, delay_level: int = 0, max_reconsume: int | None = 16, group: str = "G1") -> dict[str, str]:
    """ConsumerSendMsgBackRequestHeader as MQClientAPIImpl.consumerSendMessageBack fills it."""
    ext = {
        "offset": str(offset),
        "group": group,
        "delayLevel": str(delay_level),
        "unitMode": "false",
        "bname": "broker-a",
    }
    if max_reconsume is not None:
        ext["maxReconsumeTimes"] = str(max_reconsume)
    return ext


def only(plane: DataPlane, topic: str) -> StoredMessage:
    result = plane.store.get_message(topic, 0, 0, 32)
    [record] = decode_records(b"".join(result.buffers))
    return record


async def test_first_failure_goes_to_the_retry_topic(plane: DataPlane) -> None:
    sent = await plane.send_one(body=b"fail me")
    offset_id = (sent.ext_fields or {})["msgId"]
    reply = await plane.call(BACK, back_ext(decode_message_id(offset_id)[1]), conn=CONSUMER)
    assert (reply.code, reply.remark) == (ResponseCode.SUCCESS, None)
    retry = only(plane, "%RETRY%G1")
    props = retry.property_map
    assert retry.body == b"fail me" and retry.reconsume_times == 1
    assert props["RETRY_TOPIC"] == "TopicTest" and props["ORIGIN_MESSAGE_ID"] == offset_id
    assert (props["DELAY"], props["WAIT"]) == ("3", "false")  # 3 + reconsumeTimes for level 0
    original = plane.store.look_message_by_offset(decode_message_id(offset_id)[1])
    assert original is not None and (retry.born_host, retry.born_timestamp) == (
        original.born_host,
        original.born_timestamp,
    )
    assert plane.controller.topics.select("%RETRY%G1") is not None


async def test_a_retried_message_keeps_its_origin(plane: DataPlane) -> None:
    sent = await plane.send_one()
    first_id = (sent.ext_fields or {})["msgId"]
    await plane.call(BACK, back_ext(decode_message_id(first_id)[1]), conn=CONSUMER)
    retry = only(plane, "%RETRY%G1")
    again = await plane.call(BACK, back_ext(retry.phys_offset, delay_level=5), conn=CONSUMER)
    assert again.code == ResponseCode.SUCCESS
    result = plane.store.get_message("%RETRY%G1", 0, 1, 32)
    [second] = decode_records(b"".join(result.buffers))
    assert second.reconsume_times == 2 and second.property_map["DELAY"] == "5"
    assert second.property_map["ORIGIN_MESSAGE_ID"] == first_id and second.property_map["RETRY_TOPIC"] == "TopicTest"


async def test_past_max_reconsume_goes_to_the_dlq(plane: DataPlane) -> None:
    sent = await plane.send_one("%RETRY%G1", reconsume_times=3)  # a message already retried three times
    offset = decode_message_id((sent.ext_fields or {})["msgId"])[1]
    reply = await plane.call(BACK, back_ext(offset, max_reconsume=3), conn=CONSUMER)
    assert reply.code == ResponseCode.SUCCESS
    dead = only(plane, "%DLQ%G1")
    assert dead.reconsume_times == 4 and dead.property_map["DELAY"] == "0"
    negative = await plane.call(BACK, back_ext(offset, delay_level=-1), conn=CONSUMER)
    assert negative.code == ResponseCode.SUCCESS
    assert plane.store.get_max_offset_in_queue("%DLQ%G1", 0) == 2  # a negative level always means the DLQ


async def test_refusals(make_plane: PlaneFactory) -> None:
    plane = make_plane(auto_create_subscription_group=False)
    sent = await plane.send_one()
    offset = decode_message_id((sent.ext_fields or {})["msgId"])[1]
    missing = await plane.call(BACK, back_ext(offset, group="Nobody"), conn=CONSUMER)
    assert missing.code == ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST
    plane.controller.groups.update(SubscriptionGroupConfig(group_name="G1"))
    bad = await plane.call(BACK, back_ext(10**9), conn=CONSUMER)
    assert (bad.code, bad.remark) == (ResponseCode.SYSTEM_ERROR, f"look message by offset failed, {10**9}")
    plane.controller.groups.update(SubscriptionGroupConfig(group_name="G1", retry_queue_nums=0))
    skipped = await plane.call(BACK, back_ext(offset), conn=CONSUMER)
    assert skipped.code == ResponseCode.SUCCESS  # retryQueueNums 0: acknowledged, nothing written
    assert plane.store.get_max_offset_in_queue("%RETRY%G1", 0) == 0


async def test_delay_goes_through_the_schedule_topic_when_enabled(make_plane: PlaneFactory) -> None:
    plane = make_plane(schedule_delayed=True)
    sent = await plane.send_one()
    await plane.call(BACK, back_ext(decode_message_id((sent.ext_fields or {})["msgId"])[1]), conn=CONSUMER)
    result = plane.store.get_message("SCHEDULE_TOPIC_XXXX", 2, 0, 32)  # level 3 -> queue 2
    [scheduled] = decode_records(b"".join(result.buffers))
    assert scheduled.property_map["REAL_TOPIC"] == "%RETRY%G1" and scheduled.reconsume_times == 1
