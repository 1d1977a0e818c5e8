"""The trio side of delayed delivery: ScheduleMessageService.start's timers and its offset flusher.

Java runs one timer per level, first after 1 s, then every 100 ms while nothing is due. Here one task looks at
every level's next entry (a cheap consume-queue read on the loop), sleeps until the earliest deliver time (at most
100 ms, so new messages are seen as soon as Java sees them), and hands the delivery itself, which reads and appends
records, to a worker thread. delayOffset.json is written 10 s after the start, then every flushDelayOffsetInterval,
and once more on shutdown, off the loop. Only a master runs it (DefaultMessageStore.handleScheduleMessageService).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import trio

from rocketpy.store.schedule import ScheduleMessageService

log = logging.getLogger("RocketmqBroker")

FIRST_DELAY = 1.0  # FIRST_DELAY_TIME
POLL = 0.1  # DELAY_FOR_A_WHILE
PERIOD_AFTER_ERROR = 10.0  # DELAY_FOR_A_PERIOD
PERSIST_INITIAL_DELAY = 10.0


class ScheduleLoop:
    def __init__(
        self, service: ScheduleMessageService, flush_interval_ms: int, *, offload_blocking_io: bool = True
    ) -> None:
        self.service = service
        self.flush_interval = max(flush_interval_ms, 1) / 1000
        self.offload_blocking_io = offload_blocking_io  # False under trio's MockClock (see BrokerController)

    async def _blocking(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self.offload_blocking_io:
            return await trio.to_thread.run_sync(fn, *args)
        return fn(*args)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Deliver and persist until cancelled; the offsets are written once more on the way out."""
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._deliver)
                nursery.start_soon(self._persister)
                task_status.started()
        finally:
            with trio.CancelScope(shield=True):
                await self._persist()

    async def _persist(self) -> None:
        text = self.service.encode(True)  # taken on the loop: a consistent table
        try:
            await self._blocking(self.service.persist, text)
        except OSError as exc:
            log.error("persist %s failed: %s", self.service.path, exc)

    async def _persister(self) -> None:
        await trio.sleep(PERSIST_INITIAL_DELAY)
        while True:
            await self._persist()
            await trio.sleep(self.flush_interval)

    async def _deliver(self) -> None:
        await trio.sleep(FIRST_DELAY)
        while True:
            try:
                wait = await self.deliver_once()
            except Exception:  # the timers survive anything, as Java's catch-and-reschedule does
                log.exception("ScheduleMessageService, executeOnTimeup exception")
                wait = PERIOD_AFTER_ERROR
            await trio.sleep(wait)

    async def deliver_once(self) -> float:
        """One pass over the levels: deliver what is due; returns the seconds until the next look."""
        service = self.service
        wait = POLL
        for level in sorted(service.delay_table):
            due = service.due_in(level)
            if due == 0:
                await self._blocking(service.deliver_due, level)
                due = service.due_in(level)
                if due == 0:  # still due: the append failed, retried after DELAY_FOR_A_WHILE
                    due = int(POLL * 1000)
            if due is not None:
                wait = min(wait, due / 1000)
        return wait
