"""CONSUMER_SEND_MSG_BACK (36): SendMessageProcessor.asyncConsumerSendMsgBack, a push consumer's failed message.

Wiring: `ConsumerSendMsgBackProcessor(send)`, where `send` is the SendMessageProcessor (it shares its store,
managers, stats and append path).

The broker loads the message by commit-log offset and writes a copy to `%RETRY%<group>` with reconsumeTimes + 1,
RETRY_TOPIC (the original topic, once), ORIGIN_MESSAGE_ID (the first offsetMsgId), WAIT=false and DELAY = the
requested level, or 3 + reconsumeTimes for level 0; past maxReconsumeTimes, or for a negative level, it goes to
`%DLQ%<group>` instead with DELAY=0. Born/store hosts, born time, flag and sysflag are the original's. The DELAY is
honoured only when the send processor moves delayed messages to SCHEDULE_TOPIC_XXXX (`schedule_delayed`);
without a schedule service the retry is immediate.
"""

from __future__ import annotations

from rocketpy.broker.processors.send import FLAG_UNIT_SUB, SendMessageProcessor
from rocketpy.broker.processors.send_support import PROPERTY_DELAY, PROPERTY_WAIT, properties_string
from rocketpy.broker.topic_validator import DLQ_GROUP_TOPIC_PREFIX, RETRY_GROUP_TOPIC_PREFIX
from rocketpy.protocol.bodies.subscription_group import SubscriptionGroupConfig
from rocketpy.protocol.bodies.topic_config import PERM_READ, PERM_WRITE
from rocketpy.protocol.codes import RequestCode, ResponseCode, Version
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.message_headers import ConsumerSendMsgBackRequestHeader, int32
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler, RequestContext, inline
from rocketpy.store.commitlog import MessageInner
from rocketpy.store.config import PutMessageStatus
from rocketpy.store.format import StoredMessage

PROPERTY_RETRY_TOPIC = "RETRY_TOPIC"
PROPERTY_ORIGIN_MESSAGE_ID = "ORIGIN_MESSAGE_ID"
FAQ_TIP = "\nSee http://rocketmq.apache.org/docs/faq/ for further details."


class ConsumerSendMsgBackProcessor:
    def __init__(self, send: SendMessageProcessor) -> None:
        self.send = send

    def handlers(self) -> dict[int, Handler]:
        return {RequestCode.CONSUMER_SEND_MSG_BACK: self.consumer_send_msg_back}

    def _group(self, h: ConsumerSendMsgBackRequestHeader) -> SubscriptionGroupConfig:
        s = self.send
        group = s.groups.find(h.group)
        if group is None:
            raise RocketMQError(
                ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, f"subscription group not exist, {h.group} {FAQ_TIP}"
            )
        b = s.settings.broker
        if not b.broker_permission & PERM_WRITE:
            raise RocketMQError(ResponseCode.NO_PERMISSION, f"the broker[{b.broker_ip1}] sending message is forbidden")
        return group

    def _target(
        self, h: ConsumerSendMsgBackRequestHeader, group: SubscriptionGroupConfig, msg: StoredMessage, version: int
    ) -> tuple[str, int, int]:
        """(topic, queue id, delay level): the retry topic, or the DLQ past maxReconsumeTimes."""
        s = self.send
        max_times = group.retry_max_times
        if version >= Version.V3_4_9 and h.max_reconsume_times is not None:
            max_times = h.max_reconsume_times
        if msg.reconsume_times >= max_times or h.delay_level < 0:
            dlq = DLQ_GROUP_TOPIC_PREFIX + h.group
            s.topics.create_in_send_message_back(dlq, 1, PERM_WRITE | PERM_READ, 0)
            return dlq, 0, 0
        level = h.delay_level or 3 + msg.reconsume_times
        return RETRY_GROUP_TOPIC_PREFIX + h.group, s.rng.randrange(99999999) % group.retry_queue_nums, level

    @inline  # the copy is written with WAIT=false: nothing here waits for the disk
    async def consumer_send_msg_back(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = ConsumerSendMsgBackRequestHeader.from_ext(cmd.ext_fields)
        int32("delayLevel", h.delay_level)
        s = self.send
        group = self._group(h)
        if group.retry_queue_nums <= 0:
            return RemotingCommand.response(ResponseCode.SUCCESS)
        retry = RETRY_GROUP_TOPIC_PREFIX + h.group
        config = s.topics.create_in_send_message_back(
            retry, group.retry_queue_nums, PERM_WRITE | PERM_READ, FLAG_UNIT_SUB if h.unit_mode else 0
        )
        if not config.perm & PERM_WRITE:
            raise RocketMQError(ResponseCode.NO_PERMISSION, f"the topic[{retry}] sending message is forbidden")
        msg = s.store.look_message_by_offset(h.offset) if h.offset >= 0 else None
        if msg is None:
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, f"look message by offset failed, {h.offset}")
        topic, queue_id, level = self._target(h, group, msg, cmd.version)
        props = self._property_map(msg, level)
        inner = MessageInner(
            topic=topic,
            queue_id=queue_id,
            body=msg.body,
            properties=properties_string(props),
            flag=msg.flag,
            sys_flag=msg.sys_flag,
            born_timestamp=msg.born_timestamp,
            born_host=msg.born_host,
            store_host=msg.store_host,
            reconsume_times=msg.reconsume_times + 1,
        )
        if s.schedule_delayed:
            s.to_schedule_topic(inner, props, list(props))
        outcome = await s.put([inner], wait=False, count_topic=False)
        if outcome.status is not PutMessageStatus.PUT_OK:
            return RemotingCommand.response(ResponseCode.SYSTEM_ERROR, outcome.status.name)
        s.stats.manager.on_send_back_put(h.group, props.get(PROPERTY_RETRY_TOPIC) or msg.topic, inner.topic,
                                         outcome.results[0].wrote_bytes)  # fmt: skip
        return RemotingCommand.response(ResponseCode.SUCCESS)

    @staticmethod
    def _property_map(msg: StoredMessage, level: int) -> dict[str, str]:
        """The decoded message's HashMap after RETRY_TOPIC, WAIT=false, DELAY and ORIGIN_MESSAGE_ID are put."""
        props = dict(msg.property_map)
        props.setdefault(PROPERTY_RETRY_TOPIC, msg.topic)
        props[PROPERTY_WAIT] = "false"
        props[PROPERTY_DELAY] = str(level)
        if not (props.get(PROPERTY_ORIGIN_MESSAGE_ID) or "").strip():
            props[PROPERTY_ORIGIN_MESSAGE_ID] = msg.msg_id
        return props
