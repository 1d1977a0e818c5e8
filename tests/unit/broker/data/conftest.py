"""The broker data plane over a real MessageStore in tmp_path, driven with requests shaped like the Java client's.

`make_plane()` wires the processors the way the broker does (see the module docstrings of send.py / pull.py /
query.py / offsets_stats.py) on top of the control plane's managers, and `DataPlane.call` dispatches a request
as the remoting Connection does: a RocketMQError raised by a handler becomes a response with its code and remark.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trio

from rocketpy.broker.config import BrokerSettings
from rocketpy.broker.controller import BrokerController
from rocketpy.broker.longpolling import PullRequestHoldService
from rocketpy.broker.persistence import MemoryConfigStore
from rocketpy.broker.processors.data_plane import build_data_plane
from rocketpy.broker.processors.offsets_stats import OffsetStatsProcessor
from rocketpy.broker.processors.pull import PullMessageProcessor
from rocketpy.broker.processors.query import QueryMessageProcessor
from rocketpy.broker.processors.send import SendMessageProcessor
from rocketpy.broker.processors.send_support import properties_string
from rocketpy.broker.stats import BrokerStats
from rocketpy.protocol.codes import LanguageCode, RequestCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler, RequestContext
from rocketpy.store.config import FlushDiskType, StoreConfig
from rocketpy.store.format import StoredMessage, decode_records
from rocketpy.store.message_store import MessageStore
from tests.unit.broker.conftest import Clock, FakeConnection, make_settings

PRODUCER = FakeConnection("10.0.0.9:50000")
CONSUMER = FakeConnection("10.0.0.8:50001")
BORN_TS = 1_700_000_000_000


@dataclass
class DataPlane:
    settings: BrokerSettings
    controller: BrokerController
    store: MessageStore
    stats: BrokerStats
    holds: PullRequestHoldService
    send: SendMessageProcessor
    pull: PullMessageProcessor
    query: QueryMessageProcessor
    admin: OffsetStatsProcessor
    table: dict[int, Handler]
    clock: Clock

    async def call(
        self,
        code: int,
        ext: dict[str, str] | None = None,
        body: bytes | None = None,
        *,
        conn: FakeConnection = PRODUCER,
        version: int = 409,
    ) -> RemotingCommand:
        request = RemotingCommand.request(code, ext, body)
        request.language, request.version = LanguageCode.JAVA, version
        handler = self.table.get(code) or self.controller.handlers()[code]
        ctx = RequestContext(conn, None, request)  # type: ignore[arg-type]
        try:
            reply = await handler(ctx, request)
        except RocketMQError as exc:
            return RemotingCommand.response(exc.code, exc.remark)
        assert reply is not None
        return reply

    async def send_one(self, topic: str = "TopicTest", body: bytes = b"hello", **kw: Any) -> RemotingCommand:
        return await self.call(RequestCode.SEND_MESSAGE_V2, send_v2_ext(topic, **kw), body)

    async def pull_records(self, topic: str, queue_id: int, offset: int = 0, **kw: Any) -> list[StoredMessage]:
        kw.setdefault("sys_flag", PULL_SUBSCRIPTION)
        reply = await self.call(RequestCode.PULL_MESSAGE, pull_ext("G1", topic, queue_id, offset, **kw), conn=CONSUMER)
        assert reply.code == 0, (reply.code, reply.remark)
        return decode_records(bytes(reply.body or b""))


PULL_COMMIT, PULL_SUSPEND, PULL_SUBSCRIPTION = 0x1, 0x2, 0x4


def client_properties(
    tags: str | None = "TagA", keys: str | None = None, uniq: str = "7F0000010B6418B4AAC27A3E6B2C0000", **extra: str
) -> str:
    """A producer's properties string: Message(topic, tags, keys, body) + WAIT=true + UNIQ_KEY, HashMap order."""
    props: dict[str, str] = {}
    if tags is not None:
        props["TAGS"] = tags
    if keys is not None:
        props["KEYS"] = keys
    props["WAIT"] = "true"
    props.update(extra)
    props["UNIQ_KEY"] = uniq
    return properties_string(props)


def send_v2_ext(
    topic: str,
    *,
    queue_id: int = 0,
    properties: str | None = None,
    group: str = "PG",
    sys_flag: int = 0,
    flag: int = 0,
    reconsume_times: int = 0,
    max_reconsume_times: int | None = None,
    batch: bool = False,
    default_topic_queue_nums: int = 4,
) -> dict[str, str]:
    """SendMessageRequestHeaderV2 as DefaultMQProducerImpl fills it (k, m always present; l only for retries)."""
    ext = {
        "a": group,
        "b": topic,
        "c": "TBW102",
        "d": str(default_topic_queue_nums),
        "e": str(queue_id),
        "f": str(sys_flag),
        "g": str(BORN_TS),
        "h": str(flag),
        "i": client_properties() if properties is None else properties,
        "j": str(reconsume_times),
        "k": "false",
        "m": "true" if batch else "false",
        "n": "broker-a",
    }
    if max_reconsume_times is not None:
        ext["l"] = str(max_reconsume_times)
    return ext


def pull_ext(
    group: str,
    topic: str,
    queue_id: int,
    offset: int,
    *,
    sys_flag: int = PULL_SUBSCRIPTION,
    subscription: str = "*",
    max_msg_nums: int = 32,
    suspend_timeout_millis: int = 15000,
    commit_offset: int = 0,
    sub_version: int = 0,
    expression_type: str | None = "TAG",
) -> dict[str, str]:
    """PullMessageRequestHeader as PullAPIWrapper.pullKernelImpl fills it."""
    ext = {
        "consumerGroup": group,
        "topic": topic,
        "queueId": str(queue_id),
        "queueOffset": str(offset),
        "maxMsgNums": str(max_msg_nums),
        "sysFlag": str(sys_flag),
        "commitOffset": str(commit_offset),
        "suspendTimeoutMillis": str(suspend_timeout_millis),
        "subscription": subscription,
        "subVersion": str(sub_version),
        "bname": "broker-a",
    }
    if expression_type is not None:
        ext["expressionType"] = expression_type
    return ext


PlaneFactory = Callable[..., DataPlane]


@pytest.fixture
def make_plane(tmp_path: Path) -> Iterator[PlaneFactory]:
    stores: list[MessageStore] = []

    def build(
        *,
        flush: FlushDiskType = FlushDiskType.ASYNC_FLUSH,
        tweak: Callable[[BrokerSettings], None] | None = None,
        schedule_delayed: bool = False,
        check_interval: float = 5.0,
        **broker: Any,
    ) -> DataPlane:
        clock = Clock()
        settings = make_settings(**broker)
        settings.store.store_path_root_dir = str(tmp_path / "store")
        if tweak is not None:
            tweak(settings)
        store = MessageStore(
            StoreConfig(
                tmp_path / f"store{len(stores)}",
                mapped_file_size_commit_log=256 * 1024,
                mapped_file_size_consume_queue=20 * 100,
                max_hash_slot_num=64,
                max_index_num=256,
                # Java refuses a body over maxMessageSize and a record over maxMessageSize + 64 KiB
                max_message_size=settings.store.max_message_size + 64 * 1024,
                flush_disk_type=flush,
            )
        )
        store.open()
        stores.append(store)
        controller = BrokerController(settings, clock_ms=clock, config_store=MemoryConfigStore())
        built = build_data_plane(
            controller, store, schedule_delayed=schedule_delayed, check_interval=check_interval, rng=random.Random(7)
        )
        b = built
        return DataPlane(
            settings, controller, store, b.stats, b.holds, b.send, b.pull, b.query, b.admin, b.handlers(), clock
        )

    yield build
    for store in stores:
        store.close()


@pytest.fixture
def plane(make_plane: PlaneFactory) -> DataPlane:
    return make_plane()


async def settle() -> None:
    """Let every other task run until it blocks."""
    await trio.testing.wait_all_tasks_blocked()
