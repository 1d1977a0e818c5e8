"""Subscription groups (200, 201, 207) and consumer offsets (14, 15, 43) with their Java file formats."""

from __future__ import annotations

from pathlib import Path

import orjson

from rocketpy.broker.controller import BrokerController
from rocketpy.broker.offsets import ConsumerOffsetManager
from rocketpy.broker.persistence import FileConfigStore, MemoryConfigStore
from rocketpy.broker.store_view import StoreView
from rocketpy.broker.subscription_group import SubscriptionGroupManager
from rocketpy.common import fastjson
from rocketpy.protocol.codes import RequestCode, ResponseCode

from .conftest import Clock, call, make_controller, make_settings

# SubscriptionGroupConfig as mqadmin updateSubGroup sends it (fastjson, sorted properties).
GROUP_BODY = (
    b'{"brokerId":0,"consumeBroadcastEnable":false,"consumeEnable":true,"consumeFromMinEnable":false,'
    b'"groupName":"GID_ORDER","notifyConsumerIdsChangedEnable":true,"retryMaxTimes":3,"retryQueueNums":2,'
    b'"whichBrokerWhenConsumeSlowly":1}'
)


async def test_update_get_delete_subscription_group(controller: BrokerController) -> None:
    assert (await call(controller, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, body=GROUP_BODY)).code == 0
    table = orjson.loads((await call(controller, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG)).body or b"")
    assert table["subscriptionGroupTable"]["GID_ORDER"]["retryMaxTimes"] == 3
    assert table["subscriptionGroupTable"]["GID_ORDER"]["consumeBroadcastEnable"] is False
    assert {"TOOLS_CONSUMER", "FILTERSRV_CONSUMER", "SELF_TEST_C_GROUP"} <= set(table["subscriptionGroupTable"])
    assert table["dataVersion"]["counter"] == 1
    ext = {"groupName": "GID_ORDER", "removeOffset": "false"}
    assert (await call(controller, RequestCode.DELETE_SUBSCRIPTIONGROUP, ext)).code == 0
    assert controller.groups.get("GID_ORDER") is None


async def test_update_group_with_illegal_name_is_refused(controller: BrokerController) -> None:
    body = GROUP_BODY.replace(b"GID_ORDER", b"a/b")
    reply = await call(controller, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, body=body)
    assert reply.code == ResponseCode.SYSTEM_ERROR and controller.groups.get("a/b") is None
    empty = await call(controller, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP)
    assert empty.code == ResponseCode.SUCCESS  # Java decodes a missing body as null and changes nothing


async def test_delete_group_with_remove_offset(controller: BrokerController) -> None:
    for group, topic in (("G", "T1"), ("G", "T2"), ("G2", "T1")):
        ext = {"consumerGroup": group, "topic": topic, "queueId": "0", "commitOffset": "3"}
        await call(controller, RequestCode.UPDATE_CONSUMER_OFFSET, ext)
    await call(controller, RequestCode.DELETE_SUBSCRIPTIONGROUP, {"groupName": "G", "removeOffset": "true"})
    assert controller.offsets.which_topic_by_consumer("G") == set()
    assert controller.offsets.query("G2", "T1", 0) == 3


def test_group_auto_creation_rules(clock: Clock) -> None:
    on = SubscriptionGroupManager(make_settings().broker, clock)
    assert on.find("G") is not None and on.data_version.counter == 1
    off = SubscriptionGroupManager(make_settings(auto_create_subscription_group=False).broker, clock)
    assert off.find("G") is None
    assert off.find("CID_RMQ_SYS_TRANS") is not None  # system groups are always created


JAVA_SUBSCRIPTION_GROUP_JSON = """{
\t"dataVersion":{
\t\t"counter":2,
\t\t"timestamp":1700000000999
\t},
\t"subscriptionGroupTable":{
\t\t"please_rename_unique_group_name_4":{
\t\t\t"brokerId":0,
\t\t\t"consumeBroadcastEnable":true,
\t\t\t"consumeEnable":true,
\t\t\t"consumeFromMinEnable":true,
\t\t\t"groupName":"please_rename_unique_group_name_4",
\t\t\t"notifyConsumerIdsChangedEnable":true,
\t\t\t"retryMaxTimes":16,
\t\t\t"retryQueueNums":1,
\t\t\t"whichBrokerWhenConsumeSlowly":1
\t\t}
\t}
}"""


def test_subscription_group_file_round_trip(clock: Clock, tmp_path: Path) -> None:
    (tmp_path / "subscriptionGroup.json").write_text(JAVA_SUBSCRIPTION_GROUP_JSON)
    store = FileConfigStore(tmp_path)
    manager = SubscriptionGroupManager(make_settings().broker, clock)
    assert manager.load(store)
    assert manager.get("please_rename_unique_group_name_4") is not None
    assert manager.data_version.counter == 2
    manager.find("NewGroup")
    manager.persist(store)
    again = SubscriptionGroupManager(make_settings().broker, clock)
    assert again.load(store)
    assert again.get("NewGroup") is not None and again.data_version.counter == 3


async def test_query_offset_after_commit(controller: BrokerController) -> None:
    ext = {"consumerGroup": "G", "topic": "T", "queueId": "2", "commitOffset": "42", "bname": "broker-a"}
    assert (await call(controller, RequestCode.UPDATE_CONSUMER_OFFSET, ext)).code == ResponseCode.SUCCESS
    reply = await call(
        controller, RequestCode.QUERY_CONSUMER_OFFSET, {"consumerGroup": "G", "topic": "T", "queueId": "2"}
    )
    assert (reply.code, reply.ext_fields) == (ResponseCode.SUCCESS, {"offset": "42"})


async def test_query_offset_without_commit_follows_the_store(clock: Clock) -> None:
    query = {"consumerGroup": "G", "topic": "T", "queueId": "0"}
    empty = make_controller(clock)  # default view: every queue empty
    reply = await call(empty, RequestCode.QUERY_CONSUMER_OFFSET, query)
    assert (reply.code, reply.ext_fields) == (ResponseCode.SUCCESS, {"offset": "0"})

    trimmed = make_controller(clock, store_view=StoreView(min_offset_in_queue=lambda t, q: 100))
    reply = await call(trimmed, RequestCode.QUERY_CONSUMER_OFFSET, query)
    assert (reply.code, reply.remark) == (
        ResponseCode.QUERY_NOT_FOUND,
        "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first",
    )
    on_disk = make_controller(clock, store_view=StoreView(check_in_disk_by_consume_offset=lambda t, q, o: True))
    assert (await call(on_disk, RequestCode.QUERY_CONSUMER_OFFSET, query)).code == ResponseCode.QUERY_NOT_FOUND


async def test_offset_requests_need_their_fields(controller: BrokerController) -> None:
    reply = await call(controller, RequestCode.UPDATE_CONSUMER_OFFSET, {"consumerGroup": "G", "topic": "T"})
    assert (reply.code, reply.remark) == (ResponseCode.SYSTEM_ERROR, "the custom field <queueId> is null")
    reply = await call(
        controller, RequestCode.QUERY_CONSUMER_OFFSET, {"consumerGroup": "G", "topic": "T", "queueId": "zero"}
    )
    assert reply.code == ResponseCode.SYSTEM_ERROR


# consumerOffset.json as ConsumerOffsetManager.persist writes it: fastjson pretty format, queue ids unquoted.
JAVA_CONSUMER_OFFSET_JSON = """{
\t"offsetTable":{
\t\t"TopicTest@please_rename_unique_group_name_4":{0:250,1:249,2:250,3:251
\t\t},
\t\t"%RETRY%please_rename_unique_group_name_4@please_rename_unique_group_name_4":{0:0
\t\t}
\t}
}"""


def test_consumer_offset_file_round_trip(tmp_path: Path) -> None:
    (tmp_path / "consumerOffset.json").write_text(JAVA_CONSUMER_OFFSET_JSON)
    store = FileConfigStore(tmp_path)
    manager = ConsumerOffsetManager()
    assert manager.load(store)
    assert manager.query("please_rename_unique_group_name_4", "TopicTest", 3) == 251
    manager.commit("c", "G", "T", 7, 9)
    manager.persist(store)
    text = (tmp_path / "consumerOffset.json").read_text()
    assert "{7:9}" in text.replace(" ", "").replace("\n", "").replace("\t", "")  # unquoted, as fastjson writes
    parsed = fastjson.loads(text)  # and readable by a fastjson-compatible reader
    assert parsed["offsetTable"]["T@G"] == {7: 9}
    again = ConsumerOffsetManager()
    assert again.load(store) and again.table == manager.table


async def test_get_all_consumer_offset_and_periodic_flush_state(
    controller: BrokerController, files: MemoryConfigStore
) -> None:
    await call(
        controller,
        RequestCode.UPDATE_CONSUMER_OFFSET,
        {"consumerGroup": "G", "topic": "T", "queueId": "0", "commitOffset": "5"},
    )
    assert controller.offsets.dirty
    body = fastjson.loads((await call(controller, RequestCode.GET_ALL_CONSUMER_OFFSET)).body or b"")
    assert body["offsetTable"]["T@G"] == {0: 5}
    controller.persist_all()
    assert not controller.offsets.dirty and "T@G" in files.files["consumerOffset.json"]
