"""Disk blocks reserved ahead of the writer in sparse store files, and Java's file warm-up (issue 12).

Java's store files are sparse (``MappedFile`` maps a file ``RandomAccessFile.setLength`` made), so a full disk
surfaces as SIGBUS when an mmap write lands in a hole the filesystem cannot fill.  rocketpy keeps the files
sparse too but reserves their blocks (``posix_fallocate``) in chunks ahead of the writer: a full disk then fails
at a reservation, before a byte is written, and the store refuses the message cleanly.

``MappedFile.allocated`` is how far (from byte 0) a file's blocks are reserved; ``MappedFile.limit`` is the
writer's fast-path bound (one int comparison per append: below it nothing is due).  The commit log's writer
calls ``AheadAllocator.ensure`` when it reaches its limit; a worker thread reserves the next chunk while the
writer fills the current one, so the synchronous reservation is only the fallback when the writer catches up.
``warm`` mirrors ``MappedFile.warmMappedFile`` (``warmMapedFileEnable``): the whole file reserved and its pages
pre-faulted by writes, forced to disk every ``flushLeastPagesWhenWarmMapedFile`` pages under SYNC_FLUSH.
"""

from __future__ import annotations

import errno
import logging
import mmap
import os
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rocketpy.store.mapped_file import MappedFile

log = logging.getLogger("rocketpy.store")

# A reservation costs ~1-2 us on ext4 (metadata only), a worker thread ~45 us: per message either is noise, so
# the chunk is chosen for the disk it holds ahead (at most two chunks per file being written) and the time the
# worker has before the writer catches up (~1 s at the store's top append rate); docs/store.md.
COMMITLOG_CHUNK = 4 * 1024 * 1024
CONSUME_QUEUE_CHUNK = 64 * 1024  # 3,276 entries; the flush thread reserves at least this much ahead
OS_PAGE_SIZE = 4096
_WARM_STEP = 16 * 1024 * 1024  # pages pre-faulted per call, the GIL released between calls
_MADV_POPULATE_WRITE = getattr(mmap, "MADV_POPULATE_WRITE", 23)  # Linux 5.14+; Python 3.13 names it
_UNSUPPORTED = frozenset({errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS})


def fallocate(fd: int, start: int, length: int) -> bool:
    """Reserve [start, start + length) of ``fd``; False if the filesystem cannot reserve (nothing to gain then).

    A full disk (ENOSPC, EDQUOT, EFBIG) raises ``OSError``."""
    try:
        os.posix_fallocate(fd, start, length)
    except OSError as e:
        if e.errno not in _UNSUPPORTED:
            raise
        log.debug("posix_fallocate unsupported here: %s", e)
        return False
    return True


def reserve(f: MappedFile, end: int, fd: int | None = None) -> None:
    """Make [0, end) of ``f`` reserved (``end`` <= ``f.size``); raises ``OSError`` on a full disk."""
    if end <= f.allocated:
        return
    ok = fallocate(f.fd if fd is None else fd, f.allocated, end - f.allocated)
    f.allocated = end if ok else f.size


def reserve_dup(f: MappedFile, end: int) -> None:
    """``reserve`` from another thread than the writer's: through a duplicate of the descriptor, checked to be
    the file's, so that a file closed meanwhile (its number reused by another file) is never the one extended."""
    fd = f.fd
    if fd < 0:
        return
    try:
        dup = os.dup(fd)
    except OSError:  # closed meanwhile
        return
    try:
        st = os.fstat(dup)
        if (st.st_dev, st.st_ino) == f.identity:
            reserve(f, end, dup)
    finally:
        os.close(dup)


class AheadAllocator:
    """The next chunk of the file being written, reserved by a worker thread (one at a time) while the writer
    fills the current chunk: the chunk-sized counterpart of ``AllocateMappedFileService``."""

    def __init__(self, chunk: int) -> None:
        self.chunk = chunk
        self._thread: threading.Thread | None = None

    def ensure(self, f: MappedFile, need: int) -> None:
        """The writer reached ``f.limit``: make [0, need) reserved (waiting for the worker, then reserving here
        if it is still short; ``OSError`` on a full disk), start the worker on the next chunk when less than
        one chunk is left ahead, and move ``f.limit`` to what is reserved now."""
        self.join()
        if need > f.allocated:
            try:
                reserve(f, min(f.size, need + self.chunk))
            except OSError:
                reserve(f, need)  # a nearly full disk: at least this message, or the clean refusal
        f.limit = f.allocated
        if f.allocated < f.size and f.allocated - need < self.chunk:
            end = min(f.size, f.allocated + self.chunk)
            self._thread = threading.Thread(target=self._run, args=(f, end), name="rocketpy-reserve", daemon=True)
            self._thread.start()

    @staticmethod
    def _run(f: MappedFile, end: int) -> None:
        try:
            reserve_dup(f, end)
        except OSError as e:  # the writer's own reservation will meet it again and refuse cleanly
            log.warning("%s: cannot reserve disk blocks up to %d: %s", f.path, end, e)

    def join(self) -> None:
        """Wait for the worker (from the writer, or from a thread about to close or delete files)."""
        t = self._thread
        if t is not None:
            t.join()


def warm(f: MappedFile, sync_flush: bool, flush_pages: int) -> None:
    """``MappedFile.warmMappedFile``: reserve the whole file and write-fault every page (zeros, as Java's
    ``put(i, 0)``); under SYNC_FLUSH force to disk every ``flush_pages`` pages and at the end.  Runs in the
    thread that builds the file, never on the event loop."""
    reserve(f, f.size)
    step = max(OS_PAGE_SIZE, min(_WARM_STEP, flush_pages * OS_PAGE_SIZE))
    flushed = 0
    for pos in range(0, f.size, step):
        n = min(step, f.size - pos)
        try:
            f.mm.madvise(_MADV_POPULATE_WRITE, pos, n)
        except OSError:  # an older kernel: touch each page as Java does
            for i in range(pos, pos + n, OS_PAGE_SIZE):
                f.mm[i] = 0
        if sync_flush and pos + n < f.size and (pos + n - flushed) // OS_PAGE_SIZE >= flush_pages:
            os.fdatasync(f.fd)
            flushed = pos + n
        time.sleep(0)  # Java's Thread.sleep(0): let the event loop's thread take the GIL
    if sync_flush:
        os.fdatasync(f.fd)
