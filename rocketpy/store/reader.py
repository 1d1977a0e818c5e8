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

import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

from rocketpy.store.config import GetMessageResult, GetMessageStatus, StoreConfig
from rocketpy.store.consumequeue import UNIT, UNIT_SIZE
from rocketpy.store.format import INT_MAX

if TYPE_CHECKING:
    from rocketpy.store.mapped_file import MappedFile
    from rocketpy.store.message_store import MessageStore

try:
    from rocketpy.store import _readpath
except ImportError:  # built by `pip install -e .` where a C compiler is found (setup.py): the Python loop serves
    _readpath = None  # type: ignore[assignment]

NATIVE = _readpath is not None
_PHYS = struct.Struct(">q")
_FOUND, _NO_MATCH = GetMessageStatus.FOUND, GetMessageStatus.NO_MATCHED_MESSAGE


class JoinedRead(NamedTuple):
    """A pull's read with its records joined in one bytes, the body of its reply (GetMessageResult otherwise)."""

    status: GetMessageStatus
    next_begin_offset: int
    min_offset: int
    max_offset: int
    message_count: int
    total: int
    suggest_pulling_from_slave: bool
    body: bytes


def codes_matcher(codes: frozenset[int] | None) -> Callable[[int | None], bool] | None:
    """ExpressionMessageFilter.isMatchedByConsumeQueue over a TAG subscription's hash codes (None: all match): a
    consume-queue entry's tags code matches when it, or its intValue where it is not an int32, is one of them;
    an unknown code (None) always does."""
    if codes is None:
        return None

    def matches(code: int | None) -> bool:
        if code is None or code in codes:
            return True
        return not -0x80000000 <= code <= 0x7FFFFFFF and ((code + 2**31) % 2**32) - 2**31 in codes  # Long.intValue

    return matches


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
    # The loop inlines Java's isTheBatchFull (limits looked up once) and CommitLog.get_message, reusing the
    # commit-log file of the previous record (a batch nearly always lies in one file): ~0.5 us per record.
    mem_bytes, mem_count = cfg.max_transfer_bytes_on_message_in_memory, cfg.max_transfer_count_on_message_in_memory
    disk_bytes, disk_count = cfg.max_transfer_bytes_on_message_in_disk, cfg.max_transfer_count_on_message_in_disk
    buffers, queue_offsets = res.buffers, res.queue_offsets
    total = count = 0
    f_from = f_end = 0
    f: MappedFile | None = None
    next_file_start = -1
    max_pulling = 0
    n = 0  # entries consumed
    for phys, size, code in UNIT.iter_unpack(entries[: limit - limit % UNIT_SIZE]):
        n += 1
        if (phys == 0 and size == INT_MAX) or phys < next_file_start:  # a filler, or a record of a gone file
            continue
        max_pulling = phys
        if total and count:  # isTheBatchFull
            if max_nums <= count:
                n -= 1
                break
            if max_py - phys > memory:
                if total + size > disk_bytes or count > disk_count - 1:
                    n -= 1
                    break
            elif total + size > mem_bytes or count > mem_count - 1:
                n -= 1
                break
        if tags_filter is not None and not tags_filter(code):
            continue
        if f is None or not f_from <= phys < f_end:
            f = commitlog.files.find(phys)
            if f is not None:
                f_from, f_end = f.file_from, f.end_offset
        pos = phys - f_from
        if f is None or not f_from <= phys < f_end or size <= 0 or pos + size > f.wrote:
            if not buffers:
                res.status = GetMessageStatus.MESSAGE_WAS_REMOVING
            next_file_start = commitlog.roll_next_file(phys)
            continue
        rec = f.view[pos : pos + size]
        if record_filter is not None and not record_filter(rec):
            continue
        buffers.append(rec)
        queue_offsets.append(offset + n - 1)
        total += size
        count += 1
        res.status = GetMessageStatus.FOUND
        next_file_start = -1
    res.buffer_total_size = total
    res.next_begin_offset = offset + n
    res.suggest_pulling_from_slave = max_py - max_pulling > memory
    return res


def read_queue_joined(
    store: MessageStore, topic: str, queue_id: int, offset: int, max_nums: int, codes: frozenset[int] | None
) -> JoinedRead:
    """read_queue for the pull fast path, the tags filter given as codes (`codes_matcher`). The everyday case (records
    in one commit-log file, no filler) is walked and joined by `_readpath.collect`; whatever it is not sure about,
    and everything without the extension, goes through read_queue, which decides as it always did."""
    cq = store.find_queue(topic, queue_id)
    lo, hi = (cq.min_offset, cq.max_offset) if cq is not None else (0, 0)
    if cq is not None and _readpath is not None and lo <= offset < hi:
        entries = cq.entries_from(offset)
        if entries is not None and len(entries) >= UNIT_SIZE:
            commitlog = store.commitlog
            f = commitlog.files.find(_PHYS.unpack_from(entries)[0])
            if f is not None:
                cfg = store.config
                max_py = commitlog.max_offset
                memory = int(_physical_memory(cfg) * cfg.access_message_in_memory_max_ratio / 100)
                limit = min(len(entries), max(16000, max_nums * UNIT_SIZE))
                got = _readpath.collect(
                    entries, limit - limit % UNIT_SIZE, codes, f.view, f.file_from, f.end_offset, f.wrote, max_py,
                    memory, max_nums, cfg.max_transfer_bytes_on_message_in_memory,
                    cfg.max_transfer_count_on_message_in_memory, cfg.max_transfer_bytes_on_message_in_disk,
                    cfg.max_transfer_count_on_message_in_disk,
                )  # fmt: skip
                if got is not None:
                    n, count, total, max_pulling, body = got
                    return JoinedRead(_FOUND if count else _NO_MATCH, offset + n, lo, hi, count, total,
                                      max_py - max_pulling > memory, body)  # fmt: skip
    res = read_queue(store, topic, queue_id, offset, max_nums, codes_matcher(codes), None)
    return JoinedRead(res.status, res.next_begin_offset, res.min_offset, res.max_offset, len(res.buffers),
                      res.buffer_total_size, res.suggest_pulling_from_slave, b"".join(res.buffers))  # fmt: skip


def _physical_memory(cfg: StoreConfig) -> int:
    if cfg.total_physical_memory:
        return cfg.total_physical_memory
    import os

    cfg.total_physical_memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return cfg.total_physical_memory
