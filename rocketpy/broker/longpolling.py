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

Wiring: `holds = PullRequestHoldService(store)`, then `store.arrival_listener = holds.on_message_arrival`.
The store may call that listener from any thread (a worker that appends, the trio thread itself, recovery before
trio runs); it never blocks: from a foreign thread it hops into trio with the TrioToken captured on first use.
"""

from __future__ import annotations

import contextlib
import logging
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


class PullRequestHoldService:
    def __init__(self, store: MessageStore, *, check_interval: float = LONG_POLLING_CHECK_INTERVAL) -> None:
        self.store = store
        self.check_interval = check_interval
        self._held: dict[tuple[str, int], list[HeldPull]] = {}
        self._token: trio.lowlevel.TrioToken | None = None
        self._trio_thread: int | None = None

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
                held.released.set()

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
            waiting = self._held.get(key)
            if waiting is not None:
                waiting.remove(held)
                if not waiting:
                    del self._held[key]
