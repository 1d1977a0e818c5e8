"""SEND_MESSAGE / SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE as a Java producer sees them, over a real store."""

from __future__ import annotations

import pytest

from rocketpy.broker.config import BrokerRole, BrokerSettings
from rocketpy.broker.processors.send_support import encode_batch, parse_properties
from rocketpy.protocol.bodies.topic_config import PERM_READ, TopicConfig, TopicFilterType
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.message_headers import SendMessageRequestHeaderV2
from rocketpy.store.config import FlushDiskType
from rocketpy.store.format import HostAddr, create_message_id, decode_message_id
from tests.unit.broker.data.conftest import (
    BORN_TS,
    PRODUCER,
    DataPlane,
    PlaneFactory,
    client_properties,
    send_v2_ext,
)
from tests.unit.broker.data.golden_data_plane import golden, golden_text

SEND_V2 = RequestCode.SEND_MESSAGE_V2
FAQ = "\nSee http://rocketmq.apache.org/docs/faq/ for further details."


def header(reply: object) -> dict[str, str]:
    ext = getattr(reply, "ext_fields", None)
    assert ext is not None, "a send reply must carry extFields (the Java client NPEs without them)"
    return ext


async def test_send_v2_stores_what_java_stores(plane: DataPlane) -> None:
    props = golden_text("client_properties")
    reply = await plane.call(SEND_V2, send_v2_ext("TopicTest", queue_id=1, properties=props, flag=3), b"Hello")
    assert (reply.code, reply.remark) == (ResponseCode.SUCCESS, None)
    ext = header(reply)
    assert ext["MSG_REGION"] == "DefaultRegion" and ext["TRACE_ON"] == "true"
    assert (ext["queueId"], ext["queueOffset"]) == ("1", "0")
    host, phys = decode_message_id(ext["msgId"])
    assert host == HostAddr.parse("127.0.0.1:10911") and phys == 0
    stored = plane.store.look_message_by_offset(phys)
    assert stored is not None
    assert (stored.topic, stored.queue_id, stored.flag, stored.body) == ("TopicTest", 1, 3, b"Hello")
    assert stored.born_host == HostAddr.parse(PRODUCER.remote_addr) and stored.born_timestamp == BORN_TS
    assert stored.store_host == HostAddr.parse("127.0.0.1:10911")
    # byte for byte the string a Java 4.9.8 broker stores: CLUSTER added, WAIT left out, HashMap order
    assert stored.properties == golden_text("stored_properties")


async def test_second_send_gets_next_queue_offset_and_offset_msg_id(plane: DataPlane) -> None:
    first = await plane.send_one(queue_id=2)
    second = await plane.send_one(queue_id=2)
    assert header(second)["queueOffset"] == "1"
    phys = decode_message_id(header(second)["msgId"])[1]
    assert phys > decode_message_id(header(first)["msgId"])[1]
    assert header(second)["msgId"] == create_message_id(bytes([127, 0, 0, 1]), 10911, phys)


async def test_send_message_v1_long_names(plane: DataPlane) -> None:
    v1 = SendMessageRequestHeaderV2.from_ext(send_v2_ext("TopicTest", queue_id=3)).to_v1().to_ext()
    assert v1["producerGroup"] == "PG" and v1["queueId"] == "3" and "a" not in v1
    reply = await plane.call(RequestCode.SEND_MESSAGE, v1, b"v1")
    assert reply.code == ResponseCode.SUCCESS and header(reply)["queueId"] == "3"


async def test_negative_queue_id_picks_a_write_queue(plane: DataPlane) -> None:
    seen = set()
    for _ in range(12):
        reply = await plane.send_one(queue_id=-1)
        queue_id = int(header(reply)["queueId"])
        stored = plane.store.look_message_by_offset(decode_message_id(header(reply)["msgId"])[1])
        assert stored is not None and stored.queue_id == queue_id
        seen.add(queue_id)
    assert seen <= {0, 1, 2, 3} and len(seen) > 1


async def test_auto_create_from_tbw102(plane: DataPlane) -> None:
    assert plane.controller.topics.select("NewTopic") is None
    reply = await plane.call(SEND_V2, send_v2_ext("NewTopic", default_topic_queue_nums=4), b"x")
    assert reply.code == ResponseCode.SUCCESS
    config = plane.controller.topics.select("NewTopic")
    assert config is not None and (config.read_queue_nums, config.write_queue_nums, config.perm) == (4, 4, 6)


async def test_unknown_topic_without_auto_create(make_plane: PlaneFactory) -> None:
    plane = make_plane(auto_create_topic_enable=False)
    reply = await plane.send_one("NoSuchTopic")
    assert reply.code == ResponseCode.TOPIC_NOT_EXIST
    assert reply.remark == "topic[NoSuchTopic] not exist, apply first please!" + FAQ
    assert header(reply)["MSG_REGION"] == "DefaultRegion"


@pytest.mark.parametrize(
    ("topic", "code", "remark"),
    [
        ("a/b", 1, "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$"),
        ("../x", 1, "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$"),
        ("T" * 128, 1, "The specified topic is longer than topic max length."),
        ("  ", 1, "The specified topic is blank."),
        ("SCHEDULE_TOPIC_XXXX", 16, "Sending message to topic[SCHEDULE_TOPIC_XXXX] is forbidden."),
        ("RMQ_SYS_TRANS_HALF_TOPIC", 16, "Sending message to topic[RMQ_SYS_TRANS_HALF_TOPIC] is forbidden."),
    ],
)
async def test_topic_validation_codes(plane: DataPlane, topic: str, code: int, remark: str) -> None:
    reply = await plane.send_one(topic)
    assert (reply.code, reply.remark) == (code, remark)
    assert plane.store.max_phy_offset == 0


async def test_queue_id_past_the_queues_is_system_error(plane: DataPlane) -> None:
    await plane.send_one()  # creates TopicTest with 4 queues
    reply = await plane.send_one(queue_id=4)
    assert reply.code == ResponseCode.SYSTEM_ERROR
    assert reply.remark == (
        "request queueId[4] is illegal, TopicConfig [topicName=TopicTest, readQueueNums=4, writeQueueNums=4, "
        "perm=RW-, topicFilterType=SINGLE_TAG, topicSysFlag=0, order=false] Producer: 10.0.0.9:50000"
    )


async def test_missing_header_field_is_system_error(plane: DataPlane) -> None:
    ext = send_v2_ext("TopicTest")
    del ext["b"]
    reply = await plane.call(SEND_V2, ext, b"x")
    assert (reply.code, reply.remark) == (ResponseCode.SYSTEM_ERROR, "the custom field <b> is null")


async def test_body_over_max_message_size_is_message_illegal(make_plane: PlaneFactory) -> None:
    def small(settings: BrokerSettings) -> None:
        settings.store.max_message_size = 1024

    plane = make_plane(tweak=small)
    ok = await plane.send_one(body=b"x" * 1024)  # the limit is on the body, not the record
    assert ok.code == ResponseCode.SUCCESS
    reply = await plane.send_one(body=b"x" * 1025)
    assert reply.code == ResponseCode.MESSAGE_ILLEGAL
    assert reply.remark == (
        "the message is illegal, maybe msg body or properties length not matched. "
        "msg body length limit 1024B, msg properties length limit 32KB."
    )


async def test_properties_over_32767_bytes_is_message_illegal(plane: DataPlane) -> None:
    props = client_properties(big="é" * 16400)  # 32800 UTF-8 bytes, fewer chars
    reply = await plane.send_one(properties=props)
    assert reply.code == ResponseCode.MESSAGE_ILLEGAL
    assert plane.store.max_phy_offset == 0


async def test_transaction_half_message_refused_under_reject_transaction_message(make_plane: PlaneFactory) -> None:
    plane = make_plane(reject_transaction_message=True)
    reply = await plane.send_one(properties=client_properties(TRAN_MSG="true", PGROUP="PG"), sys_flag=0x4)
    assert reply.code == ResponseCode.NO_PERMISSION
    assert reply.remark == "the broker[127.0.0.1] sending transaction message is forbidden"


async def test_retry_topic_past_max_reconsume_goes_to_dlq(plane: DataPlane) -> None:
    kept = await plane.send_one("%RETRY%G1", reconsume_times=3, max_reconsume_times=16)
    assert kept.code == ResponseCode.SUCCESS
    stored = plane.store.look_message_by_offset(decode_message_id(header(kept)["msgId"])[1])
    assert stored is not None and stored.topic == "%RETRY%G1" and stored.reconsume_times == 3
    dead = await plane.send_one("%RETRY%G1", reconsume_times=16, max_reconsume_times=16)
    assert dead.code == ResponseCode.SUCCESS
    stored = plane.store.look_message_by_offset(decode_message_id(header(dead)["msgId"])[1])
    assert stored is not None and (stored.topic, stored.queue_id) == ("%DLQ%G1", 0)
    assert plane.controller.topics.select("%DLQ%G1") is not None


async def test_old_client_version_uses_the_groups_retry_max_times(plane: DataPlane) -> None:
    ext = send_v2_ext("%RETRY%G1", reconsume_times=5, max_reconsume_times=3)
    new = await plane.call(SEND_V2, ext, b"x")  # V4_9_8 client: its header's maxReconsumeTimes counts
    old = await plane.call(SEND_V2, ext, b"x", version=100)  # before V3_4_9: the group's 16
    topics = [plane.store.look_message_by_offset(decode_message_id(header(r)["msgId"])[1]) for r in (new, old)]
    assert [t.topic for t in topics if t is not None] == ["%DLQ%G1", "%RETRY%G1"]


async def test_multi_tag_topic_sets_sysflag(plane: DataPlane) -> None:
    plane.controller.topics.update_topic_config(
        TopicConfig("Multi", 2, 2, 6, topic_filter_type=TopicFilterType.MULTI_TAG)
    )
    reply = await plane.send_one("Multi")
    stored = plane.store.look_message_by_offset(decode_message_id(header(reply)["msgId"])[1])
    assert stored is not None and stored.sys_flag & 0x2


async def test_unwritable_broker_refuses_only_order_topics(make_plane: PlaneFactory) -> None:
    plane = make_plane(broker_permission=PERM_READ)
    plane.controller.topics.update_topic_config(TopicConfig("Ordered", 2, 2, 6, order=True))
    refused = await plane.send_one("Ordered")
    assert (refused.code, refused.remark) == (16, "the broker[127.0.0.1] sending message is forbidden")
    assert (await plane.send_one("TopicTest")).code == ResponseCode.SUCCESS  # Java 4.9.8 lets this through


async def test_before_start_accept_time(make_plane: PlaneFactory) -> None:
    plane = make_plane(start_accept_send_request_time_stamp=1_800_000_000_000)
    reply = await plane.send_one()
    assert reply.code == ResponseCode.SYSTEM_ERROR
    assert reply.remark is not None and reply.remark.startswith("broker unable to service, until 2027-01-15 ")


async def test_slave_is_service_not_available(make_plane: PlaneFactory) -> None:
    def slave(settings: BrokerSettings) -> None:
        settings.store.broker_role = BrokerRole.SLAVE

    plane = make_plane(tweak=slave)
    reply = await plane.send_one()
    assert reply.code == ResponseCode.SERVICE_NOT_AVAILABLE
    assert reply.remark is not None and "the broker's disk is full [CL: " in reply.remark


async def test_sync_flush_send_waits_in_a_thread_and_is_not_inline(make_plane: PlaneFactory) -> None:
    plane = make_plane(flush=FlushDiskType.SYNC_FLUSH)
    assert not getattr(plane.table[SEND_V2], "rocketpy_inline", False)
    reply = await plane.send_one()
    assert reply.code == ResponseCode.SUCCESS
    assert plane.store.group_commit.flushed >= plane.store.max_phy_offset  # acked only once on disk
    async_plane = make_plane()
    assert getattr(async_plane.table[SEND_V2], "rocketpy_inline", False)


async def test_delay_kept_in_topic_without_a_schedule_service(plane: DataPlane) -> None:
    reply = await plane.send_one(properties=golden_text("client_properties_delayed"))
    stored = plane.store.look_message_by_offset(decode_message_id(header(reply)["msgId"])[1])
    assert stored is not None and stored.topic == "TopicTest" and stored.property_map["DELAY"] == "3"


async def test_delay_moved_to_schedule_topic_as_java_does(make_plane: PlaneFactory) -> None:
    plane = make_plane(schedule_delayed=True)
    ext = send_v2_ext("TopicTest", queue_id=1, properties=golden_text("client_properties_delayed"))
    reply = await plane.call(SEND_V2, ext, b"later")
    assert header(reply)["queueId"] == "1"  # the reply names the queue asked for, as Java's does
    stored = plane.store.look_message_by_offset(decode_message_id(header(reply)["msgId"])[1])
    assert stored is not None and (stored.topic, stored.queue_id) == ("SCHEDULE_TOPIC_XXXX", 2)
    assert stored.properties == golden_text("stored_properties_delayed")
    clamped = await plane.send_one(properties=client_properties(DELAY="99"))
    stored = plane.store.look_message_by_offset(decode_message_id(header(clamped)["msgId"])[1])
    assert stored is not None and stored.queue_id == 17 and stored.property_map["DELAY"] == "18"


# -- batch --------------------------------------------------------------------------------------------------------


async def test_batch_as_the_java_client_sends_it(plane: DataPlane) -> None:
    ext = send_v2_ext("TopicTest", queue_id=0, properties=golden_text("batch_header_properties"), batch=True)
    await plane.send_one(queue_id=0)  # queue offset 0 taken: the batch starts at 1
    reply = await plane.call(RequestCode.SEND_BATCH_MESSAGE, ext, golden("batch_body"))
    assert reply.code == ResponseCode.SUCCESS
    ids = header(reply)["msgId"].split(",")
    assert len(ids) == 2 and header(reply)["queueOffset"] == "1"
    records = [plane.store.look_message_by_offset(decode_message_id(i)[1]) for i in ids]
    assert [(r.body, r.flag, r.queue_offset) for r in records if r is not None] == [
        (b"batch-0", 0, 1),
        (b"batch-1", 7, 2),
    ]
    first = records[0]
    assert first is not None
    suffix = golden_text("batch_stored_suffix")
    assert first.properties.endswith("\x02" + suffix)  # own properties, separator, batch properties + CLUSTER
    assert first.property_map["TAGS"] == "TagA" and first.property_map["CLUSTER"] == "DefaultCluster"


async def test_batch_refusals(plane: DataPlane) -> None:
    body = encode_batch([(0, b"a", client_properties())])
    bad = await plane.call(
        RequestCode.SEND_BATCH_MESSAGE, send_v2_ext("TopicTest", batch=True, properties="DELAY\x012"), body
    )
    assert bad.code == ResponseCode.MESSAGE_ILLEGAL
    tran = await plane.call(RequestCode.SEND_BATCH_MESSAGE, send_v2_ext("TopicTest", batch=True, sys_flag=4), body)
    assert tran.code == ResponseCode.MESSAGE_ILLEGAL
    cut = await plane.call(RequestCode.SEND_BATCH_MESSAGE, send_v2_ext("TopicTest", batch=True), body[:-3])
    assert cut.code == ResponseCode.SYSTEM_ERROR and cut.remark is not None and "bad batch body" in cut.remark
    assert plane.store.max_phy_offset == 0


async def test_batch_is_all_or_nothing(plane: DataPlane) -> None:
    # the second message's own properties fit, but not once the batch properties are appended
    body = encode_batch([(0, b"ok", ""), (0, b"x", "K\x01" + "v" * 32750)])
    reply = await plane.call(RequestCode.SEND_BATCH_MESSAGE, send_v2_ext("TopicTest", batch=True), body)
    assert reply.code == ResponseCode.MESSAGE_ILLEGAL
    assert plane.store.max_phy_offset == 0


async def test_empty_batch_answers_like_java(plane: DataPlane) -> None:
    reply = await plane.call(RequestCode.SEND_BATCH_MESSAGE, send_v2_ext("TopicTest", batch=True), b"")
    assert reply.code == ResponseCode.SUCCESS and header(reply)["queueOffset"] == "0"


async def test_v2_batch_flag_not_the_code_selects_batch(plane: DataPlane) -> None:
    body = encode_batch([(0, b"one", "TAGS\x01A"), (0, b"two", "TAGS\x01B")])
    reply = await plane.call(SEND_V2, send_v2_ext("TopicTest", batch=True), body)
    assert len(header(reply)["msgId"].split(",")) == 2
    whole = await plane.call(RequestCode.SEND_BATCH_MESSAGE, send_v2_ext("TopicTest", batch=False), body)
    stored = plane.store.look_message_by_offset(decode_message_id(header(whole)["msgId"])[1])
    assert stored is not None and stored.body == body  # m=false: the blob is stored as one message


def test_parse_properties_follows_java_rules() -> None:
    text = "A\x011\x02\x02B\x01\x02\x01x\x02LONG\x01value\x02ab"
    assert parse_properties(text) == {"A": "1", "LONG": "value"}


async def test_full_disk_answers_service_not_available(plane: DataPlane) -> None:
    """What a Java producer sees from a broker whose disk is over 90 %: code 14 with Java's remark, nothing stored."""
    plane.store.retention.disk_ratio = lambda: 0.97  # type: ignore[method-assign]
    plane.store.check_disk_space()
    reply = await plane.send_one()
    assert reply.code == ResponseCode.SERVICE_NOT_AVAILABLE
    assert (reply.remark or "").startswith("service not available now. It may be caused by one of the following")
    assert reply.ext_fields is not None and "MSG_REGION" in reply.ext_fields
    plane.store.retention.disk_ratio = lambda: 0.20  # type: ignore[method-assign]
    plane.store.check_disk_space()
    assert (await plane.send_one()).code == ResponseCode.SUCCESS
