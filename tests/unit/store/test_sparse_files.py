"""Sparse store files with disk blocks reserved ahead of the writer, and warmMapedFileEnable (issue 12).

What an operator sees: a store with Java's geometry (1 GiB commit-log files, 6 MB consume-queue files) uses about
what it holds on disk (``st_blocks * 512``), not a gigabyte per file; ``warmMapedFileEnable=true`` allocates every
new commit-log file whole.  A full disk (``posix_fallocate`` failing with ENOSPC, simulated: no small filesystem
is available here) refuses the message cleanly with CREATE_MAPEDFILE_FAILED, also when the write crosses a
reservation mark inside a file, and loses nothing that was acknowledged.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from rocketpy.store import allocate
from rocketpy.store.config import FlushDiskType, PutMessageStatus, StoreConfig
from rocketpy.store.format import decode_record
from rocketpy.store.mapped_file import MappedFile
from rocketpy.store.message_store import MessageStore

from .conftest import make_msg, small_config

MiB = 1024 * 1024
GiB = 1024 * MiB


def disk_usage(directory: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in directory.rglob("*") if p.is_file())


class FullDisk:
    """``os.posix_fallocate`` failing with ENOSPC while ``full``; counts the calls."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = False
        self.calls = 0
        self.refused = 0
        real = os.posix_fallocate

        def fallocate(fd: int, offset: int, length: int) -> None:
            self.calls += 1
            if self.full:
                self.refused += 1
                raise OSError(errno.ENOSPC, "No space left on device")
            real(fd, offset, length)

        monkeypatch.setattr(os, "posix_fallocate", fallocate)


def java_geometry(root: Path, **overrides: object) -> StoreConfig:
    kw: dict[str, object] = {"flush_disk_type": FlushDiskType.ASYNC_FLUSH}
    kw.update(overrides)
    return StoreConfig(root, **kw)  # type: ignore[arg-type]


def test_java_geometry_uses_what_it_holds(store_dir: Path) -> None:
    """4 MB of messages in a 1 GiB commit-log file: the files are full-size but sparse, the reservation runs at
    most two 16 MiB chunks ahead of the writer, and the consume-queue files are reserved in 64 KiB steps."""
    cfg = java_geometry(store_dir)
    with MessageStore(cfg) as store:
        body = b"m" * 1000
        for i in range(4000):
            assert store.put_message(make_msg(i, queue_id=i % 4, body=body)).ok
        store.flush()
        written = store.commitlog.max_offset
        log_file = next(cfg.commitlog_dir.iterdir())
        assert log_file.stat().st_size == GiB
        used = disk_usage(cfg.commitlog_dir)
        assert written <= used <= written + 2 * allocate.COMMITLOG_CHUNK + MiB, (written, used)
        cq_used = disk_usage(cfg.consume_queue_dir)
        assert all(p.stat().st_size == 6_000_000 for p in cfg.consume_queue_dir.rglob("0" * 20))
        assert cq_used <= 4 * (1000 * 20 + 2 * allocate.CONSUME_QUEUE_CHUNK), cq_used
        assert store.commitlog.files.last().allocated >= store.commitlog.files.last().wrote  # type: ignore[union-attr]
    print(f"{written / MiB:.1f} MiB written: commit log uses {used / MiB:.1f} MiB, consume queues {cq_used >> 10} KiB")


def test_warm_maped_file_allocates_new_commit_log_files_whole(store_dir: Path) -> None:
    """``warmMapedFileEnable=true``: the first file and the next one (built ahead once a quarter is written)
    are allocated whole, as Java's warmMappedFile writing a zero into every page leaves them."""
    cfg = StoreConfig.from_properties(
        {"warmMapedFileEnable": "true", "mappedFileSizeCommitLog": str(8 * MiB), "flushDiskType": "ASYNC_FLUSH"},
        store_path_root_dir=store_dir,
    )
    assert cfg.warm_maped_file_enable
    with MessageStore(cfg) as store:
        for i in range(2500):  # 2.5 MB: past the quarter, so the next file is being built
            assert store.put_message(make_msg(i, body=b"w" * 1000)).ok
        store.commitlog.files.prepare_next()
        nxt = store.commitlog.files._next
        assert nxt is not None
        nxt.join()
        staged = list((store_dir / "commitlog.next").iterdir())
        first = next(cfg.commitlog_dir.iterdir())
        assert first.stat().st_blocks * 512 >= 8 * MiB
        assert [p.stat().st_blocks * 512 >= 8 * MiB for p in staged] == [True]
    # without warm-up a 64 MiB file holds one 16 MiB chunk (or two) after a first message
    cold = java_geometry(store_dir / "cold", mapped_file_size_commit_log=64 * MiB)
    with MessageStore(cold) as store:
        assert store.put_message(make_msg(0)).ok
        assert disk_usage(cold.commitlog_dir) <= 2 * allocate.COMMITLOG_CHUNK + MiB


@pytest.mark.parametrize("sync_flush", [True, False])
def test_warm_forces_like_java(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sync_flush: bool) -> None:
    """warmMappedFile forces every ``flushLeastPagesWhenWarmMapedFile`` pages and at the end under SYNC_FLUSH,
    never under ASYNC_FLUSH; every page is written (pre-faulted) and the file allocated whole."""
    syncs: list[int] = []
    real = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: (syncs.append(fd), real(fd))[1])
    f = MappedFile(tmp_path / "w", 0, 16 * MiB, create=True, sync=False)
    try:
        f.allocated = 0
        allocate.warm(f, sync_flush=sync_flush, flush_pages=1024)  # 4 MiB
        assert f.allocated == f.size
        assert os.fstat(f.fd).st_blocks * 512 >= 16 * MiB
        assert len(syncs) == (4 if sync_flush else 0)  # Java: at 4, 8 and 12 MiB, then at the end
    finally:
        f.destroy()


def test_full_disk_at_a_reservation_mark_refuses_cleanly(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC where a write crosses a reservation mark inside a file (the worker's chunk and the writer's own
    reservation both fail): CREATE_MAPEDFILE_FAILED, no byte written past what is reserved, every acknowledged
    message there after a restart, and writes resume when space comes back."""
    monkeypatch.setattr("rocketpy.store.commitlog.COMMITLOG_CHUNK", 64 * 1024)
    disk = FullDisk(monkeypatch)
    cfg = small_config(store_dir, mapped_file_size_commit_log=4 * MiB)
    acked: list[tuple[int, int]] = []
    refused = 0
    with MessageStore(cfg) as store:
        for i in range(900):
            if i == 300:
                disk.full = True
            if i == 700:
                disk.full = False
            r = store.put_message(make_msg(i, queue_id=0, body=b"b" * 500))
            if r.ok:
                acked.append((i, r.phys_offset))
            else:
                assert r.status is PutMessageStatus.CREATE_MAPEDFILE_FAILED
                refused += 1
            last = store.commitlog.files.last()
            assert last is not None and last.wrote + 8 <= last.allocated  # nothing written into a hole
        # 400 puts on the full disk: those the chunks reserved before it filled still held went in, the rest
        # (600-byte records, 64 KiB chunks) were refused
        assert disk.refused >= 2 and 400 - 2 * 64 * 1024 // 600 <= refused < 400, refused
        assert acked[-1][0] == 899  # writes came back with the space
    with MessageStore(cfg) as store:
        assert store.get_max_offset_in_queue("TopicA", 0) == len(acked)
        got = store.get_message("TopicA", 0, 0, len(acked))
        bodies = [decode_record(b).phys_offset for b in got.buffers]
        assert len(bodies) == 32  # maxMsgsNumBatch limits one read; check all offsets through the queue
        for q, (_, phys) in enumerate(acked):
            assert store.get_commit_log_offset_in_queue("TopicA", 0, q) == phys


def test_full_disk_when_the_next_file_is_built(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC while the worker builds the next file: its half-made file is removed, the roll-over is refused
    with CREATE_MAPEDFILE_FAILED, and it succeeds once space is back."""
    disk = FullDisk(monkeypatch)
    cfg = small_config(store_dir)
    with MessageStore(cfg) as store:
        assert store.put_message(make_msg(0, body=b"x" * 1000)).ok
        disk.full = True
        statuses = [store.put_message(make_msg(i, body=b"x" * 1000)).status for i in range(1, 40)]
        assert PutMessageStatus.CREATE_MAPEDFILE_FAILED in statuses
        assert len(list(cfg.commitlog_dir.iterdir())) == 1
        assert list((store_dir / "commitlog.next").glob("*")) == []
        disk.full = False
        assert store.put_message(make_msg(99, body=b"x" * 1000)).ok
        ok = sum(s is PutMessageStatus.PUT_OK for s in statuses) + 2
    with MessageStore(cfg) as store:
        assert sum(store.get_max_offset_in_queue("TopicA", q) for q in range(4)) == ok


def test_without_preallocate_files_nothing_is_reserved(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``preallocate_files=False``: Java's plain sparse files, no posix_fallocate at all."""
    disk = FullDisk(monkeypatch)
    cfg = small_config(store_dir, preallocate_files=False)
    with MessageStore(cfg) as store:
        for i in range(200):
            assert store.put_message(make_msg(i, body=b"x" * 500)).ok
        store.flush()
    assert disk.calls == 0


def test_reopened_store_reserves_before_writing(store_dir: Path) -> None:
    """A file loaded at start-up has an unknown reservation: the first append reserves up to where it writes."""
    cfg = java_geometry(store_dir, mapped_file_size_commit_log=64 * MiB)
    with MessageStore(cfg) as store:
        assert store.put_message(make_msg(0)).ok
    with MessageStore(cfg) as store:
        last = store.commitlog.files.last()
        assert last is not None and last.allocated == 0 and last.limit == 0
        assert store.put_message(make_msg(1)).ok
        assert last.allocated >= last.wrote + 8 and last.limit == min(last.allocated, last.size // 4)


def test_full_disk_on_a_slave_refuses_the_frame_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """HA slave: replicated bytes crossing a reservation mark on a full disk are refused (append_replicated is
    False, the bytes before the mark stay), never written into a hole; once space is back the slave catches up
    and holds the master's log byte for byte."""
    monkeypatch.setattr("rocketpy.store.commitlog.COMMITLOG_CHUNK", 64 * 1024)
    disk = FullDisk(monkeypatch)
    cfg = {"mapped_file_size_commit_log": 1 * MiB}
    master = MessageStore(small_config(tmp_path / "m", **cfg))
    slave = MessageStore(small_config(tmp_path / "s", **cfg))
    master.open()
    slave.open()
    try:
        for i in range(2000):  # ~1.2 MB: two files
            assert master.put_message(make_msg(i, body=b"r" * 500)).ok
        refused = 0
        while slave.max_phy_offset < master.max_phy_offset:
            disk.full = slave.max_phy_offset > 300_000 and refused < 3
            data = master.get_commit_log_data(slave.max_phy_offset)
            assert data is not None
            if not slave.append_replicated(slave.max_phy_offset, data[:40_000]):
                refused += 1
            last = slave.commitlog.files.last()
            assert last is not None and last.wrote <= last.allocated
        assert refused == 3
        for start in (0, MiB):  # both files
            assert bytes(slave.get_commit_log_data(start) or b"") == bytes(master.get_commit_log_data(start) or b"")
        assert slave.commitlog.queue_offsets == master.commitlog.queue_offsets
    finally:
        master.close()
        slave.close()
