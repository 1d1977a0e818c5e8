"""Queue offsets and statistics, the data-plane part of broker.processor.AdminBrokerProcessor.

SEARCH_OFFSET_BY_TIMESTAMP (29), GET_MAX_OFFSET (30), GET_MIN_OFFSET (31), GET_EARLIEST_MSG_STORETIME (32),
GET_TOPIC_STATS_INFO (202), GET_CONSUME_STATS (208) and GET_BROKER_RUNTIME_INFO (28).

Wiring::

    admin_stats = OffsetStatsProcessor(
        settings, store, controller.topics, controller.consumers, controller.offsets, stats
    )
    table.update(admin_stats.handlers())

TopicStatsTable and ConsumeStats are maps keyed by MessageQueue, which fastjson writes with the bean itself as an
unquoted key: `{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"lastUpdateTimestamp":..,...}}}`. Java
decodes those maps with MessageQueue keys, so that form is what goes out; entries are in java.util.HashMap order
(MessageQueue.hashCode), so the bytes match a Java broker's. Java's DefaultMessageStore.findConsumeQueue creates a
missing queue, so a queue that never held a message reports min offset 0, not -1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rocketpy.broker.config import BrokerSettings
from rocketpy.broker.consumer_manager import ConsumerManager
from rocketpy.broker.offsets import ConsumerOffsetManager
from rocketpy.broker.stats import BrokerStats, runtime_info
from rocketpy.broker.topic_config import TopicConfigManager
from rocketpy.common import fastjson
from rocketpy.common.fastjson import ObjectKey, java_hash_order, java_string_hash
from rocketpy.protocol.bodies.kv import KVTable
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.message_headers import (
    GetConsumeStatsRequestHeader,
    GetEarliestMsgStoretimeResponseHeader,
    GetTopicStatsInfoRequestHeader,
    OffsetResponseHeader,
    QueueRequestHeader,
    SearchOffsetRequestHeader,
    int32,
)
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler, RequestContext, inline
from rocketpy.store.message_store import MessageStore

MQ = tuple[str, str, int]  # (topic, brokerName, queueId)


def _i32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def message_queue_hash(topic: str, broker_name: str, queue_id: int) -> int:
    """MessageQueue.hashCode."""
    result = 31 + java_string_hash(broker_name)
    result = _i32(31 * result + queue_id)
    return _i32(31 * result + java_string_hash(topic))


def hash_map_order(queues: list[MQ]) -> list[MQ]:
    """java.util.HashMap iteration order of MessageQueue keys put in this order (see fastjson.java_hash_order)."""
    capacity = 16
    while len(queues) > capacity * 3 // 4:
        capacity <<= 1

    def slot(item: tuple[int, MQ]) -> tuple[int, int]:
        h = message_queue_hash(*item[1]) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & (capacity - 1), item[0]

    return [mq for _, mq in sorted(enumerate(queues), key=slot)]


def mq_key(mq: MQ) -> ObjectKey:
    """A MessageQueue as fastjson writes it: properties sorted."""
    topic, broker_name, queue_id = mq
    return ObjectKey.of({"brokerName": broker_name, "queueId": queue_id, "topic": topic})


def offset_table(rows: Iterable[tuple[MQ, dict[str, Any]]]) -> dict[ObjectKey, dict[str, Any]]:
    table = dict(rows)
    return {mq_key(mq): table[mq] for mq in hash_map_order(list(table))}


class OffsetStatsProcessor:
    def __init__(
        self,
        settings: BrokerSettings,
        store: MessageStore,
        topics: TopicConfigManager,
        consumers: ConsumerManager,
        offsets: ConsumerOffsetManager,
        stats: BrokerStats,
    ) -> None:
        self.settings = settings
        self.store = store
        self.topics = topics
        self.consumers = consumers
        self.offsets = offsets
        self.stats = stats
        self.schedule_stats: Callable[[], dict[str, str]] | None = None  # ScheduleMessageService.running_stats

    def handlers(self) -> dict[int, Handler]:
        return {
            RequestCode.SEARCH_OFFSET_BY_TIMESTAMP: self.search_offset_by_timestamp,
            RequestCode.GET_MAX_OFFSET: self.get_max_offset,
            RequestCode.GET_MIN_OFFSET: self.get_min_offset,
            RequestCode.GET_EARLIEST_MSG_STORETIME: self.get_earliest_msg_storetime,
            RequestCode.GET_TOPIC_STATS_INFO: self.get_topic_stats_info,
            RequestCode.GET_CONSUME_STATS: self.get_consume_stats,
            RequestCode.GET_BROKER_RUNTIME_INFO: self.get_broker_runtime_info,
        }

    @staticmethod
    def _ok(ext: dict[str, str] | None = None, body: bytes | None = None) -> RemotingCommand:
        return RemotingCommand.response(ResponseCode.SUCCESS, None, ext, body)

    def _min_offset(self, topic: str, queue_id: int) -> int:
        return max(self.store.get_min_offset_in_queue(topic, queue_id), 0)

    # -- queue offsets -------------------------------------------------------------------------------------------

    @inline
    async def search_offset_by_timestamp(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = SearchOffsetRequestHeader.from_ext(cmd.ext_fields)
        offset = self.store.get_offset_in_queue_by_time(h.topic, int32("queueId", h.queue_id), h.timestamp)
        return self._ok(OffsetResponseHeader(offset).to_ext())

    @inline
    async def get_max_offset(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = QueueRequestHeader.from_ext(cmd.ext_fields)
        offset = self.store.get_max_offset_in_queue(h.topic, int32("queueId", h.queue_id))
        return self._ok(OffsetResponseHeader(offset).to_ext())

    @inline
    async def get_min_offset(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = QueueRequestHeader.from_ext(cmd.ext_fields)
        return self._ok(OffsetResponseHeader(self._min_offset(h.topic, int32("queueId", h.queue_id))).to_ext())

    @inline
    async def get_earliest_msg_storetime(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = QueueRequestHeader.from_ext(cmd.ext_fields)
        timestamp = self.store.get_earliest_message_time(h.topic, int32("queueId", h.queue_id))
        return self._ok(GetEarliestMsgStoretimeResponseHeader(timestamp).to_ext())

    # -- statistics ----------------------------------------------------------------------------------------------

    def topic_stats(self, topic: str) -> bytes:
        """TopicStatsTable over the topic's write queues: min, max, store time of the newest message."""
        config = self.topics.select(topic)
        if config is None:
            raise RocketMQError(ResponseCode.TOPIC_NOT_EXIST, f"topic[{topic}] not exist")
        broker = self.settings.broker.broker_name
        rows = []
        for qid in range(config.write_queue_nums):
            low = self._min_offset(topic, qid)
            high = max(self.store.get_max_offset_in_queue(topic, qid), 0)
            last = self.store.get_message_store_timestamp(topic, qid, high - 1) if high > 0 else 0
            rows.append(((topic, broker, qid), {"lastUpdateTimestamp": last, "maxOffset": high, "minOffset": low}))
        return fastjson.dumps({"offsetTable": offset_table(rows)})

    @inline
    async def get_topic_stats_info(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = GetTopicStatsInfoRequestHeader.from_ext(cmd.ext_fields)
        return self._ok(body=self.topic_stats(h.topic))

    def _consume_topics(self, group: str, topic: str | None) -> list[str]:
        if topic is not None and topic.strip():
            return [topic]
        return java_hash_order(sorted(self.offsets.which_topic_by_consumer(group)))

    def consume_stats(self, group: str, topic: str | None) -> bytes:
        """ConsumeStats: per read queue the broker's max offset, the group's committed offset and the store time
        of the last consumed message; consumeTps is the group's pull rate over the last minute."""
        broker = self.settings.broker.broker_name
        info = self.consumers.get(group)
        rows: list[tuple[MQ, dict[str, Any]]] = []
        tps = 0.0
        for name in self._consume_topics(group, topic):
            config = self.topics.select(name)
            if config is None:
                continue
            if info is not None and name not in info.subscriptions and info.subscriptions:
                continue  # the group is online but does not subscribe to this topic
            for qid in range(config.read_queue_nums):
                broker_offset = max(self.store.get_max_offset_in_queue(name, qid), 0)
                consumer_offset = max(self.offsets.query(group, name, qid), 0)
                last = 0
                if consumer_offset - 1 >= 0:
                    last = max(self.store.get_message_store_timestamp(name, qid, consumer_offset - 1), 0)
                row = {"brokerOffset": broker_offset, "consumerOffset": consumer_offset, "lastTimestamp": last}
                rows.append(((name, broker, qid), row))
            tps += self.stats.tps_group_get_nums(group, name)
        return fastjson.dumps({"consumeTps": tps, "offsetTable": offset_table(rows)})

    @inline
    async def get_consume_stats(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = GetConsumeStatsRequestHeader.from_ext(cmd.ext_fields)
        return self._ok(body=self.consume_stats(h.consumer_group, h.topic))

    def runtime_table(self) -> KVTable:
        schedule = self.schedule_stats() if self.schedule_stats is not None else None
        info = runtime_info(self.stats, self.store, self.settings, schedule)
        return KVTable({key: info[key] for key in java_hash_order(list(info), 64)})

    @inline
    async def get_broker_runtime_info(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        return self._ok(body=self.runtime_table().to_json())
