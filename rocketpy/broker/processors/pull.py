"""PULL_MESSAGE (11): broker.processor.PullMessageProcessor over MessageStore.get_message, with long polling.

Wiring (the lead's `rocketpy broker`)::

    holds = PullRequestHoldService(store)                 # rocketpy.broker.longpolling
    store.arrival_listener = holds.on_message_arrival     # NotifyMessageArrivingListener
    pull = PullMessageProcessor(
        settings, store,
        controller.topics, controller.groups,             # topic perms/queues; group consumeEnable etc.
        controller.consumers,                             # heartbeat subscriptions (no subscription flag)
        controller.offsets,                               # commit offset when the sysFlag commit bit is set
        stats, holds,
        clock_ms=controller.clock_ms,
    )
    table.update(pull.handlers())

What a Java consumer observes (4.9.8): checks in PullMessageProcessor's order and codes; remark = the store's
GetMessageStatus name; headers suggestWhichBrokerId/nextBeginOffset/minOffset/maxOffset; status mapping

    FOUND -> SUCCESS                            MESSAGE_WAS_REMOVING, NO_MATCHED_MESSAGE -> PULL_RETRY_IMMEDIATELY
    NO_MATCHED_LOGIC_QUEUE, NO_MESSAGE_IN_QUEUE -> PULL_OFFSET_MOVED if offset != 0, else PULL_NOT_FOUND
    OFFSET_FOUND_NULL, OFFSET_OVERFLOW_ONE -> PULL_NOT_FOUND      OFFSET_OVERFLOW_BADLY, OFFSET_TOO_SMALL -> MOVED

body = the stored records concatenated, joined once from the store's memoryviews. PULL_NOT_FOUND with the
suspend flag is held (longpolling.py) and then re-run without suspending; PULL_OFFSET_MOVED on a master writes an
OffsetMovedEvent to OFFSET_MOVED_EVENT, as Java does.

SQL92 subscriptions (ExpressionMessageFilter): a pull without the subscription flag uses the expression the
heartbeats registered (consumer_filter.py), compiled once per subscription version: FILTER_DATA_NOT_EXIST when
there is none (it did not compile), FILTER_DATA_NOT_LATEST when it is older than the pull's subVersion. A pull
with the flag (lite pull) compiles its own; one that does not compile filters nothing, as in Java, whose
`assert consumerFilterData != null` is disabled in a production JVM. With enablePropertyFilter=false (the
default) both get SYSTEM_ERROR "The broker does not support consumer to filter message by SQL92" after those
checks. The store evaluates each candidate record's properties; the held pull wakes on any arrival (Java also
matches the arrival's properties first, which only saves the client a PULL_RETRY_IMMEDIATELY round).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from rocketpy.broker.config import BrokerRole, BrokerSettings
from rocketpy.broker.consumer_filter import ConsumerFilterData, record_filter
from rocketpy.broker.consumer_manager import ConsumerManager
from rocketpy.broker.longpolling import PullRequestHoldService, TagsMatcher, match_all
from rocketpy.broker.offsets import ConsumerOffsetManager
from rocketpy.broker.processors.send_support import properties_string, resolve_host
from rocketpy.broker.stats import BrokerStats
from rocketpy.broker.subscription_group import SubscriptionGroupManager
from rocketpy.broker.topic_config import TopicConfigManager
from rocketpy.broker.topic_validator import RMQ_SYS_OFFSET_MOVED_EVENT
from rocketpy.common import fastjson
from rocketpy.common.clock import wall_clock_ms
from rocketpy.common.java import java_string_hash
from rocketpy.protocol.bodies.heartbeat import SUB_ALL, MessageModel, SubscriptionData, is_tag_type
from rocketpy.protocol.bodies.subscription_group import SubscriptionGroupConfig
from rocketpy.protocol.bodies.topic_config import PERM_READ
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.message_headers import PullMessageRequestHeader, PullMessageResponseHeader, int32
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler, RequestContext
from rocketpy.store.commitlog import MessageInner
from rocketpy.store.config import GetMessageResult, GetMessageStatus
from rocketpy.store.message_store import MessageStore
from rocketpy.store.reader import JoinedRead, codes_matcher

log = logging.getLogger("RocketmqBroker")

FAQ_TIP = "\nSee http://rocketmq.apache.org/docs/faq/ for further details."  # FAQUrl.suggestTodo
MASTER_ID = 0
# PullSysFlag
FLAG_COMMIT_OFFSET, FLAG_SUSPEND, FLAG_SUBSCRIPTION, FLAG_CLASS_FILTER = 0x1, 0x2, 0x4, 0x8

STATUS_CODES = {
    GetMessageStatus.FOUND: ResponseCode.SUCCESS,
    GetMessageStatus.MESSAGE_WAS_REMOVING: ResponseCode.PULL_RETRY_IMMEDIATELY,
    GetMessageStatus.NO_MATCHED_MESSAGE: ResponseCode.PULL_RETRY_IMMEDIATELY,
    GetMessageStatus.OFFSET_FOUND_NULL: ResponseCode.PULL_NOT_FOUND,
    GetMessageStatus.OFFSET_OVERFLOW_ONE: ResponseCode.PULL_NOT_FOUND,
    GetMessageStatus.OFFSET_OVERFLOW_BADLY: ResponseCode.PULL_OFFSET_MOVED,
    GetMessageStatus.OFFSET_TOO_SMALL: ResponseCode.PULL_OFFSET_MOVED,
}


def status_code(status: GetMessageStatus, request_offset: int) -> int:
    """The switch over GetMessageStatus in PullMessageProcessor.processRequest."""
    if status in (GetMessageStatus.NO_MATCHED_LOGIC_QUEUE, GetMessageStatus.NO_MESSAGE_IN_QUEUE):
        return ResponseCode.PULL_OFFSET_MOVED if request_offset != 0 else ResponseCode.PULL_NOT_FOUND
    return STATUS_CODES[status]


def java_split_or(expression: str) -> list[str]:
    """String.split("\\\\|\\\\|"): trailing empty strings dropped."""
    parts = re.split(r"\|\|", expression)
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def build_subscription(topic: str, sub_string: str | None, expression_type: str | None) -> SubscriptionData:
    """FilterAPI.build; ValueError where Java throws (reported as SUBSCRIPTION_PARSE_FAILED)."""
    if expression_type is not None and expression_type != "TAG":
        if not sub_string:
            raise ValueError(f"Expression can't be null! {expression_type}")
        return SubscriptionData(topic=topic, sub_string=sub_string, expression_type=expression_type)
    data = SubscriptionData(topic=topic, sub_string=sub_string)
    if not sub_string or sub_string == SUB_ALL:
        data.sub_string = SUB_ALL
        return data
    tags = java_split_or(sub_string)
    if not tags:
        raise ValueError("subString split error")
    for tag in tags:
        trimmed = tag.strip()
        if trimmed:
            data.tags_set.add(trimmed)
            data.code_set.add(java_string_hash(trimmed))
    return data


def tags_codes(data: SubscriptionData) -> frozenset[int] | None:
    """The hash codes a TAG subscription's consume-queue filter wants; None when everything matches."""
    if data.class_filter_mode or data.sub_string == SUB_ALL or not is_tag_type(data.expression_type):
        return None
    return frozenset(data.code_set)


def tags_matcher(data: SubscriptionData) -> TagsMatcher | None:
    """ExpressionMessageFilter.isMatchedByConsumeQueue for TAG subscriptions; None when everything matches."""
    return codes_matcher(tags_codes(data))


@dataclass(slots=True)
class PullPlan:
    """What a first pass decided: the reply, or a hold on the queue with this filter."""

    reply: RemotingCommand | None
    matcher: TagsMatcher = match_all
    timeout_s: float = 0.0


class PullMessageProcessor:
    def __init__(
        self,
        settings: BrokerSettings,
        store: MessageStore,
        topics: TopicConfigManager,
        groups: SubscriptionGroupManager,
        consumers: ConsumerManager,
        offsets: ConsumerOffsetManager,
        stats: BrokerStats,
        holds: PullRequestHoldService,
        *,
        clock_ms: Callable[[], int] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.topics = topics
        self.groups = groups
        self.consumers = consumers
        self.offsets = offsets
        self.stats = stats
        self.holds = holds
        self.clock_ms = clock_ms or wall_clock_ms
        self.broker_host = resolve_host(settings.broker.broker_ip1, settings.netty.listen_port)

    def handlers(self) -> dict[int, Handler]:
        return {RequestCode.PULL_MESSAGE: self.pull_message}  # not inline: it may hold the request

    async def pull_message(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        header = PullMessageRequestHeader.from_ext(cmd.ext_fields)
        int32("queueId", header.queue_id)
        int32("maxMsgNums", header.max_msg_nums)
        plan = self._counted(ctx, header, allow_suspend=True)
        if plan.reply is not None:
            return plan.reply
        await self.holds.hold(header.topic, header.queue_id, header.queue_offset, plan.timeout_s, plan.matcher)
        # executeRequestWhenWakeup: the same request, without the suspend permission and without committing
        replay = self._counted(ctx, header, allow_suspend=False)
        assert replay.reply is not None
        return replay.reply

    def _counted(self, ctx: RequestContext, h: PullMessageRequestHeader, *, allow_suspend: bool) -> PullPlan:
        """One pass, counted in pullThreadPoolQueueSize while it runs (a held pull is not counted)."""
        self.stats.in_flight["pull"] += 1
        try:
            return self.process(ctx, h, allow_suspend=allow_suspend)
        finally:
            self.stats.in_flight["pull"] -= 1

    # -- the checks ----------------------------------------------------------------------------------------------

    def _check_group_and_topic(self, ctx: RequestContext, h: PullMessageRequestHeader) -> SubscriptionGroupConfig:
        b = self.settings.broker
        if not b.broker_permission & PERM_READ:
            raise RocketMQError(ResponseCode.NO_PERMISSION, f"the broker[{b.broker_ip1}] pulling message is forbidden")
        group = self.groups.find(h.consumer_group)
        if group is None:
            raise RocketMQError(
                ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
                f"subscription group [{h.consumer_group}] does not exist, {FAQ_TIP}",
            )
        if not group.consume_enable:
            raise RocketMQError(ResponseCode.NO_PERMISSION, f"subscription group no permission, {h.consumer_group}")
        config = self.topics.select(h.topic)
        if config is None:
            log.error("the topic %s not exist, consumer: %s", h.topic, ctx.connection.remote_addr)
            raise RocketMQError(
                ResponseCode.TOPIC_NOT_EXIST, f"topic[{h.topic}] not exist, apply first please! {FAQ_TIP}"
            )
        if not config.perm & PERM_READ:
            raise RocketMQError(ResponseCode.NO_PERMISSION, f"the topic[{h.topic}] pulling message is forbidden")
        if h.queue_id < 0 or h.queue_id >= config.read_queue_nums:
            raise RocketMQError(
                ResponseCode.SYSTEM_ERROR,
                f"queueId[{h.queue_id}] is illegal, topic:[{h.topic}] topicConfig.readQueueNums:"
                f"[{config.read_queue_nums}] consumer:[/{ctx.connection.remote_addr}]",
            )
        return group

    def _subscription(
        self, h: PullMessageRequestHeader, group: SubscriptionGroupConfig
    ) -> tuple[SubscriptionData, ConsumerFilterData | None]:
        filters = self.consumers.filters
        if h.sys_flag & FLAG_SUBSCRIPTION:
            try:
                data = build_subscription(h.topic, h.subscription, h.expression_type)
            except ValueError:
                log.warning("Parse the consumer's subscription[%s] failed, group: %s", h.subscription, h.consumer_group)
                raise RocketMQError(
                    ResponseCode.SUBSCRIPTION_PARSE_FAILED, "parse the consumer's subscription failed"
                ) from None
            if is_tag_type(data.expression_type):
                return data, None
            return data, filters.build(h.topic, h.consumer_group, h.subscription, h.expression_type, h.sub_version)
        info = self.consumers.get(h.consumer_group)
        if info is None:
            raise RocketMQError(ResponseCode.SUBSCRIPTION_NOT_EXIST, f"the consumer's group info not exist{FAQ_TIP}")
        if not group.consume_broadcast_enable and info.message_model is MessageModel.BROADCASTING:
            raise RocketMQError(
                ResponseCode.NO_PERMISSION,
                f"the consumer group[{h.consumer_group}] can not consume by broadcast way",
            )
        found = info.subscriptions.get(h.topic)
        if found is None:
            raise RocketMQError(ResponseCode.SUBSCRIPTION_NOT_EXIST, f"the consumer's subscription not exist{FAQ_TIP}")
        if found.sub_version < h.sub_version:
            raise RocketMQError(ResponseCode.SUBSCRIPTION_NOT_LATEST, "the consumer's subscription not latest")
        if is_tag_type(found.expression_type):
            return found, None
        filter_data = filters.get(h.topic, h.consumer_group)
        if filter_data is None:
            raise RocketMQError(
                ResponseCode.FILTER_DATA_NOT_EXIST,
                "The broker's consumer filter data is not exist!Your expression may be wrong!",
            )
        if filter_data.client_version < h.sub_version:
            log.warning(
                "The broker's consumer filter data is not latest, group: %s, topic: %s, serverV: %d, clientV: %d",
                *(h.consumer_group, h.topic, filter_data.client_version, h.sub_version),
            )
            raise RocketMQError(ResponseCode.FILTER_DATA_NOT_LATEST, "the consumer's consumer filter data not latest")
        return found, filter_data

    def _filter(
        self, h: PullMessageRequestHeader, data: SubscriptionData, filter_data: ConsumerFilterData | None
    ) -> tuple[TagsMatcher | None, Callable[[memoryview], bool] | None]:
        """The MessageFilter: tags codes on the consume queue, properties on the commit log."""
        if not is_tag_type(data.expression_type) and not self.settings.broker.enable_property_filter:
            raise RocketMQError(
                ResponseCode.SYSTEM_ERROR,
                f"The broker does not support consumer to filter message by {data.expression_type}",
            )
        support_retry = self.settings.broker.filter_support_retry
        records = record_filter(
            data, filter_data, self.consumers.filters, h.consumer_group, support_retry=support_retry
        )
        return tags_matcher(data), records

    # -- one pass ------------------------------------------------------------------------------------------------

    def process(self, ctx: RequestContext, h: PullMessageRequestHeader, *, allow_suspend: bool) -> PullPlan:
        """processRequest(channel, request, brokerAllowSuspend): a reply, or the plan to hold the request."""
        try:
            group = self._check_group_and_topic(ctx, h)
            matcher, records = self._filter(h, *self._subscription(h, group))
        except RocketMQError as exc:
            return PullPlan(RemotingCommand.response(exc.code, exc.remark))
        began = time.monotonic()
        result = self.store.get_message(h.topic, h.queue_id, h.queue_offset, h.max_msg_nums, matcher, records)
        elapsed = int((time.monotonic() - began) * 1000)
        self.stats.note_get(h.consumer_group, h.topic, result.message_count, elapsed, result.buffer_total_size,
                            self.settings.broker.transfer_msg_by_heap)  # fmt: skip
        code = status_code(result.status, h.queue_offset)
        role = self.settings.store.broker_role
        suggest = self._suggest_broker(result, group)
        if role is BrokerRole.SLAVE and not self.settings.broker.slave_read_enable:
            code, suggest = ResponseCode.PULL_RETRY_IMMEDIATELY, MASTER_ID
        header = PullMessageResponseHeader(suggest, result.next_begin_offset, result.min_offset, result.max_offset)
        plan = PullPlan(RemotingCommand.response(code, result.status.name, header.to_ext()))
        if code == ResponseCode.SUCCESS:
            assert plan.reply is not None
            plan.reply.body = b"".join(result.buffers)
        elif code == ResponseCode.PULL_NOT_FOUND and allow_suspend and h.sys_flag & FLAG_SUSPEND:
            millis = h.suspend_timeout_millis
            if not self.settings.broker.long_polling_enable:
                millis = self.settings.broker.short_polling_time_mills
            plan = PullPlan(None, matcher or match_all, millis / 1000)
        elif code == ResponseCode.PULL_OFFSET_MOVED:
            self._offset_moved(h, result, group, plan)
        if allow_suspend and h.sys_flag & FLAG_COMMIT_OFFSET and role is not BrokerRole.SLAVE:
            self.offsets.commit(ctx.connection.remote_addr, h.consumer_group, h.topic, h.queue_id, h.commit_offset)
        return plan

    def _suggest_broker(self, result: GetMessageResult | JoinedRead, group: SubscriptionGroupConfig) -> int:
        if not self.settings.broker.slave_read_enable:
            return MASTER_ID
        if result.suggest_pulling_from_slave:
            return group.which_broker_when_consume_slowly
        return group.broker_id

    def _offset_moved(
        self, h: PullMessageRequestHeader, result: GetMessageResult, group: SubscriptionGroupConfig, plan: PullPlan
    ) -> None:
        """On a master: record an OffsetMovedEvent. On a slave (offsetCheckInSlave=false): retry at once."""
        assert plan.reply is not None
        if self.settings.store.broker_role is BrokerRole.SLAVE:
            plan.reply.code = ResponseCode.PULL_RETRY_IMMEDIATELY
            ext = plan.reply.ext()
            ext["suggestWhichBrokerId"] = str(group.broker_id)
            return
        log.warning("PULL_OFFSET_MOVED:correction offset. topic=%s, groupId=%s, requestOffset=%d, newOffset=%d",
                    h.topic, h.consumer_group, h.queue_offset, result.next_begin_offset)  # fmt: skip
        self.write_offset_moved_event(h.consumer_group, h.topic, h.queue_id, h.queue_offset, result.next_begin_offset)

    def write_offset_moved_event(self, group: str, topic: str, queue_id: int, requested: int, new: int) -> None:
        """PullMessageProcessor.generateOffsetMovedEvent: a message to OFFSET_MOVED_EVENT, tags and keys = group."""
        mq = {"brokerName": self.settings.broker.broker_name, "queueId": queue_id, "topic": topic}
        body = fastjson.dumps(
            {"consumerGroup": group, "messageQueue": mq, "offsetNew": new, "offsetRequest": requested}
        )
        props = {"TAGS": group, "DELAY": "0", "KEYS": group}  # setTags, setDelayTimeLevel(0), setKeys
        msg = MessageInner(
            topic=RMQ_SYS_OFFSET_MOVED_EVENT,
            queue_id=0,
            body=body,
            properties=properties_string(props),
            born_timestamp=self.clock_ms(),
            born_host=self.broker_host,
            store_host=self.broker_host,
        )
        try:
            result = self.store.put_message(msg)
            if not result.ok:
                log.warning("generateOffsetMovedEvent: %s", result.status.name)
        except Exception:  # Java logs and goes on: the pull reply does not depend on it
            log.exception("generateOffsetMovedEvent failed")
