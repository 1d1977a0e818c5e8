"""Store clean-ups an admin asks for: DefaultMessageStore.cleanExpiredConsumerQueue, cleanUnusedTopic and
executeDeleteFilesManually (4.9.8), behind CLEAN_EXPIRED_CONSUMEQUEUE (306), CLEAN_UNUSED_TOPIC (316) and
DELETE_EXPIRED_COMMITLOG (329).

A queue goes with its files, its directory and the commit log's next-offset entry (removeQueueFromTopicQueueTable),
so a later send to the topic starts again at queue offset 0, as on Java. A manual delete arms
MAX_MANUAL_DELETE_FILE_TIMES forced retention rounds, which the store's background thread runs every
cleanResourceInterval whatever deleteWhen says (files younger than fileReservedTime still stay).
"""

from __future__ import annotations

import contextlib
import logging
import struct
from typing import TYPE_CHECKING

from rocketpy.store.consumequeue import UNIT_SIZE, ConsumeQueue
from rocketpy.store.format import SCHEDULE_TOPIC

if TYPE_CHECKING:
    from collections.abc import Set

    from rocketpy.store.message_store import MessageStore

log = logging.getLogger("rocketpy.store")

MAX_MANUAL_DELETE_FILE_TIMES = 20  # CleanCommitLogService
TRANS_OP_HALF_TOPIC = "RMQ_SYS_TRANS_OP_HALF_TOPIC"
LMQ_PREFIX = "%LMQ%"
_UNIT = struct.Struct(">qiq")


def last_offset(cq: ConsumeQueue) -> int:
    """ConsumeQueue.getLastOffset: the end of the newest entry's record in the last file, -1 when it has none."""
    last = cq.files.last()
    if last is None:
        return -1
    result = -1
    pos = max(last.wrote - UNIT_SIZE, 0)
    while pos + UNIT_SIZE <= last.size:
        phys, size, _ = _UNIT.unpack_from(last.view, pos)
        if phys < 0 or size <= 0:
            break
        result = phys + size
        pos += UNIT_SIZE
    return result


def _drop_queue(store: MessageStore, cq: ConsumeQueue) -> None:
    key = (cq.topic, cq.queue_id)
    store.queues.pop(key, None)
    store.commitlog.queue_offsets.pop(key, None)
    directory = cq.files.dir
    cq.destroy()
    for path in (directory, directory.parent):  # the queue's directory, then the topic's once empty
        with contextlib.suppress(OSError):
            path.rmdir()


def clean_expired_consume_queues(store: MessageStore) -> list[tuple[str, int]]:
    """cleanExpiredConsumerQueue: destroy each queue (but the delay topic's) whose newest entry points below the
    commit log's min offset. Returns the destroyed (topic, queueId)s."""
    gone = []
    with store.lock:
        cl_min = store.commitlog.min_offset
        for (topic, queue_id), cq in sorted(store.queues.items()):
            if topic == SCHEDULE_TOPIC:
                continue
            last = last_offset(cq)
            if last == -1:
                log.warning("maybe ConsumeQueue was created just now. topic=%s queueId=%d", topic, queue_id)
            elif last < cl_min:
                log.info("cleanExpiredConsumerQueue: %s %d consumer queue destroyed, minCommitLogOffset: %d "
                         "maxCLOffsetInConsumeQueue: %d", topic, queue_id, cl_min, last)  # fmt: skip
                _drop_queue(store, cq)
                gone.append((topic, queue_id))
    return gone


def clean_unused_topics(store: MessageStore, topics: Set[str]) -> list[str]:
    """cleanUnusedTopic: destroy the queues of every topic the broker no longer has, but the delay topic, the
    transaction op topic and light message queues. Returns the destroyed topics."""
    gone: set[str] = set()
    with store.lock:
        for (topic, _), cq in sorted(store.queues.items()):
            if topic in topics or topic in (SCHEDULE_TOPIC, TRANS_OP_HALF_TOPIC) or topic.startswith(LMQ_PREFIX):
                continue
            _drop_queue(store, cq)
            log.info("cleanUnusedTopic: %s %d ConsumeQueue cleaned", cq.topic, cq.queue_id)
            gone.add(topic)
    for topic in sorted(gone):
        log.info("cleanUnusedTopic: %s,topic destroyed", topic)
    return sorted(gone)


def request_manual_delete(store: MessageStore) -> None:
    """executeDeleteFilesManually: the next MAX_MANUAL_DELETE_FILE_TIMES retention rounds delete expired files
    whatever the hour."""
    store.manual_delete_rounds = MAX_MANUAL_DELETE_FILE_TIMES
    log.info("executeDeleteFilesManually was invoked")
