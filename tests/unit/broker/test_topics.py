"""TopicConfigManager (system topics, auto-creation, persistence) and the topic admin requests 17, 215, 21, 305."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from rocketpy.broker.controller import BrokerController
from rocketpy.broker.persistence import FileConfigStore, MemoryConfigStore
from rocketpy.broker.store_view import StoreView
from rocketpy.broker.topic_config import TopicConfigManager
from rocketpy.protocol.codes import RequestCode, ResponseCode

from .conftest import Clock, call, make_controller, make_settings


def perms_and_queues(manager: TopicConfigManager) -> dict[str, tuple[int, int, int]]:
    return {n: (t.perm, t.read_queue_nums, t.write_queue_nums) for n, t in manager.table.items()}


def test_system_topics_at_start_match_java_4_9_8(clock: Clock) -> None:
    manager = TopicConfigManager(make_settings().broker, clock)
    assert perms_and_queues(manager) == {
        "SELF_TEST_TOPIC": (6, 1, 1),
        "TBW102": (7, 8, 8),
        "BenchmarkTest": (6, 1024, 1024),
        "DefaultCluster": (7, 16, 16),
        "broker-a": (7, 1, 1),
        "OFFSET_MOVED_EVENT": (6, 1, 1),
        "SCHEDULE_TOPIC_XXXX": (6, 18, 18),
        "DefaultCluster_REPLY_TOPIC": (6, 1, 1),
    }
    assert manager.system_topics.all() >= set(manager.table) | {"RMQ_SYS_TRANS_HALF_TOPIC", "RMQ_SYS_TRACE_TOPIC"}


def test_switches_change_the_system_topics(clock: Clock) -> None:
    settings = make_settings(
        auto_create_topic_enable=False, cluster_topic_enable=False, broker_topic_enable=False, trace_topic_enable=True
    )
    table = perms_and_queues(TopicConfigManager(settings.broker, clock))
    assert "TBW102" not in table
    assert table["DefaultCluster"][0] == 1 and table["broker-a"][0] == 1  # inherit only
    assert table["RMQ_SYS_TRACE_TOPIC"] == (6, 1, 1)


def test_auto_create_in_send_inherits_from_tbw102(clock: Clock) -> None:
    asked: list[str] = []
    manager = TopicConfigManager(make_settings().broker, clock, on_register=lambda: asked.append("register"))
    counter = manager.data_version.counter
    created = manager.create_in_send_message("NewTopic", "TBW102", "10.0.0.1:5000", 4, 0)
    assert created is not None
    assert (created.perm, created.read_queue_nums, created.write_queue_nums) == (6, 4, 4)
    assert manager.create_in_send_message("NewTopic", "TBW102", "x", 16, 0) is created  # second call: same config
    assert manager.data_version.counter == counter + 1 and asked == ["register"]
    big = manager.create_in_send_message("Big", "TBW102", "x", 64, 0)
    assert big is not None and big.write_queue_nums == 8  # capped by TBW102's 8 queues


def test_auto_create_needs_an_inheritable_default(clock: Clock) -> None:
    manager = TopicConfigManager(make_settings().broker, clock)
    assert manager.create_in_send_message("T", "SELF_TEST_TOPIC", "x", 4, 0) is None  # perm RW, no inherit bit
    assert manager.create_in_send_message("T", "NoSuchDefault", "x", 4, 0) is None
    stale = TopicConfigManager(make_settings(auto_create_topic_enable=False).broker, clock)
    stale.table["TBW102"] = manager.table["TBW102"]  # a TBW102 left in topics.json
    assert stale.create_in_send_message("T", "TBW102", "x", 4, 0) is None
    assert stale.table["TBW102"].perm == 6  # Java strips the inherit bit


def test_retry_topic_creation(clock: Clock) -> None:
    manager = TopicConfigManager(make_settings().broker, clock)
    config = manager.create_in_send_message_back("%RETRY%G", 1, 6, 0)
    assert (config.read_queue_nums, config.perm) == (1, 6)
    assert manager.create_in_send_message_back("%RETRY%G", 5, 2, 0) is config


JAVA_TOPICS_JSON = """{
\t"dataVersion":{
\t\t"counter":7,
\t\t"timestamp":1700000000123
\t},
\t"topicConfigTable":{
\t\t"TopicTest":{
\t\t\t"order":false,
\t\t\t"perm":6,
\t\t\t"readQueueNums":4,
\t\t\t"topicFilterType":"SINGLE_TAG",
\t\t\t"topicName":"TopicTest",
\t\t\t"topicSysFlag":0,
\t\t\t"writeQueueNums":4
\t\t},
\t\t"BenchmarkTest":{
\t\t\t"order":false,
\t\t\t"perm":6,
\t\t\t"readQueueNums":8,
\t\t\t"topicFilterType":"SINGLE_TAG",
\t\t\t"topicName":"BenchmarkTest",
\t\t\t"topicSysFlag":0,
\t\t\t"writeQueueNums":8
\t\t}
\t}
}"""


def test_loads_java_topics_json_over_the_built_in_topics(clock: Clock, tmp_path: Path) -> None:
    (tmp_path / "topics.json").write_text(JAVA_TOPICS_JSON)
    manager = TopicConfigManager(make_settings().broker, clock)
    assert manager.load(FileConfigStore(tmp_path))
    assert manager.table["TopicTest"].read_queue_nums == 4
    assert manager.table["BenchmarkTest"].read_queue_nums == 8  # the file wins over the constructor
    assert "SCHEDULE_TOPIC_XXXX" in manager.table
    assert (manager.data_version.counter, manager.data_version.timestamp) == (7, 1700000000123)


def test_persist_round_trip_and_backup_fallback(clock: Clock, tmp_path: Path) -> None:
    store = FileConfigStore(tmp_path)
    manager = TopicConfigManager(make_settings().broker, clock)
    manager.create_in_send_message_back("%RETRY%G", 1, 6, 0)
    manager.persist(store)
    manager.create_in_send_message_back("%DLQ%G", 1, 6, 0)
    manager.persist(store)  # the first file is now topics.json.bak
    (tmp_path / "topics.json").write_text('{"topicConfigTable":{"x":')  # torn write
    again = TopicConfigManager(make_settings().broker, clock)
    assert again.load(store)
    assert "%RETRY%G" in again.table and "%DLQ%G" not in again.table


async def test_create_topic_like_mqadmin_update_topic(controller: BrokerController) -> None:
    registered: list[str] = []

    async def increment(config: object) -> list[object]:
        registered.append(getattr(config, "topic_name", ""))
        return []

    controller.registration.register_increment = increment  # type: ignore[method-assign]
    ext = {
        "topic": "TopicTest",
        "defaultTopic": "TBW102",
        "readQueueNums": "8",
        "writeQueueNums": "8",
        "perm": "6",
        "topicFilterType": "SINGLE_TAG",
        "topicSysFlag": "0",
        "order": "false",
    }
    assert (await call(controller, RequestCode.UPDATE_AND_CREATE_TOPIC, ext)).code == ResponseCode.SUCCESS
    assert registered == ["TopicTest"]
    table = orjson.loads((await call(controller, RequestCode.GET_ALL_TOPIC_CONFIG)).body or b"")
    assert table["topicConfigTable"]["TopicTest"]["writeQueueNums"] == 8
    ext["perm"] = "4"
    assert (await call(controller, RequestCode.UPDATE_AND_CREATE_TOPIC, ext)).code == ResponseCode.SUCCESS
    assert controller.topics.table["TopicTest"].perm == 4


BASE = {"defaultTopic": "TBW102", "readQueueNums": "4", "writeQueueNums": "4", "perm": "6"}


@pytest.mark.parametrize(
    ("ext", "remark"),
    [
        ({"topic": "", **BASE, "topicFilterType": "SINGLE_TAG"}, "The specified topic is blank."),
        (
            {"topic": "../../x", **BASE, "topicFilterType": "SINGLE_TAG"},
            "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$",
        ),
        (
            {"topic": "a" * 128, **BASE, "topicFilterType": "SINGLE_TAG"},
            "The specified topic is longer than topic max length.",
        ),
        (
            {"topic": "TBW102", **BASE, "topicFilterType": "SINGLE_TAG"},
            "The topic[TBW102] is conflict with system topic.",
        ),
        (
            {"topic": "rmq_sys_x", **BASE, "topicFilterType": "SINGLE_TAG"},
            "The topic[rmq_sys_x] is conflict with system topic.",
        ),
        (
            {"topic": "DefaultCluster", **BASE, "topicFilterType": "SINGLE_TAG"},
            "The topic[DefaultCluster] is conflict with system topic.",
        ),
        ({"topic": "T", **BASE}, "the custom field <topicFilterType> is null"),
        ({"topic": "T", **BASE, "topicFilterType": "NO_TAG"}, "No enum constant TopicFilterType.NO_TAG"),
    ],
)
async def test_create_topic_refusals(controller: BrokerController, ext: dict[str, str], remark: str) -> None:
    before = dict(controller.topics.table)
    reply = await call(controller, RequestCode.UPDATE_AND_CREATE_TOPIC, ext)
    assert (reply.code, reply.remark) == (ResponseCode.SYSTEM_ERROR, remark)
    assert controller.topics.table == before


async def test_slave_refuses_topic_and_group_changes(clock: Clock) -> None:
    controller = make_controller(clock)
    controller.settings.store.broker_role = controller.settings.store.broker_role.__class__.SLAVE
    ext = {"topic": "T", **BASE, "topicFilterType": "SINGLE_TAG"}
    for code, args in (
        (RequestCode.UPDATE_AND_CREATE_TOPIC, ext),
        (RequestCode.DELETE_TOPIC_IN_BROKER, {"topic": "T"}),
        (RequestCode.DELETE_SUBSCRIPTIONGROUP, {"groupName": "G"}),
    ):
        reply = await call(controller, code, args)
        assert reply.code == ResponseCode.SYSTEM_ERROR and "slave" in (reply.remark or "")


async def test_delete_topic_drops_config_offsets_and_queues(clock: Clock, files: MemoryConfigStore) -> None:
    cleaned: list[set[str]] = []
    controller = make_controller(clock, files, StoreView(clean_unused_topic=cleaned.append))
    controller.topics.create_in_send_message_back("T", 4, 6, 0)
    offset = {"consumerGroup": "G", "topic": "T", "queueId": "1", "commitOffset": "10"}
    await call(controller, RequestCode.UPDATE_CONSUMER_OFFSET, offset)
    await call(controller, RequestCode.UPDATE_CONSUMER_OFFSET, {**offset, "topic": "Other"})
    assert (await call(controller, RequestCode.DELETE_TOPIC_IN_BROKER, {"topic": "T"})).code == ResponseCode.SUCCESS
    assert "T" not in controller.topics.table
    assert controller.offsets.query("G", "T", 1) == -1 and controller.offsets.query("G", "Other", 1) == 10
    assert cleaned and "T" not in cleaned[0] and "TBW102" in cleaned[0]
    refused = await call(controller, RequestCode.DELETE_TOPIC_IN_BROKER, {"topic": "SCHEDULE_TOPIC_XXXX"})
    assert refused.code == ResponseCode.SYSTEM_ERROR and "SCHEDULE_TOPIC_XXXX" in controller.topics.table
    controller.persist_all()
    assert "T" not in orjson.loads(files.files["topics.json"])["topicConfigTable"]


async def test_system_topic_list(controller: BrokerController) -> None:
    reply = await call(controller, RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_BROKER)
    topics = set(orjson.loads(reply.body or b"")["topicList"])
    assert {"TBW102", "SCHEDULE_TOPIC_XXXX", "DefaultCluster", "broker-a", "RMQ_SYS_TRANS_HALF_TOPIC"} <= topics
    assert "%RETRY%G" not in topics


def test_encode_equals_the_wrapper_json_across_changes(clock: Clock) -> None:
    """topics.json from cached per-topic fragments is the same text as a whole encode, whatever changed."""
    from rocketpy.protocol.bodies.kv import KVTable
    from rocketpy.protocol.bodies.topic_config import TopicConfig, TopicConfigSerializeWrapper, TopicFilterType

    manager = TopicConfigManager(make_settings().broker, clock)

    def whole() -> str:
        return TopicConfigSerializeWrapper(manager.table, manager.data_version).to_json().decode()

    assert manager.encode() == whole()
    for i in range(5):
        manager.update_topic_config(TopicConfig(f"T{i}", 4, 4, 6))
    assert manager.encode() == whole()
    # in-place changes: order from the NameServer's ORDER_TOPIC_CONFIG, a stale TBW102 losing its inherit bit
    manager.update_order_topic_config(KVTable({"T1": "broker-a:4"}))
    manager.broker.auto_create_topic_enable = False
    assert manager.create_in_send_message("Auto", "TBW102", "10.0.0.1:5000", 4, 0) is None
    assert manager.table["T1"].order and manager.table["TBW102"].perm == 6
    assert manager.encode() == whole()
    manager.delete_topic_config("T0")  # deleted and created again between two encodes: it moves to the end
    manager.update_topic_config(TopicConfig("T0", 2, 2, 6))
    manager.update_topic_config(TopicConfig("T2", 8, 2, 2, TopicFilterType.MULTI_TAG, 3))
    manager.delete_topic_config("T3")
    manager.update_topic_config(TopicConfig('quote"\\\u00e9', 1, 1, 6))
    assert manager.encode() == whole()
    assert "T3" not in manager.encode() and len(manager._fragments) == len(manager.table)
    assert TopicConfigSerializeWrapper.from_json(manager.encode()).topic_config_table == manager.table
