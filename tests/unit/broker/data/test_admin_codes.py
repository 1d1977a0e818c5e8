"""The admin codes of admin_consumer.py / admin_store.py and the broker-to-client relay, over a real store."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from rocketpy.broker.client_manager import ClientChannelInfo
from rocketpy.broker.consumer_filter import bloom_filter_bits
from rocketpy.common import fastjson
from rocketpy.protocol.bodies.heartbeat import ConsumeFromWhere, ConsumeType, MessageModel, SubscriptionData
from rocketpy.protocol.codes import LanguageCode, RequestCode, ResponseCode
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import ConnectionClosedError, RemotingTimeoutError
from rocketpy.store import maintenance
from tests.unit.broker.conftest import FakeConnection
from tests.unit.broker.data.conftest import DataPlane

TOPIC, GROUP, CLIENT = "TopicTest", "CG", "10.0.0.8@client-1"
KIND = (ConsumeType.CONSUME_PASSIVELY, MessageModel.CLUSTERING, ConsumeFromWhere.CONSUME_FROM_LAST_OFFSET)


@dataclass(eq=False)
class Client(FakeConnection):
    """A consumer's channel: answers every request with `answer` (None: closed, -1: silent)."""

    answer: int | None = ResponseCode.SUCCESS
    body: bytes | None = None
    calls: list[RemotingCommand] = field(default_factory=list)

    async def invoke(self, cmd: RemotingCommand, timeout: float) -> RemotingCommand:
        self.calls.append(cmd)
        if self.answer is None:
            raise ConnectionClosedError(self.remote_addr)
        if self.answer < 0:
            raise RemotingTimeoutError("timeout")
        return RemotingCommand.response(self.answer, None, None, self.body)


def online(plane: DataPlane, client: Client, version: int = 409, client_id: str = CLIENT) -> None:
    info = ClientChannelInfo(client, client_id, LanguageCode.JAVA, version)
    subs = [SubscriptionData(topic=TOPIC, sub_string="*")]
    plane.controller.consumers.register(GROUP, info, KIND, subs, False, plane.clock())


async def filled(plane: DataPlane, count: int = 3) -> None:
    for _ in range(count):
        assert (await plane.send_one(TOPIC)).code == ResponseCode.SUCCESS


def test_bit_map_length_follows_the_bloom_filter(plane: DataPlane) -> None:
    assert bloom_filter_bits(20, 32) == 112 and bloom_filter_bits(10, 64) % 8 == 0
    assert plane.settings.store.bit_map_length_consume_queue_ext == 112
    with pytest.raises(ValueError):
        bloom_filter_bits(100, 32)


async def test_running_info_is_relayed_to_the_client(plane: DataPlane) -> None:
    client = Client("10.0.0.8:50001", body=b'{"properties":{}}')
    ext = {"consumerGroup": GROUP, "clientId": CLIENT, "jstackEnable": "false"}
    reply = await plane.call(RequestCode.GET_CONSUMER_RUNNING_INFO, ext)
    assert (reply.code, reply.remark) == (ResponseCode.SYSTEM_ERROR, f"The Consumer <{GROUP}> <{CLIENT}> not online")
    online(plane, client)
    reply = await plane.call(RequestCode.GET_CONSUMER_RUNNING_INFO, ext)
    assert (reply.code, reply.body) == (ResponseCode.SUCCESS, b'{"properties":{}}')
    [relayed] = client.calls
    assert relayed.code == RequestCode.GET_CONSUMER_RUNNING_INFO and relayed.ext_fields == ext
    client.answer = -1
    reply = await plane.call(RequestCode.GET_CONSUMER_RUNNING_INFO, ext)
    assert reply.code == ResponseCode.CONSUME_MSG_TIMEOUT
    assert (reply.remark or "").startswith(f"consumer <{GROUP}> <{CLIENT}> Timeout: ")
    client.answer = None
    reply = await plane.call(RequestCode.GET_CONSUMER_RUNNING_INFO, ext)
    assert reply.code == ResponseCode.SYSTEM_ERROR
    assert (reply.remark or "").startswith(f"invoke consumer <{GROUP}> <{CLIENT}> Exception: ")


async def test_old_client_is_refused(plane: DataPlane) -> None:
    online(plane, Client("10.0.0.8:50001"), version=10)
    ext = {"consumerGroup": GROUP, "clientId": CLIENT}
    reply = await plane.call(RequestCode.GET_CONSUMER_RUNNING_INFO, ext)
    assert reply.code == ResponseCode.SYSTEM_ERROR and "too low to finish" in (reply.remark or "")


async def test_consume_message_directly_carries_the_record(plane: DataPlane) -> None:
    await filled(plane, 1)
    msg_id = (await plane.send_one(TOPIC, b"direct")).ext_fields["msgId"]  # type: ignore[index]
    client = Client("10.0.0.8:50001", body=b'{"consumeResult":"CR_SUCCESS"}')
    online(plane, client)
    ext = {"consumerGroup": GROUP, "clientId": CLIENT, "msgId": msg_id}
    reply = await plane.call(RequestCode.CONSUME_MESSAGE_DIRECTLY, ext)
    assert reply.code == ResponseCode.SUCCESS
    [relayed] = client.calls
    assert (relayed.ext_fields or {})["brokerName"] == "broker-a"
    assert relayed.body is not None and b"direct" in bytes(relayed.body)


async def test_reset_offset_pushes_to_every_member(plane: DataPlane) -> None:
    await filled(plane, 3)
    ext = {"topic": TOPIC, "group": GROUP, "timestamp": "0", "isForce": "true"}
    reply = await plane.call(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, ext)
    assert (reply.code, reply.remark) == (ResponseCode.SYSTEM_ERROR, f"THe consumer group <{GROUP}> not exist")
    for qid in range(4):
        plane.controller.offsets.commit("c", GROUP, TOPIC, qid, plane.store.get_max_offset_in_queue(TOPIC, qid))
    reply = await plane.call(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, ext)
    assert reply.code == ResponseCode.CONSUMER_NOT_ONLINE
    client = Client("10.0.0.8:50001")
    online(plane, client)
    reply = await plane.call(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, ext)
    assert reply.code == ResponseCode.SUCCESS
    table = fastjson.loads(reply.body or b"")["offsetTable"]
    assert sorted(v for v in table.values()) == [0, 0, 0, 0]
    [push] = client.oneway
    assert push.code == RequestCode.RESET_CONSUMER_CLIENT_OFFSET and push.body == reply.body
    assert (push.ext_fields or {})["timestamp"] == "0"


async def test_consumer_status_gathers_the_members(plane: DataPlane) -> None:
    ext = {"topic": TOPIC, "group": GROUP}
    reply = await plane.call(RequestCode.INVOKE_BROKER_TO_GET_CONSUMER_STATUS, ext)
    assert reply.code == ResponseCode.SYSTEM_ERROR
    answer = b'{"consumerTable":{},"messageQueueTable":{{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}:7}}'
    online(plane, Client("10.0.0.8:50001", body=answer))
    reply = await plane.call(RequestCode.INVOKE_BROKER_TO_GET_CONSUMER_STATUS, ext)
    assert reply.code == ResponseCode.SUCCESS
    assert reply.body == (
        b'{"consumerTable":{"10.0.0.8@client-1":{{"brokerName":"broker-a","queueId":0,"topic":"TopicTest"}:7}},'
        b'"messageQueueTable":{}}'
    )


async def test_time_span_and_correction_offset(plane: DataPlane) -> None:
    await filled(plane, 2)
    reply = await plane.call(RequestCode.QUERY_CONSUME_TIME_SPAN, {"topic": "Nope", "group": GROUP})
    assert (reply.code, reply.remark) == (ResponseCode.TOPIC_NOT_EXIST, "topic[Nope] not exist")
    reply = await plane.call(RequestCode.QUERY_CONSUME_TIME_SPAN, {"topic": TOPIC, "group": GROUP})
    spans = fastjson.loads(reply.body or b"")["consumeTimeSpanSet"]
    assert [s["messageQueue"]["queueId"] for s in spans] == [0, 1, 2, 3]
    assert spans[0]["maxTimeStamp"] > 0 and spans[1]["maxTimeStamp"] == -1
    plane.controller.offsets.commit("c", GROUP, TOPIC, 0, 1)
    plane.controller.offsets.commit("c", "Other", TOPIC, 0, 2)
    ext = {"topic": TOPIC, "compareGroup": "Other"}
    reply = await plane.call(RequestCode.QUERY_CORRECTION_OFFSET, ext)
    assert reply.body == b'{"correctionOffsets":{0:1}}'
    reply = await plane.call(RequestCode.QUERY_CORRECTION_OFFSET, {**ext, "compareGroup": GROUP})
    assert reply.body == b'{"correctionOffsets":{0:1}}'
    reply = await plane.call(RequestCode.QUERY_CORRECTION_OFFSET, {**ext, "filterGroups": GROUP})
    assert reply.body == b'{"correctionOffsets":{0:2}}'
    assert plane.controller.offsets.query(GROUP, TOPIC, 0) == 1  # the filter removes nothing


async def test_broker_consume_stats_and_clone(plane: DataPlane) -> None:
    await filled(plane, 2)
    plane.controller.groups.find(GROUP)  # auto-created, as a consumer's heartbeat does
    plane.controller.offsets.commit("c", GROUP, TOPIC, 0, 1)
    reply = await plane.call(RequestCode.GET_BROKER_CONSUME_STATS, {"isOrder": "false"})
    body = fastjson.loads(reply.body or b"")
    assert body["totalDiff"] == 1 and body["brokerAddr"] == plane.settings.broker_addr
    [entry] = [e for e in body["consumeStatsList"] if GROUP in e]
    [stats] = entry[GROUP]
    assert stats["consumeTps"] == 0.0 and len(stats["offsetTable"]) == 4
    ext = {"srcGroup": GROUP, "destGroup": "Copy", "topic": TOPIC, "offline": "true"}
    assert (await plane.call(RequestCode.CLONE_GROUP_OFFSET, ext)).code == ResponseCode.SUCCESS
    assert plane.controller.offsets.query("Copy", TOPIC, 0) == 1


async def test_query_consume_queue(plane: DataPlane) -> None:
    await filled(plane, 3)
    ext = {"topic": TOPIC, "queueId": "0", "index": "1", "count": "10"}
    reply = await plane.call(RequestCode.QUERY_CONSUME_QUEUE, ext)
    body = fastjson.loads(reply.body or b"")
    assert (body["minQueueIndex"], body["maxQueueIndex"], len(body["queueData"])) == (0, 3, 2)
    assert set(body["queueData"][0]) == {"eval", "physicOffset", "physicSize", "tagsCode"}
    reply = await plane.call(RequestCode.QUERY_CONSUME_QUEUE, {**ext, "index": "5"})
    assert (reply.code, reply.body) == (ResponseCode.SUCCESS, None)
    assert reply.remark == "Index 5 of 0@TopicTest is not exist!"
    reply = await plane.call(RequestCode.QUERY_CONSUME_QUEUE, {**ext, "queueId": "9"})
    assert (reply.code, reply.remark) == (ResponseCode.SYSTEM_ERROR, "9@TopicTest is not exist!")
    reply = await plane.call(RequestCode.QUERY_CONSUME_QUEUE, {**ext, "consumerGroup": GROUP})
    assert fastjson.loads(reply.body or b"")["filterData"] == f"{GROUP}@{TOPIC} is not online!"


async def test_clean_unused_topic_and_expired_queues(plane: DataPlane) -> None:
    await filled(plane, 2)
    await plane.send_one("Gone")
    plane.controller.topics.table.pop("Gone", None)
    assert maintenance.clean_unused_topics(plane.store, set(plane.controller.topics.table)) == ["Gone"]
    assert plane.store.find_queue("Gone", 0) is None and plane.store.find_queue(TOPIC, 0) is not None
    assert plane.store.commitlog.queue_offsets.get(("Gone", 0)) is None
    assert maintenance.clean_expired_consume_queues(plane.store) == []  # every queue points into the log
    assert maintenance.last_offset(plane.store.queues[(TOPIC, 0)]) > 0
    maintenance.request_manual_delete(plane.store)
    assert plane.store.manual_delete_rounds == maintenance.MAX_MANUAL_DELETE_FILE_TIMES


async def test_view_broker_stats_data_windows(plane: DataPlane) -> None:
    ext = {"statsName": "TOPIC_PUT_NUMS", "statsKey": TOPIC}
    reply = await plane.call(RequestCode.VIEW_BROKER_STATS_DATA, ext)
    assert (reply.code, reply.remark) == (ResponseCode.SYSTEM_ERROR, f"The stats <TOPIC_PUT_NUMS> <{TOPIC}> not exist")
    plane.clock.now += 5_000
    await filled(plane, 3)
    reply = await plane.call(RequestCode.VIEW_BROKER_STATS_DATA, ext)
    empty = {"avgpt": 0.0, "sum": 0, "tps": 0.0}
    assert fastjson.loads(reply.body or b"") == {"statsDay": empty, "statsHour": empty, "statsMinute": empty}
    plane.clock.now += 5_000  # the first 10 s tick: a zero sample 10 s before it, then the totals
    reply = await plane.call(RequestCode.VIEW_BROKER_STATS_DATA, ext)
    body = fastjson.loads(reply.body or b"")
    assert body["statsMinute"] == {"avgpt": 1.0, "sum": 3, "tps": 0.3} and body["statsHour"] == empty
    plane.clock.now += 70_000  # the zero sample leaves the minute window: nothing new in it
    body = fastjson.loads((await plane.call(RequestCode.VIEW_BROKER_STATS_DATA, ext)).body or b"")
    assert body["statsMinute"] == empty
    plane.clock.now += 600_000  # the first 10 min tick
    body = fastjson.loads((await plane.call(RequestCode.VIEW_BROKER_STATS_DATA, ext)).body or b"")
    assert body["statsHour"]["sum"] == 3 and body["statsDay"] == empty
    cluster = {"statsName": "BROKER_PUT_NUMS", "statsKey": "DefaultCluster"}
    assert (await plane.call(RequestCode.VIEW_BROKER_STATS_DATA, cluster)).code == ResponseCode.SUCCESS
    assert plane.stats.manager.get_stats_item("TOPIC_PUT_SIZE", TOPIC) is not None


async def test_group_get_counts_found_pulls(plane: DataPlane) -> None:
    await filled(plane, 2)
    await plane.pull_records(TOPIC, 0)
    item = plane.stats.manager.get_stats_item("GROUP_GET_NUMS", f"{TOPIC}@G1")
    assert item is not None and (item.value, item.times) == (2, 1)
    size = plane.stats.manager.get_stats_item("GROUP_GET_SIZE", f"{TOPIC}@G1")
    assert size is not None and size.value > 0


@pytest.mark.parametrize(
    ("code", "ext"),
    [
        (RequestCode.QUERY_CONSUME_QUEUE, {"topic": TOPIC, "queueId": "2147483648"}),
        (RequestCode.QUERY_CONSUME_QUEUE, {"topic": TOPIC, "queueId": "x"}),
        (RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, {"topic": TOPIC, "group": GROUP, "timestamp": "0"}),
        (RequestCode.GET_CONSUMER_RUNNING_INFO, {"consumerGroup": GROUP}),
        (RequestCode.VIEW_BROKER_STATS_DATA, {"statsName": "TOPIC_PUT_NUMS"}),
        (RequestCode.CONSUME_MESSAGE_DIRECTLY, {"consumerGroup": GROUP, "clientId": CLIENT, "msgId": "zz"}),
        (RequestCode.GET_BROKER_CONSUME_STATS, {}),
    ],
)
async def test_malformed_headers_are_system_errors(plane: DataPlane, code: int, ext: dict[str, str]) -> None:
    reply = await plane.call(code, ext)
    assert reply.code == ResponseCode.SYSTEM_ERROR


def test_register_filter_server_stays_unsupported(plane: DataPlane) -> None:
    assert RequestCode.REGISTER_FILTER_SERVER not in plane.table
    assert RequestCode.REGISTER_FILTER_SERVER not in plane.controller.handlers()


async def test_found_pull_records_its_latency(plane: DataPlane) -> None:
    await filled(plane, 1)
    await plane.pull_records(TOPIC, 0)
    item = plane.stats.manager.get_stats_item("GROUP_GET_LATENCY", f"{TOPIC}@G1")
    assert item is not None and item.times == 1
