"""When the commit log is flushed (``CommitLog.GroupCommitService`` / ``FlushRealTimeService``).

SYNC_FLUSH: an append is acknowledged once ``GroupCommit.wait_flushed(end_offset, timeout)`` returns True.
Waiters elect a leader: one thread runs the flush while the others sleep on the condition; every append that
arrived before the flush started is covered by it, so N concurrent appends cost one msync, not N (Java batches
requests every 10 ms instead).  A waiter whose flush is not done within ``syncFlushTimeout`` gets False, which
the broker turns into FLUSH_DISK_TIMEOUT.  The broker calls it through ``trio.to_thread.run_sync``.

ASYNC_FLUSH: ``AsyncFlushPolicy`` decides, once per ``flushIntervalCommitLog``, whether enough pages are dirty
(``flushCommitLogLeastPages``) or enough time passed (``flushCommitLogThoroughInterval``) to flush.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

OS_PAGE_SIZE = 4096


class GroupCommit:
    """Leader/follower group commit over a ``flush() -> flushed offset`` function."""

    def __init__(self, flush: Callable[[], int]) -> None:
        self._flush = flush
        self._cond = threading.Condition()
        self._flushed = 0
        self._flushing = False
        self.flush_count = 0

    @property
    def flushed(self) -> int:
        return self._flushed

    def wait_flushed(self, offset: int, timeout: float) -> bool:
        """Block until everything below ``offset`` is on disk; False if that took longer than ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._flushed >= offset:
                return True
            while self._flushed < offset:
                if not self._flushing:
                    self._lead_one_flush()
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return time.monotonic() <= deadline  # a leader whose own flush outlasted the timeout reports it

    def _lead_one_flush(self) -> None:
        self._flushing = True
        self._cond.release()
        try:
            flushed = self._flush()
        finally:
            self._cond.acquire()
            self._flushing = False
            self._cond.notify_all()
        self._flushed = max(self._flushed, flushed)
        self.flush_count += 1

    def note_flushed(self, offset: int) -> None:
        """Another path (the periodic flusher) flushed up to ``offset``; wake waiters it satisfies."""
        with self._cond:
            if offset > self._flushed:
                self._flushed = offset
                self._cond.notify_all()


@dataclass
class AsyncFlushPolicy:
    """``FlushRealTimeService``'s decision: flush if >= least_pages dirty, or everything every thorough_ms."""

    least_pages: int = 4
    thorough_interval_ms: int = 10_000
    last_thorough_ms: float = 0.0

    def pages_required(self, now_ms: float) -> int:
        if now_ms >= self.last_thorough_ms + self.thorough_interval_ms:
            self.last_thorough_ms = now_ms
            return 0
        return self.least_pages

    def should_flush(self, dirty_bytes: int, now_ms: float) -> bool:
        if dirty_bytes <= 0:
            return False
        need = self.pages_required(now_ms)
        return need == 0 or dirty_bytes >= need * OS_PAGE_SIZE
