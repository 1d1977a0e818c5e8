"""Every broker handler (control and data plane) fed headers of the wrong type and odd bodies: it answers (or
raises RocketMQError, which the server answers with its code), and never fails with another exception, which would
reach the client as a SYSTEM_ERROR carrying a Python traceback location.

Java decodes the same headers with decodeCommandCustomHeader: a bad number is a NumberFormatException answered
SYSTEM_ERROR, a missing @CFNotNull field a RemotingCommandException; rocketpy's Header.from_ext raises the
RocketMQError equivalents (see docs/architecture.md), which this test accepts.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import pytest
import trio

import rocketpy.protocol as protocol_package
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.header import Header
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import RequestContext
from tests.unit.broker.data.conftest import PRODUCER, DataPlane

GARBAGE = ["abc", "", "9" * 40, "-1", "\ufffd" * 300, "%RETRY%", "1.5", "true", "\x00", "a;b;c", "*", "-2147483649"]
BODIES = [None, b"\xff", b"{", b"[]", b"{}", b"[" * 5000]


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _header_keys() -> list[str]:
    """Every extFields key any request or response header declares."""
    for module in pkgutil.walk_packages(protocol_package.__path__, "rocketpy.protocol."):
        importlib.import_module(module.name)
    keys: set[str] = set()
    for header in _subclasses(Header):
        keys.update(codec.key for codec in header._codecs())  # type: ignore[attr-defined]
    return sorted(keys)


@pytest.mark.parametrize("garbage", GARBAGE, ids=lambda g: repr(g[:8]))
async def test_every_handler_answers_hostile_headers(plane: DataPlane, garbage: str) -> None:
    keys = _header_keys()
    assert len(keys) > 50
    failures: dict[tuple[int, str], str] = {}
    async with trio.open_nursery() as nursery:
        handlers = {**plane.controller.handlers(), **plane.table}  # as startup.run_broker assembles them
        for code, handler in sorted(handlers.items()):
            for body in BODIES:
                request = RemotingCommand.request(code, dict.fromkeys(keys, garbage), body)
                ctx = RequestContext(PRODUCER, nursery, request)  # type: ignore[arg-type]
                try:
                    with trio.move_on_after(1):  # a long-polling pull may park: that is an answer to come
                        await handler(ctx, request)
                except RocketMQError:
                    pass
                except Exception as exc:  # what Connection._dispatch would turn into SYSTEM_ERROR + traceback spot
                    failures.setdefault((code, type(exc).__name__), f"{exc!s:.200} (body {body!r:.20})")
        nursery.cancel_scope.cancel()
    assert not failures, failures
