"""Consumer-side admin codes of broker.processor.AdminBrokerProcessor (4.9.8), the ones mqadmin's consumerStatus,
consumerProgress, resetOffsetByTime, skipAccumulatedMessage, brokerConsumeStats, cloneGroupOffset and the
dashboard's consumer pages send:

INVOKE_BROKER_TO_RESET_OFFSET (222), INVOKE_BROKER_TO_GET_CONSUMER_STATUS (223), QUERY_CONSUME_TIME_SPAN (303),
GET_CONSUMER_RUNNING_INFO (307), QUERY_CORRECTION_OFFSET (308), CONSUME_MESSAGE_DIRECTLY (309),
CLONE_GROUP_OFFSET (314) and GET_BROKER_CONSUME_STATS (317). The calls that reach a client go through
rocketpy.broker.broker_to_client; they are never inline, since they wait for the client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from rocketpy.broker.broker_to_client import Broker2Client
from rocketpy.broker.config import BrokerSettings
from rocketpy.broker.consumer_manager import ConsumerManager
from rocketpy.broker.offsets import ConsumerOffsetManager
from rocketpy.broker.processors.offsets_stats import MQ, offset_table
from rocketpy.broker.stats import BrokerStats
from rocketpy.broker.subscription_group import SubscriptionGroupManager
from rocketpy.broker.topic_config import TopicConfigManager
from rocketpy.common import fastjson
from rocketpy.common.clock import wall_clock_ms
from rocketpy.common.fastjson import java_hash_order
from rocketpy.protocol.admin_headers import (
    CloneGroupOffsetRequestHeader,
    ConsumeMessageDirectlyResultRequestHeader,
    GetConsumerRunningInfoRequestHeader,
    GetConsumerStatusRequestHeader,
    GetConsumeStatsInBrokerHeader,
    QueryConsumeTimeSpanRequestHeader,
    QueryCorrectionOffsetHeader,
    ResetOffsetRequestHeader,
)
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler, RequestContext, inline
from rocketpy.store.format import decode_message_id
from rocketpy.store.message_store import MessageStore

log = logging.getLogger("RocketmqBroker")

LONG_MAX = 2**63 - 1
_CORRECTION_NPE = (
    "java.lang.NullPointerException, org.apache.rocketmq.broker.processor.AdminBrokerProcessor."
    "queryCorrectionOffset(AdminBrokerProcessor.java:1217)"
)
_DIRECT_NPE = (
    "java.lang.NullPointerException, org.apache.rocketmq.broker.processor.AdminBrokerProcessor."
    "consumeMessageDirectly(AdminBrokerProcessor.java:1240)"
)


def _ok(body: bytes | None = None) -> RemotingCommand:
    return RemotingCommand.response(ResponseCode.SUCCESS, None, None, body)


class AdminConsumerProcessor:
    def __init__(
        self,
        settings: BrokerSettings,
        store: MessageStore,
        topics: TopicConfigManager,
        groups: SubscriptionGroupManager,
        consumers: ConsumerManager,
        offsets: ConsumerOffsetManager,
        stats: BrokerStats,
        clock_ms: Callable[[], int] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.topics = topics
        self.groups = groups
        self.consumers = consumers
        self.offsets = offsets
        self.stats = stats
        self.clock_ms = clock_ms or wall_clock_ms
        self.client = Broker2Client(settings, store, topics, consumers, offsets)

    def handlers(self) -> dict[int, Handler]:
        return {
            RequestCode.INVOKE_BROKER_TO_RESET_OFFSET: self.reset_offset,
            RequestCode.INVOKE_BROKER_TO_GET_CONSUMER_STATUS: self.get_consumer_status,
            RequestCode.QUERY_CONSUME_TIME_SPAN: self.query_consume_time_span,
            RequestCode.GET_CONSUMER_RUNNING_INFO: self.get_consumer_running_info,
            RequestCode.QUERY_CORRECTION_OFFSET: self.query_correction_offset,
            RequestCode.CONSUME_MESSAGE_DIRECTLY: self.consume_message_directly,
            RequestCode.CLONE_GROUP_OFFSET: self.clone_group_offset,
            RequestCode.GET_BROKER_CONSUME_STATS: self.get_broker_consume_stats,
        }

    # -- calls that reach the clients ----------------------------------------------------------------------------

    async def reset_offset(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = ResetOffsetRequestHeader.from_ext(cmd.ext_fields)
        log.info("[reset-offset] reset offset started by %s. topic=%s, group=%s, timestamp=%d, isForce=%s",
                 ctx.connection.remote_addr, h.topic, h.group, h.timestamp, h.is_force)  # fmt: skip
        return await self.client.reset_offset(h.topic, h.group, h.timestamp, h.is_force)

    async def get_consumer_status(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = GetConsumerStatusRequestHeader.from_ext(cmd.ext_fields)
        return await self.client.get_consume_status(h.topic, h.group, h.client_addr)

    async def get_consumer_running_info(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = GetConsumerRunningInfoRequestHeader.from_ext(cmd.ext_fields)
        return await self.client.call_consumer(RequestCode.GET_CONSUMER_RUNNING_INFO, cmd, h.consumer_group,
                                               h.client_id)  # fmt: skip

    async def consume_message_directly(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        """The stored record of msgId goes to the client as the body, with this broker's name added."""
        h = ConsumeMessageDirectlyResultRequestHeader.from_ext(cmd.ext_fields)
        ext = dict(cmd.ext_fields or {})
        ext["brokerName"] = self.settings.broker.broker_name
        try:
            _, offset = decode_message_id(h.msg_id or "")
        except ValueError as exc:
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, f"java.lang.IllegalArgumentException: {exc}") from None
        record = self.store.select_one_message_by_offset(offset)
        if record is None:  # Java reads from a null SelectMappedBufferResult
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, _DIRECT_NPE)
        relayed = RemotingCommand.request(cmd.code, ext, bytes(record))
        return await self.client.call_consumer(RequestCode.CONSUME_MESSAGE_DIRECTLY, relayed, h.consumer_group,
                                               h.client_id or "")  # fmt: skip

    # -- offsets and spans ---------------------------------------------------------------------------------------

    @inline
    async def query_consume_time_span(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = QueryConsumeTimeSpanRequestHeader.from_ext(cmd.ext_fields)
        config = self.topics.select(h.topic)
        if config is None:
            raise RocketMQError(ResponseCode.TOPIC_NOT_EXIST, f"topic[{h.topic}] not exist")
        broker = self.settings.broker.broker_name
        spans = []
        for qid in range(config.write_queue_nums):
            min_time = self.store.get_earliest_message_time(h.topic, qid)
            high = self.store.get_max_offset_in_queue(h.topic, qid)
            max_time = self.store.get_message_store_timestamp(h.topic, qid, high - 1)
            consumer_offset = self.offsets.query(h.group, h.topic, qid)
            if consumer_offset > 0:
                consume_time = self.store.get_message_store_timestamp(h.topic, qid, consumer_offset - 1)
            else:
                consume_time = min_time
            delay = 0
            if consumer_offset < high:
                delay = self.clock_ms() - self.store.get_message_store_timestamp(h.topic, qid, consumer_offset)
            spans.append({
                "consumeTimeStamp": consume_time,
                "delayTime": delay,
                "maxTimeStamp": max_time,
                "messageQueue": {"brokerName": broker, "queueId": qid, "topic": h.topic},
                "minTimeStamp": min_time,
            })  # fmt: skip
        return _ok(fastjson.dumps({"consumeTimeSpanSet": spans}))

    @inline
    async def query_correction_offset(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        """queryMinOffsetInAllGroup over the groups not filtered out, capped to Long.MAX_VALUE where the compare
        group is behind. Java's filter also deletes the filtered groups' offsets from its table (an iterator
        over the live keySet); rocketpy only leaves them out of the minimum."""
        h = QueryCorrectionOffsetHeader.from_ext(cmd.ext_fields)
        skip = set(h.filter_groups.split(",")) if h.filter_groups is not None and h.filter_groups.strip() else set()
        correction: dict[int, int] = {}
        for key, queues in self.offsets.table.items():
            topic, _, group = key.partition("@")
            if topic != h.topic or group.split("@")[0] in skip:
                continue
            for qid, offset in queues.items():
                if offset >= max(self.store.get_min_offset_in_queue(h.topic, qid), 0):
                    correction[qid] = min(offset, correction.get(qid, LONG_MAX))
        for qid, offset in (self.offsets.query_all(h.compare_group, h.topic) or {}).items():
            if qid not in correction:
                raise RocketMQError(ResponseCode.SYSTEM_ERROR, _CORRECTION_NPE)
            correction[qid] = LONG_MAX if correction[qid] > offset else correction[qid]
        table = {q: correction[q] for q in java_hash_order(sorted(correction))}
        return _ok(fastjson.dumps({"correctionOffsets": table}))

    @inline
    async def clone_group_offset(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = CloneGroupOffsetRequestHeader.from_ext(cmd.ext_fields)
        if h.topic is None or not h.topic.strip():
            topics = self.offsets.which_topic_by_consumer(h.src_group)
        else:
            topics = {h.topic}
        for topic in topics:
            if self.topics.select(topic) is None:
                log.warning("[cloneGroupOffset], topic config not exist, %s", topic)
                continue
            if not h.offline:
                info = self.consumers.get(h.src_group)
                if info is not None and info.subscriptions and topic not in info.subscriptions:
                    log.warning("[cloneGroupOffset], the consumer group[%s], topic[%s] not exist", h.src_group, topic)
                    continue
            # Java passes the header's topic, not the loop's: a blank one clones nothing
            self.offsets.clone_offset(h.src_group, h.dest_group, h.topic or "")
        return _ok()

    # -- statistics ----------------------------------------------------------------------------------------------

    @inline
    async def get_broker_consume_stats(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        """fetchAllConsumeStatsInBroker: every subscription group's ConsumeStats per topic it has offsets of."""
        h = GetConsumeStatsInBrokerHeader.from_ext(cmd.ext_fields)
        broker = self.settings.broker.broker_name
        stats_list: list[dict[str, list[dict[str, Any]]]] = []
        total_diff = 0
        # subscriptionGroupTable is a ConcurrentHashMap(1024): its table starts at 2048 slots
        for group in java_hash_order(list(self.groups.table), 2048):
            per_topic = []
            info = self.consumers.get(group)
            for topic in java_hash_order(sorted(self.offsets.which_topic_by_consumer(group))):
                config = self.topics.select(topic)
                if config is None or (h.is_order and not config.order):
                    continue
                if info is not None and info.subscriptions and topic not in info.subscriptions:
                    continue
                rows: list[tuple[MQ, dict[str, Any]]] = []
                for qid in range(config.write_queue_nums):
                    broker_offset = max(self.store.get_max_offset_in_queue(topic, qid), 0)
                    consumer_offset = max(self.offsets.query(group, topic, qid), 0)
                    last = 0
                    if consumer_offset - 1 >= 0:
                        last = max(self.store.get_message_store_timestamp(topic, qid, consumer_offset - 1), 0)
                    total_diff += broker_offset - consumer_offset
                    row = {"brokerOffset": broker_offset, "consumerOffset": consumer_offset, "lastTimestamp": last}
                    rows.append(((topic, broker, qid), row))
                tps = self.stats.tps_group_get_nums(group, topic)
                per_topic.append({"consumeTps": tps, "offsetTable": offset_table(rows)})
            stats_list.append({group: per_topic})
        body = {"brokerAddr": self.settings.broker_addr, "consumeStatsList": stats_list, "totalDiff": total_diff}
        return _ok(fastjson.dumps(body))
