"""TransactionalMessageBridge: what the transaction service asks of the store and the offset table.

Reads go through the consume queues like a pull of group CID_RMQ_SYS_TRANS (Java's store.getMessage with the
PullStatus mapping of TransactionalMessageBridge.getMessage); the group's offsets live in consumerOffset.json with
every other group's, so a store moved between brokers carries the check's progress. Writes never wait for the disk
(waitStoreMsgOK=false in Java); reads and writes count in the statistics, as the store's do. Everything here is
synchronous and quick (mapped-file reads and appends), as on the send path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from rocketpy.broker.offsets import ConsumerOffsetManager
from rocketpy.broker.stats import BrokerStats
from rocketpy.broker.topic_config import TopicConfigManager
from rocketpy.broker.topic_validator import RMQ_SYS_TRANS_HALF_TOPIC
from rocketpy.broker.transaction.messages import CID_SYS_RMQ_TRANS, op_message
from rocketpy.protocol.bodies.topic_config import PERM_READ, PERM_WRITE
from rocketpy.store.commitlog import MessageInner
from rocketpy.store.config import GetMessageStatus, PutMessageResult
from rocketpy.store.format import HostAddr, StoredMessage, decode_record
from rocketpy.store.message_store import MessageStore

log = logging.getLogger("RocketmqTransaction")


class PullStatus(Enum):
    FOUND = "FOUND"
    NO_NEW_MSG = "NO_NEW_MSG"
    NO_MATCHED_MSG = "NO_MATCHED_MSG"
    OFFSET_ILLEGAL = "OFFSET_ILLEGAL"


_PULL_STATUS = {
    GetMessageStatus.FOUND: PullStatus.FOUND,
    GetMessageStatus.NO_MATCHED_MESSAGE: PullStatus.NO_MATCHED_MSG,
    GetMessageStatus.NO_MESSAGE_IN_QUEUE: PullStatus.NO_NEW_MSG,
    GetMessageStatus.OFFSET_OVERFLOW_ONE: PullStatus.NO_NEW_MSG,
}


@dataclass(slots=True)
class QueueRead:
    """A PullResult: `messages` is None unless FOUND (Java's msgFoundList)."""

    status: PullStatus
    next_begin_offset: int
    messages: list[StoredMessage] | None = None


class TransactionalMessageBridge:
    def __init__(
        self,
        store: MessageStore,
        topics: TopicConfigManager,
        offsets: ConsumerOffsetManager,
        store_host: HostAddr,
        clock_ms: Callable[[], int],
        stats: BrokerStats | None = None,
    ) -> None:
        self.store = store
        self.stats = stats
        self.topics = topics
        self.offsets = offsets
        self.store_host = store_host
        self.clock_ms = clock_ms

    def half_queue_ids(self) -> list[int]:
        """fetchMessageQueues: the half topic's read queues; the topic is created (1 queue) on first use."""
        config = self.topics.select(RMQ_SYS_TRANS_HALF_TOPIC)
        if config is None:
            config = self.topics.create_in_send_message_back(RMQ_SYS_TRANS_HALF_TOPIC, 1, PERM_WRITE | PERM_READ, 0)
        return list(range(max(config.read_queue_nums, 0)))

    def fetch_consume_offset(self, topic: str, queue_id: int) -> int:
        offset = self.offsets.query(CID_SYS_RMQ_TRANS, topic, queue_id)
        return self.store.get_min_offset_in_queue(topic, queue_id) if offset == -1 else offset

    def update_consume_offset(self, topic: str, queue_id: int, offset: int) -> None:
        self.offsets.commit(str(self.store_host), CID_SYS_RMQ_TRANS, topic, queue_id, offset)

    def read(self, topic: str, queue_id: int, offset: int, nums: int) -> QueueRead:
        got = self.store.get_message(topic, queue_id, offset, nums)
        if self.stats is not None:  # the store's statistics count every getMessage, these included
            self.stats.note_get(
                CID_SYS_RMQ_TRANS, topic, len(got.buffers) if got.status is GetMessageStatus.FOUND else 0, 0
            )
        status = _PULL_STATUS.get(got.status, PullStatus.OFFSET_ILLEGAL)
        if status is not PullStatus.FOUND:
            return QueueRead(status, got.next_begin_offset)
        found = []
        for buf in got.buffers:
            try:
                found.append(decode_record(buf))
            except ValueError:
                log.warning("undecodable record in %s-%d", topic, queue_id)
        return QueueRead(status, got.next_begin_offset, found)

    def put(self, msg: MessageInner) -> PutMessageResult:
        result = self.store.put_message(msg)
        if not result.ok:
            log.error("Put message failed, topic: %s, queueId: %d: %s", msg.topic, msg.queue_id, result.status)
        if self.stats is not None:  # the store's statistics count every append, these included
            if result.ok:
                self.stats.note_put(1, result.wrote_bytes, 0)
            else:
                self.stats.note_put_failed()
        return result

    def put_op(self, half: StoredMessage) -> bool:
        """addRemoveTagInTransactionOp: the op record of a committed or rolled back half message."""
        op = op_message(half.queue_offset, half.queue_id, self.store_host, self.clock_ms())
        return self.put(op).ok

    def look(self, phys_offset: int) -> StoredMessage | None:
        return self.store.look_message_by_offset(phys_offset)
