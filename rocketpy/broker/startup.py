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
from typing import TYPE_CHECKING, Any

import trio

from rocketpy.broker.config import KEYS, BrokerRole, BrokerSettings
from rocketpy.broker.controller import BrokerController
from rocketpy.broker.ha.service import HAService
from rocketpy.broker.processors import send_fast
from rocketpy.broker.processors.data_plane import build_data_plane
from rocketpy.broker.schedule_loop import ScheduleLoop
from rocketpy.broker.stats import BrokerStats
from rocketpy.broker.store_view import StoreView
from rocketpy.protocol.codes import RequestCode
from rocketpy.remoting.server import RemotingServer
from rocketpy.remoting.tls import ServerTls, client_context
from rocketpy.remoting.tls_config import TlsConfig
from rocketpy.store import reader
from rocketpy.store.config import FlushDiskType, StoreConfig
from rocketpy.store.message_store import MessageStore

if TYPE_CHECKING:
    from rocketpy.broker.acl_service import AclService

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
    # Java refuses a body over maxMessageSize (the send processor checks that) and a whole record over
    # maxMessageSize + 64 KiB, which is the store's limit.
    kwargs["max_message_size"] = settings.store.max_message_size + 64 * 1024
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
    stats: BrokerStats | None = None  # the data plane's counters (the metrics endpoint reads them)


async def run_broker(
    settings: BrokerSettings,
    *,
    tls: TlsConfig | None = None,
    task_status: trio.TaskStatus[Broker] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Open the store, serve both ports, register with the NameServers; on cancellation shut down cleanly.

    `tls` (TlsSystemConfig) secures both ports and, when useTLS, the NameServer connections; None: plain only."""
    # initialAcl: with aclEnable every request passes the ACL hook; an ACL that cannot be loaded stops the start
    acl: AclService | None = None
    if settings.broker.acl_enable:  # the ACL code (and yaml) is imported only then
        from rocketpy.broker.acl_service import AclService

        acl = await trio.to_thread.run_sync(AclService.load, settings)
    store = MessageStore(store_config_from(settings))
    report = await trio.to_thread.run_sync(store.open)
    log.info("store opened: %s", report)
    try:
        controller = BrokerController(settings, store, store_view=_store_view(store))
        await trio.to_thread.run_sync(controller.load)
        plane = build_data_plane(controller, store, schedule_delayed=True)
        await trio.to_thread.run_sync(plane.schedule.load)  # delayOffset.json, after the queues are recovered
        ha = HAService(settings, store, controller, plane.schedule.path)
        ha.wire(plane.send, plane.transaction)
        handlers = {**controller.handlers(), **plane.handlers()}
        if acl is not None:
            from rocketpy.broker.processors.admin_acl import AdminAclProcessor

            handlers.update(AdminAclProcessor(acl, settings).handlers())
        vip_handlers = {code: h for code, h in handlers.items() if code != RequestCode.PULL_MESSAGE}
        idle = float(settings.netty.server_channel_max_idle_time_seconds)
        server_tls = None if tls is None else await trio.to_thread.run_sync(ServerTls.build, tls)
        if settings.client.use_tls:
            controller.registration.ssl_context = await trio.to_thread.run_sync(client_context, tls or TlsConfig())
        hook = acl.hook if acl is not None else None
        fast, batch = plane.fast_handlers(), plane.batch_handler()
        vip_fast = {code: h for code, h in fast.items() if code != RequestCode.PULL_MESSAGE}  # as vip_handlers
        if fast and not send_fast.NATIVE:
            log.warning("the C extension rocketpy.broker._sendpath is not built (pip install -e . with a C compiler):"
                        " sends go the Python fast path, at about four times the CPU per message")  # fmt: skip
        if fast and not reader.NATIVE:
            log.warning("the C extension rocketpy.store._readpath is not built (pip install -e . with a C compiler):"
                        " pulls walk their queues in Python, at about twice the CPU per pull")  # fmt: skip
        main = RemotingServer(handlers, idle_timeout=idle, tls=server_tls, before_hook=hook, fast_handlers=fast,
                              batch_handler=batch)  # fmt: skip
        vip = RemotingServer(vip_handlers, idle_timeout=idle, tls=server_tls, before_hook=hook, fast_handlers=vip_fast,
                             batch_handler=plane.batch_handler(pulls=False))  # fmt: skip
        for server in (main, vip):
            server.on_close(controller.on_connection_closed)
        store.start()
        async with trio.open_nursery() as nursery:
            port = await nursery.start(main.serve, settings.netty.listen_port)
            vip_port = await nursery.start(vip.serve, settings.netty.listen_port - 2)
            await ha.start(nursery)
            await nursery.start(controller.run)
            if settings.store.broker_role is not BrokerRole.SLAVE:  # handleScheduleMessageService: masters only
                await nursery.start(ScheduleLoop(plane.schedule, settings.store.flush_delay_offset_interval).run)
                await nursery.start(plane.transaction_check.run)  # startProcessorByHa
            if acl is not None:
                await nursery.start(acl.watch)
            task_status.started(Broker(settings, store, controller, port, vip_port, plane.stats))
    finally:
        with trio.CancelScope(shield=True):
            await trio.to_thread.run_sync(store.close)
            log.info("store closed")
