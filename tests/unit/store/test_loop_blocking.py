"""The broker appends on its event loop: file roll-overs must not stall it on the disk (issue 12).

The disk is made slow on purpose (every fsync, fdatasync and posix_fallocate takes 100 ms more), files are small
so that commit-log, consume-queue and index files roll over many times, and a trio task that sleeps 5 ms in a
loop records how late it wakes.  Before the commit log built its next file in a worker thread (Java's
AllocateMappedFileService) and the consume queues and the index left their creation fsyncs to the flush thread,
every roll-over stalled the loop for 100-300 ms (p99 lateness over 100 ms).

The exact check is that no slowed call runs on the event loop's thread.  The lateness bound is on the 99th
percentile: on this shared 2-core machine the OS alone leaves the loop unscheduled for 100-150 ms now and then
when the load average is 8-10, with or without a slow disk, so the maximum is printed, not asserted.  Measured:
p99 2-35 ms, max 8-156 ms at load averages 6-10; before the change p99 and max 209 ms, 37 slowed calls on the
loop.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from rocketpy.store.config import FlushDiskType
from rocketpy.store.message_store import MessageStore
from tests.unit.slow_disk import SlowDisk, install_slow_disk

from .conftest import make_msg, small_config

SLOW = 0.1  # seconds added to every sync call
BOUND = 0.1  # on the 99th percentile of the loop's lateness: generous for a loaded machine (see above)


@pytest.fixture
def slow_disk(monkeypatch: pytest.MonkeyPatch) -> SlowDisk:
    return install_slow_disk(monkeypatch, SLOW, enabled=True)


async def test_roll_overs_do_not_block_the_event_loop(store_dir: Path, slow_disk: SlowDisk) -> None:
    cfg = small_config(
        store_dir,
        mapped_file_size_commit_log=1024 * 1024,
        mapped_file_size_consume_queue=20 * 50,
        flush_disk_type=FlushDiskType.ASYNC_FLUSH,
        flush_interval_commit_log=50,
        flush_interval_consume_queue=100,
    )
    store = MessageStore(cfg)
    await trio.to_thread.run_sync(store.open)
    store.start()
    assert store.put_message(make_msg(0, body=b"first")).ok  # takes the first file, which open built
    lateness: list[float] = []
    body = b"x" * 1000
    try:
        async with trio.open_nursery() as nursery:

            async def monitor() -> None:
                while True:
                    t0 = trio.current_time()
                    await trio.sleep(0.005)
                    lateness.append(trio.current_time() - t0 - 0.005)

            nursery.start_soon(monitor)
            deadline = trio.current_time() + 4.0
            i = 1
            while trio.current_time() < deadline:
                for _ in range(10):  # ~2 MB/s of 1 KB messages: a commit-log file every half second
                    msg = make_msg(i, topic=f"Topic{i // 1000}", queue_id=i % 8, body=body)
                    assert store.put_message(msg).ok
                    i += 1
                await trio.sleep(0.005)
            nursery.cancel_scope.cancel()
    finally:
        slow_disk.enabled = False
        await trio.to_thread.run_sync(store.close)
    commitlog_files = len(list(cfg.commitlog_dir.iterdir()))
    cq_files = sum(1 for p in cfg.consume_queue_dir.rglob("*") if p.is_file())
    lateness.sort()
    p99 = lateness[len(lateness) * 99 // 100]
    print(f"{i} messages, {commitlog_files} commit-log files, {cq_files} consume-queue files, "
          f"{slow_disk.slowed} slowed syncs ({slow_disk.on_loop} on the loop), loop lateness p99 {p99 * 1000:.1f} ms, "
          f"max {lateness[-1] * 1000:.1f} ms")  # fmt: skip
    assert commitlog_files >= 3
    assert cq_files >= 80
    assert slow_disk.slowed >= 40
    assert slow_disk.on_loop == 0
    assert p99 < BOUND


async def test_reservations_ahead_do_not_block_the_event_loop(
    store_dir: Path, slow_disk: SlowDisk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside a commit-log file the blocks are reserved chunk by chunk (allocate.py): with 256 KiB chunks and
    ~2 MB/s of appends the reservation runs ahead many times a second, always in a worker thread."""
    monkeypatch.setattr("rocketpy.store.commitlog.COMMITLOG_CHUNK", 256 * 1024)
    cfg = small_config(
        store_dir, mapped_file_size_commit_log=16 * 1024 * 1024, flush_disk_type=FlushDiskType.ASYNC_FLUSH
    )
    store = MessageStore(cfg)
    await trio.to_thread.run_sync(store.open)
    store.start()
    assert store.put_message(make_msg(0, body=b"first")).ok
    body = b"x" * 1000
    try:
        i = 1
        while i < 3000:  # 3.3 MB, at most ~2 MB/s: 12 reservation marks crossed
            for _ in range(10):
                assert store.put_message(make_msg(i, queue_id=i % 8, body=body)).ok
                i += 1
            await trio.sleep(0.005)
    finally:
        slow_disk.enabled = False
        await trio.to_thread.run_sync(store.close)
    written = i * 1100
    print(f"{i} messages, {slow_disk.slowed} slowed syncs ({slow_disk.on_loop} on the loop)")
    assert written > 8 * 256 * 1024  # the writer crossed several reservation marks
    assert slow_disk.slowed >= 8
    assert slow_disk.on_loop == 0
