"""Commit-log recovery (``CommitLog.recoverNormally`` / ``recoverAbnormally``), with a safer cutting policy.

Scan window: after a clean exit the last 3 files (Java); after a crash, from the newest file whose first record
was stored at least 3 s before the checkpoint's min(physic, logics) time (Java's ``isMappedFileMatchedRecover``),
else from the first file.  Every record in the window is checked for magic, total length, PHYSICALOFFSET and
body CRC.

Where Java truncates at the first bad record and deletes every later file, rocketpy:
  * keeps a record whose body CRC (or text) is bad but whose structure is sound when a good record follows it:
    it stays in the log (offsets do not move) but is not dispatched, and is reported;
  * ends a file early at a structural break when a later file holds good records: the break becomes a blank
    record (``[remaining][BLANK_MAGIC]``, which Java also reads as "continue in the next file");
  * cuts only the tail after the last good record of the newest file with good records, zeroing it (so stale
    records can never reappear behind new appends), and deletes later files that hold no good record.
Every cut byte range that is not all zero is copied to ``<store>/lost/`` first and described in
``lost/lost.log`` (one JSON line per range: offset, length, reason, well-formed records found inside).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from rocketpy.store.checkpoint import StoreCheckpoint
from rocketpy.store.commitlog import CommitLog
from rocketpy.store.format import (
    MESSAGE_MAGIC,
    DispatchInfo,
    RecordCheck,
    RecordError,
    check_record,
    pack_blank,
    read_store_timestamp,
)
from rocketpy.store.mapped_file import MappedFile, zero_range

log = logging.getLogger("rocketpy.store")

_SKIPPABLE = (RecordError.BAD_CRC, RecordError.BAD_TEXT)
_MAGIC_BYTES = (MESSAGE_MAGIC & 0xFFFFFFFF).to_bytes(4, "big")


@dataclass(frozen=True)
class LostRange:
    """Bytes removed from the commit log by recovery."""

    offset: int
    length: int
    reason: str
    records_inside: int
    saved_to: str | None


@dataclass
class RecoveryReport:
    last_exit_ok: bool = True
    scan_from: int = 0
    max_offset: int = 0
    records_checked: int = 0
    cut: list[LostRange] = field(default_factory=list)
    skipped: list[tuple[int, int, str]] = field(default_factory=list)  # (offset, size, reason), kept in place
    blanked: list[int] = field(default_factory=list)  # offsets where an older file was ended by a blank record
    cq_entries_dropped: int = 0
    index_entries_dropped: int = 0
    index_files_dropped: int = 0
    dispatch_from: int = 0
    dispatched: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # records not dispatched: (offset, why)

    @property
    def lost_bytes(self) -> int:
        return sum(r.length for r in self.cut)


@dataclass
class _FileScan:
    end: int  # first byte after the last good record (or a blank record's position)
    last_start: int  # start of the last good record
    blank: bool  # the file ends with a blank record at ``end``
    good: int  # count of good records
    error: str = ""
    skipped: list[tuple[int, int, str]] = field(default_factory=list)


def iter_file(
    f: MappedFile, pos: int, limit: int, check_crc: bool, delay: dict[int, int] | None
) -> Iterator[tuple[int, RecordCheck]]:
    """(position, check) for each record from ``pos``; stops after a blank, an error or ``limit``."""
    while pos < limit:
        r = check_record(f.view[:limit], pos, f.file_from, check_crc, delay, strict_text=True)
        yield pos, r
        if r.blank or r.size == 0:
            return
        pos += r.size


def scan_file(f: MappedFile, check_crc: bool, delay: dict[int, int] | None) -> _FileScan:
    """Validate one file; bad-CRC records count as skipped only when a good record follows them."""
    end, good, pending = 0, 0, []
    result = _FileScan(0, 0, False, 0)
    for pos, r in iter_file(f, 0, f.size, check_crc, delay):
        if r.blank:
            result.blank = True
            end = pos
            break
        if r.error in _SKIPPABLE:
            pending.append((f.file_from + pos, r.size, r.error.value if r.error else ""))
            continue
        if r.error is not None:
            result.error = r.error.value
            break
        good += 1
        result.skipped.extend(pending)
        pending = []
        result.last_start, end = pos, pos + r.size
    if pending and not result.blank:
        result.error = result.error or pending[0][2]
    elif pending:
        result.skipped.extend(pending)
    result.end, result.good = end, good
    return result


def scan_start(commitlog: CommitLog, cp: StoreCheckpoint, last_exit_ok: bool) -> int:
    """Index of the first file to scan."""
    files = commitlog.files.files
    if last_exit_ok:
        return max(0, len(files) - 3)
    for i in range(len(files) - 1, -1, -1):
        f = files[i]
        if f.view[4:8] == _MAGIC_BYTES:
            ts = read_store_timestamp(f.view, 0)
            if ts != 0 and ts <= cp.min_timestamp:
                return i
    return 0


def recover_commitlog(
    commitlog: CommitLog,
    cp: StoreCheckpoint,
    last_exit_ok: bool,
    lost_dir: Path,
    check_crc: bool = True,
    delay: dict[int, int] | None = None,
) -> RecoveryReport:
    """Set the commit log's write position to the end of its valid records, cutting what is not."""
    report = RecoveryReport(last_exit_ok=last_exit_ok)
    files = commitlog.files.snapshot()
    if not files:
        return report
    start = scan_start(commitlog, cp, last_exit_ok)
    report.scan_from = files[start].file_from
    scans = [scan_file(f, check_crc, delay) for f in files[start:]]
    report.records_checked = sum(s.good for s in scans)
    with_data = [i for i, s in enumerate(scans) if s.good > 0 or s.blank]
    last = with_data[-1] if with_data else 0
    for i, (f, s) in enumerate(zip(files[start:], scans, strict=True)):
        report.skipped.extend(s.skipped)
        if i <= last and s.good and not s.blank and f.view[s.end - 1] == 0:
            # A record never ends in a zero byte (the topic or properties end it): the last one before a break
            # was torn by a lost page, in the part the body CRC does not cover.
            s.end, s.error = s.last_start, "torn record (ends in zero bytes)"
        if i < last:
            if not s.blank:
                _cut(f, s.end, s.error or "file ends without a blank record", lost_dir, report, blank=True)
            f.wrote = f.flushed = f.size
        elif i == last:
            _cut(f, s.end, s.error or "torn tail", lost_dir, report, blank=False)
            f.wrote = f.flushed = s.end
        else:
            _cut(f, 0, s.error or "no valid record", lost_dir, report, blank=False)
    for f in files[start + last + 1 :]:
        commitlog.files.files.remove(f)
        f.destroy()
    report.max_offset = commitlog.max_offset
    commitlog.flushed_where = report.max_offset
    for r in report.skipped:
        log.error("commit log record at %d (%d bytes) is corrupt (%s): kept, not dispatched", *r)
    return report


def _cut(f: MappedFile, pos: int, reason: str, lost_dir: Path, report: RecoveryReport, blank: bool) -> None:
    """Remove [pos, end of data) from ``f``: save it to lost/, zero it, optionally close the file with a blank."""
    data_end = _last_nonzero(f, pos) if not (blank and pos == f.size) else pos
    if data_end > pos:
        inside = bytes(f.view[pos:data_end]).count(_MAGIC_BYTES)
        saved = _save_lost(lost_dir, f.file_from + pos, f.view[pos:data_end], reason, inside)
        report.cut.append(LostRange(f.file_from + pos, data_end - pos, reason, inside, saved))
        log.error(
            "recovery cut %d bytes at commit-log offset %d (%s; %d record magics inside); saved to %s",
            data_end - pos,
            f.file_from + pos,
            reason,
            inside,
            saved,
        )
        zero_range(f.mm, pos, data_end)
    if blank and f.size - pos >= 8:
        pack_blank(f.view, pos, f.size - pos)
        report.blanked.append(f.file_from + pos)


def _last_nonzero(f: MappedFile, start: int) -> int:
    """One past the last non-zero byte of ``f`` at or after ``start`` (scans backwards in 1 MiB steps)."""
    end = f.size
    step = 1 << 20
    while end > start:
        lo = max(start, end - step)
        chunk = bytes(f.view[lo:end])
        stripped = chunk.rstrip(b"\0")
        if stripped:
            return lo + len(stripped)
        end = lo
    return start


def _save_lost(lost_dir: Path, offset: int, data: memoryview, reason: str, inside: int) -> str:
    lost_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d%H%M%S")
    path = lost_dir / f"{stamp}-{offset:020d}.bin"
    path.write_bytes(data)
    entry = {
        "time": stamp,
        "offset": offset,
        "length": len(data),
        "reason": reason,
        "records_inside": inside,
        "file": path.name,
    }
    with (lost_dir / "lost.log").open("ab") as fh:
        fh.write(orjson.dumps(entry) + b"\n")
    return str(path)


def iter_dispatch(
    commitlog: CommitLog, start: int, check_crc: bool, delay: dict[int, int] | None, report: RecoveryReport
) -> Iterator[DispatchInfo]:
    """Good records from ``start`` to the end of the log, crossing blank file ends; bad ones are reported."""
    for f in commitlog.files.snapshot():
        if f.end_offset <= start:
            continue
        pos = max(start - f.file_from, 0)
        known = {off for off, _, _ in report.skipped}
        for p, r in iter_file(f, pos, f.wrote, check_crc, delay):
            if r.info is not None:
                yield r.info
            elif r.error is not None and f.file_from + p not in known:
                report.rejected.append((f.file_from + p, r.error.value))
