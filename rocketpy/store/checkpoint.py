"""The checkpoint, abort and lock files at the store root (``StoreCheckpoint``, ``DefaultMessageStore``).

``checkpoint`` is one 4096-byte page holding three big-endian longs::

    0  8  physicMsgTimestamp   store time of the newest flushed commit-log record
    8  8  logicsMsgTimestamp   store time of the newest flushed consume-queue entry
   16  8  indexMsgTimestamp    endTimestamp of the newest full (flushed) index file

``abort`` exists while the store is open; finding it at start means the last exit was not clean.
``lock`` is locked with fcntl (``FileChannel.tryLock(0, 1, false)`` is an fcntl record lock in Java, so a Java
broker and rocketpy exclude each other) and with flock (fcntl locks do not conflict within one process).
"""

from __future__ import annotations

import fcntl
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from rocketpy.store.mapped_file import StoreError

CHECKPOINT_SIZE = 4096
_LONGS = struct.Struct(">qqq")


@dataclass
class StoreCheckpoint:
    path: Path
    physic_msg_timestamp: int = 0
    logics_msg_timestamp: int = 0
    index_msg_timestamp: int = 0

    @classmethod
    def open(cls, path: Path) -> StoreCheckpoint:
        cp = cls(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return cp
        if len(data) >= _LONGS.size:
            cp.physic_msg_timestamp, cp.logics_msg_timestamp, cp.index_msg_timestamp = _LONGS.unpack_from(data)
        return cp

    @property
    def min_timestamp(self) -> int:
        """``getMinTimestamp``: min(physic, logics) minus 3 s of safety."""
        return max(min(self.physic_msg_timestamp, self.logics_msg_timestamp) - 3000, 0)

    def min_timestamp_index(self) -> int:
        return min(self.min_timestamp, self.index_msg_timestamp)

    def flush(self) -> None:
        """Overwrite the page in place and fdatasync; skipped when nothing changed."""
        data = _LONGS.pack(self.physic_msg_timestamp, self.logics_msg_timestamp, self.index_msg_timestamp)
        created = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size != CHECKPOINT_SIZE:
                os.ftruncate(fd, CHECKPOINT_SIZE)
            elif os.pread(fd, _LONGS.size, 0) == data:
                return
            os.pwrite(fd, data, 0)
            os.fdatasync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(self.path.parent)


class StoreLock:
    """Exclusive use of a store directory for the life of this object."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / "lock"
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.lockf(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)
        except OSError as e:
            # Not closed on purpose: closing any descriptor of the file would drop the fcntl lock that the
            # owning store in this same process holds (POSIX record-lock semantics).  One fd leaks per refusal.
            self.fd = -1
            raise StoreError(f"store {root} is in use by another process or store (lock file {self.path})") from e

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing drops both the flock and the fcntl lock
            self.fd = -1


def create_abort_file(root: Path) -> bool:
    """Create ``abort``; returns whether the previous exit was clean (no abort file was there)."""
    path = root / "abort"
    last_exit_ok = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    os.fsync(fd)
    os.close(fd)
    _fsync_dir(root)
    return last_exit_ok


def remove_abort_file(root: Path) -> None:
    try:
        (root / "abort").unlink()
    except FileNotFoundError:
        return
    _fsync_dir(root)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
