"""Consume queues: per (topic, queue id) arrays of 20-byte entries pointing into the commit log (``ConsumeQueue``).

Entry layout (big-endian)::

    0  8  commit-log offset (int64)
    8  4  record size (int32)
   12  8  tags code (int64): Java String.hashCode of TAGS, sign-extended; deliver time for SCHEDULE_TOPIC_XXXX

Queue offset n lives at byte n*20 of the queue (files are named by their first byte offset, 20 digits, and hold
``mappedFileSizeConsumeQueue`` bytes = 300,000 entries by default) under ``consumequeue/<topic>/<queueId>/``.
A leading gap is filled with (0, Integer.MAX_VALUE, 0) entries (``ConsumeQueue.fillPreBlank``); readers skip them.
"""

from __future__ import annotations

import logging
import operator
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

from rocketpy.store.allocate import CONSUME_QUEUE_CHUNK
from rocketpy.store.format import INT_MAX
from rocketpy.store.mapped_file import MappedFile, MappedFileQueue, zero_range

log = logging.getLogger("rocketpy.store")

UNIT = struct.Struct(">qiq")
UNIT_SIZE = 20
assert UNIT.size == UNIT_SIZE
FILLER = UNIT.pack(0, INT_MAX, 0)
_ZERO_UNIT = bytes(UNIT_SIZE)
_add: Callable[[int, int], int] = operator.add  # int.__add__ is twice as slow in map


def is_filler(phys: int, size: int) -> bool:
    return phys == 0 and size == INT_MAX


class ConsumeQueue:
    """One logical queue; ``put`` is idempotent so recovery can re-dispatch any range safely."""

    def __init__(self, root: Path, topic: str, queue_id: int, file_size: int, reserve: bool = False) -> None:
        """``reserve``: the flush thread reserves blocks ahead of the writer (``MappedFileQueue.reserve_tail``)."""
        self.topic = topic
        self.queue_id = queue_id
        chunk = CONSUME_QUEUE_CHUNK if reserve else 0
        self.files = MappedFileQueue(root / topic / str(queue_id), file_size, chunk)
        self.file_size = file_size
        self.min_logic_offset = 0  # byte offset of the first live entry
        self.max_physic_offset = -1  # end (offset + size) of the newest entry's record
        self.damaged = False  # recovery cut entries that must be re-dispatched from the commit log

    # -- loading and recovery -------------------------------------------------------------------------------
    def load(self) -> None:
        self.files.load()
        self.recover()

    def recover(self) -> None:
        """Find the write position: entries are valid while offset >= 0 and size > 0 (``ConsumeQueue.recover``)."""
        files = self.files.snapshot()
        for f in files:
            f.wrote = f.flushed = f.size
        for i, f in enumerate(files):
            if f is not files[-1] and _unit_valid(f, f.size - UNIT_SIZE):
                continue  # a full file: only the last one is partly written
            end, clean = _valid_end(f)
            self.damaged = self.damaged or not clean
            if end < f.size:
                f.wrote = f.flushed = end
                for later in files[i + 1 :]:
                    log.warning(
                        "consume queue %s-%d: dropping %s after a short file",
                        self.topic,
                        self.queue_id,
                        later.path.name,
                    )
                self.files.truncate(f.file_from + end)
                self.damaged = self.damaged or bool(files[i + 1 :])
                break
        self.min_logic_offset = self.files.min_offset
        self.max_physic_offset = self._last_entry_end()
        first = self.files.first()
        if first is not None and first.wrote >= UNIT_SIZE and is_filler(*UNIT.unpack_from(first.view, 0)[:2]):
            self.correct_min_offset(0)

    def _last_entry_end(self) -> int:
        last = self.last_entry()
        return last[0] + last[1] if last is not None and not is_filler(last[0], last[1]) else -1

    def truncate_dirty(self, commitlog_max: int) -> int:
        """Drop entries whose record ends past ``commitlog_max`` (``truncateDirtyLogicFiles``); returns count."""
        cut = self.max_offset
        while cut > self.min_offset:
            phys, size, _ = self.entry(cut - 1)
            if is_filler(phys, size) or phys + size <= commitlog_max:
                break
            cut -= 1
        dropped = self.max_offset - cut
        if dropped:
            self.files.truncate(cut * UNIT_SIZE)
            self.max_physic_offset = self._last_entry_end()
        return dropped

    def blank_range(self, lo: int, hi: int) -> int:
        """Replace entries pointing into [lo, hi) of the log (a cut inside an older file) by fillers."""
        n = 0
        for q, phys, size, _ in list(self.iter_entries()):
            if lo <= phys < hi and not is_filler(phys, size):
                f = self.files.find(q * UNIT_SIZE)
                assert f is not None
                f.view[q * UNIT_SIZE - f.file_from : q * UNIT_SIZE - f.file_from + UNIT_SIZE] = FILLER
                n += 1
        return n

    # -- writing --------------------------------------------------------------------------------------------
    def put(self, queue_offset: int, phys: int, size: int, tags_code: int) -> bool:
        """Write the entry for ``queue_offset``; an identical existing entry is left alone (returns False)."""
        pos = queue_offset * UNIT_SIZE
        files = self.files.files
        if files:  # the common case first: the next entry of the last file, which has room for it
            tail = files[-1]
            rel = pos - tail.file_from
            if rel == tail.wrote and rel + UNIT_SIZE <= tail.size:
                UNIT.pack_into(tail.view, rel, phys, size, tags_code)
                tail.wrote = rel + UNIT_SIZE
                if phys + size > self.max_physic_offset:
                    self.max_physic_offset = phys + size
                return True
        if pos < self.files.max_offset and self.files.files:
            if pos < self.files.min_offset:
                return False
            old = self.entry(queue_offset)
            if is_filler(old[0], old[1]) or (old[0] == phys and old != (phys, size, tags_code)):
                # A gap filled earlier, or the same record with a torn size/tags code (a kill inside the
                # 20-byte write): the log is the truth, rewrite the entry.
                f = self.files.find(pos)
                assert f is not None
                UNIT.pack_into(f.view, pos - f.file_from, phys, size, tags_code)
                return True
            if old != (phys, size, tags_code):
                log.warning("consume queue %s-%d offset %d already holds a different entry; kept",
                            self.topic, self.queue_id, queue_offset)  # fmt: skip
            return False
        f = self._file_for(pos)
        if f.file_from + f.wrote < pos:
            self._fill(f, pos)
        UNIT.pack_into(f.view, pos - f.file_from, phys, size, tags_code)
        f.wrote = pos - f.file_from + UNIT_SIZE
        if phys + size > self.max_physic_offset:
            self.max_physic_offset = phys + size
        return True

    def put_run(self, first_offset: int, entries: bytes | bytearray, max_end: int | None = None) -> None:
        """``put(first_offset + i, *UNIT.unpack_from(entries, 20 * i))`` for each whole unit of ``entries``, in
        order, with the same effect (files, bytes, ``wrote``, ``max_physic_offset``, fillers, warnings).

        For the native send path, which hands over the entries of a read's messages at once: the units that
        ``put``'s own fast path would append one by one (the tail file's next entries, while they fit) go in
        one slice per file; anything else (a gap, existing entries, no file yet, a new file) is ``put``.
        ``max_end``, when the caller knows it, is the largest phys + size of all the units (else it is read from
        them); it is taken only when the whole run goes in one slice.
        """
        view = memoryview(entries)
        end = len(view) // UNIT_SIZE * UNIT_SIZE
        at, q = 0, first_offset
        while at < end:
            files = self.files.files
            if files:
                tail = files[-1]
                rel = q * UNIT_SIZE - tail.file_from
                if rel == tail.wrote:
                    fit = min(end - at, (tail.size - rel) // UNIT_SIZE * UNIT_SIZE)
                    if fit > 0:
                        chunk = view[at : at + fit]
                        tail.view[rel : rel + fit] = chunk
                        tail.wrote = rel + fit
                        top = max_end if max_end is not None and fit == end else _max_end(chunk)
                        if top > self.max_physic_offset:
                            self.max_physic_offset = top
                        at += fit
                        q += fit // UNIT_SIZE
                        continue
            phys, size, tags_code = UNIT.unpack_from(view, at)
            self.put(q, phys, size, tags_code)
            at += UNIT_SIZE
            q += 1

    def _file_for(self, pos: int) -> MappedFile:
        """The file that holds byte ``pos``, creating (and filler-completing) files up to it."""
        last = self.files.last()
        if last is None:
            self.min_logic_offset = pos  # a queue starting mid-way (``isFirstCreateInQueue``)
            return self.files.create_file(pos - pos % self.file_size)
        while last.end_offset <= pos:
            self._fill(last, last.end_offset)
            last = self.files.create_file(last.end_offset)
        return last

    @staticmethod
    def _fill(f: MappedFile, upto_abs: int) -> None:
        """Fill [wrote, upto) of ``f`` with filler entries."""
        stop = min(upto_abs - f.file_from, f.size)
        n = (stop - f.wrote) // UNIT_SIZE
        if n > 0:
            f.view[f.wrote : stop] = FILLER * n
            f.wrote = stop

    # -- reading --------------------------------------------------------------------------------------------
    @property
    def max_offset(self) -> int:
        """``getMaxOffsetInQueue``: one past the last entry."""
        return self.files.max_offset // UNIT_SIZE

    @property
    def min_offset(self) -> int:
        return max(self.min_logic_offset, self.files.min_offset) // UNIT_SIZE

    def entry(self, queue_offset: int) -> tuple[int, int, int]:
        pos = queue_offset * UNIT_SIZE
        f = self.files.find(pos)
        if f is None or pos - f.file_from + UNIT_SIZE > f.wrote:
            raise IndexError(f"{self.topic}-{self.queue_id}: no entry {queue_offset}")
        phys, size, code = UNIT.unpack_from(f.view, pos - f.file_from)
        return phys, size, code

    def last_entry(self) -> tuple[int, int, int] | None:
        return self.entry(self.max_offset - 1) if self.max_offset > self.min_offset else None

    def entries_from(self, queue_offset: int) -> memoryview | None:
        """Entries from ``queue_offset`` to the end of its file (``getIndexBuffer``)."""
        pos = queue_offset * UNIT_SIZE
        f = self.files.find(pos)
        if f is None or pos < self.min_logic_offset or pos - f.file_from >= f.wrote:
            return None
        return f.view[pos - f.file_from : f.wrote]

    def iter_entries(self, start: int = 0) -> Iterator[tuple[int, int, int, int]]:
        """(queue offset, phys, size, tags code) for every live entry from ``start``."""
        q = max(start, self.min_offset)
        while q < self.max_offset:
            buf = self.entries_from(q)
            if buf is None:
                return
            for phys, size, code in UNIT.iter_unpack(buf):
                yield q, phys, size, code
                q += 1

    def offset_by_time(self, timestamp: int, store_time: Callable[[int, int], int], min_phys: int) -> int:
        """``getOffsetInQueueByTime``: binary search on store time; the nearer neighbour wins a miss."""
        low, high = self.min_offset, self.max_offset - 1
        left = right = -1
        left_t = right_t = -1
        while low <= high:
            mid = (low + high) // 2
            phys, size, _ = self.entry(mid)
            if phys < min_phys or is_filler(phys, size):
                low, left = mid + 1, mid
                continue
            t = store_time(phys, size)
            if t < 0:
                return 0
            if t == timestamp:
                return mid
            if t > timestamp:
                high, right, right_t = mid - 1, mid, t
            else:
                low, left, left_t = mid + 1, mid, t
        if left_t == -1:
            return right if right != -1 else max(left, 0)
        if right_t == -1:
            return left
        return right if abs(timestamp - left_t) > abs(timestamp - right_t) else left

    # -- retention and flushing -----------------------------------------------------------------------------
    def delete_expired(self, commitlog_min: int) -> int:
        """Delete whole files whose last entry points below ``commitlog_min``; correct the min offset."""
        count = 0
        files = self.files.snapshot()
        for f in files[:-1]:
            phys, size, _ = UNIT.unpack_from(f.view, f.size - UNIT_SIZE)
            if is_filler(phys, size) or phys + size > commitlog_min:
                break
            count += 1
        if count:
            self.files.remove_first(count)
        self.correct_min_offset(commitlog_min)
        return count

    def correct_min_offset(self, commitlog_min: int) -> None:
        """``correctMinOffset``: the first entry whose record is still in the commit log."""
        first = self.files.first()
        if first is None:
            return
        self.min_logic_offset = first.file_from + first.wrote
        for i, (phys, size, _) in enumerate(UNIT.iter_unpack(first.view[: first.wrote])):
            if phys >= commitlog_min and not is_filler(phys, size):
                self.min_logic_offset = first.file_from + i * UNIT_SIZE
                return

    def flush(self) -> None:
        """From the flush thread: the written entries to disk, then blocks reserved ahead of the writer."""
        self.files.flush(self.files.max_offset)
        try:
            self.files.reserve_tail()
        except OSError as e:  # a full disk: the store's disk check refuses writes; entries may still fit
            log.warning("consume queue %s-%d: cannot reserve disk space: %s", self.topic, self.queue_id, e)

    def destroy(self) -> None:
        for f in self.files.snapshot():
            f.destroy()
        self.files.files = []

    def close(self) -> None:
        self.files.close()


def _max_end(units: memoryview) -> int:
    """The largest phys + size of whole units (the last one's when they are in log order, but not assumed):
    one unpack of the whole run, no per-entry Python loop."""
    values: tuple[int, ...] = struct.unpack(">" + "qiq" * (len(units) // UNIT_SIZE), units)
    return max(map(_add, values[0::3], values[1::3]))


def _unit_valid(f: MappedFile, pos: int) -> bool:
    phys, size, _ = UNIT.unpack_from(f.view, pos)
    return bool(phys >= 0 and size > 0)


def _valid_end(f: MappedFile) -> tuple[int, bool]:
    """Byte position of the first entry with offset < 0 or size <= 0 (zeros end the queue).

    Binary search when the file looks well formed (valid entries without a hole, then only zeros), which keeps
    opening thousands of queues fast; Java's linear scan otherwise.  The flag says whether it was well formed
    (if not, entries after a hole were dropped and must come back from the commit log).
    """
    view = f.view
    n = f.size // UNIT_SIZE
    lo, hi = 0, n  # entries [0, lo) valid, [hi, n) invalid
    while lo < hi:
        mid = (lo + hi) // 2
        if _unit_valid(f, mid * UNIT_SIZE):
            lo = mid + 1
        else:
            hi = mid
    pos = lo * UNIT_SIZE
    tail = f.mm[pos : min(f.size, pos + 64 * 1024)]
    # No valid entry holds 20 zero bytes in a row, even across entries (size > 0 interrupts any run of
    # tags + phys zeros at 19 bytes), so a zero run before ``pos`` means a hole: scan linearly then.
    clean = tail.count(0) == len(tail) and f.mm.find(_ZERO_UNIT, 0, pos) < 0
    if not clean:
        pos = 0
        for phys, size, _ in UNIT.iter_unpack(view):
            if phys < 0 or size <= 0:
                break
            pos += UNIT_SIZE
        if pos < f.size and any(view[pos : min(f.size, pos + 4096)]):
            zero_range(f.mm, pos, f.size)  # garbage after the end would be mistaken for entries later
    return pos, clean
