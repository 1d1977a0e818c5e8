"""RebalanceLockManager: which client of a group holds each queue, for orderly consumers (LOCK_BATCH_MQ 41 /
UNLOCK_BATCH_MQ 42).

Mirrors broker.client.rebalance.RebalanceLockManager. A queue is granted when nobody holds it, when the asking
client already holds it (the lease is renewed), or when the holder's lease is older than the lock TTL
(`rocketmq.broker.rebalance.lockMaxLiveTime`, 60 s). Unlocking removes only locks the asking client holds. The
Java client re-locks every 20 s and trusts its own lock for 30 s, well inside the broker's 60 s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rocketpy.protocol.bodies.message_queue import MessageQueue

log = logging.getLogger("RocketmqRebalanceLock")

REBALANCE_LOCK_MAX_LIVE_TIME_MS = 60_000


@dataclass(slots=True)
class LockEntry:
    client_id: str
    last_update_ms: int

    def is_expired(self, now_ms: int, ttl_ms: int) -> bool:
        return now_ms - self.last_update_ms > ttl_ms

    def is_locked_by(self, client_id: str, now_ms: int, ttl_ms: int) -> bool:
        return self.client_id == client_id and not self.is_expired(now_ms, ttl_ms)


class RebalanceLockManager:
    def __init__(self, clock_ms: Callable[[], int], ttl_ms: int = REBALANCE_LOCK_MAX_LIVE_TIME_MS) -> None:
        self.clock_ms = clock_ms
        self.ttl_ms = ttl_ms
        self.table: dict[str, dict[MessageQueue, LockEntry]] = {}

    def try_lock(self, group: str, mq: MessageQueue, client_id: str) -> bool:
        return mq in self.try_lock_batch(group, [mq], client_id)

    def try_lock_batch(self, group: str, mqs: Iterable[MessageQueue], client_id: str) -> set[MessageQueue]:
        """tryLockBatch: the subset of `mqs` this client now holds."""
        now = self.clock_ms()
        queues = self.table.setdefault(group, {})
        locked: set[MessageQueue] = set()
        for mq in mqs:
            entry = queues.get(mq)
            if entry is None:
                queues[mq] = LockEntry(client_id, now)
                log.info(
                    "tryLockBatch, message queue not locked, I got it. Group: %s NewClientId: %s %s",
                    group,
                    client_id,
                    mq,
                )
                locked.add(mq)
            elif entry.client_id == client_id or entry.is_expired(now, self.ttl_ms):
                if entry.client_id != client_id:
                    log.info(
                        "tryLockBatch, message queue lock expired, I got it. Group: %s OldClientId: %s "
                        "NewClientId: %s %s",
                        group,
                        entry.client_id,
                        client_id,
                        mq,
                    )
                entry.client_id = client_id
                entry.last_update_ms = now
                locked.add(mq)
            else:
                log.warning(
                    "tryLockBatch, message queue locked by other client. Group: %s OtherClientId: %s "
                    "NewClientId: %s %s",
                    group,
                    entry.client_id,
                    client_id,
                    mq,
                )
        if not queues:
            del self.table[group]
        return locked

    def unlock_batch(self, group: str, mqs: Iterable[MessageQueue], client_id: str) -> None:
        queues = self.table.get(group)
        if queues is None:
            return
        for mq in mqs:
            entry = queues.get(mq)
            if entry is None:
                log.warning("unlockBatch, but mq not locked, Group: %s ClientId: %s %s", group, client_id, mq)
            elif entry.client_id == client_id:
                del queues[mq]
                log.info("unlockBatch, Group: %s %s %s", group, mq, client_id)
            else:
                log.warning(
                    "unlockBatch, but mq locked by other client: %s, Group: %s ClientId: %s %s",
                    entry.client_id,
                    group,
                    client_id,
                    mq,
                )
        if not queues:
            del self.table[group]

    def is_locked(self, group: str, mq: MessageQueue, client_id: str) -> bool:
        entry = self.table.get(group, {}).get(mq)
        return entry is not None and entry.is_locked_by(client_id, self.clock_ms(), self.ttl_ms)
