"""The message key index (``IndexFile``, ``IndexHeader``, ``IndexService``).

File ``index/<yyyyMMddHHmmssSSS>`` (local time of creation), big-endian::

    header (40 bytes)
      0  8  beginTimestamp   store time of the first entry
      8  8  endTimestamp     store time of the newest entry
     16  8  beginPhyOffset
     24  8  endPhyOffset     commit-log offset of the newest indexed record
     32  4  hashSlotCount    slots in use
     36  4  indexCount       next entry number; starts at 1 (entry 0 is never used)
    slots: maxHashSlotNum x int32, the number of the newest entry whose key hashes there (0 = empty)
    entries: maxIndexNum x 20 bytes: keyHash i32, phyOffset i64, timeDiff i32 (s since beginTimestamp),
             prevIndex i32 (older entry of the same slot; 0 ends the chain)

Key = ``topic + "#" + key`` for UNIQ_KEY and each space-separated KEYS value; keyHash = abs(String.hashCode)
(0 for Integer.MIN_VALUE), slot = keyHash % maxHashSlotNum.  Unlike Java, the header is rewritten on every put
(Java only at flush), so a kill -9 never leaves a header that disagrees with the entries.
"""

from __future__ import annotations

import logging
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from rocketpy.common.java import java_string_hash_uncached
from rocketpy.store.format import TRANSACTION_MASK, TRANSACTION_ROLLBACK_TYPE, DispatchInfo
from rocketpy.store.mapped_file import MappedFile, fsync_dir, make_dirs

log = logging.getLogger("rocketpy.store")

HEADER = struct.Struct(">qqqqii")
HEADER_SIZE = 40
assert HEADER.size == HEADER_SIZE
ENTRY = struct.Struct(">iqii")
ENTRY_SIZE = 20
assert ENTRY.size == ENTRY_SIZE
SLOT = struct.Struct(">i")
_INT_MAX = 2**31 - 1
_pack_header, _pack_entry = HEADER.pack_into, ENTRY.pack_into
_pack_slot, _unpack_slot = SLOT.pack_into, SLOT.unpack_from
_LOW = bytes(b"0123456789abcdefghijklmnopqrstu"[c % 31] for c in range(256))  # base-31 digits of a byte
_HIGH = bytes(b"0123456789abcdefghijklmnopqrstu"[c // 31 % 31] for c in range(256))


def index_key_hash(key: str) -> int:
    """``IndexFile.indexKeyHashMethod``: Math.abs of the Java hash, 0 when abs overflows.

    Uncached: index keys (topic#UNIQ_KEY, topic#KEYS) rarely repeat, so a cache would only churn.  ASCII keys
    (nearly all) take the ``int(digits, 31)`` formulation of ``java.py`` inline, unsigned: abs of the signed
    value is 2**32 - h for the upper half, and Integer.MIN_VALUE (2**31) stays negative in Java, hence 0."""
    if key.isascii() and 0 < len(key) <= 4000:
        b = key.encode()
        h = (int(b.translate(_LOW), 31) + 31 * int(b.translate(_HIGH), 31)) & 0xFFFFFFFF
        if h < 0x80000000:
            return h
        return 0 if h == 0x80000000 else 0x100000000 - h
    s = java_string_hash_uncached(key)
    return 0 if s == -(2**31) else abs(s)


def time_to_name(ms: int) -> str:
    """``UtilAll.timeMillisToHumanString``: local time yyyyMMddHHmmssSSS."""
    return time.strftime("%Y%m%d%H%M%S", time.localtime(ms / 1000)) + f"{ms % 1000:03d}"


@dataclass
class IndexHeader:
    begin_timestamp: int = 0
    end_timestamp: int = 0
    begin_phy_offset: int = 0
    end_phy_offset: int = 0
    hash_slot_count: int = 0
    index_count: int = 1


class IndexFile:
    """One index file; ``put_key`` returns False when it is full."""

    def __init__(self, path: Path, slots: int, entries: int, create: bool, sync: bool = True) -> None:
        self.slots = slots
        self.entries = entries
        self.mf = MappedFile(path, 0, HEADER_SIZE + slots * 4 + entries * ENTRY_SIZE, create, sync=sync)
        self.view = self.mf.view
        self.header = IndexHeader(*HEADER.unpack_from(self.view, 0))
        if create and self.header.index_count == 0:
            self.header = IndexHeader()

    @property
    def path(self) -> Path:
        return self.mf.path

    @property
    def full(self) -> bool:
        return self.header.index_count >= self.entries

    @property
    def empty(self) -> bool:
        return self.header.index_count <= 1

    def _write_header(self) -> None:
        h = self.header
        HEADER.pack_into(
            self.view,
            0,
            h.begin_timestamp,
            h.end_timestamp,
            h.begin_phy_offset,
            h.end_phy_offset,
            h.hash_slot_count,
            h.index_count,
        )

    def put_key(self, key: str, phy_offset: int, store_timestamp: int) -> bool:
        return self.put_keys([key], phy_offset, store_timestamp) == 1

    def put_keys(self, keys: list[str], phy_offset: int, store_timestamp: int) -> int:
        """Index ``keys`` of one record; returns how many fit (the file is full after fewer than all).

        Entries first, then the header that counts them, then the slots that point to them: a kill in between
        leaves either unreferenced entries beyond indexCount (overwritten by the next put) or counted entries
        a slot does not reach yet, which recovery's rollback of the last record repairs.  Never a slot
        pointing at a reusable entry.  Written for the append path: no per-key calls beyond the hash.
        """
        h = self.header
        count = h.index_count
        room = self.entries - count
        if room <= 0:
            return 0
        if len(keys) > room:
            keys = keys[:room]
        view, slots = self.view, self.slots
        entry_pos = HEADER_SIZE + slots * 4 + count * ENTRY_SIZE
        begin = h.begin_timestamp
        pending: dict[int, int] = {}  # slot position -> entry number, written after the header
        new_slots = 0
        for key in keys:
            key_hash = index_key_hash(key)
            slot_pos = HEADER_SIZE + key_hash % slots * 4
            slot_value = pending.get(slot_pos)
            if slot_value is None:
                slot_value = _unpack_slot(view, slot_pos)[0]
                if slot_value <= 0 or slot_value > count:
                    slot_value = 0
            delta = store_timestamp - begin
            diff = 0 if begin <= 0 or delta < 0 else min(delta // 1000, _INT_MAX)
            if count <= 1:  # after the diff, as Java: a rolled file's first diff is from the inherited begin
                h.begin_phy_offset = phy_offset
                h.begin_timestamp = begin = store_timestamp
            _pack_entry(view, entry_pos, key_hash, phy_offset, diff, slot_value)
            entry_pos += ENTRY_SIZE
            if slot_value == 0:
                new_slots += 1
            pending[slot_pos] = count
            count += 1
        h.hash_slot_count += new_slots
        h.index_count = count
        h.end_phy_offset, h.end_timestamp = phy_offset, store_timestamp
        _pack_header(view, 0, begin, store_timestamp, h.begin_phy_offset, phy_offset, h.hash_slot_count, count)
        for slot_pos, entry_no in pending.items():
            _pack_slot(view, slot_pos, entry_no)
        return len(keys)

    def rollback(self, phy_offset: int) -> int:
        """Remove the newest entries whose record is at or past ``phy_offset``; returns how many.

        Entries are appended in log order and each is the head of its slot's chain when removed newest first,
        so restoring the slot to the entry's prevIndex undoes the put exactly.  endTimestamp comes back from
        the entry's timeDiff, so it is rounded down to the second.
        """
        h = self.header
        base = HEADER_SIZE + self.slots * 4
        removed = 0
        while h.index_count > 1:
            pos = base + (h.index_count - 1) * ENTRY_SIZE
            key_hash, phy, _, prev = ENTRY.unpack_from(self.view, pos)
            if phy < phy_offset:
                break
            SLOT.pack_into(self.view, HEADER_SIZE + (key_hash % self.slots) * 4, prev)
            if prev == 0:
                h.hash_slot_count -= 1
            self.view[pos : pos + ENTRY_SIZE] = bytes(ENTRY_SIZE)
            h.index_count -= 1
            removed += 1
        if removed and h.index_count > 1:
            _, phy, diff, _ = ENTRY.unpack_from(self.view, base + (h.index_count - 1) * ENTRY_SIZE)
            h.end_phy_offset, h.end_timestamp = phy, h.begin_timestamp + diff * 1000
        elif removed:
            h.end_phy_offset, h.end_timestamp = h.begin_phy_offset, h.begin_timestamp
        if removed:
            self._write_header()
        return removed

    def time_matched(self, begin: int, end: int) -> bool:
        h = self.header
        return (
            (begin < h.begin_timestamp and end > h.end_timestamp)
            or h.begin_timestamp <= begin <= h.end_timestamp
            or h.begin_timestamp <= end <= h.end_timestamp
        )

    def select(self, out: list[int], key: str, max_num: int, begin: int, end: int) -> None:
        """``selectPhyOffset``: walk the slot's chain newest first, keeping matches within [begin, end]."""
        h = self.header
        key_hash = index_key_hash(key)
        nxt = SLOT.unpack_from(self.view, HEADER_SIZE + (key_hash % self.slots) * 4)[0]
        if nxt <= 0 or nxt > h.index_count or h.index_count <= 1:
            return
        base = HEADER_SIZE + self.slots * 4
        while len(out) < max_num:
            kh, phy, diff, prev = ENTRY.unpack_from(self.view, base + nxt * ENTRY_SIZE)
            if diff < 0:
                break
            t = h.begin_timestamp + diff * 1000
            if kh == key_hash and begin <= t <= end:
                out.append(phy)
            if prev <= 0 or prev > h.index_count or prev == nxt or t < begin:
                break
            nxt = prev

    def flush(self) -> None:
        self.mf.flushed = 0
        self.mf.flush(self.mf.size)
        # the entries written so far are appended and done with; the header and the hash slots stay mapped
        entries = HEADER_SIZE + self.slots * 4
        self.mf.release_below(entries + self.header.index_count * ENTRY_SIZE, start=entries)

    def close(self) -> None:
        self.mf.close()

    def destroy(self) -> None:
        self.mf.destroy()


class IndexService:
    """The list of index files, oldest first (``IndexService``)."""

    def __init__(self, directory: Path, slots: int, entries: int) -> None:
        self.dir = directory
        self.slots = slots
        self.entries = entries
        self.files: list[IndexFile] = []
        self.on_file_full: list[IndexFile] = []  # full files not yet flushed (checkpoint indexMsgTimestamp)
        self.unsynced_dirs: list[Path] = []  # directories of new files, fsynced by the next flush

    def load(self) -> None:
        if not self.dir.is_dir():
            return
        size = HEADER_SIZE + self.slots * 4 + self.entries * ENTRY_SIZE
        for p in sorted(self.dir.iterdir()):
            if not p.is_file() or not p.name.isdigit():
                continue
            if p.stat().st_size != size:
                log.warning("index file %s has size %d, expected %d; rebuilt", p, p.stat().st_size, size)
                p.unlink()
                continue
            self.files.append(IndexFile(p, self.slots, self.entries, create=False))

    @property
    def end_phy_offset(self) -> int:
        """Offset of the newest indexed record, or -1 if nothing was ever indexed."""
        for f in reversed(self.files):
            if not f.empty:
                return f.header.end_phy_offset
        return -1

    def _writable(self) -> IndexFile:
        last = self.files[-1] if self.files else None
        if last is not None and not last.full:
            return last
        now = int(time.time() * 1000)
        path = self.dir / time_to_name(now)
        while path.exists():
            now += 1
            path = self.dir / time_to_name(now)
        # Sparse and not synced here (this runs on the broker's event loop): ``flush`` makes the creation durable
        # before the checkpoint counts on the file.
        self.unsynced_dirs.extend(make_dirs(self.dir))
        self.unsynced_dirs.append(self.dir)
        f = IndexFile(path, self.slots, self.entries, create=True, sync=False)
        if last is not None:  # a new file continues from the previous one (``getAndCreateLastIndexFile``)
            f.header.begin_phy_offset = f.header.end_phy_offset = last.header.end_phy_offset
            f.header.begin_timestamp = f.header.end_timestamp = last.header.end_timestamp
            f._write_header()
            self.on_file_full.append(last)
        self.files.append(f)
        return f

    def build_index(self, info: DispatchInfo) -> None:
        """``buildIndex``: skip already indexed and rollback records, then UNIQ_KEY and every KEYS value."""
        self.build_index_keys(info.topic, info.phys_offset, info.store_timestamp, info.sys_flag, info.keys,
                              info.uniq_key)  # fmt: skip

    def build_index_keys(
        self, topic: str, phys_offset: int, store_timestamp: int, sys_flag: int, keys_prop: str | None,
        uniq_key: str | None,
    ) -> None:  # fmt: skip
        """``build_index`` from the record's fields (the append path has no DispatchInfo)."""
        files = self.files
        last = files[-1] if files else None
        end = last.header.end_phy_offset if last is not None and last.header.index_count > 1 else self.end_phy_offset
        if phys_offset <= end:
            return
        if sys_flag & TRANSACTION_MASK == TRANSACTION_ROLLBACK_TYPE:
            return
        prefix = topic + "#"
        keys = [prefix + uniq_key] if uniq_key else []
        if keys_prop:
            if " " in keys_prop:
                keys.extend([prefix + k for k in keys_prop.split(" ") if k])
            else:  # one key: the usual case
                keys.append(prefix + keys_prop)
        while keys:
            f = last if last is not None and last.header.index_count < last.entries else self._writable()
            done = f.put_keys(keys, phys_offset, store_timestamp)
            if done == len(keys):
                return
            keys = keys[done:]
            last = None

    def query(self, topic: str, key: str, max_num: int, begin: int, end: int) -> tuple[list[int], int, int]:
        """``queryOffset``: newest files first; returns (offsets, last update time, last update offset)."""
        out: list[int] = []
        last_ts = last_phy = 0
        for i, f in enumerate(reversed(self.files)):
            if i == 0:
                last_ts, last_phy = f.header.end_timestamp, f.header.end_phy_offset
            if f.time_matched(begin, end):
                f.select(out, f"{topic}#{key}", max_num, begin, end)
            if f.header.begin_timestamp < begin or len(out) >= max_num:
                break
        return out, last_ts, last_phy

    def drop_after(self, phy_offset: int) -> int:
        """Remove entries for records at or past ``phy_offset`` (they were cut); returns the entry count."""
        n = 0
        for f in reversed(self.files):
            if f.empty:  # a file rolled to just before a crash: the record's first keys are in the previous one
                continue
            if f.header.end_phy_offset < phy_offset:
                break
            removed = f.rollback(phy_offset)
            log.warning(
                "index file %s: %d entries at or past offset %d removed (re-indexed from the log)",
                f.path.name,
                removed,
                phy_offset,
            )
            n += removed
        return n

    def delete_expired(self, commitlog_min: int) -> int:
        """Delete files whose newest record is older than the commit log's first (``deleteExpiredFile``)."""
        n = 0
        while len(self.files) > 1 and self.files[0].header.end_phy_offset < commitlog_min:
            gone = self.files.pop(0)
            self.on_file_full = [f for f in self.on_file_full if f is not gone]
            gone.destroy()
            n += 1
        return n

    def flush(self) -> int:
        """Flush the newest file and any file that filled up; returns the newest full file's endTimestamp."""
        full_ts = 0
        synced: set[Path] = set()
        while self.unsynced_dirs:  # list.pop is atomic: the event loop may append meanwhile
            d = self.unsynced_dirs.pop(0)
            if d not in synced:
                synced.add(d)
                fsync_dir(d)
        for f in self.on_file_full:
            f.flush()
            full_ts = max(full_ts, f.header.end_timestamp)
        self.on_file_full = []
        if self.files:
            self.files[-1].flush()
        return full_ts

    def close(self) -> None:
        for f in self.files:
            f.close()
        self.files = []
