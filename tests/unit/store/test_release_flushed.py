"""Flushed log pages leave the broker's resident set (MappedFile.release_below; issue 12's memory target).

What is observed is the kernel's own account of the mapping (/proc/self/smaps), and the bytes read back after the
release (from the page cache, through the same mapping) and from the file itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rocketpy.store.index import ENTRY_SIZE, HEADER_SIZE, IndexFile
from rocketpy.store.mapped_file import MappedFile, MappedFileQueue

MIB = 1024 * 1024


def resident_kib(path: Path) -> int:
    """Rss of this process's mapping of `path`, in KiB."""
    lines = Path("/proc/self/smaps").read_text().splitlines()
    for i, line in enumerate(lines):
        if line.rstrip().endswith(str(path)):
            for follow in lines[i + 1 :]:
                if follow.startswith("Rss:"):
                    return int(follow.split()[1])
    raise AssertionError(f"{path} is not mapped")


def test_flushed_log_pages_leave_the_resident_set(tmp_path: Path) -> None:
    queue = MappedFileQueue(tmp_path / "commitlog", 8 * MIB)
    f = queue.create_file(0)
    data = os.urandom(3 * MIB + 123)
    f.view[: len(data)] = data
    f.wrote = len(data)
    assert resident_kib(f.path) >= 3 * 1024
    queue.flush(len(data))
    assert f.flushed == len(data)
    assert resident_kib(f.path) <= 4  # at most the last, partly written page
    assert bytes(f.view[: len(data)]) == data  # mapped again from the page cache, unchanged
    assert f.path.read_bytes()[: len(data)] == data
    # appending goes on where it was; the page it shares with the released range keeps the old bytes
    f.view[len(data) : len(data) + 5] = b"more!"
    f.wrote += 5
    queue.flush(f.wrote)
    assert f.path.read_bytes()[: f.wrote] == data + b"more!"
    f.close()


def test_index_entries_leave_the_resident_set_but_not_the_slots(tmp_path: Path) -> None:
    slots, entries = 4096, 200_000
    index = IndexFile(tmp_path / "20261130000000000", slots, entries, create=True)
    for n in range(100_000):
        index.put_key(f"T#k{n}", 1000 + n, 1_700_000_000_000)
    before = resident_kib(index.path)
    index.flush()
    after = resident_kib(index.path)
    slot_pages_kib = (HEADER_SIZE + slots * 4) // 1024
    assert before >= 100_000 * ENTRY_SIZE // 1024
    assert after <= slot_pages_kib + 8
    found: list[int] = []
    index.select(found, "T#k77777", 4, 0, 2**62)
    assert found == [1000 + 77777]
    index.close()


def test_release_of_a_closed_file_is_a_no_op(tmp_path: Path) -> None:
    f = MappedFile(tmp_path / "00000000000000000000", 0, MIB, create=True)
    f.close()
    f.release_below(MIB)


def test_flush_of_a_file_closed_meanwhile_is_quiet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The flush thread flushing a consume-queue file that another thread closes at that moment (an admin's
    cleanUnusedTopic destroying the queue): nothing to flush, no error."""
    f = MappedFile(tmp_path / "00000000000000000000", 0, 4096, create=True)
    f.wrote = 100
    real = os.fdatasync

    def racing(fd: int) -> None:
        f.close()  # the other thread's destroy, between the flush's check and its fdatasync
        real(fd)

    monkeypatch.setattr(os, "fdatasync", racing)
    f.flush()
    assert f.fd == -1 and f.flushed == 0
