"""SEND_REPLY_MESSAGE (324) / SEND_REPLY_MESSAGE_V2 (325): broker.processor.ReplyMessageProcessor (4.9.8).

Request-reply: a consumer answers a request with MessageUtil.createReplyMessage (topic `<cluster>_REPLY_TOPIC`,
MSG_TYPE=reply, CORRELATION_ID, REPLY_TO_CLIENT, TTL) and sends it; its producer uses these codes. The broker
pushes the reply at once, with PUSH_REPLY_MESSAGE_TO_CLIENT (326, sync, 10 s), on the channel of the producer
whose client id is REPLY_TO_CLIENT (ProducerManager.findChannel), adding PUSH_REPLY_TIME to the pushed properties.
Then, with storeReplyMessageEnable (default true), it also stores the reply, whatever the push did.

What the replier observes, as in Java: the same preSend / msgCheck refusals as a send; SUCCESS when the push
succeeded (msgId "0", queueOffset 0, replaced by the stored record's when it is stored); SYSTEM_ERROR with Java's
remark when REPLY_TO_CLIENT is missing, no producer channel has that client id (the requester is gone) or the push
failed, which the Java producer retries like any SYSTEM_ERROR. As Java does, the stored record keeps the properties
string the replier sent (no CLUSTER added, WAIT kept) and sysFlag 0; a failed store is only logged.
"""

from __future__ import annotations

import logging
from typing import Protocol, cast

import trio

from rocketpy.broker.client_manager import ProducerManager
from rocketpy.broker.processors.send import SendMessageProcessor
from rocketpy.broker.processors.send_support import (
    PROPERTY_WAIT,
    java_bool,
    parse_host,
    parse_properties,
    properties_string,
)
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.message_headers import (
    SendMessageRequestHeader,
    SendMessageRequestHeaderV2,
    SendMessageResponseHeader,
)
from rocketpy.protocol.reply_headers import ReplyMessageRequestHeader
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import ConnectionClosedError, Handler, RemotingTimeoutError, RequestContext
from rocketpy.store.commitlog import MessageInner
from rocketpy.store.config import PutMessageStatus

log = logging.getLogger("RocketmqBroker")

PROPERTY_REPLY_TO_CLIENT = "REPLY_TO_CLIENT"
PROPERTY_PUSH_REPLY_TIME = "PUSH_REPLY_TIME"
PUSH_TIMEOUT = 10.0  # Broker2Client.callClient
_STORED = (
    PutMessageStatus.PUT_OK,
    PutMessageStatus.FLUSH_DISK_TIMEOUT,
    PutMessageStatus.FLUSH_SLAVE_TIMEOUT,
    PutMessageStatus.SLAVE_NOT_AVAILABLE,
)


class ClientChannel(Protocol):
    """What the push needs of a producer's channel (the remoting Connection)."""

    async def invoke(self, cmd: RemotingCommand, timeout: float) -> RemotingCommand: ...


class ReplyMessageProcessor:
    """Over the SendMessageProcessor, whose checks (preSend, msgCheck), reply shape and put it shares, as Java's
    ReplyMessageProcessor extends AbstractSendMessageProcessor."""

    def __init__(self, send: SendMessageProcessor, producers: ProducerManager) -> None:
        self.send = send
        self.producers = producers

    def handlers(self) -> dict[int, Handler]:
        # Never inline: the push waits for the requester's answer.
        return {RequestCode.SEND_REPLY_MESSAGE: self.send_reply, RequestCode.SEND_REPLY_MESSAGE_V2: self.send_reply}

    @staticmethod
    def parse_header(cmd: RemotingCommand) -> SendMessageRequestHeader:
        """ReplyMessageProcessor.parseRequestHeader: V2 for 325, the long names for 324."""
        if cmd.code == RequestCode.SEND_REPLY_MESSAGE_V2:
            header = SendMessageRequestHeaderV2.from_ext(cmd.ext_fields).to_v1()
        else:
            header = SendMessageRequestHeader.from_ext(cmd.ext_fields)
        header.check_ranges()
        return header

    async def send_reply(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        header = self.parse_header(cmd)
        try:
            return await self._process(ctx, cmd, header)
        except RocketMQError as exc:
            return self.send._reply(exc.code, exc.remark)

    async def _process(self, ctx: RequestContext, cmd: RemotingCommand, h: SendMessageRequestHeader) -> RemotingCommand:
        send = self.send
        config = send._pre_send(ctx, h)
        queue_id = h.queue_id if h.queue_id >= 0 else send._random_queue(config.write_queue_nums)
        props = parse_properties(h.properties)
        msg = MessageInner(
            topic=h.topic,
            queue_id=queue_id,
            body=bytes(cmd.body or b""),
            properties=h.properties or "",
            flag=h.flag,
            born_timestamp=h.born_timestamp,
            born_host=parse_host(ctx.connection.remote_addr),
            store_host=send.store_host,
            reconsume_times=h.reconsume_times or 0,
        )
        pushed, failure = await self._push(h, msg, props)
        remark: str | None = failure
        if pushed:
            code, remark = ResponseCode.SUCCESS, None
            response = SendMessageResponseHeader("0", queue_id, 0)
        else:
            code, response = ResponseCode.SYSTEM_ERROR, None
        if send.settings.broker.store_reply_message_enable:
            wait = java_bool(props[PROPERTY_WAIT]) if PROPERTY_WAIT in props else True
            outcome = await send.put([msg], wait)
            if outcome.status in _STORED:
                stored = outcome.results[0]
                response = SendMessageResponseHeader(stored.msg_id, queue_id, stored.queue_offset)
            else:
                log.warning("process reply message, store putMessage failed: %s", outcome.status.name)
        return send._reply(code, remark, response)

    async def _push(self, h: SendMessageRequestHeader, msg: MessageInner, props: dict[str, str]) -> tuple[bool, str]:
        """pushReplyMessage: (pushed, remark for the replier when not)."""
        sender = props.get(PROPERTY_REPLY_TO_CLIENT)
        if sender is None:
            log.warning("REPLY_TO_CLIENT is null, can not reply message")
            return False, f"reply message properties[{PROPERTY_REPLY_TO_CLIENT}] is null"
        channel = self.producers.find_channel(sender)
        if channel is None:
            remark = f"push reply message fail, channel of <{sender}> not found."
            log.warning(remark)
            return False, remark
        now = self.send.clock_ms()
        pushed = dict(props)
        pushed[PROPERTY_PUSH_REPLY_TIME] = str(now)
        header = ReplyMessageRequestHeader(
            producer_group=h.producer_group,
            topic=h.topic,
            default_topic=h.default_topic,
            default_topic_queue_nums=h.default_topic_queue_nums,
            queue_id=h.queue_id,
            sys_flag=h.sys_flag,
            born_timestamp=h.born_timestamp,
            flag=h.flag,
            born_host=str(msg.born_host),
            store_host=str(msg.store_host),
            store_timestamp=now,
            properties=properties_string(pushed),
            reconsume_times=h.reconsume_times,
            unit_mode=h.unit_mode,
        )
        request = RemotingCommand.request(RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT, header.to_ext(), msg.body)
        failed = f"push reply message to {sender}fail."  # sic: Java's remark has no space
        try:
            answer = await cast(ClientChannel, channel).invoke(request, PUSH_TIMEOUT)
        except (RemotingTimeoutError, ConnectionClosedError, trio.BrokenResourceError, trio.ClosedResourceError):
            log.warning("push reply message to <%s> fail.", sender)
            return False, failed
        if answer.code != ResponseCode.SUCCESS:
            log.warning("push reply message to <%s> return fail, response remark: %s", sender, answer.remark)
            return False, failed
        return True, ""
