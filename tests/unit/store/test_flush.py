"""Group commit shares flushes among waiters and times out; the async policy counts pages and time."""

from __future__ import annotations

import contextlib
import threading
import time

from rocketpy.store.flush import AsyncFlushPolicy, GroupCommit


class SlowDisk:
    """A fake flush: takes ``delay`` seconds and makes everything written so far durable."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.written = 0
        self.flushes = 0
        self.lock = threading.Lock()

    def write(self, n: int) -> int:
        with self.lock:
            self.written += n
            return self.written

    def flush(self) -> int:
        target = self.written
        time.sleep(self.delay)
        self.flushes += 1
        return target


def test_concurrent_waiters_share_flushes() -> None:
    disk = SlowDisk(0.02)
    gc = GroupCommit(disk.flush)
    results: list[bool] = []

    def writer() -> None:
        for _ in range(5):
            end = disk.write(100)
            results.append(gc.wait_flushed(end, 5.0))

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 40
    assert gc.flushed >= disk.written
    assert disk.flushes < 40  # 40 acknowledged appends needed fewer fsyncs: they were grouped


def test_timeout_reports_false_but_data_gets_flushed() -> None:
    disk = SlowDisk(0.3)
    gc = GroupCommit(disk.flush)
    end = disk.write(10)
    leader = threading.Thread(target=gc.wait_flushed, args=(end, 5.0))
    leader.start()
    time.sleep(0.05)
    assert gc.wait_flushed(end, 0.05) is False  # a follower gives up after its timeout: FLUSH_DISK_TIMEOUT
    leader.join()
    assert gc.flushed >= end
    assert gc.wait_flushed(end, 0.0) is True  # already flushed: immediate success


def test_leader_slower_than_timeout_reports_timeout() -> None:
    disk = SlowDisk(0.1)
    gc = GroupCommit(disk.flush)
    assert gc.wait_flushed(disk.write(1), 0.01) is False


def test_flush_error_propagates_and_releases_waiters() -> None:
    calls = []

    def broken() -> int:
        calls.append(1)
        raise OSError("disk gone")

    gc = GroupCommit(broken)
    try:
        gc.wait_flushed(10, 1.0)
    except OSError:
        pass
    else:
        raise AssertionError("expected OSError")
    with contextlib.suppress(OSError):
        gc.wait_flushed(10, 1.0)  # not stuck in the "flushing" state
    assert len(calls) == 2


def test_note_flushed_wakes_waiters() -> None:
    gc = GroupCommit(lambda: 0)
    gc.note_flushed(50)
    assert gc.wait_flushed(50, 0.0)


def test_async_policy_least_pages_and_thorough_interval() -> None:
    p = AsyncFlushPolicy(least_pages=4, thorough_interval_ms=10_000)
    assert p.should_flush(100, 10_000.0)  # 10 s since the start: a thorough flush takes any dirty byte
    assert not p.should_flush(4096 * 3, 10_500.0)
    assert p.should_flush(4096 * 4, 11_000.0)
    assert not p.should_flush(0, 30_000.0)
    assert p.should_flush(1, 31_000.0)
