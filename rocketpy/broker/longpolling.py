"""Long polling: pulls that found nothing wait here until their queue grows or their time is up.

Mirrors broker.longpolling.PullRequestHoldService, ManyPullRequest and NotifyMessageArrivingListener. In Java a
held request is parked in a table keyed `topic@queueId`; a thread re-checks the table every 5 s (1 s with
longPollingEnable=false) and the store's dispatch wakes it on every new consume-queue entry; a woken or expired
request is re-run without the suspend permission and answered with its original opaque.

Here the pull handler runs in a task of its own (it is not inline), so "parking" is the handler awaiting
`hold()`: the reply it then returns goes out with the request's opaque, exactly as Java's deferred write does,
and a connection that closes cancels its held pulls with it. `hold()` returns:

* at once if the queue already moved past the held offset (an arrival that raced the registration);
* when `on_message_arrival` reports a new entry past the offset whose tags code the filter accepts (Java's
  isMatchedByConsumeQueue on the arriving entry), or the periodic check (every `check_interval` s, Java's 5 s)
  finds the queue grown;
* at the deadline (suspendTimeoutMillis).

A pull the fast path (pull_fast.py) takes is not given a task: it is *parked* (`park`), as Java parks the request
itself, and `resume` answers it when it is released by an arrival, by the periodic check or at its deadline; one
timer task of the service (a trio system task, started on the first park) keeps the deadlines and the periodic
check of parked pulls.

Wiring: `holds = PullRequestHoldService(store)`, then `store.arrival_listener = holds.on_message_arrival`.
The store may call that listener from any thread (a worker that appends, the trio thread itself, recovery before
trio runs); it never blocks: from a foreign thread it hops into trio with the TrioToken captured on first use.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import trio

from rocketpy.store.message_store import MessageStore

log = logging.getLogger("RocketmqBroker")

TagsMatcher = Callable[[int | None], bool]  # tags code of an arriving entry (None: unknown) -> wanted?
LONG_POLLING_CHECK_INTERVAL = 5.0  # PullRequestHoldService.run: waitForRunning(5 * 1000)


def match_all(code: int | None) -> bool:
    return True


@dataclass(eq=False, slots=True)
class HeldPull:
    """PullRequest: the offset the client pulls from, its filter, and the event that releases it."""

    offset: int
    matches: TagsMatcher
    released: trio.Event = field(default_factory=trio.Event)

    def release(self) -> None:
        self.released.set()


@dataclass(eq=False, slots=True)
class ParkedPull:
    """A held pull without a task of its own: `resume` answers it once, when it is released (in trio)."""

    offset: int
    matches: TagsMatcher
    resume: Callable[[], None]
    key: tuple[str, int]
    service: PullRequestHoldService
    done: bool = False

    def release(self) -> None:
        """Queued for the service's timer task, which resumes every released pull in one turn once the code that
        released it (an arrival: a producer's read) is done, as Java hands woken requests to its pull executor:
        the pull then also takes what arrived meanwhile."""
        if self.done:
            return
        self.done = True
        service = self.service
        service._forget(self.key, self)
        service._released.append(self)
        scope = service._timer_scope
        if scope is not None:
            scope.deadline = -math.inf


class PullRequestHoldService:
    def __init__(self, store: MessageStore, *, check_interval: float = LONG_POLLING_CHECK_INTERVAL) -> None:
        self.store = store
        self.check_interval = check_interval
        self._held: dict[tuple[str, int], list[HeldPull | ParkedPull]] = {}
        self._token: trio.lowlevel.TrioToken | None = None
        self._trio_thread: int | None = None
        self._deadlines: list[tuple[float, int, ParkedPull]] = []  # heap of parked pulls' deadlines (trio time)
        self._seq = itertools.count()
        self._timer_scope: trio.CancelScope | None = None
        self._timer_started = False
        self._released: list[ParkedPull] = []
        self.after_resume: list[Callable[[], None]] = []  # run once after each turn of resumes (flushes)

    def held_count(self) -> int:
        return sum(len(v) for v in self._held.values())

    # -- arrivals (any thread) -----------------------------------------------------------------------------------

    def on_message_arrival(self, topic: str, queue_id: int, max_offset: int) -> None:
        """The store's ArrivalListener (NotifyMessageArrivingListener.arriving)."""
        if (topic, queue_id) not in self._held:  # nobody waits: the common case costs one dict lookup
            return
        if threading.get_ident() == self._trio_thread:
            self.notify_message_arriving(topic, queue_id, max_offset)
            return
        token = self._token
        if token is None:
            return
        with contextlib.suppress(trio.RunFinishedError):  # the loop ended: nobody is left to wake
            token.run_sync_soon(self.notify_message_arriving, topic, queue_id, max_offset)

    def notify_message_arriving(self, topic: str, queue_id: int, max_offset: int) -> None:
        """In trio: release the held pulls of this queue that the new entry (max_offset - 1) satisfies."""
        waiting = self._held.get((topic, queue_id))
        if not waiting:
            return
        code = self._tags_code(topic, queue_id, max_offset - 1)
        for held in list(waiting):
            if max_offset > held.offset and held.matches(code):
                held.release()

    def _tags_code(self, topic: str, queue_id: int, offset: int) -> int | None:
        cq = self.store.find_queue(topic, queue_id)
        if cq is None:
            return None
        try:
            return int(cq.entry(offset)[2])
        except IndexError:
            return None

    # -- holding (trio) ------------------------------------------------------------------------------------------

    def _attach(self) -> None:
        if self._token is None:
            self._token = trio.lowlevel.current_trio_token()
            self._trio_thread = threading.get_ident()

    def _grown(self, topic: str, queue_id: int, held: HeldPull) -> bool:
        return self.store.get_max_offset_in_queue(topic, queue_id) > held.offset and held.matches(None)

    def park(
        self, topic: str, queue_id: int, offset: int, timeout_s: float, matches: TagsMatcher, resume: Callable[[], None]
    ) -> None:
        """`hold` without a task (in trio): `resume()` runs once, at once if the queue already grew past `offset`,
        else when an arrival or the periodic check releases the pull, or at the deadline."""
        self._attach()
        key = (topic, queue_id)
        parked = ParkedPull(offset, matches, resume, key, self)
        self._held.setdefault(key, []).append(parked)
        if self.store.get_max_offset_in_queue(topic, queue_id) > offset and matches(None):
            parked.release()
            return
        deadline = trio.current_time() + max(0.0, timeout_s)
        heapq.heappush(self._deadlines, (deadline, next(self._seq), parked))
        if not self._timer_started:
            self._timer_started = True
            trio.lowlevel.spawn_system_task(self._parked_timer, name="PullRequestHoldService")
        elif self._timer_scope is not None and deadline < self._timer_scope.deadline:
            self._timer_scope.deadline = deadline

    def _forget(self, key: tuple[str, int], held: HeldPull | ParkedPull) -> None:
        waiting = self._held.get(key)
        if waiting is not None:
            with contextlib.suppress(ValueError):
                waiting.remove(held)
            if not waiting:
                del self._held[key]

    async def _parked_timer(self) -> None:
        """The parked pulls' deadlines, and every `check_interval` s the periodic check (checkHoldRequest)."""
        next_check = trio.current_time() + self.check_interval
        while True:
            released, self._released = self._released, []
            for parked in released:
                try:
                    parked.resume()
                except Exception:  # one pull's failure must not stop the others' answers nor the timer
                    log.exception("resuming a held pull of %s failed", parked.key)
            if released:
                for hook in self.after_resume:
                    try:
                        hook()
                    except Exception:
                        log.exception("after resuming held pulls")
            now = trio.current_time()
            heap = self._deadlines
            while heap and heap[0][0] <= now:
                heapq.heappop(heap)[2].release()  # released already: a no-op
            if now >= next_check:
                next_check = now + self.check_interval
                for (topic, queue_id), waiting in list(self._held.items()):
                    grown = self.store.get_max_offset_in_queue(topic, queue_id)
                    for held in list(waiting):
                        if isinstance(held, ParkedPull) and grown > held.offset and held.matches(None):
                            held.release()
            if self._released:  # released by the deadlines or the check just now
                continue
            with trio.CancelScope(deadline=min(heap[0][0] if heap else math.inf, next_check)) as scope:
                self._timer_scope = scope
                await trio.sleep_forever()
            self._timer_scope = None

    async def hold(self, topic: str, queue_id: int, offset: int, timeout_s: float, matches: TagsMatcher) -> bool:
        """Wait until the queue has a wanted entry at or past `offset` (True) or `timeout_s` passes (False)."""
        self._attach()
        key = (topic, queue_id)
        held = HeldPull(offset, matches)
        self._held.setdefault(key, []).append(held)
        deadline = trio.current_time() + max(0.0, timeout_s)
        try:
            if self._grown(topic, queue_id, held):
                return True
            while True:
                with trio.move_on_at(min(deadline, trio.current_time() + self.check_interval)):
                    await held.released.wait()
                    return True
                if self._grown(topic, queue_id, held):  # checkHoldRequest: the periodic re-check
                    return True
                if trio.current_time() >= deadline:
                    return False
        finally:
            self._forget(key, held)
