"""Helpers to drive broker handlers as the remoting server does, with requests shaped like the Java client's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

from rocketpy.broker.config import BrokerSettings, finish_startup
from rocketpy.broker.controller import BrokerController
from rocketpy.broker.persistence import MemoryConfigStore
from rocketpy.broker.store_view import StoreView
from rocketpy.protocol.codes import LanguageCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import RequestContext


@dataclass(eq=False)
class FakeConnection:
    """What the broker uses of a remoting Connection: identity, remote_addr, invoke_oneway and aclose."""

    remote_addr: str
    closed: bool = False
    max_frame_length: int = 16 * 1024 * 1024
    oneway: list[RemotingCommand] = field(default_factory=list)

    async def invoke_oneway(self, cmd: RemotingCommand) -> None:
        self.oneway.append(cmd)

    async def aclose(self) -> None:
        self.closed = True

    def notified_groups(self) -> list[str]:
        return [(c.ext_fields or {})["consumerGroup"] for c in self.oneway if c.code == 40]


class Clock:
    """A settable millisecond clock."""

    def __init__(self, now: int = 1_700_000_000_000) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


def make_settings(**broker: Any) -> BrokerSettings:
    settings = BrokerSettings()
    settings.broker.broker_name = "broker-a"
    settings.broker.broker_ip1 = settings.broker.broker_ip2 = "127.0.0.1"
    settings.broker.namesrv_addr = None
    settings.store.store_path_root_dir = "/nonexistent-rocketpy-store"
    for key, value in broker.items():
        setattr(settings.broker, key, value)
    settings.config_path = "/nonexistent-rocketpy-store/broker.properties"
    finish_startup(settings)
    return settings


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def files() -> MemoryConfigStore:
    return MemoryConfigStore()


def make_controller(
    clock: Clock, files: MemoryConfigStore | None = None, store_view: StoreView | None = None, **broker: Any
) -> BrokerController:
    return BrokerController(
        make_settings(**broker), clock_ms=clock, config_store=files or MemoryConfigStore(), store_view=store_view
    )


@pytest.fixture
def controller(clock: Clock, files: MemoryConfigStore) -> BrokerController:
    return make_controller(clock, files)


async def call(
    controller: BrokerController,
    code: int,
    ext: dict[str, str] | None = None,
    body: bytes | None = None,
    *,
    conn: FakeConnection | None = None,
    language: int = LanguageCode.JAVA,
    version: int = 409,
) -> RemotingCommand:
    """Dispatch like Connection._dispatch: a RocketMQError becomes a response with its code and remark."""
    request = RemotingCommand.request(code, ext, body)
    request.language, request.version = language, version
    handler = controller.handlers()[code]
    ctx = RequestContext(conn or FakeConnection("10.0.0.9:50000"), None, request)  # type: ignore[arg-type]
    try:
        reply = await handler(ctx, request)
    except RocketMQError as exc:
        return RemotingCommand.response(exc.code, exc.remark)
    assert reply is not None
    return reply


def subscription(topic: str, sub: str = "*", expression_type: str = "TAG", version: int = 1700000000000) -> str:
    """A SubscriptionData as the Java client's fastjson writes it (properties sorted)."""
    tags = [] if sub == "*" or expression_type != "TAG" else [t.strip() for t in sub.split("||")]
    fields = {
        "classFilterMode": False,
        "codeSet": [],
        "expressionType": expression_type,
        "subString": sub,
        "subVersion": version,
        "tagsSet": tags,
        "topic": topic,
    }
    return orjson.dumps(fields).decode()


def heartbeat(
    client_id: str,
    *,
    producers: tuple[str, ...] = (),
    consumers: dict[str, list[str]] | None = None,
    consume_type: str = "CONSUME_PASSIVELY",
    model: str = "CLUSTERING",
) -> bytes:
    """HeartbeatData JSON as MQClientInstance.prepareHeartbeatData + fastjson produce it (properties sorted)."""
    groups = [
        {
            "consumeFromWhere": "CONSUME_FROM_LAST_OFFSET",
            "consumeType": consume_type,
            "groupName": group,
            "messageModel": model,
            "subscriptionDataSet": [orjson.loads(s) for s in subs],
            "unitMode": False,
        }
        for group, subs in (consumers or {}).items()
    ]
    producer_set = [{"groupName": g} for g in producers]
    return orjson.dumps({"clientID": client_id, "consumerDataSet": groups, "producerDataSet": producer_set})
