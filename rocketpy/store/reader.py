"""Reading a queue for a pull (``DefaultMessageStore.getMessage``), kept apart from the facade.

Statuses and next offsets follow Java for a master (``nextOffsetCorrection`` returns the corrected offset):

    queue missing or empty     NO_MESSAGE_IN_QUEUE      next 0   (Java creates a missing queue on lookup)
    offset < min               OFFSET_TOO_SMALL         next min
    offset == max              OFFSET_OVERFLOW_ONE      next offset
    offset > max               OFFSET_OVERFLOW_BADLY    next max
    otherwise                  FOUND / NO_MATCHED_MESSAGE / MESSAGE_WAS_REMOVING, next = offset + entries scanned

One pull reads entries of one consume-queue file only, scans at most max(16000, maxMsgNums * 20) bytes of
entries, and stops at maxMsgNums records or the byte/count limits (256 KiB / 32 in memory, 64 KiB / 8 when the
record is more than accessMessageInMemoryMaxRatio % of RAM behind the log's end).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rocketpy.store.config import GetMessageResult, GetMessageStatus, StoreConfig
from rocketpy.store.consumequeue import UNIT, UNIT_SIZE, is_filler

if TYPE_CHECKING:
    from rocketpy.store.message_store import MessageStore


def batch_full(cfg: StoreConfig, size: int, max_nums: int, total: int, count: int, in_disk: bool) -> bool:
    """``isTheBatchFull``."""
    if total == 0 or count == 0:
        return False
    if max_nums <= count:
        return True
    if in_disk:
        return (
            total + size > cfg.max_transfer_bytes_on_message_in_disk
            or count > cfg.max_transfer_count_on_message_in_disk - 1
        )
    return (
        total + size > cfg.max_transfer_bytes_on_message_in_memory
        or count > cfg.max_transfer_count_on_message_in_memory - 1
    )


def read_queue(
    store: MessageStore,
    topic: str,
    queue_id: int,
    offset: int,
    max_nums: int,
    tags_filter: Callable[[int], bool] | None,
    record_filter: Callable[[memoryview], bool] | None,
) -> GetMessageResult:
    cq = store.find_queue(topic, queue_id)
    if cq is None:  # Java's findConsumeQueue creates an empty queue here, so it answers NO_MESSAGE_IN_QUEUE
        return GetMessageResult(GetMessageStatus.NO_MESSAGE_IN_QUEUE, 0, 0, 0)
    lo, hi = cq.min_offset, cq.max_offset
    if hi == 0:
        return GetMessageResult(GetMessageStatus.NO_MESSAGE_IN_QUEUE, 0, lo, hi)
    if offset < lo:
        return GetMessageResult(GetMessageStatus.OFFSET_TOO_SMALL, lo, lo, hi)
    if offset == hi:
        return GetMessageResult(GetMessageStatus.OFFSET_OVERFLOW_ONE, offset, lo, hi)
    if offset > hi:
        return GetMessageResult(GetMessageStatus.OFFSET_OVERFLOW_BADLY, hi, lo, hi)
    entries = cq.entries_from(offset)
    if entries is None:
        units = cq.files.file_size // UNIT_SIZE
        return GetMessageResult(GetMessageStatus.OFFSET_FOUND_NULL, offset + units - offset % units, lo, hi)
    res = GetMessageResult(GetMessageStatus.NO_MATCHED_MESSAGE, offset, lo, hi)
    cfg = store.config
    commitlog = store.commitlog
    max_py = commitlog.max_offset
    memory = int(_physical_memory(cfg) * cfg.access_message_in_memory_max_ratio / 100)
    limit = min(len(entries), max(16000, max_nums * UNIT_SIZE))
    next_file_start = -1
    max_pulling = 0
    i = 0
    while i < limit:
        phys, size, code = UNIT.unpack_from(entries, i)
        i += UNIT_SIZE
        if is_filler(phys, size) or phys < next_file_start:
            continue
        max_pulling = phys
        if batch_full(cfg, size, max_nums, res.buffer_total_size, len(res.buffers), max_py - phys > memory):
            i -= UNIT_SIZE
            break
        if tags_filter is not None and not tags_filter(code):
            continue
        rec = commitlog.get_message(phys, size)
        if rec is None:
            if not res.buffers:
                res.status = GetMessageStatus.MESSAGE_WAS_REMOVING
            next_file_start = commitlog.roll_next_file(phys)
            continue
        if record_filter is not None and not record_filter(rec):
            continue
        res.buffers.append(rec)
        res.queue_offsets.append(offset + (i - UNIT_SIZE) // UNIT_SIZE)
        res.buffer_total_size += size
        res.status = GetMessageStatus.FOUND
        next_file_start = -1
    res.next_begin_offset = offset + i // UNIT_SIZE
    res.suggest_pulling_from_slave = max_py - max_pulling > memory
    return res


def _physical_memory(cfg: StoreConfig) -> int:
    if cfg.total_physical_memory:
        return cfg.total_physical_memory
    import os

    cfg.total_physical_memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return cfg.total_physical_memory
