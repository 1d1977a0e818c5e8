"""The slave side of 4.x HA: HAService.HAClient of 4.9.8, as one trio task.

The master's HA address comes from the NameServer's REGISTER_BROKER reply (haServerAddr) or from
haMasterAddress. Connected, the slave reports its max commit-log offset when nothing was written for
haSendHeartbeatInterval and whenever its log grew, once the frames of one read are appended (Java reports after
each frame of its read buffer: no sooner for a SYNC_MASTER, as the frames of one read are appended within
microseconds, but a write and a master wake-up per frame). Every frame from the master is checked against the
log's end (a mismatch closes the connection: the slave is behind or ahead of what the master sends) and appended,
which also dispatches the records to the consume queues and the index: on the loop while it fits the current file
(page-cache writes, as a put on the master), in a worker thread when a new file is created. Nothing written for
haHousekeepingInterval closes the connection; a closed connection is reopened at once, a failed connect after
5 s, as the Java client's loop does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import trio

from rocketpy.broker.ha.frames import TransferDecoder, encode_offset
from rocketpy.store.message_store import MessageStore

log = logging.getLogger("RocketmqStore")

READ_SIZE = 4 * 1024 * 1024  # HAClient.READ_MAX_BUFFER_SIZE
RETRY_INTERVAL = 5.0  # waitForRunning(1000 * 5) when there is no master to connect to
SELECT_TIMEOUT = 1.0  # selector.select(1000)


@dataclass(frozen=True, slots=True)
class HAClientConfig:
    heartbeat_interval_ms: int = 5000
    housekeeping_interval_ms: int = 20000


class HASlave:
    """HAClient: `run` until cancelled; `update_master_address` whenever the NameServer names the master."""

    def __init__(self, store: MessageStore, config: HAClientConfig, master_address: str | None = None) -> None:
        self.store = store
        self.config = config
        self.master_address = master_address or None
        self.connected = False

    def update_master_address(self, addr: str | None) -> None:
        if addr and addr != self.master_address:
            log.info("update master address, OLD: %s NEW: %s", self.master_address, addr)
            self.master_address = addr  # picked up by the next turn of the loop, as Java's (no wakeup)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            addr = self.master_address
            if addr is None:
                await trio.sleep(RETRY_INTERVAL)
                continue
            host, _, port = addr.rpartition(":")
            try:
                stream = await trio.open_tcp_stream(host, int(port))
            except (OSError, ValueError) as exc:
                log.debug("connect to HA master %s failed: %s", addr, exc)
                await trio.sleep(RETRY_INTERVAL)
                continue
            self.connected = True
            try:
                await self._session(stream)
            except (trio.BrokenResourceError, trio.ClosedResourceError, OSError, ValueError) as exc:
                log.info("HAClient connection to %s closed: %s", addr, exc)
            except Exception:  # Java's run loop catches everything and carries on
                log.exception("HAClient service has exception")
                await trio.sleep(RETRY_INTERVAL)
            finally:
                self.connected = False
                await stream.aclose()

    def _fits(self, size: int) -> bool:
        last = self.store.commitlog.files.last()  # limit <= size: past it blocks are reserved (allocate.py)
        return last is not None and last.wrote + size <= last.limit

    async def _session(self, stream: trio.SocketStream) -> None:
        heartbeat = self.config.heartbeat_interval_ms / 1000
        housekeeping = self.config.housekeeping_interval_ms / 1000
        reported = self.store.max_phy_offset
        last_write = trio.current_time()
        decoder = TransferDecoder()

        async def report(offset: int) -> None:
            nonlocal last_write
            await stream.send_all(encode_offset(offset))
            last_write = trio.current_time()

        while True:
            if trio.current_time() - last_write > heartbeat:
                await report(reported)
            data: bytes | None = None
            with trio.move_on_after(SELECT_TIMEOUT):
                data = await stream.receive_some(READ_SIZE)
            if data == b"":
                log.info("HAClient: the master closed the connection")
                return
            for frame in decoder.feed(data or b""):
                slave_max = self.store.max_phy_offset
                if slave_max != 0 and slave_max != frame.offset:
                    log.error("master pushed offset not equal the max phy offset in slave, SLAVE: %d MASTER: %d",
                              slave_max, frame.offset)  # fmt: skip
                    return
                if frame.data:
                    if self._fits(len(frame.data)):  # into the mapped page cache, as a put on the master does
                        ok = self.store.append_replicated(frame.offset, frame.data)
                    else:  # a new file or disk blocks to reserve: a worker thread
                        ok = await trio.to_thread.run_sync(self.store.append_replicated, frame.offset, frame.data)
                    if not ok:
                        return
            current = self.store.max_phy_offset
            if current > reported:  # reportSlaveMaxOffsetPlus, once for all the frames of one read
                reported = current
                await report(reported)
            if trio.current_time() - last_write > housekeeping:
                log.warning("HAClient, housekeeping, found this connection expired")
                return
