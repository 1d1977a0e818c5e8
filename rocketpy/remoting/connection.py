"""One remoting connection over a trio stream, used alike by the server and the client.

Mirrors NettyRemotingAbstract: incoming requests go through a {code: handler} table, incoming responses resolve
the caller waiting on that opaque. Each side numbers its own requests, so a server-to-client request uses the
server's opaque counter and can never be confused with a client's request.

Throughput rules: every complete frame of a read is parsed in one pass, and the replies to all requests of one
read leave in one write.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import trio

from rocketpy.protocol.codes import ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.remoting.codec import CodecError, FrameDecoder, encode, encode_many
from rocketpy.remoting.command import ONEWAY_FLAG, RESPONSE_FLAG, RemotingCommand

log = logging.getLogger("RocketmqRemoting")

Handler = Callable[["RequestContext", RemotingCommand], Awaitable[RemotingCommand | None]]

# One counter per process, like RemotingCommand.requestId: opaques are only ever compared per connection.
_opaques = itertools.count(1)


def next_opaque() -> int:
    return next(_opaques) & 0x7FFFFFFF


class RemotingTimeoutError(Exception):
    """No response arrived within the timeout (Java's RemotingTimeoutException)."""


class ConnectionClosedError(Exception):
    """The connection closed before the response arrived."""


@dataclass(slots=True)
class RequestContext:
    """What a handler gets besides the command: the connection it came on, and a nursery for deferred work."""

    connection: Connection
    nursery: trio.Nursery
    request: RemotingCommand

    def respond(self, response: RemotingCommand) -> Awaitable[None]:
        """Send a deferred response (the handler returned None for a two-way request)."""
        return self.connection.send_response(self.request, response)


@dataclass(eq=False)
class Connection:
    stream: trio.abc.Stream
    remote_addr: str
    local_addr: str
    handlers: Mapping[int, Handler]
    default_handler: Handler | None = None
    max_frame_length: int = 16 * 1024 * 1024
    idle_timeout: float = 120.0
    attributes: dict[str, Any] = field(default_factory=dict)
    _pending: dict[int, trio.MemorySendChannel[RemotingCommand]] = field(default_factory=dict)
    _send_lock: trio.Lock = field(default_factory=trio.Lock)
    closed: bool = False

    def __hash__(self) -> int:
        return id(self)

    async def run(self, nursery: trio.Nursery) -> None:
        """Read until EOF, a codec error, idleness or cancellation; then close."""
        decoder = FrameDecoder(self.max_frame_length)
        try:
            while True:
                with trio.move_on_after(self.idle_timeout if self.idle_timeout > 0 else math.inf) as idle:
                    data = await self.stream.receive_some(65536)
                if idle.cancelled_caught:
                    log.info("closing idle connection %s", self.remote_addr)
                    return
                if not data:
                    return
                try:
                    commands = decoder.feed(data)
                except CodecError as exc:
                    log.warning("decode exception, %s: %s; closing the connection", self.remote_addr, exc)
                    return
                if commands:
                    await self._process(commands, nursery)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return
        finally:
            await self.aclose()

    async def _process(self, commands: list[RemotingCommand], nursery: trio.Nursery) -> None:
        replies: list[RemotingCommand] = []
        for cmd in commands:
            if cmd.flag & RESPONSE_FLAG:
                self._resolve(cmd)
                continue
            reply = await self._dispatch(cmd, nursery)
            if reply is not None and not cmd.flag & ONEWAY_FLAG:
                replies.append(_as_reply(cmd, reply))
        if replies:
            await self._send(encode_many(replies) if len(replies) > 1 else encode(replies[0]))

    async def _dispatch(self, cmd: RemotingCommand, nursery: trio.Nursery) -> RemotingCommand | None:
        handler = self.handlers.get(cmd.code, self.default_handler)
        if handler is None:
            log.warning("request type %d not supported, from %s", cmd.code, self.remote_addr)
            return RemotingCommand.response(
                ResponseCode.REQUEST_CODE_NOT_SUPPORTED, f" request type {cmd.code} not supported"
            )
        try:
            return await handler(RequestContext(self, nursery, cmd), cmd)
        except RocketMQError as exc:
            return RemotingCommand.response(exc.code, exc.remark)
        except Exception as exc:
            log.exception("process request %d from %s failed", cmd.code, self.remote_addr)
            return RemotingCommand.response(ResponseCode.SYSTEM_ERROR, _exception_desc(exc))

    def _resolve(self, cmd: RemotingCommand) -> None:
        waiter = self._pending.pop(cmd.opaque, None)
        if waiter is None:
            log.warning("response with opaque %d matches no request, from %s", cmd.opaque, self.remote_addr)
            return
        with contextlib.suppress(trio.WouldBlock, trio.BrokenResourceError):
            waiter.send_nowait(cmd)

    async def _send(self, data: bytes) -> None:
        if self.closed:
            raise ConnectionClosedError(self.remote_addr)
        async with self._send_lock:
            await self.stream.send_all(data)

    async def send_response(self, request: RemotingCommand, response: RemotingCommand) -> None:
        if request.flag & ONEWAY_FLAG:
            return
        try:
            await self._send(encode(_as_reply(request, response)))
        except (ConnectionClosedError, trio.BrokenResourceError, trio.ClosedResourceError):
            log.info("response to %s dropped: connection closed", self.remote_addr)

    async def invoke(self, cmd: RemotingCommand, timeout: float) -> RemotingCommand:
        """Send a request on this connection and wait for its response."""
        cmd.opaque = next_opaque()
        cmd.flag &= ~(RESPONSE_FLAG | ONEWAY_FLAG)
        send, receive = trio.open_memory_channel[RemotingCommand](1)
        self._pending[cmd.opaque] = send
        try:
            with trio.move_on_after(timeout):
                await self._send(encode(cmd))
                try:
                    return await receive.receive()
                except trio.EndOfChannel:
                    raise ConnectionClosedError(self.remote_addr) from None
            raise RemotingTimeoutError(f"wait response on {self.remote_addr} timeout {timeout * 1000:.0f}ms")
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise ConnectionClosedError(self.remote_addr) from None
        finally:
            self._pending.pop(cmd.opaque, None)

    async def invoke_oneway(self, cmd: RemotingCommand) -> None:
        cmd.opaque = next_opaque()
        cmd.flag = (cmd.flag | ONEWAY_FLAG) & ~RESPONSE_FLAG
        try:
            await self._send(encode(cmd))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise ConnectionClosedError(self.remote_addr) from None

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        for waiter in self._pending.values():
            waiter.close()
        self._pending.clear()
        with trio.CancelScope(shield=True):
            await self.stream.aclose()


def _as_reply(request: RemotingCommand, response: RemotingCommand) -> RemotingCommand:
    response.opaque = request.opaque
    response.flag |= RESPONSE_FLAG
    response.serialize_type = request.serialize_type
    return response


def _exception_desc(exc: BaseException) -> str:
    # RemotingHelper.exceptionSimpleDesc: the exception text plus where it was raised.
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f", {tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}"
