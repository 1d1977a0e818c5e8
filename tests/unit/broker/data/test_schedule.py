"""Delayed delivery (ScheduleMessageService): SCHEDULE_TOPIC_XXXX to the real topic when due, the per-level
offsets, delayOffset.json, GET_ALL_DELAY_OFFSET, retries through the delay levels, and the trio loop under
MockClock."""

from __future__ import annotations

import trio
import trio.testing

from rocketpy.broker.processors.send_support import encode_batch
from rocketpy.broker.schedule_loop import ScheduleLoop
from rocketpy.common.clock import wall_clock_ms
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.store.format import StoredMessage, decode_message_id, decode_records
from rocketpy.store.schedule import ScheduleMessageService
from tests.unit.broker.data.conftest import CONSUMER, DataPlane, PlaneFactory, client_properties, send_v2_ext
from tests.unit.broker.data.test_send_back import back_ext

SCHEDULE = "SCHEDULE_TOPIC_XXXX"


class WallOffset:
    """Now = `base` + a settable offset. The store stamps records with the wall clock: tests set `base` to the
    newest store time (a now before it would make Java's correctDeliverTimestamp deliver at once)."""

    def __init__(self) -> None:
        self.base = wall_clock_ms()
        self.offset = 0

    def at_store_time(self, plane: DataPlane) -> None:
        self.base = plane.store.commitlog.last_store_timestamp

    def __call__(self) -> int:
        return self.base + self.offset


def records(plane: DataPlane, topic: str, queue_id: int = 0) -> list[StoredMessage]:
    result = plane.store.get_message(topic, queue_id, 0, 32)
    return decode_records(b"".join(result.buffers))


async def test_due_messages_go_to_their_real_topic_with_java_properties(make_plane: PlaneFactory) -> None:
    plane = make_plane(schedule_delayed=True)
    clock = WallOffset()
    service = ScheduleMessageService(plane.store, clock)
    service.load()
    for level in (1, 3, 99):
        reply = await plane.send_one(
            queue_id=2, body=f"L{level}".encode(), properties=client_properties(DELAY=str(level))
        )
        assert reply.code == ResponseCode.SUCCESS
    assert [len(records(plane, SCHEDULE, q)) for q in (0, 2, 17)] == [1, 1, 1]  # level 99 clamped to 18
    clock.at_store_time(plane)
    assert service.due_in(1) is not None and 0 < service.due_in(1) <= 1000  # type: ignore[operator]
    assert service.deliver_due(1) == 0 and records(plane, "TopicTest", 2) == []

    clock.offset = 1100
    assert service.due_in(1) == 0 and service.due_in(2) is None
    assert service.deliver_due(1) == 1 and service.deliver_due(3) == 0
    [delivered] = records(plane, "TopicTest", 2)
    props = delivered.property_map
    assert delivered.body == b"L1" and delivered.reconsume_times == 0
    assert (props["DELAY"], props["REAL_TOPIC"], props["REAL_QID"], props["TAGS"]) == ("1", "TopicTest", "2", "TagA")
    assert service.encode() == '{"offsetTable":{1:1}}'

    clock.offset = 2 * 3600 * 1000 + 1000  # level 18 is 2 h
    assert service.deliver_due(3) == 1 and service.deliver_due(18) == 1
    assert [r.body for r in records(plane, "TopicTest", 2)] == [b"L1", b"L3", b"L99"]
    assert service.encode() == '{"offsetTable":{1:1,3:1,18:1}}'
    plane.admin.schedule_stats = service.running_stats
    table = plane.admin.runtime_table().table
    assert {k: v for k, v in table.items() if k.startswith("schedule")} == {
        "scheduleMessageOffset_1": "1,1",
        "scheduleMessageOffset_3": "1,1",
        "scheduleMessageOffset_18": "1,1",
    }
    assert service.due_in(1) is None  # nothing left


async def test_get_all_delay_offset_answers_the_in_memory_table(make_plane: PlaneFactory) -> None:
    plane = make_plane(schedule_delayed=True)
    reply = await plane.call(RequestCode.GET_ALL_DELAY_OFFSET, conn=CONSUMER)
    assert (reply.code, reply.remark, bytes(reply.body or b"")) == (ResponseCode.SUCCESS, None, b'{"offsetTable":{}}')


async def test_offsets_persist_in_java_format_and_are_corrected_on_load(make_plane: PlaneFactory) -> None:
    plane = make_plane(schedule_delayed=True)
    clock = WallOffset()
    service = ScheduleMessageService(plane.store, clock)
    service.load()
    for _ in range(2):
        await plane.send_one(properties=client_properties(DELAY="2"))
    clock.at_store_time(plane)
    clock.offset = 6000
    assert service.deliver_due(2) == 2
    service.persist()
    assert service.path == plane.store.config.store_path_root_dir / "config" / "delayOffset.json"
    assert service.path.read_text() == '{\n\t"offsetTable":{2:2\n\t}\n}'

    again = ScheduleMessageService(plane.store, clock)
    again.load()
    assert again.offsets == {2: 2} and again.deliver_due(2) == 0  # nothing delivered twice

    service.offsets = {2: 7, 5: 3}  # beyond the queue's end; level 5 has no queue: left as it is
    service.persist()
    third = ScheduleMessageService(plane.store, clock)
    third.load()
    assert third.offsets == {2: 2, 5: 3}


async def test_retries_go_through_the_levels_and_keep_the_origin(make_plane: PlaneFactory) -> None:
    from rocketpy.protocol.bodies.subscription_group import SubscriptionGroupConfig

    plane = make_plane(schedule_delayed=True)
    plane.controller.groups.update(SubscriptionGroupConfig(group_name="G1"))
    clock = WallOffset()
    service = ScheduleMessageService(plane.store, clock)
    service.load()
    sent = await plane.send_one(body=b"retry me")
    offset_id = (sent.ext_fields or {})["msgId"]
    phys = decode_message_id(offset_id)[1]
    assert (await plane.call(RequestCode.CONSUMER_SEND_MSG_BACK, back_ext(phys), conn=CONSUMER)).code == 0
    clock.at_store_time(plane)
    clock.offset = 10_000 - 200  # level 3 = 10 s
    assert service.deliver_due(3) == 0
    clock.offset = 10_100
    assert service.deliver_due(3) == 1
    [retry] = records(plane, "%RETRY%G1")
    props = retry.property_map
    assert retry.reconsume_times == 1 and retry.body == b"retry me"
    assert (props["RETRY_TOPIC"], props["ORIGIN_MESSAGE_ID"], props["REAL_TOPIC"]) == (
        "TopicTest",
        offset_id,
        "%RETRY%G1",
    )
    # the second failure: level 3 + 1, the origin kept
    back = back_ext(retry.phys_offset)
    assert (await plane.call(RequestCode.CONSUMER_SEND_MSG_BACK, back, conn=CONSUMER)).code == 0
    assert len(records(plane, SCHEDULE, 3)) == 1
    clock.at_store_time(plane)
    clock.offset = 30_100
    assert service.deliver_due(4) == 1
    second = records(plane, "%RETRY%G1")[1]
    assert second.reconsume_times == 2 and second.property_map["ORIGIN_MESSAGE_ID"] == offset_id
    # past maxReconsumeTimes: the dead-letter queue, at once
    dead = back_ext(second.phys_offset, max_reconsume=2)
    assert (await plane.call(RequestCode.CONSUMER_SEND_MSG_BACK, dead, conn=CONSUMER)).code == 0
    [dlq] = records(plane, "%DLQ%G1")
    assert dlq.reconsume_times == 3 and dlq.property_map["ORIGIN_MESSAGE_ID"] == offset_id


async def test_delay_inside_a_batch_element_is_not_scheduled(make_plane: PlaneFactory) -> None:
    """Java checks only the batch-level DELAY (MESSAGE_ILLEGAL); an element's own DELAY is stored as it is."""
    plane = make_plane(schedule_delayed=True)
    body = encode_batch([(0, b"a", client_properties(DELAY="2"))])
    reply = await plane.call(RequestCode.SEND_BATCH_MESSAGE, send_v2_ext("TopicTest", batch=True), body)
    assert reply.code == ResponseCode.SUCCESS
    [stored] = records(plane, "TopicTest")
    assert stored.property_map["DELAY"] == "2" and records(plane, SCHEDULE, 1) == []


async def test_the_loop_delivers_on_time_and_persists(
    make_plane: PlaneFactory, autojump_clock: trio.testing.MockClock
) -> None:
    plane = make_plane(schedule_delayed=True)
    await plane.send_one(properties=client_properties(DELAY="2"))  # 5 s
    base, start = plane.store.commitlog.last_store_timestamp, trio.current_time()  # virtual time from the store's

    def clock() -> int:
        return base + int((trio.current_time() - start) * 1000)

    service = ScheduleMessageService(plane.store, clock)
    service.load()
    loop = ScheduleLoop(service, 1000, offload_blocking_io=False)
    async with trio.open_nursery() as nursery:
        await nursery.start(loop.run)
        while not records(plane, "TopicTest"):
            await trio.sleep(0.001)
        elapsed = trio.current_time() - start
        assert 5.0 <= elapsed <= 5.1, elapsed  # not before, and within one 100 ms poll
        assert not service.path.exists()  # the first write comes 10 s after the start
        await trio.sleep(10)
        assert service.path.read_text() == '{\n\t"offsetTable":{2:1\n\t}\n}'
        service.offsets[2] = 1  # unchanged; cancelled now, the last write happens on the way out
        nursery.cancel_scope.cancel()
    assert service.path.exists()


async def test_a_deliver_time_beyond_now_plus_the_delay_means_now(make_plane: PlaneFactory) -> None:
    """correctDeliverTimestamp: the clock went back (now + delay < deliver time): the message is due at once."""
    plane = make_plane(schedule_delayed=True)
    clock = WallOffset()
    service = ScheduleMessageService(plane.store, clock)
    service.load()
    await plane.send_one(properties=client_properties(DELAY="1"))
    clock.at_store_time(plane)
    clock.offset = -1
    assert service.due_in(1) == 0 and service.deliver_due(1) == 1


async def test_a_failed_append_waits_a_poll_instead_of_spinning(make_plane: PlaneFactory) -> None:
    plane = make_plane(schedule_delayed=True)
    clock = WallOffset()
    service = ScheduleMessageService(plane.store, clock)
    service.load()
    await plane.send_one(properties=client_properties(DELAY="1"))
    clock.at_store_time(plane)
    clock.offset = 1000
    plane.store.writeable = False
    loop = ScheduleLoop(service, 1000, offload_blocking_io=False)
    assert await loop.deliver_once() == 0.1 and service.offsets == {}
    plane.store.writeable = True
    assert await loop.deliver_once() == 0.1 and service.offsets == {1: 1}
