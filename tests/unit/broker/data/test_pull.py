"""PULL_MESSAGE as a Java consumer sees it: checks, the status table, tag filtering, commit, long polling."""

from __future__ import annotations

import threading
from functools import partial

import pytest
import trio
import trio.testing

from rocketpy.broker.config import BrokerRole, BrokerSettings
from rocketpy.broker.processors.pull import build_subscription, status_code, tags_matcher
from rocketpy.common import fastjson
from rocketpy.common.java import java_string_hash
from rocketpy.protocol.bodies.subscription_group import SubscriptionGroupConfig
from rocketpy.protocol.bodies.topic_config import PERM_WRITE, TopicConfig
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.store.config import GetMessageStatus
from rocketpy.store.format import decode_records
from tests.unit.broker.conftest import heartbeat
from tests.unit.broker.data.conftest import (
    CONSUMER,
    PULL_COMMIT,
    PULL_SUBSCRIPTION,
    PULL_SUSPEND,
    DataPlane,
    PlaneFactory,
    client_properties,
    pull_ext,
    settle,
)
from tests.unit.broker.data.golden_data_plane import golden, golden_text
from tests.unit.broker.data.pull_support import java_subscription

PULL = RequestCode.PULL_MESSAGE


async def fill(plane: DataPlane, tags: list[str], topic: str = "TopicTest", queue_id: int = 0) -> None:
    for i, tag in enumerate(tags):
        reply = await plane.send_one(topic, f"m{i}".encode(), queue_id=queue_id, properties=client_properties(tag))
        assert reply.code == ResponseCode.SUCCESS


async def pull(plane: DataPlane, offset: int = 0, queue_id: int = 0, **kw: object) -> tuple[int, str, dict[str, str]]:
    reply = await plane.call(PULL, pull_ext("G1", "TopicTest", queue_id, offset, **kw), conn=CONSUMER)  # type: ignore[arg-type]
    return reply.code, reply.remark or "", reply.ext_fields or {}


async def test_send_then_pull_round_trip(plane: DataPlane) -> None:
    await fill(plane, ["TagA", "TagB", "TagC"])
    reply = await plane.call(PULL, pull_ext("G1", "TopicTest", 0, 0), conn=CONSUMER)
    assert (reply.code, reply.remark) == (ResponseCode.SUCCESS, "FOUND")
    ext = reply.ext_fields or {}
    assert ext == {"suggestWhichBrokerId": "0", "nextBeginOffset": "3", "minOffset": "0", "maxOffset": "3"}
    records = decode_records(bytes(reply.body or b""))
    assert [(r.queue_offset, r.body, r.property_map["TAGS"]) for r in records] == [
        (0, b"m0", "TagA"),
        (1, b"m1", "TagB"),
        (2, b"m2", "TagC"),
    ]
    assert records[1].phys_offset == records[0].phys_offset + records[0].total_size


async def test_max_msg_nums_limits_the_batch(plane: DataPlane) -> None:
    await fill(plane, ["A"] * 5)
    records = await plane.pull_records("TopicTest", 0, 1, max_msg_nums=2)
    assert [r.queue_offset for r in records] == [1, 2]


async def test_tag_filter_from_the_expression(plane: DataPlane) -> None:
    await fill(plane, ["TagA", "TagB", "TagC", "TagA"])
    records = await plane.pull_records("TopicTest", 0, subscription="TagA || TagC")
    assert [r.queue_offset for r in records] == [0, 2, 3]


async def test_only_filtered_out_messages_is_retry_immediately(plane: DataPlane) -> None:
    await fill(plane, ["TagA", "TagA"])
    code, remark, ext = await pull(plane, subscription="TagZ")
    assert (code, remark, ext["nextBeginOffset"]) == (ResponseCode.PULL_RETRY_IMMEDIATELY, "NO_MATCHED_MESSAGE", "2")


@pytest.mark.parametrize(
    ("offset", "code", "remark", "next_offset"),
    [
        (2, ResponseCode.PULL_NOT_FOUND, "OFFSET_OVERFLOW_ONE", "2"),
        (9, ResponseCode.PULL_OFFSET_MOVED, "OFFSET_OVERFLOW_BADLY", "2"),
    ],
)
async def test_offset_past_the_end(plane: DataPlane, offset: int, code: int, remark: str, next_offset: str) -> None:
    await fill(plane, ["A", "B"])
    got, got_remark, ext = await pull(plane, offset)
    assert (got, got_remark, ext["nextBeginOffset"], ext["maxOffset"]) == (code, remark, next_offset, "2")


async def test_missing_queue(plane: DataPlane) -> None:
    await fill(plane, ["A"])  # creates the topic; queue 3 holds nothing
    assert (await pull(plane, 0, 3))[:2] == (ResponseCode.PULL_NOT_FOUND, "NO_MESSAGE_IN_QUEUE")
    code, remark, ext = await pull(plane, 5, 3)
    assert (code, remark, ext["nextBeginOffset"]) == (ResponseCode.PULL_OFFSET_MOVED, "NO_MESSAGE_IN_QUEUE", "0")


async def test_offset_moved_writes_an_offset_moved_event(plane: DataPlane) -> None:
    await fill(plane, ["A", "B"])
    await pull(plane, 50)
    result = plane.store.get_message("OFFSET_MOVED_EVENT", 0, 0, 10)
    [event] = decode_records(b"".join(result.buffers))
    assert fastjson.loads(event.body) == {
        "consumerGroup": "G1",
        "messageQueue": {"brokerName": "broker-a", "queueId": 0, "topic": "TopicTest"},
        "offsetNew": 2,
        "offsetRequest": 50,
    }
    assert event.properties == golden_text("offset_moved_properties").replace("G1", "G1")
    assert fastjson.loads(golden("offset_moved_event"))["offsetNew"] == 12  # same shape as Java's encode()


@pytest.mark.parametrize(
    ("status", "offset", "code"),
    [
        (GetMessageStatus.FOUND, 0, ResponseCode.SUCCESS),
        (GetMessageStatus.MESSAGE_WAS_REMOVING, 0, ResponseCode.PULL_RETRY_IMMEDIATELY),
        (GetMessageStatus.NO_MATCHED_MESSAGE, 0, ResponseCode.PULL_RETRY_IMMEDIATELY),
        (GetMessageStatus.NO_MATCHED_LOGIC_QUEUE, 0, ResponseCode.PULL_NOT_FOUND),
        (GetMessageStatus.NO_MATCHED_LOGIC_QUEUE, 7, ResponseCode.PULL_OFFSET_MOVED),
        (GetMessageStatus.NO_MESSAGE_IN_QUEUE, 0, ResponseCode.PULL_NOT_FOUND),
        (GetMessageStatus.NO_MESSAGE_IN_QUEUE, 7, ResponseCode.PULL_OFFSET_MOVED),
        (GetMessageStatus.OFFSET_FOUND_NULL, 7, ResponseCode.PULL_NOT_FOUND),
        (GetMessageStatus.OFFSET_OVERFLOW_ONE, 7, ResponseCode.PULL_NOT_FOUND),
        (GetMessageStatus.OFFSET_OVERFLOW_BADLY, 7, ResponseCode.PULL_OFFSET_MOVED),
        (GetMessageStatus.OFFSET_TOO_SMALL, 7, ResponseCode.PULL_OFFSET_MOVED),
    ],
)
def test_status_table(status: GetMessageStatus, offset: int, code: int) -> None:
    assert status_code(status, offset) == code


def test_every_store_status_has_a_code() -> None:
    for status in GetMessageStatus:
        assert status_code(status, 1) in {0, 19, 20, 21}


def test_subscription_building_like_filter_api() -> None:
    data = build_subscription("T", " TagA ||TagB|| ", "TAG")
    assert data.tags_set == {"TagA", "TagB"} and data.code_set == {java_string_hash("TagA"), java_string_hash("TagB")}
    assert build_subscription("T", None, None).sub_string == "*"
    assert tags_matcher(build_subscription("T", "*", None)) is None
    with pytest.raises(ValueError):
        build_subscription("T", "||||", "TAG")
    with pytest.raises(ValueError):
        build_subscription("T", "", "SQL92")
    matcher = tags_matcher(data)
    assert matcher is not None and matcher(java_string_hash("TagA")) and not matcher(java_string_hash("TagC"))
    assert matcher(None)  # an arrival without a known tags code wakes the pull, as in Java


async def test_subscription_parse_failure(plane: DataPlane) -> None:
    await fill(plane, ["A"])
    code, remark, _ = await pull(plane, subscription="||")
    assert (code, remark) == (ResponseCode.SUBSCRIPTION_PARSE_FAILED, "parse the consumer's subscription failed")


async def test_sql92_refused_like_a_broker_without_property_filter(make_plane: PlaneFactory) -> None:
    plane = make_plane()
    await fill(plane, ["A"])
    code, remark, _ = await pull(plane, subscription="a > 1", expression_type="SQL92")
    assert (code, remark) == (
        ResponseCode.SYSTEM_ERROR,
        "The broker does not support consumer to filter message by SQL92",
    )
    # with enablePropertyFilter: tests/unit/broker/data/test_pull_sql92.py


async def register(plane: DataPlane, sub: str = "*", version: int = 1700000000000, model: str = "CLUSTERING") -> None:
    body = heartbeat("10.0.0.8@1", consumers={"G1": [java_subscription("TopicTest", sub, version)]}, model=model)
    reply = await plane.call(RequestCode.HEART_BEAT, None, body, conn=CONSUMER)
    assert reply.code == ResponseCode.SUCCESS


async def test_heartbeat_subscription_when_the_flag_is_off(plane: DataPlane) -> None:
    await fill(plane, ["TagA", "TagB"])
    code, remark, _ = await pull(plane, sys_flag=0)
    assert code == ResponseCode.SUBSCRIPTION_NOT_EXIST and remark.startswith("the consumer's group info not exist")
    await register(plane, "TagB", version=100)
    reply = await plane.call(PULL, pull_ext("G1", "TopicTest", 0, 0, sys_flag=0, sub_version=100), conn=CONSUMER)
    assert [r.queue_offset for r in decode_records(bytes(reply.body or b""))] == [1]  # the heartbeat's TagB
    code, remark, _ = await pull(plane, sys_flag=0, sub_version=101)
    assert (code, remark) == (ResponseCode.SUBSCRIPTION_NOT_LATEST, "the consumer's subscription not latest")
    other = await plane.call(PULL, pull_ext("G1", "Other", 0, 0, sys_flag=0), conn=CONSUMER)
    assert other.code == ResponseCode.TOPIC_NOT_EXIST  # topic checks come first
    plane.controller.topics.update_topic_config(TopicConfig("Other", 1, 1, 6))
    other = await plane.call(PULL, pull_ext("G1", "Other", 0, 0, sys_flag=0), conn=CONSUMER)
    assert other.code == ResponseCode.SUBSCRIPTION_NOT_EXIST
    assert (other.remark or "").startswith("the consumer's subscription not exist")


async def test_broadcast_group_refused_when_not_enabled(plane: DataPlane) -> None:
    await fill(plane, ["A"])
    plane.controller.groups.update(SubscriptionGroupConfig(group_name="G1", consume_broadcast_enable=False))
    await register(plane, model="BROADCASTING")
    code, remark, _ = await pull(plane, sys_flag=0)
    assert (code, remark) == (ResponseCode.NO_PERMISSION, "the consumer group[G1] can not consume by broadcast way")


async def test_permission_and_group_checks(make_plane: PlaneFactory) -> None:
    plane = make_plane()
    await fill(plane, ["A"])
    plane.controller.groups.update(SubscriptionGroupConfig(group_name="G1", consume_enable=False))
    assert (await pull(plane))[:2] == (ResponseCode.NO_PERMISSION, "subscription group no permission, G1")
    plane.controller.topics.update_topic_config(TopicConfig("TopicTest", 4, 4, PERM_WRITE))
    plane.controller.groups.update(SubscriptionGroupConfig(group_name="G1"))
    assert (await pull(plane))[:2] == (ResponseCode.NO_PERMISSION, "the topic[TopicTest] pulling message is forbidden")

    unreadable = make_plane(broker_permission=PERM_WRITE)
    assert (await pull(unreadable))[:2] == (
        ResponseCode.NO_PERMISSION,
        "the broker[127.0.0.1] pulling message is forbidden",
    )
    no_groups = make_plane(auto_create_subscription_group=False)
    await fill(no_groups, ["A"])
    code, remark, _ = await pull(no_groups)
    assert code == ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST and remark.startswith("subscription group [G1] does not")


async def test_queue_id_past_read_queues(plane: DataPlane) -> None:
    await fill(plane, ["A"])
    code, remark, _ = await pull(plane, 0, 4)
    assert code == ResponseCode.SYSTEM_ERROR
    assert remark == (
        "queueId[4] is illegal, topic:[TopicTest] topicConfig.readQueueNums:[4] consumer:[/10.0.0.8:50001]"
    )


async def test_commit_offset_flag(plane: DataPlane) -> None:
    await fill(plane, ["A", "B"])
    await pull(plane, 2, sys_flag=PULL_SUBSCRIPTION, commit_offset=1)
    assert plane.controller.offsets.query("G1", "TopicTest", 0) == -1
    await pull(plane, 2, sys_flag=PULL_SUBSCRIPTION | PULL_COMMIT, commit_offset=1)
    assert plane.controller.offsets.query("G1", "TopicTest", 0) == 1


async def test_slave_without_slave_read_retries_at_master(make_plane: PlaneFactory) -> None:
    def slave(settings: BrokerSettings) -> None:
        settings.store.broker_role = BrokerRole.SLAVE

    plane = make_plane(tweak=slave)
    plane.controller.topics.update_topic_config(TopicConfig("TopicTest", 4, 4, 6))
    code, _, ext = await pull(plane)
    assert (code, ext["suggestWhichBrokerId"]) == (ResponseCode.PULL_RETRY_IMMEDIATELY, "0")


# -- long polling -------------------------------------------------------------------------------------------------


async def held_pull(plane: DataPlane, results: list[tuple[int, str, dict[str, str], float]], **kw: object) -> None:
    start = trio.current_time()
    reply = await plane.call(PULL, pull_ext("G1", "TopicTest", 0, 0, **kw), conn=CONSUMER)  # type: ignore[arg-type]
    results.append((reply.code, reply.remark or "", reply.ext_fields or {}, trio.current_time() - start))
    if reply.body:
        results[-1][2]["records"] = ",".join(r.property_map["TAGS"] for r in decode_records(bytes(reply.body)))


SUSPEND = PULL_SUBSCRIPTION | PULL_SUSPEND | PULL_COMMIT


async def test_held_pull_answered_when_a_message_arrives(
    plane: DataPlane, autojump_clock: trio.testing.MockClock
) -> None:
    plane.controller.topics.update_topic_config(TopicConfig("TopicTest", 4, 4, 6))
    results: list[tuple[int, str, dict[str, str], float]] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(partial(held_pull, plane, results, sys_flag=SUSPEND))
        await settle()
        assert plane.holds.held_count() == 1 and not results
        await trio.sleep(3)
        await fill(plane, ["TagA"])
    [(code, remark, ext, waited)] = results
    assert (code, remark, ext["records"], ext["nextBeginOffset"]) == (0, "FOUND", "TagA", "1")
    assert 3 <= waited < 3.1  # answered on arrival, not at the 5 s check nor the 15 s timeout
    assert plane.holds.held_count() == 0


async def test_held_pull_times_out_with_not_found(plane: DataPlane, autojump_clock: trio.testing.MockClock) -> None:
    plane.controller.topics.update_topic_config(TopicConfig("TopicTest", 4, 4, 6))
    results: list[tuple[int, str, dict[str, str], float]] = []
    await held_pull(plane, results, sys_flag=SUSPEND, suspend_timeout_millis=15000)
    [(code, remark, ext, waited)] = results
    assert (code, remark, ext["nextBeginOffset"]) == (ResponseCode.PULL_NOT_FOUND, "NO_MESSAGE_IN_QUEUE", "0")
    assert 15 <= waited < 15.1


async def test_short_polling_when_long_polling_is_off(
    make_plane: PlaneFactory, autojump_clock: trio.testing.MockClock
) -> None:
    plane = make_plane(long_polling_enable=False)
    plane.controller.topics.update_topic_config(TopicConfig("TopicTest", 4, 4, 6))
    results: list[tuple[int, str, dict[str, str], float]] = []
    await held_pull(plane, results, sys_flag=SUSPEND, suspend_timeout_millis=15000)
    assert results[0][0] == ResponseCode.PULL_NOT_FOUND and 1 <= results[0][3] < 1.1  # shortPollingTimeMills


async def test_held_pull_ignores_arrivals_its_filter_rejects(
    plane: DataPlane, autojump_clock: trio.testing.MockClock
) -> None:
    plane.controller.topics.update_topic_config(TopicConfig("TopicTest", 4, 4, 6))
    results: list[tuple[int, str, dict[str, str], float]] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(partial(held_pull, plane, results, sys_flag=SUSPEND, subscription="TagA"))
        await settle()
        await fill(plane, ["TagB"])
        await settle()
        assert not results and plane.holds.held_count() == 1
        await trio.sleep(1)
        await fill(plane, ["TagA"])
    [(code, _, ext, waited)] = results
    assert (code, ext["records"], ext["nextBeginOffset"]) == (0, "TagA", "2")
    assert 1 <= waited < 1.1


async def test_periodic_check_finds_a_missed_arrival(plane: DataPlane, autojump_clock: trio.testing.MockClock) -> None:
    plane.controller.topics.update_topic_config(TopicConfig("TopicTest", 4, 4, 6))
    plane.store.arrival_listener = None  # nothing notifies: only the 5 s re-check can see the message
    results: list[tuple[int, str, dict[str, str], float]] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(partial(held_pull, plane, results, sys_flag=SUSPEND))
        await settle()
        await fill(plane, ["TagA"])
    assert results[0][0] == 0 and 5 <= results[0][3] < 5.1


async def test_arrival_from_a_store_thread_hops_into_trio(make_plane: PlaneFactory) -> None:
    plane = make_plane(check_interval=60.0)
    await fill(plane, ["TagA"])  # queue 0 exists with one message
    results: list[tuple[int, str, dict[str, str], float]] = []

    def put_from_thread() -> None:
        assert threading.current_thread() is not threading.main_thread()
        from tests.unit.store.conftest import make_msg

        msg = make_msg(1, topic="TopicTest", queue_id=0, tags="TagA")
        assert plane.store.put_message(msg).ok

    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            reply_ext = pull_ext("G1", "TopicTest", 0, 1, sys_flag=SUSPEND, suspend_timeout_millis=30000)

            async def pull_at_1() -> None:
                reply = await plane.call(PULL, reply_ext, conn=CONSUMER)
                results.append((reply.code, reply.remark or "", reply.ext_fields or {}, 0.0))

            nursery.start_soon(pull_at_1)
            await settle()
            assert plane.holds.held_count() == 1
            await trio.to_thread.run_sync(put_from_thread)
    assert results[0][:2] == (0, "FOUND") and results[0][2]["nextBeginOffset"] == "2"


async def test_replay_does_not_commit_twice(plane: DataPlane, autojump_clock: trio.testing.MockClock) -> None:
    plane.controller.topics.update_topic_config(TopicConfig("TopicTest", 4, 4, 6))
    results: list[tuple[int, str, dict[str, str], float]] = []
    async with trio.open_nursery() as nursery:
        nursery.start_soon(partial(held_pull, plane, results, sys_flag=SUSPEND, commit_offset=0))
        await settle()
        assert plane.controller.offsets.query("G1", "TopicTest", 0) == 0  # committed on the first pass
        plane.controller.offsets.commit("x", "G1", "TopicTest", 0, 7)
        await fill(plane, ["TagA"])
    assert plane.controller.offsets.query("G1", "TopicTest", 0) == 7
