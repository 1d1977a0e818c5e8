"""Fixed-size memory-mapped files named by their 20-digit start offset (``MappedFile``, ``MappedFileQueue``).

Why mmap: an append is a memcpy into the page cache (it survives kill -9 the moment the copy returns, which is
what ASYNC_FLUSH acknowledges), reads are zero-copy ``memoryview`` slices the broker can hand to the socket, and
``msync`` of a dirty range is the flush.  ``docs/store.md`` has the pwrite comparison.

Java refuses to load a queue whose files are not exactly ``mappedFileSize`` long, so every file is created at
full size, sparse as Java's; a queue with ``reserve_chunk`` reserves its blocks in chunks ahead of the writer
(``allocate.py``) so that a full disk fails at a reservation, not with SIGBUS on an mmap write.

Nothing slow happens on the caller's thread (the broker appends on its event loop): a queue created with
``prepare_ahead`` (the commit log) builds its next file, first reservation and fsyncs included, in a worker thread
while the current one fills (Java's ``AllocateMappedFileService``), in a staging directory beside the queue's
(``commitlog.next``: no reader, listing or Java broker ever sees an unwritten file in ``commitlog``); taking it is
a rename.  The other queues (consume queues) create their
files sparse and leave the fsyncs that make a creation durable to their next ``flush``, which the flush thread runs
before any checkpoint counts on them.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import mmap
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from rocketpy.store.allocate import AheadAllocator, reserve, reserve_dup

log = logging.getLogger("rocketpy.store")


def offset_to_name(offset: int) -> str:
    """``UtilAll.offset2FileName``."""
    return f"{offset:020d}"


class StoreError(Exception):
    """The store directory is unusable (wrong file sizes, locked, unreadable): a clear refusal to start."""


class MappedFile:
    """One file mapped whole; ``wrote`` is the write position, ``flushed`` how far it was msync'ed."""

    def __init__(self, path: Path, file_from: int, size: int, create: bool, sync: bool = True) -> None:
        self.path = path
        self.file_from = file_from
        self.size = size
        fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o644)
        try:
            st = os.fstat(fd)
            actual = st.st_size
            if actual != size:
                if actual > size or (not create and actual != 0):
                    raise StoreError(f"{path}: size {actual}, expected {size}")
                os.ftruncate(fd, size)
                if sync:  # else the first flush's fdatasync makes the size durable
                    os.fdatasync(fd)  # the size is metadata a power failure could otherwise lose
            self.mm = mmap.mmap(fd, size)
        except BaseException:
            os.close(fd)
            raise
        # Kept open (one per file, as Java's FileChannel) for fdatasync: mmap.flush() holds the GIL during
        # msync, which stalled every thread for the whole flush and defeated group commit.
        self.fd = fd
        self.identity = (st.st_dev, st.st_ino)  # checked by a reservation from another thread (allocate.py)
        self.view = memoryview(self.mm)
        self.wrote = 0
        self.flushed = 0
        self.allocated = size  # blocks reserved from byte 0 (allocate.py); a reserving queue lowers it
        self.limit = size  # the writer's fast-path bound: below it no reservation (or other work) is due

    @property
    def end_offset(self) -> int:
        return self.file_from + self.size

    def flush(self, upto: int | None = None) -> None:
        """Make [flushed, upto) durable.  fdatasync writes the file's dirty pages, mmap-dirtied ones included,
        and releases the GIL while it waits for the disk."""
        upto = self.wrote if upto is None else upto
        fd = self.fd
        if upto <= self.flushed or fd < 0:
            return
        try:
            os.fdatasync(fd)
        except OSError as e:
            # closed meanwhile by another thread (an admin's cleanUnusedTopic destroying a consume queue while
            # the flush thread flushes it): nothing is left to flush
            if e.errno == errno.EBADF and self.fd < 0:
                return
            raise
        self.flushed = upto

    def release_below(self, upto: int, start: int = 0) -> None:
        """Let go of this process's mapping of the whole pages in [start, upto) (MADV_DONTNEED): written and
        flushed pages stay in the page cache, where the kernel keeps or drops them as for Java's files, but no
        longer count in the broker's resident set, which otherwise grows with every byte stored (a reader or a
        later write maps a page again, from the page cache). For what is appended and done with: not the index
        files' hash slots, written all over, which would be mapped again at once. madvise holds the GIL, so no
        Python or C writer of this process is inside such a page meanwhile."""
        page = mmap.PAGESIZE
        begin = -(-start // page) * page
        end = upto & ~(page - 1)
        if end <= begin or self.fd < 0:
            return
        with contextlib.suppress(ValueError, OSError):  # closed meanwhile (retention): nothing left to let go of
            self.mm.madvise(mmap.MADV_DONTNEED, begin, end - begin)

    def close(self) -> None:
        """Unmap; if the broker still holds slices of this file the mapping stays until they are dropped."""
        self.view.release()
        fd, self.fd = self.fd, -1  # -1 first: a flush racing this close sees the file closed
        if fd >= 0:
            os.close(fd)
        try:
            self.mm.close()
        except BufferError:
            log.debug("%s still has readers; unmapping deferred", self.path)

    def destroy(self) -> None:
        self.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs_durable(path: Path) -> None:
    """mkdir -p, fsyncing the parent of every directory created (a new file's name lives in its parent)."""
    for d in make_dirs(path):
        fsync_dir(d)


def make_dirs(path: Path) -> list[Path]:
    """mkdir -p without fsyncs; returns the directories to fsync (parents first) to make the creation durable."""
    missing = []
    p = path
    while not p.is_dir():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        d.mkdir(exist_ok=True)
    return [d.parent for d in reversed(missing)]


class _NextFile:
    """The next file of a queue being built by a worker thread (one ``AllocateRequest``)."""

    def __init__(self, queue: MappedFileQueue, file_from: int) -> None:
        self.file_from = file_from
        self.file: MappedFile | None = None
        self.error: OSError | None = None
        self._thread = threading.Thread(target=self._run, args=(queue,), name="rocketpy-allocate", daemon=True)
        self._thread.start()

    def _run(self, queue: MappedFileQueue) -> None:
        try:
            self.file = queue.build_file(self.file_from, staged=True)
        except OSError as e:
            self.error = e
        except Exception as e:  # a StoreError (a stray file of the wrong size): reported when the file is taken
            self.error = OSError(str(e))

    def join(self) -> None:
        self._thread.join()

    def take(self, directory: Path) -> MappedFile:
        """The built file moved into ``directory``, waiting for the worker if it is not done yet (Java waits up
        to 5 s, then fails).  The rename is durable once the queue's next flush fsyncs ``directory``."""
        self._thread.join()
        f = self.file
        if f is None:
            raise self.error or OSError(f"cannot create the file at {self.file_from}")
        final = directory / offset_to_name(self.file_from)
        os.rename(f.path, final)
        f.path = final
        return f

    def discard(self) -> None:
        """Remove a built file nobody took (at close), so that the store holds no file past its end."""
        self._thread.join()
        if self.file is not None:
            self.file.destroy()


_ZERO_CHUNK = bytes(1 << 20)


def zero_range(mm: mmap.mmap, start: int, end: int) -> None:
    """Zero [start, end) in 1 MiB steps, leaving already-zero chunks (sparse holes) untouched."""
    pos = start
    while pos < end:
        n = min(len(_ZERO_CHUNK), end - pos)
        if mm[pos : pos + n] != _ZERO_CHUNK[:n]:
            mm[pos : pos + n] = _ZERO_CHUNK[:n]
        pos += n


class MappedFileQueue:
    """The ordered files of one directory (``MappedFileQueue``); only the last file is being written."""

    def __init__(
        self,
        directory: Path,
        file_size: int,
        reserve_chunk: int = 0,
        prepare_ahead: bool = False,
        warm: Callable[[MappedFile], None] | None = None,
    ) -> None:
        """``reserve_chunk``: reserve blocks ahead of the writer in chunks of that size (0: plain sparse files,
        Java's behaviour); ``warm``: run on every new file instead (``warmMapedFileEnable``)."""
        self.dir = directory
        self.file_size = file_size
        self.reserve_chunk = reserve_chunk
        self.prepare_ahead = prepare_ahead
        self.warm = warm
        self.ahead = AheadAllocator(reserve_chunk)
        self._tail_seen = 0  # reserve_tail: the last file's write position at its previous call
        self.files: list[MappedFile] = []
        self.lock = threading.Lock()  # guards self.files against the flush/retention thread
        self._next: _NextFile | None = None  # prepare_ahead: the next file, built in a worker thread
        self.staging = directory.with_name(directory.name + ".next")  # where it is built
        self._unsynced_dirs: set[Path] = set()  # directories whose new entries are not yet fsynced

    def load(self) -> None:
        """Map every existing file; names must be 20-digit offsets and sizes must match (Java refuses too)."""
        if self.prepare_ahead and self.staging.is_dir():  # a file built ahead when the process died
            for p in self.staging.iterdir():
                p.unlink()
        if not self.dir.is_dir():
            return
        names = sorted(p for p in self.dir.iterdir() if p.is_file() and p.name.isdigit() and len(p.name) == 20)
        for p in names:
            size = p.stat().st_size
            if size != self.file_size:
                if p != names[-1] or size > self.file_size:
                    raise StoreError(f"{p}: size {size} differs from the configured {self.file_size}")
                log.warning("%s: last file is %d bytes, short of %d; extended with zeros", p, size, self.file_size)
                os.truncate(p, self.file_size)
            f = MappedFile(p, int(p.name), self.file_size, create=False)
            if self.reserve_chunk:  # unknown: reserving again what is reserved is a cheap no-op
                f.allocated = f.limit = 0
            f.wrote = f.flushed = self.file_size  # trusted until recovery sets the real write position
            self.files.append(f)
        for a, b in zip(self.files, self.files[1:], strict=False):
            if b.file_from != a.file_from + self.file_size:
                log.warning("%s: gap between %s and %s", self.dir, a.path.name, b.path.name)

    def create_file(self, file_from: int) -> MappedFile:
        """The file starting at ``file_from``, appended to the queue.

        With ``prepare_ahead`` it is the one a worker thread built (durable: first chunk reserved, size and directory
        entry fsynced) if ``prepare_next`` asked for it, else it is built here.  Otherwise it is created sparse
        here and its creation becomes durable at the next ``flush``, before any data written to it is counted as
        flushed.
        """
        if self.prepare_ahead:
            nxt, self._next = self._next, None
            if nxt is not None and nxt.file_from == file_from:
                new_dirs = make_dirs(self.dir)
                f = nxt.take(self.dir)
                with self.lock:
                    self._unsynced_dirs.update(new_dirs)
                    self._unsynced_dirs.add(self.dir)
            else:
                if nxt is not None:
                    nxt.discard()
                f = self.build_file(file_from)
        else:
            new_dirs = make_dirs(self.dir)
            path = self.dir / offset_to_name(file_from)
            f = self._new_file(path, file_from, sync=False)
            with self.lock:
                self._unsynced_dirs.update(new_dirs)
                self._unsynced_dirs.add(self.dir)
        with self.lock:
            self.files.append(f)
        return f

    def build_file(self, file_from: int, staged: bool = False) -> MappedFile:
        """Create the file at ``file_from`` (in the staging directory if ``staged``) and make its creation durable
        (size, directory entries); slow."""
        directory = self.staging if staged else self.dir
        if not directory.is_dir():
            make_dirs_durable(directory)
        path = directory / offset_to_name(file_from)
        f = self._new_file(path, file_from, sync=True)
        fsync_dir(directory)
        return f

    def _new_file(self, path: Path, file_from: int, sync: bool) -> MappedFile:
        """A new sparse file, warmed or (``sync``: built off the writer's thread) with its first chunk reserved;
        removed again if that fails (a full disk).  A file created on the writer's thread (``sync`` False, the
        consume queues) is left to the flush thread's ``reserve_tail``.  ``sync``: make the size and the
        reservation (metadata both) durable here."""
        f = MappedFile(path, file_from, self.file_size, create=True, sync=False)
        try:
            if self.warm is not None:
                self.warm(f)
                f.limit = 0  # the writer's first append sets the real limit (ensure)
            elif self.reserve_chunk:
                f.allocated = f.limit = 0
                if sync:
                    reserve(f, min(self.file_size, self.reserve_chunk))
            if sync:
                os.fdatasync(f.fd)
        except BaseException:
            f.destroy()
            raise
        return f

    def ensure(self, f: MappedFile, need: int) -> None:
        """The writer reached ``f.limit``: [0, need) reserved, the next chunk under way (``AheadAllocator``)."""
        if self.reserve_chunk:
            self.ahead.ensure(f, need)
        else:
            f.limit = f.size

    def reserve_tail(self) -> None:
        """From the flush thread (consume queues): keep the last file reserved at least ``reserve_chunk``, or
        twice what was written since the previous call, ahead of its write position."""
        f = self.last()
        if not self.reserve_chunk or f is None or f.allocated >= f.size:
            return
        grown = max(0, f.wrote - self._tail_seen)
        self._tail_seen = f.wrote
        target = f.wrote + max(self.reserve_chunk, 2 * grown)
        if target > f.allocated:
            target += -target % self.reserve_chunk
            reserve_dup(f, min(f.size, target))

    def prepare_next(self) -> None:
        """Start building the file after the last one (the first one, at 0, in an empty queue) if nothing is
        under way; cheap when it is."""
        last = self.files[-1] if self.files else None
        want = 0 if last is None else last.end_offset
        if self._next is not None and self._next.file_from == want:
            return
        if self._next is not None:
            self._next.discard()
        self._next = _NextFile(self, want)

    def wait_next(self) -> None:
        """Wait until the file ``prepare_next`` asked for is built (or failed: its taker sees the error)."""
        if self._next is not None:
            self._next.join()

    def sync_created(self) -> None:
        """fsync the directories of files created since the last call (``create_file`` without prepare_ahead)."""
        with self.lock:
            dirs, self._unsynced_dirs = sorted(self._unsynced_dirs), set()
        for d in dirs:
            with contextlib.suppress(FileNotFoundError):  # a queue destroyed meanwhile
                fsync_dir(d)

    def last(self) -> MappedFile | None:
        return self.files[-1] if self.files else None

    def first(self) -> MappedFile | None:
        return self.files[0] if self.files else None

    def find(self, offset: int) -> MappedFile | None:
        """The file holding ``offset`` (``findMappedFileByOffset``)."""
        files = self.files
        if not files:
            return None
        idx = (offset - files[0].file_from) // self.file_size
        if 0 <= idx < len(files) and files[idx].file_from <= offset < files[idx].end_offset:
            return files[idx]
        for f in files:  # gaps (a deleted middle file) break the arithmetic
            if f.file_from <= offset < f.end_offset:
                return f
        return None

    @property
    def min_offset(self) -> int:
        return self.files[0].file_from if self.files else 0

    @property
    def max_offset(self) -> int:
        """Write position across the queue (``getMaxOffset``)."""
        last = self.last()
        return last.file_from + last.wrote if last else 0

    def snapshot(self) -> list[MappedFile]:
        with self.lock:
            return list(self.files)

    def flush(self, upto: int) -> None:
        """Make new files' creation durable, then fdatasync every file's dirty range below ``upto``."""
        if self._unsynced_dirs:
            self.sync_created()
        for f in self.snapshot():
            if f.flushed < f.wrote and f.file_from < upto:
                f.flush(min(f.wrote, upto - f.file_from))
                f.release_below(f.flushed)

    def remove_first(self, count: int) -> list[MappedFile]:
        self.ahead.join()
        with self.lock:
            gone, self.files = self.files[:count], self.files[count:]
        for f in gone:
            f.destroy()
        return gone

    def truncate(self, offset: int) -> None:
        """Cut at ``offset``: zero the tail of its file, delete files wholly after it (callers keep copies)."""
        self.ahead.join()
        keep: list[MappedFile] = []
        for f in self.snapshot():
            if f.file_from >= offset and not (f.file_from == offset and f is self.files[0]):
                f.destroy()
                continue
            if f.file_from <= offset < f.end_offset:
                pos = offset - f.file_from
                if f.wrote > pos:
                    zero_range(f.mm, pos, f.wrote)
                f.wrote = pos
                f.flushed = min(f.flushed, pos)
            keep.append(f)
        with self.lock:
            self.files = keep

    def __iter__(self) -> Iterator[MappedFile]:
        return iter(self.snapshot())

    def close(self) -> None:
        self.ahead.join()
        nxt, self._next = self._next, None
        if nxt is not None:
            nxt.discard()
        for f in self.snapshot():
            f.close()
        with self.lock:
            self.files = []
