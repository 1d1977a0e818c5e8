"""The master side of 4.x HA: HAService's accept loop, one HAConnection per slave, GroupTransferService.

Every slave connection runs two trio tasks, as Java runs ReadSocketService and WriteSocketService: the reader takes
the slave's 8-byte offset reports (the first one is where to start; a later one beyond the master's log closes the
connection), the writer streams commit-log data from there in frames of at most haTransferBatchSize bytes and
sends a heartbeat frame (size 0) when nothing was written for haSendHeartbeatInterval. A connection that read
nothing for haHousekeepingInterval is closed. A slave far behind is read in a worker thread, the last batch
(just written by the puts, in the page cache) on the loop.

SYNC_MASTER (CommitLog.submitReplicaRequest): a put that waits for the store is acknowledged when some slave
reported an offset at or past the put's end (push2SlaveMaxOffset), or FLUSH_SLAVE_TIMEOUT after slaveTimeout;
SLAVE_NOT_AVAILABLE at once when no slave is connected or the slaves fall behind by haSlaveFallbehindMax or more.
One wait serves a whole batch (the caller waits for its last record's end), as Java's group transfer does, and
waiting costs no task: `submit_replica` queues a callback, each acknowledgement answers every put it covers in one
pass, one timer task answers FLUSH_SLAVE_TIMEOUT (the send path answers from the callback, `SendMessageProcessor`).
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import trio

from rocketpy.broker.ha.frames import OffsetReader, encode_header, first_transfer_offset
from rocketpy.store.config import PutMessageStatus
from rocketpy.store.message_store import MessageStore

log = logging.getLogger("RocketmqStore")

IDLE_POLL = 0.1  # allWaitForRunning(100): how long a writer with nothing to send waits for new data
READ_SIZE = 1024 * 1024  # ReadSocketService.READ_MAX_BUFFER_SIZE


@dataclass(frozen=True, slots=True)
class HAMasterConfig:
    """The MessageStoreConfig keys the master side reads (milliseconds and bytes, as in broker.conf)."""

    heartbeat_interval_ms: int = 5000
    housekeeping_interval_ms: int = 20000
    transfer_batch_size: int = 32 * 1024
    slave_fallbehind_max: int = 256 * 1024 * 1024
    slave_timeout_ms: int = 3000


ReplicaCallback = Callable[[PutMessageStatus], None]


@dataclass(slots=True, eq=False)
class _Waiter:
    """CommitLog.GroupCommitRequest: the offset a slave must reach, when to give up, whom to tell (None: told)."""

    next_offset: int
    deadline: float
    done: ReplicaCallback | None


@dataclass(slots=True, eq=False)
class SlaveConnection:
    """HAConnection's state: where the slave asked to start and what it acknowledged."""

    client_addr: str
    request_offset: int = -1
    ack_offset: int = -1
    requested: trio.Event = field(default_factory=trio.Event)


class HAMaster:
    """HAService on a master: serve `serve(port)`; `wait_replica(next_offset)` for SYNC_MASTER puts."""

    def __init__(self, store: MessageStore, config: HAMasterConfig) -> None:
        self.store = store
        self.config = config
        self.connections: set[SlaveConnection] = set()
        self.push2slave_max_offset = 0
        self._waiters: list[tuple[int, int, _Waiter]] = []  # a heap by the offset a slave must reach
        self._deadlines: deque[_Waiter] = deque()  # the same waiters in submission (= deadline) order
        self._timer_wakeup = trio.Event()
        self._seq = itertools.count()
        self._new_data = trio.Event()

    # -- GroupTransferService --------------------------------------------------------------------------------
    def is_slave_ok(self, master_put_where: int) -> bool:
        """HAService.isSlaveOK."""
        behind = master_put_where - self.push2slave_max_offset
        return bool(self.connections) and behind < self.config.slave_fallbehind_max

    def slave_fall_behind(self) -> int:
        """DefaultMessageStore.slaveFallBehindMuch."""
        return self.store.max_phy_offset - self.push2slave_max_offset

    def check_replica(self, next_offset: int) -> PutMessageStatus | None:
        """The answer known at submission: SLAVE_NOT_AVAILABLE, PUT_OK if a slave has it already, else None."""
        if not self.is_slave_ok(next_offset):
            return PutMessageStatus.SLAVE_NOT_AVAILABLE
        if self.push2slave_max_offset >= next_offset:
            return PutMessageStatus.PUT_OK
        return None

    def submit_replica(self, next_offset: int, done: ReplicaCallback) -> None:
        """Call `done(status)` once a slave has everything before `next_offset` (PUT_OK), or FLUSH_SLAVE_TIMEOUT
        after slaveTimeout: no task and no event of its own, the acknowledgement releases every covered waiter in
        one pass (GroupTransferService), and one timer task expires them (`run_timer`)."""
        waiter = _Waiter(next_offset, trio.current_time() + self.config.slave_timeout_ms / 1000, done)
        heapq.heappush(self._waiters, (next_offset, next(self._seq), waiter))
        self._deadlines.append(waiter)
        if len(self._deadlines) == 1:
            self._timer_wakeup.set()
        self.notify_new_data()  # wakeupAll: the writers need not sleep out their poll

    def replica_later(self, next_offset: int, done: ReplicaCallback) -> PutMessageStatus | None:
        """`check_replica`'s answer if it has one, else None and `done` gets it later (the send path's)."""
        status = self.check_replica(next_offset)
        if status is None:
            self.submit_replica(next_offset, done)
        return status

    async def wait_replica(self, next_offset: int) -> PutMessageStatus:
        """PUT_OK once a slave has everything before `next_offset`; FLUSH_SLAVE_TIMEOUT or SLAVE_NOT_AVAILABLE."""
        status = self.check_replica(next_offset)
        if status is not None:
            return status
        event, outcome = trio.Event(), [PutMessageStatus.FLUSH_SLAVE_TIMEOUT]

        def done(result: PutMessageStatus) -> None:
            outcome[0] = result
            event.set()

        self.submit_replica(next_offset, done)
        await event.wait()
        return outcome[0]

    def notify_transfer(self, ack: int) -> None:
        """notifyTransferSome: the newest acknowledged offset of any slave releases the puts it covers."""
        if ack > self.push2slave_max_offset:
            self.push2slave_max_offset = ack
        waiters = self._waiters
        while waiters and waiters[0][0] <= self.push2slave_max_offset:
            self._complete(heapq.heappop(waiters)[2], PutMessageStatus.PUT_OK)

    @staticmethod
    def _complete(waiter: _Waiter, status: PutMessageStatus) -> None:
        if waiter.done is None:
            return
        done, waiter.done = waiter.done, None
        try:
            done(status)
        except Exception:  # one requester's failure (its connection gone) must not stop the others' answers
            log.exception("replica callback failed")

    async def run_timer(self) -> None:
        """FLUSH_SLAVE_TIMEOUT for the waiters a slave did not acknowledge within slaveTimeout. Deadlines come in
        submission order (one timeout for all), so the oldest is first; one sleep covers everything until it."""
        deadlines = self._deadlines
        while True:
            while deadlines and deadlines[0].done is None:
                deadlines.popleft()  # released by an acknowledgement
            if not deadlines:
                self._timer_wakeup = trio.Event()
                await self._timer_wakeup.wait()
                continue
            now = trio.current_time()
            first = deadlines[0]
            if first.deadline > now:
                await trio.sleep_until(first.deadline)
                continue
            while deadlines and (deadlines[0].done is None or deadlines[0].deadline <= now):
                self._complete(deadlines.popleft(), PutMessageStatus.FLUSH_SLAVE_TIMEOUT)
            if len(self._waiters) > 2 * len(deadlines) + 1024:  # answered entries an acknowledgement never passed
                self._waiters = [entry for entry in self._waiters if entry[2].done is not None]
                heapq.heapify(self._waiters)

    def notify_new_data(self) -> None:
        self._new_data.set()
        self._new_data = trio.Event()

    # -- AcceptSocketService ---------------------------------------------------------------------------------
    async def serve(self, port: int, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED) -> None:
        """Listen on haListenPort (every address, as Java's InetSocketAddress(port))."""
        listeners = await trio.open_tcp_listeners(port)
        bound = listeners[0].socket.getsockname()[1]
        log.info("HAService listening on port %d", bound)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self.run_timer)
            task_status.started(bound)
            await trio.serve_listeners(self._handle, listeners, handler_nursery=nursery)

    async def _handle(self, stream: trio.SocketStream) -> None:
        host, port = stream.socket.getpeername()[:2]
        conn = SlaveConnection(f"{host}:{port}")
        log.info("HAService receive new connection, %s", conn.client_addr)
        self.connections.add(conn)
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._guarded, self._read_loop, stream, conn, nursery.cancel_scope)
                nursery.start_soon(self._guarded, self._write_loop, stream, conn, nursery.cancel_scope)
        finally:
            self.connections.discard(conn)
            await stream.aclose()

    @staticmethod
    async def _guarded(
        loop: Callable[[trio.SocketStream, SlaveConnection], Awaitable[None]],
        stream: trio.SocketStream,
        conn: SlaveConnection,
        scope: trio.CancelScope,
    ) -> None:
        """Either service ending (peer gone, housekeeping, a bad offset) ends the connection, as makeStop does."""
        try:
            await loop(stream, conn)
        except (trio.BrokenResourceError, trio.ClosedResourceError, OSError) as exc:
            log.info("HA connection %s closed: %s", conn.client_addr, exc)
        except Exception:  # a service's exception ends its connection, never the listener
            log.exception("HA connection %s failed", conn.client_addr)
        finally:
            scope.cancel()

    async def _read_loop(self, stream: trio.SocketStream, conn: SlaveConnection) -> None:
        """ReadSocketService.processReadEvent."""
        reader = OffsetReader()
        housekeeping = self.config.housekeeping_interval_ms / 1000
        while True:
            with trio.move_on_after(housekeeping) as timer:
                data = await stream.receive_some(READ_SIZE)
            if timer.cancelled_caught:
                log.warning("ha housekeeping, found this connection[%s] expired", conn.client_addr)
                break
            if not data:
                break
            offset = reader.feed(data)
            if offset is None:
                continue
            conn.ack_offset = offset
            if conn.request_offset < 0:
                conn.request_offset = offset
                conn.requested.set()
                log.info("slave[%s] request offset %d", conn.client_addr, offset)
            elif offset > self.store.max_phy_offset:
                log.warning(
                    "slave[%s] request offset=%d greater than local commitLog offset=%d.",
                    conn.client_addr, offset, self.store.max_phy_offset,
                )  # fmt: skip
                break
            self.notify_transfer(offset)

    def _read_batch(self, offset: int) -> bytes:
        with self.store.lock:
            view = self.store.get_commit_log_data(offset)
            if view is None:
                return b""
            return bytes(view[: self.config.transfer_batch_size])

    async def _write_loop(self, stream: trio.SocketStream, conn: SlaveConnection) -> None:
        """WriteSocketService.run."""
        await conn.requested.wait()
        file_size = self.store.commitlog.file_size
        next_offset = first_transfer_offset(conn.request_offset, self.store.max_phy_offset, file_size)
        log.info(
            "master transfer data from %d to slave[%s], and slave request %d",
            next_offset, conn.client_addr, conn.request_offset,
        )  # fmt: skip
        heartbeat = self.config.heartbeat_interval_ms / 1000
        last_write = trio.current_time()
        while True:
            if trio.current_time() - last_write > heartbeat:
                await stream.send_all(encode_header(next_offset, 0))
                last_write = trio.current_time()
            # A copy out of the mapped page cache the puts wrote moments ago, as cheap as the put itself (which
            # the send path also does on the loop); only a slave far behind reads cold pages, in a worker thread.
            if self.store.max_phy_offset - next_offset <= self.config.transfer_batch_size:
                data = self._read_batch(next_offset)
            else:
                data = await trio.to_thread.run_sync(self._read_batch, next_offset)
            if data:
                await stream.send_all(encode_header(next_offset, len(data)) + data)
                next_offset += len(data)
                last_write = trio.current_time()
                continue
            new_data = self._new_data
            with trio.move_on_after(IDLE_POLL):
                await new_data.wait()
