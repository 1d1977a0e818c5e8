"""BrokerController: owns the broker's control-plane state, its request handlers and its background loops.

Mirrors broker.BrokerController (initialize/start/shutdown). Wiring, as the CLI will do it:

    settings = load_settings("broker.conf", {"namesrvAddr": "127.0.0.1:9876"})
    controller = BrokerController(settings, store=None)       # the message store comes later
    controller.load()                                         # topics.json, subscriptionGroup.json, consumerOffset.json
    server = RemotingServer(controller.handlers())
    server.on_close(controller.on_connection_closed)          # ClientHousekeepingService.onChannelClose
    await nursery.start(server.serve, settings.netty.listen_port)
    await nursery.start(controller.run)                       # registration, persistence, client expiry

`run` registers with the NameServers before reporting started; cancelling it unregisters and persists everything.
Config files are written off the event loop (trio.to_thread) soon after a change; consumer offsets every
flushConsumerOffsetInterval after a 10 s delay, as Java schedules them; clients are scanned every 10 s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import trio

from rocketpy.broker.client_manager import Channel, Notification, ProducerManager
from rocketpy.broker.config import BrokerSettings, format_properties_for_file
from rocketpy.broker.consumer_filter import ConsumerFilterManager, ExpressionCompilers, bloom_filter_bits
from rocketpy.broker.consumer_manager import ConsumerManager
from rocketpy.broker.namesrv_registration import NamesrvRegistration
from rocketpy.broker.offsets import ConsumerOffsetManager
from rocketpy.broker.persistence import ConfigStore, FileConfigStore
from rocketpy.broker.processors.admin_config import AdminConfigProcessor
from rocketpy.broker.processors.admin_group import AdminGroupProcessor
from rocketpy.broker.processors.admin_topic import AdminTopicProcessor
from rocketpy.broker.processors.client_manage import ClientManageProcessor
from rocketpy.broker.processors.consumer_manage import ConsumerManageProcessor
from rocketpy.broker.processors.lock import LockProcessor
from rocketpy.broker.rebalance_lock import RebalanceLockManager
from rocketpy.broker.store_view import StoreView
from rocketpy.broker.subscription_group import SubscriptionGroupManager
from rocketpy.broker.topic_config import TopicConfigManager
from rocketpy.common.clock import wall_clock_ms
from rocketpy.protocol.broker_headers import NotifyConsumerIdsChangedRequestHeader
from rocketpy.protocol.codes import RequestCode
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler

log = logging.getLogger("RocketmqBroker")

OFFSET_FLUSH_INITIAL_DELAY = 10.0
PERSIST_COALESCE = 0.1  # seconds between two writes of the config files
CLIENT_SCAN_INITIAL_DELAY = 10.0  # ClientHousekeepingService: scheduleAtFixedRate(scan, 10 s, 10 s)
CLIENT_SCAN_PERIOD = 10.0
TOPICS, GROUPS, BROKER_CONFIG = "topics", "groups", "broker-config"


class BrokerController:
    def __init__(
        self,
        settings: BrokerSettings | None = None,
        store: Any = None,
        *,
        clock_ms: Callable[[], int] | None = None,
        config_store: ConfigStore | None = None,
        store_view: StoreView | None = None,
        expression_compilers: ExpressionCompilers | None = None,
        offload_blocking_io: bool = True,
    ) -> None:
        self.settings = settings or BrokerSettings()
        self.store = store  # the message store, once the data plane is wired in
        self.clock_ms: Callable[[], int] = clock_ms or wall_clock_ms
        self.config_store: ConfigStore = config_store or FileConfigStore(self.settings.config_dir)
        self.store_view = store_view or StoreView()
        if self.settings.data_version.timestamp == 0:  # Configuration's new DataVersion(): stamped at creation
            self.settings.data_version.timestamp = self.clock_ms()
        b = self.settings.broker
        self.topics = TopicConfigManager(
            b, self.clock_ms, on_persist=lambda: self._mark(TOPICS), on_register=self._request_register
        )
        self.groups = SubscriptionGroupManager(b, self.clock_ms, on_persist=lambda: self._mark(GROUPS))
        self.offsets = ConsumerOffsetManager()
        self.producers = ProducerManager()
        self.consumers = ConsumerManager(ConsumerFilterManager(expression_compilers))
        # ConsumerFilterManager(BrokerController): the bloom filter's width becomes the store's bit map length
        self.settings.store.bit_map_length_consume_queue_ext = bloom_filter_bits(
            b.max_error_rate_of_bloom_filter, b.expect_consumer_num_use_filter
        )
        self.locks = RebalanceLockManager(self.clock_ms)
        self.registration = NamesrvRegistration(
            self.settings,
            self.topics.build_wrapper,
            self.topics.update_order_topic_config,
            data_version=self.topics.version_snapshot,
        )
        self._processors: list[Any] = [
            ClientManageProcessor(self),
            ConsumerManageProcessor(self),
            AdminTopicProcessor(self),
            AdminConfigProcessor(self),
            AdminGroupProcessor(self),
            LockProcessor(self),
        ]
        self._dirty: set[str] = set()
        self._wake_persister = trio.Event()
        self._nursery: trio.Nursery | None = None
        # False runs file writes on the event loop: for in-memory config stores under trio's MockClock, whose
        # autojump would otherwise move time on while a worker thread writes.
        self.offload_blocking_io = offload_blocking_io

    # -- wiring --------------------------------------------------------------------------------------------------

    def handlers(self) -> dict[int, Handler]:
        table: dict[int, Handler] = {}
        for processor in self._processors:
            table.update(processor.handlers())
        return table

    def load(self) -> None:
        """ConfigManager.load of the three managers (blocking: call before serving)."""
        self.topics.load(self.config_store)
        self.groups.load(self.config_store)
        self.offsets.load(self.config_store)

    def _request_register(self) -> None:
        """A topic was created or changed: TopicConfigManager's registerBrokerAll(false, oneway=true, true)."""
        self.registration.register_oneway_now()

    def config_changed(self) -> None:
        """Configuration.persist after UPDATE_BROKER_CONFIG: write the broker config file soon."""
        self._mark(BROKER_CONFIG)

    # -- clients -------------------------------------------------------------------------------------------------

    async def notify_consumer_ids_changed(self, notes: Iterable[Notification]) -> None:
        """DefaultConsumerIdsChangeListener CHANGE -> Broker2Client.notifyConsumerIdsChanged, oneway to each channel."""
        if not self.settings.broker.notify_consumer_ids_changed_enable:
            return
        for note in notes:
            ext = NotifyConsumerIdsChangedRequestHeader(note.group).to_ext()
            for channel in note.channels:
                try:
                    await channel.invoke_oneway(RemotingCommand.request(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, ext))
                except Exception as exc:  # a dead channel is cleaned up by its close event
                    log.warning("notifyConsumerIdsChanged to %s failed: %s", channel.remote_addr, exc)

    def on_connection_closed(self, connection: Any) -> None:
        """ClientHousekeepingService.onChannelClose: forget the connection's producers and consumers."""
        self.producers.channel_closed(connection)
        notes = self.consumers.channel_closed(connection)
        if notes and self._nursery is not None:
            self._nursery.start_soon(self.notify_consumer_ids_changed, notes)

    async def scan_clients_once(self) -> list[Channel]:
        """One scanNotActiveChannel pass over producers and consumers: close and return the expired channels."""
        now = self.clock_ms()
        expired = self.producers.scan_expired(now)
        consumer_expired, notes = self.consumers.scan_expired(now)
        expired += [c for c in consumer_expired if c not in expired]
        await self.notify_consumer_ids_changed(notes)
        for channel in expired:
            try:
                await channel.aclose()
            except Exception as exc:
                log.info("closing expired client channel %s failed: %s", channel.remote_addr, exc)
        return expired

    # -- persistence ---------------------------------------------------------------------------------------------

    def _mark(self, what: str) -> None:
        self._dirty.add(what)
        self._wake_persister.set()

    def _snapshot(self, what: Iterable[str]) -> list[tuple[str, str]]:
        files = []
        for name in what:
            if name == TOPICS:
                files.append(("topics.json", self.topics.encode()))
            elif name == GROUPS:
                files.append(("subscriptionGroup.json", self.groups.encode()))
            elif name == BROKER_CONFIG and self.settings.config_path:
                files.append((self.settings.config_path, format_properties_for_file(self.settings)))
        return files

    def _write(self, files: list[tuple[str, str]]) -> None:
        for name, text in files:
            try:
                self.config_store.persist(name, text)
            except OSError as exc:
                log.error("persist %s failed: %s", name, exc)

    def persist_all(self) -> None:
        """Write every dirty config file and the consumer offsets now (blocking)."""
        dirty, self._dirty = self._dirty, set()
        self._write(self._snapshot(sorted(dirty)))
        self.offsets.persist(self.config_store)

    async def _blocking(self, fn: Callable[..., None], *args: Any) -> None:
        """The one place blocking file I/O leaves the event loop."""
        if self.offload_blocking_io:
            await trio.to_thread.run_sync(fn, *args)
        else:
            fn(*args)

    async def _persister(self) -> None:
        while True:
            await self._wake_persister.wait()
            self._wake_persister = trio.Event()
            dirty, self._dirty = self._dirty, set()
            files = self._snapshot(sorted(dirty))  # encoded on the loop: a consistent view
            await self._blocking(self._write, files)
            # Changes made meanwhile wait a moment and share the next write: a storm of creates then costs a few
            # whole-file writes a second, not one per create (the files grow with the topics: 8 MB at 50,000).
            await trio.sleep(PERSIST_COALESCE)

    async def _offset_flusher(self) -> None:
        await trio.sleep(OFFSET_FLUSH_INITIAL_DELAY)
        while True:
            text = self.offsets.encode()
            self.offsets.dirty = False
            await self._blocking(self._write, [("consumerOffset.json", text)])
            await trio.sleep(max(self.settings.broker.flush_consumer_offset_interval, 100) / 1000)

    async def _client_housekeeping(self) -> None:
        await trio.sleep(CLIENT_SCAN_INITIAL_DELAY)
        while True:
            await self.scan_clients_once()
            await trio.sleep(CLIENT_SCAN_PERIOD)

    # -- lifecycle -----------------------------------------------------------------------------------------------

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """start(): register with the NameServers, then keep the loops going until cancelled (shutdown)."""
        try:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                nursery.start_soon(self._persister)
                nursery.start_soon(self._offset_flusher)
                nursery.start_soon(self._client_housekeeping)
                await nursery.start(self.registration.run)
                task_status.started()
        finally:
            self._nursery = None
            with trio.CancelScope(shield=True):
                await self._blocking(self.persist_all)
