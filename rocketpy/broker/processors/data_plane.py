"""The broker's data plane in one call: the wiring `rocketpy broker` needs on top of the control plane.

    store = MessageStore(store_config); store.open(); store.start()
    controller = BrokerController(settings, store)
    plane = build_data_plane(controller, store)          # also sets store.arrival_listener
    server = RemotingServer({**controller.handlers(), **plane.handlers()})

Codes served: 10, 310, 320 (send), 36 (send back), 11 (pull, long polling), 12, 33 (query), 29, 30, 31, 32, 202, 208,
28 (offsets and statistics), 45 (delay offsets), 222, 223, 303, 307, 308, 309, 314, 317 (admin_consumer.py), 306,
316, 321, 329 (admin_store.py), 315 (admin_stats.py), 37, 323 (transactions; `plane.transaction_check.run` is the
check service, which the broker runs on a master). `schedule_delayed=True` (what `rocketpy broker` and `serve` use)
moves DELAY messages to SCHEDULE_TOPIC_XXXX; `plane.schedule` must then be loaded and driven by a
rocketpy.broker.schedule_loop.ScheduleLoop. Store configuration to match Java: StoreConfig.max_message_size is the
store's limit on a whole *record*; Java refuses a body over maxMessageSize and a record over maxMessageSize + 64 KiB,
so give the store `max_message_size = settings.store.max_message_size + 64 * 1024` (the send processor checks the
body against maxMessageSize itself). Request-reply: 324, 325 (reply.py).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rocketpy.broker.longpolling import LONG_POLLING_CHECK_INTERVAL, PullRequestHoldService
from rocketpy.broker.processors import send_fast
from rocketpy.broker.processors.admin_consumer import AdminConsumerProcessor
from rocketpy.broker.processors.admin_stats import AdminStatsProcessor
from rocketpy.broker.processors.admin_store import AdminStoreProcessor
from rocketpy.broker.processors.delay_offset import DelayOffsetProcessor
from rocketpy.broker.processors.offsets_stats import OffsetStatsProcessor
from rocketpy.broker.processors.pull import PullMessageProcessor
from rocketpy.broker.processors.pull_fast import FastPull
from rocketpy.broker.processors.query import QueryMessageProcessor
from rocketpy.broker.processors.reply import ReplyMessageProcessor
from rocketpy.broker.processors.send import SendMessageProcessor
from rocketpy.broker.processors.send_back import ConsumerSendMsgBackProcessor
from rocketpy.broker.processors.transaction import TransactionProcessor
from rocketpy.broker.stats import BrokerStats
from rocketpy.broker.transaction.bridge import TransactionalMessageBridge
from rocketpy.broker.transaction.service import TransactionalMessageCheckService
from rocketpy.protocol.codes import RequestCode
from rocketpy.remoting.connection import BatchHandler, FastHandler, Handler
from rocketpy.store.message_store import MessageStore
from rocketpy.store.schedule import ScheduleMessageService

if TYPE_CHECKING:
    from rocketpy.broker.controller import BrokerController
    from rocketpy.remoting.connection import Connection


_PULL_HEAD = b'{"code":11,'  # a PULL_MESSAGE header as fastjson writes it (fields in name order)


@dataclass(slots=True)
class DataPlane:
    stats: BrokerStats
    holds: PullRequestHoldService
    send: SendMessageProcessor
    send_back: ConsumerSendMsgBackProcessor
    pull: PullMessageProcessor
    query: QueryMessageProcessor
    admin: OffsetStatsProcessor
    reply: ReplyMessageProcessor
    transaction: TransactionProcessor
    transaction_check: TransactionalMessageCheckService
    schedule: ScheduleMessageService  # delayed delivery; rocketpy.broker.schedule_loop drives it
    admin_consumer: AdminConsumerProcessor  # 222, 223, 303, 307, 308, 309, 314, 317
    admin_store: AdminStoreProcessor  # 306, 316, 321, 329

    def handlers(self) -> dict[int, Handler]:
        table: dict[int, Handler] = {}
        delay = DelayOffsetProcessor(self.schedule)
        processors = (self.send, self.send_back, self.pull, self.query, self.admin, self.reply, delay, self.transaction,
                      self.admin_consumer, self.admin_store, AdminStatsProcessor(self.stats))  # fmt: skip
        for processor in processors:
            table.update(processor.handlers())
        return table

    fast_pull: FastPull | None = None

    def _fast_pull(self) -> FastPull:
        if self.fast_pull is None:
            self.fast_pull = FastPull(self.pull)
        return self.fast_pull

    def fast_handlers(self) -> dict[int, FastHandler]:
        """Synchronous handlers of the common form of a request, tried before the table's (send_fast, pull_fast)."""
        return {**self.send.fast_handlers(), RequestCode.PULL_MESSAGE: self._fast_pull()}

    def batch_handler(self, *, pulls: bool = True) -> BatchHandler | None:
        """The handler of whole reads tried before both, in C where built: the sends (send_fast) and the pulls
        (pull_fast; not with `pulls=False`, the VIP channel's, which Java serves no pull on) of a read in turn, up to
        the first frame neither takes; None without the extension."""
        if not send_fast.NATIVE:
            return None
        sends = self.send.batch_handler()
        if not pulls:
            return sends
        take_pulls = self._fast_pull().batch

        def batch(conn: Connection, data: bytes, pos: int) -> tuple[int, bytes]:
            out: list[bytes] = []
            end = len(data)
            while pos < end:
                at = pos
                # the Java client's header starts with its code: try the likely handler first (either decides)
                if data.startswith(_PULL_HEAD, pos + 8) or sends is None:
                    pos, replies = take_pulls(conn, data, pos)
                    if pos == at and sends is not None:
                        pos, replies = sends(conn, data, pos)
                else:
                    pos, replies = sends(conn, data, pos)
                    if pos == at:
                        pos, replies = take_pulls(conn, data, pos)
                if replies:
                    out.append(replies)
                if pos == at:
                    break
            return pos, out[0] if len(out) == 1 else b"".join(out)

        return batch


def build_data_plane(
    controller: BrokerController,
    store: MessageStore,
    *,
    schedule_delayed: bool = False,
    check_interval: float = LONG_POLLING_CHECK_INTERVAL,
    rng: random.Random | None = None,
) -> DataPlane:
    """The processors over the controller's managers and `store`; long polling hears of every dispatch."""
    c = controller
    settings, clock = c.settings, c.clock_ms
    stats = BrokerStats(clock)
    stats.manager.cluster_name = settings.broker.broker_cluster_name  # BROKER_PUT_NUMS / BROKER_GET_NUMS key
    holds = PullRequestHoldService(store, check_interval=check_interval)
    store.arrival_listener = holds.on_message_arrival
    send = SendMessageProcessor(
        settings, store, c.topics, c.groups, stats, clock_ms=clock, schedule_delayed=schedule_delayed, rng=rng,
        transactions=True,
    )  # fmt: skip
    bridge = TransactionalMessageBridge(store, c.topics, c.offsets, send.store_host, clock, stats)
    schedule = ScheduleMessageService(store, clock)
    admin = OffsetStatsProcessor(settings, store, c.topics, c.consumers, c.offsets, stats)
    admin.schedule_stats = schedule.running_stats
    return DataPlane(
        stats=stats,
        holds=holds,
        send=send,
        send_back=ConsumerSendMsgBackProcessor(send),
        pull=PullMessageProcessor(
            settings, store, c.topics, c.groups, c.consumers, c.offsets, stats, holds, clock_ms=clock
        ),
        query=QueryMessageProcessor(settings, store, stats),
        admin=admin,
        reply=ReplyMessageProcessor(send, c.producers),
        schedule=schedule,
        transaction=TransactionProcessor(settings, bridge),
        transaction_check=TransactionalMessageCheckService(settings, bridge, c.producers, clock),
        admin_consumer=AdminConsumerProcessor(
            settings, store, c.topics, c.groups, c.consumers, c.offsets, stats, clock
        ),
        admin_store=AdminStoreProcessor(store, c.topics, c.consumers),
    )
