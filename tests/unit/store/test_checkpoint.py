"""Checkpoint page, abort marker and the directory lock."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

from rocketpy.store.checkpoint import StoreCheckpoint, StoreLock, create_abort_file, remove_abort_file
from rocketpy.store.mapped_file import StoreError


def test_checkpoint_is_one_page_of_three_big_endian_longs(tmp_path: Path) -> None:
    cp = StoreCheckpoint(tmp_path / "checkpoint", 1_700_000_000_001, 1_700_000_000_002, 3)
    cp.flush()
    raw = (tmp_path / "checkpoint").read_bytes()
    assert len(raw) == 4096
    assert struct.unpack(">qqq", raw[:24]) == (1_700_000_000_001, 1_700_000_000_002, 3)
    again = StoreCheckpoint.open(tmp_path / "checkpoint")
    assert (again.physic_msg_timestamp, again.logics_msg_timestamp, again.index_msg_timestamp) == (
        1_700_000_000_001,
        1_700_000_000_002,
        3,
    )
    assert again.min_timestamp == 1_700_000_000_001 - 3000


def test_missing_checkpoint_reads_as_zero(tmp_path: Path) -> None:
    cp = StoreCheckpoint.open(tmp_path / "nope")
    assert cp.min_timestamp == 0


def test_abort_file_reports_previous_exit(tmp_path: Path) -> None:
    assert create_abort_file(tmp_path) is True
    assert create_abort_file(tmp_path) is False
    remove_abort_file(tmp_path)
    assert not (tmp_path / "abort").exists()


def test_lock_excludes_same_process_and_other_process(tmp_path: Path) -> None:
    lock = StoreLock(tmp_path)
    with pytest.raises(StoreError):
        StoreLock(tmp_path)
    code = (
        "import fcntl, os, sys\n"
        f"fd = os.open({str(tmp_path / 'lock')!r}, os.O_RDWR)\n"
        "try:\n    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)\nexcept OSError:\n    sys.exit(3)\n"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 3  # Java's FileChannel.tryLock is fcntl
    lock.release()
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
    StoreLock(tmp_path).release()
