"""Repairing the newest index file after a crash (rocketpy's answer to Java's "destroy and rebuild").

Java destroys every index file newer than the checkpoint's indexMsgTimestamp after an abnormal exit (i.e. the
current file, always) and re-indexes only from the recovery scan start, so keys in between are lost.  Here the
newest file is checked and repaired in place; only an entry lost outright makes it be rebuilt:

* kill -9: entries, header and slots are in the page cache, written in that order per record, so at most the
  newest record is partly indexed (recovery rolls it back and indexes it again) or the header's end fields are
  ahead of indexCount (taken back from the last counted entry).
* power failure: a page that was not written back reverts to its older content.  Entries are written once, so
  a lost entry page reads as zeros (detected: the file is rebuilt); a lost header page undercounts entries
  (recounted from the non-zero entries after it); a lost slot page holds stale pointers to older entries of the
  same chains (re-linked: each slot is set to the newest entry of the window that hashes there, the entries'
  own prev links being intact).  The window is every entry stored from 10 s before the checkpoint's logics
  time on (the index is flushed with the consume queues, before that checkpoint is written).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from rocketpy.store.index import ENTRY, ENTRY_SIZE, HEADER_SIZE, SLOT, IndexFile

if TYPE_CHECKING:
    from rocketpy.store.index import IndexService

log = logging.getLogger("rocketpy.store")

_ZERO_ENTRY = bytes(ENTRY_SIZE)
WINDOW_MARGIN_MS = 10_000


def repair_newest_file(svc: IndexService, flushed_before_ms: int) -> int:
    """Check and repair the newest index file; returns 1 if it had to be deleted (to be rebuilt), else 0."""
    if not svc.files or svc.files[-1].empty:
        return 0
    f = svc.files[-1]
    count = _recount(f)
    first = _first_in_window(f, count, flushed_before_ms - WINDOW_MARGIN_MS)
    base = HEADER_SIZE + f.slots * 4
    if _has_zero_entry(f, base + first * ENTRY_SIZE, base + count * ENTRY_SIZE, base):
        log.warning("index file %s: an entry was lost (power failure?); the file is rebuilt", f.path.name)
        svc.files.pop().destroy()
        return 1
    h = f.header
    changed = count != h.index_count
    for k in range(first, count):
        key_hash = ENTRY.unpack_from(f.view, base + k * ENTRY_SIZE)[0]
        slot_pos = HEADER_SIZE + (key_hash % f.slots) * 4
        if SLOT.unpack_from(f.view, slot_pos)[0] < k:  # stale: points to an older entry of the chain
            SLOT.pack_into(f.view, slot_pos, k)
            changed = True
    _, phy, diff, _ = ENTRY.unpack_from(f.view, base + (count - 1) * ENTRY_SIZE)
    if changed or phy != h.end_phy_offset:
        log.warning("index file %s repaired: %d -> %d entries, end offset %d", f.path.name, h.index_count, count, phy)
        h.index_count = count
        h.end_phy_offset, h.end_timestamp = phy, h.begin_timestamp + diff * 1000
        f._write_header()
    return 0


def _recount(f: IndexFile) -> int:
    """indexCount from the entries: the header page may be older than the entries after it."""
    base = HEADER_SIZE + f.slots * 4
    count = max(f.header.index_count, 1)
    end = base + f.entries * ENTRY_SIZE
    pos = f.mf.mm.find(_ZERO_ENTRY, base + count * ENTRY_SIZE, end)
    while pos >= 0 and (pos - base) % ENTRY_SIZE:
        pos = f.mf.mm.find(_ZERO_ENTRY, pos + 1, end)
    return f.entries if pos < 0 else (pos - base) // ENTRY_SIZE


def _first_in_window(f: IndexFile, count: int, since_ms: int) -> int:
    """First entry stored at or after ``since_ms`` (binary search on timeDiff, which grows with the log)."""
    base = HEADER_SIZE + f.slots * 4
    lo, hi = 1, count
    if since_ms <= 0:
        return lo
    begin = f.header.begin_timestamp
    while lo < hi:
        mid = (lo + hi) // 2
        diff = ENTRY.unpack_from(f.view, base + mid * ENTRY_SIZE)[2]
        if begin + diff * 1000 < since_ms:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _has_zero_entry(f: IndexFile, start: int, end: int, base: int) -> bool:
    pos = f.mf.mm.find(_ZERO_ENTRY, start, end)
    while pos >= 0:
        if (pos - base) % ENTRY_SIZE == 0:
            return True
        pos = f.mf.mm.find(_ZERO_ENTRY, pos + 1, end)
    return False
