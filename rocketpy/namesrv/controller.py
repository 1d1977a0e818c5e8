"""NamesrvController: wires the NameServer's state, handlers and liveness scan, as namesrv.NamesrvController does.

The remoting server and CLI (not here) use it as:

    controller = NamesrvController(settings)            # clock defaults to trio.current_time
    controller.load()                                    # kvConfig.json
    server = RemotingServer(controller.handlers())
    server.on_close(controller.on_connection_closed)     # BrokerHousekeepingService
    nursery.start_soon(controller.run_scan)              # scanNotActiveBroker: after 5 s, then every 10 s
    await nursery.start(server.serve, settings.netty.listen_port)
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import trio

from rocketpy.namesrv.config import NamesrvSettings
from rocketpy.namesrv.kvconfig import KVConfigManager
from rocketpy.namesrv.processor import NamesrvProcessor
from rocketpy.namesrv.route_info import RouteInfo
from rocketpy.remoting.connection import Handler

log = logging.getLogger("RocketmqNamesrv")

SCAN_INITIAL_DELAY = 5.0  # NamesrvController.initialize: scheduleAtFixedRate(scanNotActiveBroker, 5, 10, SECONDS)
SCAN_PERIOD = 10.0


class NamesrvController:
    def __init__(self, settings: NamesrvSettings | None = None, clock: Callable[[], float] | None = None) -> None:
        self.settings = settings or NamesrvSettings()
        self.clock: Callable[[], float] = clock or trio.current_time
        self.route_info = RouteInfo()
        self.kv = KVConfigManager(self.settings.namesrv.kv_config_path)
        self.processor = NamesrvProcessor(self.route_info, self.kv, self.settings, self._now)

    def _now(self) -> float:
        return self.clock()

    def load(self) -> None:
        """KVConfigManager.load (blocking; call before serving)."""
        self.kv.load()

    def handlers(self) -> dict[int, Handler]:
        return self.processor.handlers()

    def on_connection_closed(self, connection: Any) -> None:
        """BrokerHousekeepingService.onChannelClose/Exception/Idle: forget the broker on that connection at once."""
        self.route_info.on_channel_destroy(getattr(connection, "remote_addr", ""), connection)

    def scan_once(self) -> list[Any]:
        """One scanNotActiveBroker pass; returns the connections of expired brokers (already forgotten)."""
        return self.route_info.scan_not_active_broker(self._now())

    async def run_scan(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """The liveness loop: expire brokers silent for 120 s and close their connections, as Java does."""
        task_status.started()
        await trio.sleep(SCAN_INITIAL_DELAY)
        while True:
            for channel in self.scan_once():
                await _close(channel)
            await trio.sleep(SCAN_PERIOD)


async def _close(channel: Any) -> None:
    aclose = getattr(channel, "aclose", None)
    if aclose is None:
        return
    try:
        await aclose()
    except Exception as exc:  # closing a dead connection must never stop the scan
        log.info("closing expired broker connection failed: %s", exc)
