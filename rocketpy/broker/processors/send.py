"""SEND_MESSAGE (10), SEND_MESSAGE_V2 (310), SEND_BATCH_MESSAGE (320): broker.processor.SendMessageProcessor.

Wiring (the lead's `rocketpy broker`)::

    send = SendMessageProcessor(
        settings,                 # BrokerSettings: regionId, traceOn, cluster name, brokerIP1:listenPort, role
        store,                    # rocketpy.store.MessageStore, opened
        controller.topics,        # TopicConfigManager: select / create_in_send_message[_back] / is_order_topic
        controller.groups,        # SubscriptionGroupManager: find (retry topics -> retryMaxTimes)
        stats,                    # BrokerStats shared with the pull and admin-stats processors
        clock_ms=controller.clock_ms,
        schedule_delayed=False,   # True once a ScheduleMessageService delivers SCHEDULE_TOPIC_XXXX
    )
    table.update(send.handlers())

What a Java client observes, as 4.9.8 does it: every reply made after the header parsed carries extFields
MSG_REGION and TRACE_ON (the client NPEs without extFields); msgCheck's codes (SYSTEM_ERROR for a bad topic or
queueId, NO_PERMISSION for a forbidden system topic, TOPIC_NOT_EXIST with Java's remark, NO_PERMISSION on an
unwritable broker only for order topics, as in Java); bornHost is the socket peer and storeHost brokerIP1:listenPort;
CLUSTER is added and WAIT left out of the stored properties string; a %RETRY% send past maxReconsumeTimes goes to
%DLQ%group; a MULTI_TAG topic sets the MULTI_TAGS sysflag; a transactional (TRAN_MSG) send is stored as a half
message (broker.transaction), or refused with NO_PERMISSION under rejectTransactionMessage=true or when no
transaction check service runs (`transactions=False`).

The header's `batch` flag, not the request code, selects the batch path, as in Java. Under SYNC_FLUSH the reply
waits for the flush in a worker thread (the handler is then not inline); under ASYNC_FLUSH the append never waits
on the disk, so the handler is inline and its reply joins the batch written for that read. A SYNC_MASTER's send
is inline too: it appends, then leaves its reply to the slave's acknowledgement (`replica_submit`, the HA
master's group transfer), without a task or an event of its own.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import trio

from rocketpy.broker.config import BrokerRole, BrokerSettings
from rocketpy.broker.processors import send_fast
from rocketpy.broker.processors.send_fast import FastSend
from rocketpy.broker.processors.send_support import (
    PROPERTIES_MAX,
    PROPERTY_CLUSTER,
    PROPERTY_DELAY,
    PROPERTY_MSG_REGION,
    PROPERTY_REAL_QUEUE_ID,
    PROPERTY_REAL_TOPIC,
    PROPERTY_TRACE_SWITCH,
    PROPERTY_TRAN_MSG,
    PROPERTY_WAIT,
    BatchError,
    batch_properties,
    decode_batch,
    disk_ratio_text,
    java_bool,
    java_int,
    parse_host,
    parse_properties,
    perm_string,
    properties_string,
    put_status_reply,
    resolve_host,
)
from rocketpy.broker.stats import BrokerStats, disk_used_ratio
from rocketpy.broker.subscription_group import SubscriptionGroupManager
from rocketpy.broker.topic_config import TopicConfigManager
from rocketpy.broker.topic_validator import (
    DLQ_GROUP_TOPIC_PREFIX,
    RETRY_GROUP_TOPIC_PREFIX,
    RMQ_SYS_SCHEDULE_TOPIC,
    refuse_not_allowed_send,
    validate_topic,
)
from rocketpy.broker.transaction.messages import prepare_half
from rocketpy.common.clock import wall_clock_ms
from rocketpy.protocol.bodies.topic_config import PERM_READ, PERM_WRITE, TopicConfig, TopicFilterType
from rocketpy.protocol.codes import RequestCode, ResponseCode, Version
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.message_headers import (
    SendMessageRequestHeader,
    SendMessageResponseHeader,
    send_header_v2,
)
from rocketpy.remoting.command import RESPONSE_FLAG, RemotingCommand
from rocketpy.remoting.connection import BatchHandler, FastHandler, Handler, RequestContext, inline
from rocketpy.store.commitlog import MessageInner
from rocketpy.store.config import FlushDiskType, PutMessageResult, PutMessageStatus
from rocketpy.store.format import (
    MULTI_TAGS_FLAG,
    TRANSACTION_COMMIT_TYPE,
    TRANSACTION_MASK,
    TRANSACTION_NOT_TYPE,
    create_message_id,
    record_length,
)
from rocketpy.store.message_store import MessageStore

log = logging.getLogger("RocketmqBroker")

APPLY_TOPIC_TIP = "\nSee http://rocketmq.apache.org/docs/faq/ for further details."  # FAQUrl.suggestTodo
FLAG_UNIT, FLAG_UNIT_SUB = 0x1, 0x2  # TopicSysFlag


def human_time2(ms: int) -> str:
    """UtilAll.timeMillisToHumanString2: local "yyyy-MM-dd HH:mm:ss,SSS"."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ms / 1000)) + f",{ms % 1000:03d}"


def topic_config_text(tc: TopicConfig) -> str:
    """TopicConfig.toString, quoted in the queueId refusal."""
    return (
        f"TopicConfig [topicName={tc.topic_name}, readQueueNums={tc.read_queue_nums}, "
        f"writeQueueNums={tc.write_queue_nums}, perm={perm_string(tc.perm)}, "
        f"topicFilterType={tc.topic_filter_type.name}, topicSysFlag={tc.topic_sys_flag}, "
        f"order={'true' if tc.order else 'false'}]"
    )


@dataclass(slots=True)
class PutOutcome:
    status: PutMessageStatus
    results: list[PutMessageResult]


@dataclass(slots=True)
class _ReplicaWait:
    """A SYNC_MASTER put whose answer waits for a slave: what `put` leaves for `send_message_replicated`."""

    next_offset: int
    results: list[PutMessageResult]
    began: float
    topic: str | None  # counted per topic (None: not)


class SendMessageProcessor:
    def __init__(
        self,
        settings: BrokerSettings,
        store: MessageStore,
        topics: TopicConfigManager,
        groups: SubscriptionGroupManager,
        stats: BrokerStats,
        *,
        clock_ms: Callable[[], int] = wall_clock_ms,
        schedule_delayed: bool = False,
        rng: random.Random | None = None,
        transactions: bool = False,
    ) -> None:
        self.settings = settings
        self.store = store
        self.topics = topics
        self.groups = groups
        self.stats = stats
        self.clock_ms = clock_ms
        self.schedule_delayed = schedule_delayed
        self.transactions = transactions  # True once a transaction check service runs (data_plane wires it)
        self.rng = rng or random.Random()
        self.store_host = resolve_host(settings.broker.broker_ip1, settings.netty.listen_port)
        self.sync_flush = store.config.flush_disk_type is FlushDiskType.SYNC_FLUSH
        self._msg_id_prefix = create_message_id(self.store_host.ip, self.store_host.port, 0)[:-16]
        self._fast: FastSend | None = None
        self._sendable_topics: set[str] = set()  # names that passed validate_topic and refuse_not_allowed_send
        # SYNC_MASTER: CommitLog.submitReplicaRequest, awaited with the end offset of a put (ha/master.py).
        self.replica: Callable[[int], Awaitable[PutMessageStatus]] | None = None
        # The same without waiting: the status if known at once, else None and the callback gets it later.
        self.replica_submit: Callable[[int, Callable[[PutMessageStatus], None]], PutMessageStatus | None] | None = None
        self._replica_waits: list[_ReplicaWait] | None = None  # set while send_message_replicated runs

    def handlers(self) -> dict[int, Handler]:
        handler: Handler = self.send_message_inline
        if self.sync_flush or (self.replica is not None and self.replica_submit is None):
            handler = self.send_message
        elif self.replica is not None:
            handler = self.send_message_replicated
        codes = (RequestCode.SEND_MESSAGE, RequestCode.SEND_MESSAGE_V2, RequestCode.SEND_BATCH_MESSAGE)
        return {code: handler for code in codes}

    def fast_handlers(self) -> dict[int, FastHandler]:
        """SEND_MESSAGE_V2's fast path (send_fast), where the general handler is inline too: ASYNC_FLUSH and no
        slave to wait for."""
        if self.sync_flush or self.replica is not None:
            return {}
        return {RequestCode.SEND_MESSAGE_V2: self._fast_send()}

    def batch_handler(self) -> BatchHandler | None:
        """The fast path over whole reads, in C (send_fast.FastSend.batch), where the fast path is used and the
        extension was built."""
        if self.sync_flush or self.replica is not None or not send_fast.NATIVE:
            return None
        return self._fast_send().batch

    def _fast_send(self) -> FastSend:
        if self._fast is None:
            self._fast = FastSend(self)
        return self._fast

    async def send_message(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        """SYNC_FLUSH: may wait for the disk, so it runs in a task of its own."""
        return await self._send(ctx, cmd)

    @inline
    async def send_message_inline(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        """ASYNC_FLUSH: never waits, so it runs in the connection's read loop."""
        return await self._send(ctx, cmd)

    @inline
    async def send_message_replicated(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand | None:
        """SYNC_MASTER under ASYNC_FLUSH: appends in the read loop (nothing here yields, so no other put sees
        `_replica_waits`); a put a slave has not acknowledged yet is answered from the acknowledgement."""
        waits: list[_ReplicaWait] = []
        self._replica_waits = waits
        try:
            reply = await self._send(ctx, cmd)
        finally:
            self._replica_waits = None
        if not waits:
            return reply
        assert self.replica_submit is not None
        wait = waits[0]

        def done(status: PutMessageStatus) -> None:
            ctx.respond_nowait(self._replicated(wait, reply, status))

        status = self.replica_submit(wait.next_offset, done)
        return None if status is None else self._replicated(wait, reply, status)

    def _replicated(self, wait: _ReplicaWait, reply: RemotingCommand, status: PutMessageStatus) -> RemotingCommand:
        """The answer once the slave's status is known: the PUT_OK reply, or the same put answered with it."""
        self._note_put(wait.results, wait.began, wait.topic)
        if status is PutMessageStatus.PUT_OK:
            return reply
        return self._put_reply(PutOutcome(status, wait.results), int((reply.ext_fields or {})["queueId"]))

    # -- request -------------------------------------------------------------------------------------------------

    @staticmethod
    def parse_header(cmd: RemotingCommand) -> SendMessageRequestHeader:
        """AbstractSendMessageProcessor.parseRequestHeader: V2 for 310/320, the long names for 10."""
        if cmd.code != RequestCode.SEND_MESSAGE:
            return send_header_v2(cmd.ext_fields)
        header = SendMessageRequestHeader.from_ext(cmd.ext_fields)
        header.check_ranges()
        return header

    async def _send(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        header = self.parse_header(cmd)  # a bad header is a plain SYSTEM_ERROR, as Java's decode throws
        self.stats.in_flight["send"] += 1
        try:
            if header.batch:
                return await self._send_batch(ctx, cmd, header)
            return await self._send_one(ctx, cmd, header)
        except RocketMQError as exc:
            return self._reply(exc.code, exc.remark)
        finally:
            self.stats.in_flight["send"] -= 1

    def _reply(
        self, code: int, remark: str | None = None, header: SendMessageResponseHeader | None = None
    ) -> RemotingCommand:
        b = self.settings.broker
        ext = {PROPERTY_MSG_REGION: b.region_id, PROPERTY_TRACE_SWITCH: "true" if b.trace_on else "false"}
        if header is not None:
            header.to_ext(ext)
        return RemotingCommand.response(code, remark, ext)

    # -- checks (preSend / msgCheck) -----------------------------------------------------------------------------

    def _pre_send(self, ctx: RequestContext, h: SendMessageRequestHeader) -> TopicConfig:
        start = self.settings.broker.start_accept_send_request_time_stamp
        if self.clock_ms() < start:
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, f"broker unable to service, until {human_time2(start)}")
        return self._msg_check(ctx, h)

    def _msg_check(self, ctx: RequestContext, h: SendMessageRequestHeader) -> TopicConfig:
        b = self.settings.broker
        if not b.broker_permission & PERM_WRITE and self.topics.is_order_topic(h.topic):
            raise RocketMQError(ResponseCode.NO_PERMISSION, f"the broker[{b.broker_ip1}] sending message is forbidden")
        if h.topic not in self._sendable_topics:
            validate_topic(h.topic)
            refuse_not_allowed_send(h.topic)
            if len(self._sendable_topics) >= 65536:
                self._sendable_topics.clear()
            self._sendable_topics.add(h.topic)  # both checks depend on the name alone
            if self._fast is not None:  # the C path learns it now (it sees SEND_MESSAGE too, unlike FastSend)
                self._fast._learn_topic(h.topic)
        config = self.topics.select(h.topic) or self._create_topic(ctx, h)
        valid = max(config.write_queue_nums, config.read_queue_nums)
        if h.queue_id >= valid:
            text = f"request queueId[{h.queue_id}] is illegal, {topic_config_text(config)} Producer: "
            log.warning(text + ctx.connection.remote_addr)
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, text + ctx.connection.remote_addr)
        return config

    def _create_topic(self, ctx: RequestContext, h: SendMessageRequestHeader) -> TopicConfig:
        is_retry = h.topic.startswith(RETRY_GROUP_TOPIC_PREFIX)
        sys_flag = 0
        if h.unit_mode:
            sys_flag = FLAG_UNIT_SUB if is_retry else FLAG_UNIT
        remote = ctx.connection.remote_addr
        log.warning("the topic %s not exist, producer: %s", h.topic, remote)
        config = self.topics.create_in_send_message(
            h.topic, h.default_topic, remote, h.default_topic_queue_nums, sys_flag
        )
        if config is None and is_retry:
            config = self.topics.create_in_send_message_back(h.topic, 1, PERM_WRITE | PERM_READ, sys_flag)
        if config is None:
            raise RocketMQError(
                ResponseCode.TOPIC_NOT_EXIST, f"topic[{h.topic}] not exist, apply first please!{APPLY_TOPIC_TIP}"
            )
        return config

    def _random_queue(self, write_queue_nums: int) -> int:
        if write_queue_nums <= 0:  # Java: ArithmeticException "/ by zero", reported as SYSTEM_ERROR
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, "java.lang.ArithmeticException: / by zero")
        return self.rng.randrange(99999999) % write_queue_nums

    def _retry_or_dlq(
        self, h: SendMessageRequestHeader, cmd: RemotingCommand, config: TopicConfig, queue_id: int
    ) -> tuple[str, int, TopicConfig]:
        """handleRetryAndDLQ: a %RETRY% message past maxReconsumeTimes goes to %DLQ%<group>, queue 0.

        Java's setDelayTimeLevel(0) for the DLQ lands in a properties map that is replaced right after, so a
        DELAY sent by the client survives; rocketpy keeps that behaviour.
        """
        if not h.topic.startswith(RETRY_GROUP_TOPIC_PREFIX):
            return h.topic, queue_id, config
        group = h.topic[len(RETRY_GROUP_TOPIC_PREFIX) :]
        group_config = self.groups.find(group)
        if group_config is None:
            raise RocketMQError(
                ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, f"subscription group not exist, {group} {APPLY_TOPIC_TIP}"
            )
        max_times = group_config.retry_max_times
        if cmd.version >= Version.V3_4_9 and h.max_reconsume_times is not None:
            max_times = h.max_reconsume_times
        if (h.reconsume_times or 0) < max_times:
            return h.topic, queue_id, config
        dlq = DLQ_GROUP_TOPIC_PREFIX + group
        dlq_config = self.topics.create_in_send_message_back(dlq, 1, PERM_WRITE | PERM_READ, 0)
        return dlq, 0, dlq_config

    # -- single message ------------------------------------------------------------------------------------------

    async def _send_one(
        self, ctx: RequestContext, cmd: RemotingCommand, h: SendMessageRequestHeader
    ) -> RemotingCommand:
        config = self._pre_send(ctx, h)
        queue_id = h.queue_id if h.queue_id >= 0 else self._random_queue(config.write_queue_nums)
        topic, target_queue, target_config = self._retry_or_dlq(h, cmd, config, queue_id)
        sys_flag = h.sys_flag
        if target_config.topic_filter_type is TopicFilterType.MULTI_TAG:
            sys_flag |= MULTI_TAGS_FLAG
        props = parse_properties(h.properties)
        insertion = list(props)
        props[PROPERTY_CLUSTER] = self.settings.broker.broker_cluster_name
        if PROPERTY_CLUSTER not in insertion:
            insertion.append(PROPERTY_CLUSTER)
        wait = java_bool(props[PROPERTY_WAIT]) if PROPERTY_WAIT in props else True
        stored = properties_string(props, insertion, skip=PROPERTY_WAIT)  # 4.9.7+: WAIT is not stored
        tran_msg = java_bool(props.get(PROPERTY_TRAN_MSG))
        if tran_msg and (self.settings.broker.reject_transaction_message or not self.transactions):
            raise RocketMQError(
                ResponseCode.NO_PERMISSION,
                f"the broker[{self.settings.broker.broker_ip1}] sending transaction message is forbidden",
            )
        msg = MessageInner(
            topic=topic,
            queue_id=target_queue,
            body=bytes(cmd.body or b""),
            properties=stored,
            flag=h.flag,
            sys_flag=sys_flag,
            born_timestamp=h.born_timestamp,
            born_host=parse_host(ctx.connection.remote_addr),
            store_host=self.store_host,
            reconsume_times=h.reconsume_times or 0,
        )
        if tran_msg:  # TransactionalMessageBridge.parseHalfMessageInner
            insertion = prepare_half(msg, props, insertion)
        if self.schedule_delayed and PROPERTY_DELAY in props:  # the map held WAIT again by then: Java re-puts it
            order = [k for k in insertion if k != PROPERTY_WAIT] + ([PROPERTY_WAIT] if PROPERTY_WAIT in props else [])
            self.to_schedule_topic(msg, props, order)
        outcome = await self.put([msg], wait)
        return self._put_reply(outcome, queue_id)

    def to_schedule_topic(self, msg: MessageInner, props: dict[str, str], insertion: list[str]) -> None:
        """CommitLog.asyncPutMessage's delay branch: DELAY > 0 moves the message to SCHEDULE_TOPIC_XXXX queue
        level-1 with REAL_TOPIC/REAL_QID. The string is re-rendered from the whole map (`insertion` = the order its
        keys went in), so a delayed record sent by a producer keeps WAIT, as Java's do."""
        tran = msg.sys_flag & TRANSACTION_MASK
        level = java_int(props.get(PROPERTY_DELAY))
        if level <= 0 or tran not in (TRANSACTION_NOT_TYPE, TRANSACTION_COMMIT_TYPE):
            return
        max_level = max(self.store.delay_table, default=0)
        if level > max_level:
            level = max_level
            props[PROPERTY_DELAY] = str(level)
        order = list(insertion)
        props[PROPERTY_REAL_TOPIC] = msg.topic
        props[PROPERTY_REAL_QUEUE_ID] = str(msg.queue_id)
        order += [k for k in (PROPERTY_REAL_TOPIC, PROPERTY_REAL_QUEUE_ID) if k not in order]
        msg.properties = properties_string(props, order)
        msg.topic, msg.queue_id = RMQ_SYS_SCHEDULE_TOPIC, level - 1

    # -- batch ---------------------------------------------------------------------------------------------------

    async def _send_batch(
        self, ctx: RequestContext, cmd: RemotingCommand, h: SendMessageRequestHeader
    ) -> RemotingCommand:
        """asyncSendBatchMessage + DefaultMessageStore.asyncPutMessages + MessageExtBatchEncoder."""
        config = self._pre_send(ctx, h)
        queue_id = h.queue_id if h.queue_id >= 0 else self._random_queue(config.write_queue_nums)
        sys_flag = h.sys_flag | (MULTI_TAGS_FLAG if config.topic_filter_type is TopicFilterType.MULTI_TAG else 0)
        props = parse_properties(h.properties)
        props[PROPERTY_CLUSTER] = self.settings.broker.broker_cluster_name
        wait = java_bool(props[PROPERTY_WAIT]) if PROPERTY_WAIT in props else True
        body = bytes(cmd.body or b"")
        self._check_store_writable()
        illegal = len(body) > self.settings.store.max_message_size or sys_flag & TRANSACTION_MASK
        if illegal or java_int(props.get(PROPERTY_DELAY)) > 0:
            return self._failed_reply(PutMessageStatus.MESSAGE_ILLEGAL)
        try:
            entries = decode_batch(body)
        except BatchError as exc:
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, f"bad batch body: {exc}") from None
        batch_props = properties_string(props).encode()
        born = parse_host(ctx.connection.remote_addr)
        msgs = []
        for e in entries:
            try:
                text = batch_properties(e.properties, batch_props).decode()
            except UnicodeDecodeError:
                return self._failed_reply(PutMessageStatus.MESSAGE_ILLEGAL)
            msgs.append(MessageInner(h.topic, queue_id, e.body, text, e.flag, sys_flag, h.born_timestamp, born,
                                     self.store_host, h.reconsume_times or 0))  # fmt: skip
        if not msgs:  # Java appends nothing and answers PUT_OK with an empty msgId at the queue's next offset
            offset = self.store.get_max_offset_in_queue(h.topic, queue_id)
            return self._reply(ResponseCode.SUCCESS, None, SendMessageResponseHeader("", queue_id, offset))
        return self._put_reply(await self.put(msgs, wait), queue_id)

    # -- the store -----------------------------------------------------------------------------------------------

    def _disk_util(self) -> str:
        cfg = self.store.config
        return disk_ratio_text(
            disk_used_ratio(str(cfg.commitlog_dir)),
            disk_used_ratio(str(cfg.consume_queue_dir)),
            disk_used_ratio(str(cfg.index_dir)),
        )

    def _check_store_writable(self) -> None:
        """DefaultMessageStore.checkStoreStatus: a slave or a closed store does not take messages."""
        if self.settings.store.broker_role is BrokerRole.SLAVE or self.store.closed:
            code, remark, _ = put_status_reply(PutMessageStatus.SERVICE_NOT_AVAILABLE, 0, self._disk_util)
            raise RocketMQError(code, remark)

    def _oversize(self, msg: MessageInner) -> bool:
        """MessageExtEncoder.encode's limits, checked for every message before any is appended (a batch is
        all or nothing): body over maxMessageSize, properties over 32767 bytes, a record the store refuses."""
        text = msg.properties
        props_len = len(text) if text.isascii() else len(text.encode())
        if len(msg.body) > self.settings.store.max_message_size or props_len > PROPERTIES_MAX:
            return True
        size = record_length(msg.sys_flag, len(msg.body), len(msg.topic.encode()), props_len)
        return size > self.store.config.max_message_size

    async def put(self, msgs: list[MessageInner], wait: bool, count_topic: bool = True) -> PutOutcome:
        """Append `msgs` contiguously (one lock hold), then, under SYNC_FLUSH with WAIT, wait for the disk in a
        worker thread."""
        if self.settings.store.broker_role is BrokerRole.SLAVE or self.store.closed:
            return PutOutcome(PutMessageStatus.SERVICE_NOT_AVAILABLE, [])
        for m in msgs:
            if self._oversize(m):
                self.stats.note_put_failed()
                return PutOutcome(PutMessageStatus.MESSAGE_ILLEGAL, [])
        began = time.monotonic()
        results: list[PutMessageResult] = []
        with self.store.lock:
            for msg in msgs:
                result = self.store.put_message(msg)
                if not result.ok:
                    self.stats.note_put_failed()
                    return PutOutcome(result.status, results)
                results.append(result)
        status = PutMessageStatus.PUT_OK
        if self.sync_flush and wait:
            status = await trio.to_thread.run_sync(self.store.wait_flushed, results[-1])
        topic = msgs[0].topic if count_topic else None
        if self.replica is not None and wait:
            last = results[-1]
            if self._replica_waits is not None:  # send_message_replicated answers (and counts) it later
                self._replica_waits.append(_ReplicaWait(last.phys_offset + last.wrote_bytes, results, began, topic))
                return PutOutcome(status, results)
            replica_status = await self.replica(last.phys_offset + last.wrote_bytes)
            if replica_status is not PutMessageStatus.PUT_OK:
                status = replica_status
        self._note_put(results, began, topic)
        return PutOutcome(status, results)

    def _note_put(self, results: list[PutMessageResult], began: float, topic: str | None) -> None:
        elapsed = int((time.monotonic() - began) * 1000)
        wrote = sum(r.wrote_bytes for r in results)
        self.stats.note_put(len(results), wrote, elapsed)
        if topic is not None:  # handlePutMessageResult's sendOK branch (every status put() returns here is one)
            self.stats.manager.on_put(topic, len(results), wrote)

    def _msg_id(self, result: PutMessageResult) -> str:
        """result.msg_id (MessageDecoder.createMessageId) from a prefix computed once for our store host."""
        if result.store_host is not self.store_host:
            return result.msg_id
        return self._msg_id_prefix + f"{result.phys_offset:016X}"

    def _failed_reply(self, status: PutMessageStatus) -> RemotingCommand:
        code, remark, _ = put_status_reply(status, self.settings.store.max_message_size, self._disk_util)
        return self._reply(code, remark)

    def _put_reply(self, outcome: PutOutcome, queue_id: int) -> RemotingCommand:
        if outcome.status is PutMessageStatus.PUT_OK:  # the hot path: _reply + SendMessageResponseHeader inlined
            b = self.settings.broker
            results = outcome.results
            ext = {
                PROPERTY_MSG_REGION: b.region_id,
                PROPERTY_TRACE_SWITCH: "true" if b.trace_on else "false",
                "msgId": ",".join([self._msg_id(r) for r in results]),
                "queueId": str(queue_id),
                "queueOffset": str(results[0].queue_offset),
            }
            return RemotingCommand(ResponseCode.SUCCESS, flag=RESPONSE_FLAG, ext_fields=ext)
        code, remark, stored = put_status_reply(outcome.status, self.settings.store.max_message_size, self._disk_util)
        if not stored:
            return self._reply(code, remark)
        first = outcome.results[0]
        msg_id = ",".join(r.msg_id for r in outcome.results)
        return self._reply(code, None, SendMessageResponseHeader(msg_id, queue_id, first.queue_offset))
