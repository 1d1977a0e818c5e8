"""One check pass over the half queues: TransactionalMessageServiceImpl.check of 4.9.8, without sockets (it only
yields to the event loop now and then).

Per half queue, from the CID_RMQ_SYS_TRANS offsets of the half queue and of its op queue:
- the op records ("d", body = a half queue offset) fill the remove map; a half offset found there was committed
  or rolled back and is passed over;
- a half message checked `transactionCheckMax` times (TRANSACTION_CHECK_TIMES), or older than fileReservedTime,
  is discarded to TRANS_CHECK_MAX_TIME_TOPIC;
- the pass stops at a message stored after it began (the put-backs of this pass) or one younger than
  transactionTimeOut (or its CHECK_IMMUNITY_TIME_IN_SECONDS; an immune message is put back with
  TRAN_PREPARED_QUEUE_OFFSET unless an op record names that first offset);
- any other message is written again at the end of the half queue with TRANSACTION_CHECK_TIMES incremented and
  the copy is returned for a CHECK_TRANSACTION_STATE to its producer group;
- the offsets advance past what was handled (the op offset only over contiguous handled op records).

Two differences, both where Java would spin on the same offset until its 60 s pass limit: a put-back that fails
ends the queue's pass (the next pass retries it), and a message that needs more op records when none are left
ends it too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import trio

from rocketpy.broker.topic_validator import RMQ_SYS_TRANS_HALF_TOPIC, RMQ_SYS_TRANS_OP_HALF_TOPIC
from rocketpy.broker.transaction.bridge import PullStatus, QueueRead, TransactionalMessageBridge
from rocketpy.broker.transaction.messages import (
    PROPERTY_CHECK_IMMUNITY,
    PROPERTY_CHECK_TIMES,
    PROPERTY_PREPARED_QUEUE_OFFSET,
    REMOVE_TAG,
    HalfMessage,
    discarded,
    renew_half,
    renew_immunity_half,
)
from rocketpy.protocol.bodies.topic_config import PERM_READ, PERM_WRITE
from rocketpy.store.format import create_message_id, get_property

log = logging.getLogger("RocketmqTransaction")

MAX_PROCESS_TIME_LIMIT = 60_000
MAX_RETRY_COUNT_WHEN_HALF_NULL = 1
OP_PULL_BATCH = 32
YIELD_EVERY = 256


def java_long(text: str | None) -> int:
    """getLong / getInt: -1 for anything Long.parseLong refuses."""
    if text is None:
        return -1
    body = text[1:] if text[:1] in "+-" else text
    if not body.isascii() or not body.isdigit():
        return -1
    return int(text)


@dataclass(slots=True)
class CheckPass:
    """What a pass did: half messages written again and to be checked with their producer, discards."""

    to_check: list[HalfMessage] = field(default_factory=list)
    discarded: list[HalfMessage] = field(default_factory=list)


class TransactionalMessageCheck:
    def __init__(
        self, bridge: TransactionalMessageBridge, clock_ms: Callable[[], int], file_reserved_hours: Callable[[], int]
    ) -> None:
        self.bridge = bridge
        self.clock_ms = clock_ms
        self.file_reserved_hours = file_reserved_hours

    async def check(self, transaction_timeout: int, check_max: int) -> CheckPass:
        out = CheckPass()
        queue_ids = self.bridge.half_queue_ids()
        if not queue_ids:
            log.warning("The queue of topic is empty :%s", RMQ_SYS_TRANS_HALF_TOPIC)
        for queue_id in queue_ids:
            try:
                await self._check_queue(queue_id, transaction_timeout, check_max, out)
            except Exception:  # Java catches Throwable around the whole pass
                log.exception("Check error")
        return out

    # -- one queue -----------------------------------------------------------------------------------------------

    async def _check_queue(self, queue_id: int, timeout: int, check_max: int, out: CheckPass) -> None:
        bridge, now = self.bridge, self.clock_ms
        start = now()
        half_offset = bridge.fetch_consume_offset(RMQ_SYS_TRANS_HALF_TOPIC, queue_id)
        op_offset = bridge.fetch_consume_offset(RMQ_SYS_TRANS_OP_HALF_TOPIC, queue_id)
        if half_offset < 0 or op_offset < 0:
            log.error("half queue %d: illegal offset read: %d, op offset: %d", queue_id, half_offset, op_offset)
            return
        done_op: list[int] = []
        removed: dict[int, int] = {}
        ops = self._fill_op_remove_map(removed, queue_id, op_offset, half_offset, done_op)
        null_count = 1
        new_offset = i = half_offset
        steps = 0
        while now() - start <= MAX_PROCESS_TIME_LIMIT:
            steps += 1
            if steps % YIELD_EVERY == 0:  # a long backlog must not hold the event loop (Java has a thread)
                await trio.lowlevel.checkpoint()
            if i in removed:
                done_op.append(removed.pop(i))
            else:
                got = bridge.read(RMQ_SYS_TRANS_HALF_TOPIC, queue_id, i, 1)
                if not got.messages:
                    null_count += 1
                    if null_count - 1 > MAX_RETRY_COUNT_WHEN_HALF_NULL or got.status is PullStatus.NO_NEW_MSG:
                        break
                    i = new_offset = got.next_begin_offset
                    continue
                half = HalfMessage.of(got.messages[0])
                if self._need_discard(half, check_max) or self._need_skip(half):
                    self._discard(half, out)
                    new_offset = i = i + 1
                    continue
                if half.record.store_timestamp >= start:
                    break  # stored during this pass: a put-back, checked next time
                age = now() - half.record.born_timestamp
                immunity = timeout
                immunity_text = half.props.get(PROPERTY_CHECK_IMMUNITY)
                if immunity_text is not None:
                    immunity = self._immunity_time(immunity_text, timeout)
                    if age < immunity and self._check_prepare_queue_offset(removed, done_op, half):
                        new_offset = i = i + 1
                        continue
                elif 0 <= age < immunity:
                    break  # too young, and so is everything after it
                found = ops.messages
                need_check = (
                    (found is None and age >= immunity)
                    or (found is not None and found[-1].born_timestamp - start > timeout)
                    or age <= -1
                )
                if need_check:
                    if not self._put_back(half):
                        break
                    out.to_check.append(half)
                elif found is None:
                    break  # no op record left to read: Java spins here until time makes the message due
                else:
                    ops = self._fill_op_remove_map(removed, queue_id, ops.next_begin_offset, half_offset, done_op)
                    continue
            new_offset = i = i + 1
        if new_offset != half_offset:
            bridge.update_consume_offset(RMQ_SYS_TRANS_HALF_TOPIC, queue_id, new_offset)
        new_op_offset = self._calculate_op_offset(done_op, op_offset)
        if new_op_offset != op_offset:
            bridge.update_consume_offset(RMQ_SYS_TRANS_OP_HALF_TOPIC, queue_id, new_op_offset)

    def _fill_op_remove_map(
        self, removed: dict[int, int], queue_id: int, pull_offset: int, mini_offset: int, done_op: list[int]
    ) -> QueueRead:
        """Read up to 32 op records: those naming a half offset below the pass's start are done, the others go into
        the remove map (half offset -> op offset)."""
        ops = self.bridge.read(RMQ_SYS_TRANS_OP_HALF_TOPIC, queue_id, pull_offset, OP_PULL_BATCH)
        if ops.status in (PullStatus.OFFSET_ILLEGAL, PullStatus.NO_MATCHED_MSG):
            log.warning("The miss op offset=%d in queue=%d is illegal", pull_offset, queue_id)
            self.bridge.update_consume_offset(RMQ_SYS_TRANS_OP_HALF_TOPIC, queue_id, ops.next_begin_offset)
            return ops
        if ops.messages is None:
            return ops
        for op in ops.messages:
            half_offset = java_long(op.body.decode("utf-8", "replace"))
            if get_property(op.properties, "TAGS") == REMOVE_TAG:
                if half_offset < mini_offset:
                    done_op.append(op.queue_offset)
                else:
                    removed[half_offset] = op.queue_offset
            else:
                log.error("Found a illegal tag in op message at %d", op.queue_offset)
        return ops

    def _check_prepare_queue_offset(self, removed: dict[int, int], done_op: list[int], half: HalfMessage) -> bool:
        """True: skip this immune message (its first copy was resolved, or it was put back again)."""
        text = half.props.get(PROPERTY_PREPARED_QUEUE_OFFSET)
        if text is None:
            return self.bridge.put(renew_immunity_half(half)).ok
        first = java_long(text)
        if first == -1:
            return False
        if first in removed:
            done_op.append(removed.pop(first))
            return True
        return self.bridge.put(renew_immunity_half(half)).ok

    @staticmethod
    def _immunity_time(text: str, timeout: int) -> int:
        value = java_long(text)
        return timeout if value == -1 else value * 1000

    @staticmethod
    def _need_discard(half: HalfMessage, check_max: int) -> bool:
        """needDiscard: counts this check in TRANSACTION_CHECK_TIMES, True once it reached check_max."""
        text = half.props.get(PROPERTY_CHECK_TIMES)
        times = 1
        if text is not None:
            times = java_long(text)
            if times >= check_max:
                return True
            times += 1
        half.props[PROPERTY_CHECK_TIMES] = str(times)
        return False

    def _need_skip(self, half: HalfMessage) -> bool:
        """needSkip: a half message older than the commit log's retention is given up."""
        return self.clock_ms() - half.record.born_timestamp > self.file_reserved_hours() * 3600 * 1000

    def _discard(self, half: HalfMessage, out: CheckPass) -> None:
        """DefaultTransactionalMessageCheckListener.resolveDiscardMsg."""
        log.error("half message at %d has been checked too many times, discarded", half.record.phys_offset)
        self.bridge.topics.create_of_tran_check_max_time(1, PERM_READ | PERM_WRITE)  # TCMT_QUEUE_NUMS = 1
        self.bridge.put(discarded(half))
        out.discarded.append(half)

    def _put_back(self, half: HalfMessage) -> bool:
        """putBackHalfMsgQueue: write the message again; the copy's position is what the producer is told."""
        result = self.bridge.put(renew_half(half))
        if not result.ok:
            return False
        r = half.record
        r.queue_offset, r.phys_offset = result.queue_offset, result.phys_offset
        return True

    @staticmethod
    def _calculate_op_offset(done: list[int], old: int) -> int:
        new = old
        for offset in sorted(done):
            if offset != new:
                break
            new += 1
        return new


def offset_msg_id(half: HalfMessage) -> str:
    """The msgId of the (put-back) half message: its store host and commit-log offset."""
    r = half.record
    return create_message_id(r.store_host.ip, r.store_host.port, r.phys_offset)
