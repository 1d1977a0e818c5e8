"""Helpers to drive NameServer handlers the way the remoting server does, with requests shaped like a Java client's."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from rocketpy.namesrv.config import NamesrvSettings
from rocketpy.namesrv.controller import NamesrvController
from rocketpy.protocol.bodies import (
    DataVersion,
    RegisterBrokerBody,
    TopicConfig,
    TopicConfigSerializeWrapper,
    body_crc32,
)
from rocketpy.protocol.codes import RequestCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.namesrv_headers import RegisterBrokerRequestHeader
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import RequestContext


@dataclass(eq=False)
class FakeConnection:
    """Stands in for a remoting Connection: what the NameServer uses of it is identity, remote_addr and aclose."""

    remote_addr: str
    closed: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)

    async def aclose(self) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def settings(tmp_path: Path) -> NamesrvSettings:
    s = NamesrvSettings()
    s.namesrv.kv_config_path = str(tmp_path / "namesrv" / "kvConfig.json")
    s.namesrv.config_store_path = str(tmp_path / "namesrv" / "namesrv.properties")
    s.namesrv.rocketmq_home = str(tmp_path)
    return s


@pytest.fixture
def controller(settings: NamesrvSettings, clock: Clock) -> NamesrvController:
    return NamesrvController(settings, clock)


async def call(
    controller: NamesrvController,
    code: int,
    ext: dict[str, str] | None = None,
    body: bytes | None = None,
    *,
    version: int | None = None,
    conn: FakeConnection | None = None,
) -> RemotingCommand:
    """Dispatch like Connection._dispatch: RocketMQError becomes a response with its code and remark."""
    request = RemotingCommand.request(code, ext, body)
    if version is not None:
        request.version = version
    handler = controller.handlers()[code]
    ctx = RequestContext(conn or FakeConnection("10.0.0.9:50000"), None, request)  # type: ignore[arg-type]
    try:
        response = await handler(ctx, request)
    except RocketMQError as exc:
        return RemotingCommand.response(exc.code, exc.remark)
    assert response is not None
    return response


def topic(name: str, *, perm: int = 6, queues: int = 4, sys_flag: int = 0) -> TopicConfig:
    return TopicConfig(name, read_queue_nums=queues, write_queue_nums=queues, perm=perm, topic_sys_flag=sys_flag)


def register_request(
    broker_name: str = "broker-a",
    addr: str = "10.0.0.1:10911",
    broker_id: int = 0,
    topics: tuple[TopicConfig, ...] = (),
    *,
    cluster: str = "DefaultCluster",
    version: DataVersion | None = None,
    compressed: bool = False,
) -> tuple[dict[str, str], bytes]:
    """Header ext fields and body as BrokerOuterAPI.registerBroker builds them (CRC included)."""
    wrapper = TopicConfigSerializeWrapper({t.topic_name or "": t for t in topics}, version or DataVersion(1, 1))
    body = RegisterBrokerBody(wrapper, []).encode(compress=compressed)
    header = RegisterBrokerRequestHeader(
        broker_name=broker_name,
        broker_addr=addr,
        cluster_name=cluster,
        ha_server_addr=addr.rsplit(":", 1)[0] + ":10912",
        broker_id=broker_id,
        compressed=compressed,
        body_crc32=body_crc32(body),
    )
    return header.to_ext(), body


async def register(
    controller: NamesrvController, *args: Any, conn: FakeConnection | None = None, **kwargs: Any
) -> RemotingCommand:
    ext, body = register_request(*args, **kwargs)
    return await call(controller, RequestCode.REGISTER_BROKER, ext, body, conn=conn)
