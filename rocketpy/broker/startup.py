"""Assemble and run a Broker: store, control plane, data plane, the remoting servers and the background loops.

Mirrors BrokerStartup / BrokerController.initialize+start+shutdown. The broker listens on listenPort and on the
"VIP" port listenPort-2 (rocketmq-dashboard and clients with vipChannelEnabled use it), which serves every code
but PULL_MESSAGE, as Java's fastRemotingServer does. Blocking store work (open, recovery, close) leaves the event
loop through trio.to_thread.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import trio

from rocketpy.broker.config import KEYS, BrokerSettings
from rocketpy.broker.controller import BrokerController
from rocketpy.broker.longpolling import PullRequestHoldService
from rocketpy.broker.processors.offsets_stats import OffsetStatsProcessor
from rocketpy.broker.processors.pull import PullMessageProcessor
from rocketpy.broker.processors.query import QueryMessageProcessor
from rocketpy.broker.processors.send import SendMessageProcessor
from rocketpy.broker.stats import BrokerStats
from rocketpy.broker.store_view import StoreView
from rocketpy.protocol.codes import RequestCode
from rocketpy.remoting.connection import Handler
from rocketpy.remoting.server import RemotingServer
from rocketpy.store.config import FlushDiskType, StoreConfig
from rocketpy.store.message_store import MessageStore

log = logging.getLogger("RocketmqBroker")


def store_config_from(settings: BrokerSettings) -> StoreConfig:
    """MessageStoreConfig keys the store honours, taken from the broker's settings by their Java names."""
    kwargs: dict[str, Any] = {}
    for name in StoreConfig.field_names():
        key = StoreConfig.java_name(name)
        if name == "store_path_root_dir" or key not in KEYS:
            continue
        value = settings.get(key)
        if value is None:
            continue
        if name == "flush_disk_type":
            value = FlushDiskType(value.name if isinstance(value, Enum) else str(value))
        kwargs[name] = value
    return StoreConfig(store_path_root_dir=Path(settings.store.store_path_root_dir), **kwargs)


def _store_view(store: MessageStore) -> StoreView:
    """What the control plane asks of the store (getMinOffsetInQueue, checkInDiskByConsumeOffset)."""
    ram = store.config.total_physical_memory or os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    memory = ram * store.config.access_message_in_memory_max_ratio // 100

    def check_in_disk(topic: str, queue_id: int, offset: int) -> bool:
        phys = store.get_commit_log_offset_in_queue(topic, queue_id, offset)
        if phys < 0:
            return False
        return bool(store.max_phy_offset - phys > memory)

    return StoreView(
        min_offset_in_queue=store.get_min_offset_in_queue,
        check_in_disk_by_consume_offset=check_in_disk,
    )


@dataclass(slots=True)
class Broker:
    """A running broker's parts, for the CLI and tests."""

    settings: BrokerSettings
    store: MessageStore
    controller: BrokerController
    port: int
    vip_port: int


def build_handlers(settings: BrokerSettings, store: MessageStore, controller: BrokerController) -> dict[int, Handler]:
    stats = BrokerStats(controller.clock_ms)
    holds = PullRequestHoldService(store)
    store.arrival_listener = holds.on_message_arrival
    table = controller.handlers()
    table.update(
        SendMessageProcessor(
            settings, store, controller.topics, controller.groups, stats, clock_ms=controller.clock_ms
        ).handlers()
    )
    table.update(
        PullMessageProcessor(
            settings,
            store,
            controller.topics,
            controller.groups,
            controller.consumers,
            controller.offsets,
            stats,
            holds,
            clock_ms=controller.clock_ms,
        ).handlers()
    )
    table.update(QueryMessageProcessor(settings, store, stats).handlers())
    table.update(
        OffsetStatsProcessor(
            settings, store, controller.topics, controller.consumers, controller.offsets, stats
        ).handlers()
    )
    return table


async def run_broker(
    settings: BrokerSettings, *, task_status: trio.TaskStatus[Broker] = trio.TASK_STATUS_IGNORED
) -> None:
    """Open the store, serve both ports, register with the NameServers; on cancellation shut down cleanly."""
    store = MessageStore(store_config_from(settings))
    report = await trio.to_thread.run_sync(store.open)
    log.info("store opened: %s", report)
    try:
        controller = BrokerController(settings, store, store_view=_store_view(store))
        await trio.to_thread.run_sync(controller.load)
        handlers = build_handlers(settings, store, controller)
        vip_handlers = {code: h for code, h in handlers.items() if code != RequestCode.PULL_MESSAGE}
        idle = float(settings.netty.server_channel_max_idle_time_seconds)
        main = RemotingServer(handlers, idle_timeout=idle)
        vip = RemotingServer(vip_handlers, idle_timeout=idle)
        for server in (main, vip):
            server.on_close(controller.on_connection_closed)
        store.start()
        async with trio.open_nursery() as nursery:
            port = await nursery.start(main.serve, settings.netty.listen_port)
            vip_port = await nursery.start(vip.serve, settings.netty.listen_port - 2)
            await nursery.start(controller.run)
            task_status.started(Broker(settings, store, controller, port, vip_port))
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(store.close)
            log.info("store closed")
