"""trio remoting server: one task per connection, dispatch through a {request code: handler} table.

Mirrors NettyRemotingServer. Started with `nursery.start(server.serve, port)`, which reports the bound port once
connections are accepted. A connection that sends a malformed frame is closed with a logged reason; nothing a peer
sends can stop the server.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping

import trio

from rocketpy.remoting.codec import DEFAULT_FRAME_MAX_LENGTH
from rocketpy.remoting.connection import BatchHandler, BeforeHook, Connection, FastHandler, Handler
from rocketpy.remoting.tls import ServerTls

log = logging.getLogger("RocketmqRemoting")

CloseHook = Callable[[Connection], None]


def format_addr(sockaddr: object) -> str:
    """ "ip:port" as RemotingHelper.parseChannelRemoteAddr renders it."""
    if isinstance(sockaddr, tuple) and len(sockaddr) >= 2:
        host = str(sockaddr[0])
        if host.startswith("::ffff:") and "." in host:
            host = host[7:]
        return f"{host}:{sockaddr[1]}"
    return str(sockaddr)


class RemotingServer:
    def __init__(
        self,
        handlers: Mapping[int, Handler],
        *,
        default_handler: Handler | None = None,
        max_frame_length: int = DEFAULT_FRAME_MAX_LENGTH,
        idle_timeout: float = 120.0,
        tls: ServerTls | None = None,
        before_hook: BeforeHook | None = None,
        fast_handlers: Mapping[int, FastHandler] | None = None,
        batch_handler: BatchHandler | None = None,
    ) -> None:
        self.handlers = handlers
        self.fast_handlers = fast_handlers or {}
        self.batch_handler = batch_handler
        self.default_handler = default_handler
        self.max_frame_length = max_frame_length
        self.idle_timeout = idle_timeout
        self.tls = tls  # None: plain only, and no first-byte check (a TLS hello then fails as an oversize frame)
        self.before_hook = before_hook  # registerRPCHook: e.g. the broker's ACL check
        self.connections: set[Connection] = set()
        self._close_hooks: list[CloseHook] = []

    def on_close(self, hook: CloseHook) -> None:
        """Call `hook(connection)` whenever a connection closes (Java's ChannelEventListener.onChannelClose)."""
        self._close_hooks.append(hook)

    async def serve(
        self, port: int, host: str | None = None, *, task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED
    ) -> None:
        listeners = await trio.open_tcp_listeners(port, host=host)
        bound = listeners[0].socket.getsockname()[1]
        async with trio.open_nursery() as nursery:
            for listener in listeners:
                nursery.start_soon(self._accept_loop, listener, nursery)
            task_status.started(bound)

    async def _accept_loop(self, listener: trio.SocketListener, nursery: trio.Nursery) -> None:
        async with listener:
            while True:
                try:
                    stream = await listener.accept()
                except OSError as exc:  # EMFILE and friends: back off, never die
                    log.warning("accept failed: %s", exc)
                    await trio.sleep(0.1)
                    continue
                nursery.start_soon(self._handle, stream)

    async def _handle(self, stream: trio.SocketStream) -> None:
        try:
            remote = format_addr(stream.socket.getpeername())
            local = format_addr(stream.socket.getsockname())
        except OSError:
            await stream.aclose()
            return
        secured: trio.abc.Stream | None = stream
        if self.tls is not None:
            idle = self.idle_timeout if self.idle_timeout > 0 else math.inf
            try:
                secured = await self.tls.secure(stream, remote, idle)
            except OSError as exc:
                log.info("connection %s closed before its first byte: %s", remote, exc)
                secured = None
        if secured is None:
            await stream.aclose()
            return
        conn = Connection(
            secured,
            remote,
            local,
            self.handlers,
            self.default_handler,
            self.max_frame_length,
            self.idle_timeout,
            before_hook=self.before_hook,
            fast_handlers=self.fast_handlers,
            batch_handler=self.batch_handler,
        )
        self.connections.add(conn)
        try:
            await conn.run()
        except Exception:  # a bug on one connection must not take the server down
            log.exception("connection %s failed", remote)
        finally:
            self.connections.discard(conn)
            for hook in self._close_hooks:
                try:
                    hook(conn)
                except Exception:
                    log.exception("close hook failed for %s", remote)
