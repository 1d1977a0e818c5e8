"""Small helpers shared by the broker's processors: replies, body decoding, the slave check."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from rocketpy.broker.config import BrokerRole, BrokerSettings
from rocketpy.protocol.bodies._fields import BodyError
from rocketpy.protocol.codes import ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.remoting.command import RemotingCommand

T = TypeVar("T")


def success(body: bytes | None = None, ext_fields: dict[str, str] | None = None) -> RemotingCommand:
    return RemotingCommand.response(ResponseCode.SUCCESS, None, ext_fields, body)


def decode_body(parse: Callable[[bytes], T], cmd: RemotingCommand, what: str) -> T:
    """Decode a JSON body; a body that does not fit is SYSTEM_ERROR naming what was expected."""
    try:
        return parse(bytes(cmd.body or b""))
    except BodyError as exc:
        raise RocketMQError(ResponseCode.SYSTEM_ERROR, f"bad {what} body: {exc}") from None


def refuse_on_slave(settings: BrokerSettings) -> None:
    """AdminBrokerProcessor.validateSlave."""
    if settings.store.broker_role is BrokerRole.SLAVE:
        raise RocketMQError(
            ResponseCode.SYSTEM_ERROR,
            "Can't modify topic or subscription group from slave broker, please execute it from master broker.",
        )
