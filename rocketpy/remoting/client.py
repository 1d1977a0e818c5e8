"""trio remoting client: invoke with timeout, oneway, one reused connection per address.

Mirrors NettyRemotingClient. Requests that the server sends to us (NOTIFY_CONSUMER_IDS_CHANGED and friends) go
through the same {code: handler} table as on the server side.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping

import trio

from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Connection, Handler
from rocketpy.remoting.server import format_addr

log = logging.getLogger("RocketmqRemoting")


def split_addr(addr: str) -> tuple[str, int]:
    host, _, port = addr.rpartition(":")
    return host.strip("[]"), int(port)


class RemotingClient:
    """Use as `async with RemotingClient() as client:`; connections live in the client's nursery."""

    def __init__(
        self,
        handlers: Mapping[int, Handler] | None = None,
        *,
        connect_timeout: float = 3.0,
        idle_timeout: float = 120.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.handlers: Mapping[int, Handler] = handlers or {}
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout
        self.ssl_context = ssl_context  # NettyClientConfig.useTLS: every connection opens with a TLS handshake
        self._connections: dict[str, Connection] = {}
        self._connecting: dict[str, trio.Event] = {}
        self._nursery: trio.Nursery | None = None

    async def __aenter__(self) -> RemotingClient:
        self._nursery_cm = trio.open_nursery()
        self._nursery = await self._nursery_cm.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> bool | None:
        assert self._nursery is not None
        self._nursery.cancel_scope.cancel()
        return await self._nursery_cm.__aexit__(*exc)  # type: ignore[arg-type]

    def connected(self, addr: str) -> Connection | None:
        """The open connection to `addr`, if there is one; never connects."""
        conn = self._connections.get(addr)
        return conn if conn is not None and not conn.closed else None

    async def connection(self, addr: str) -> Connection:
        """The open connection to `addr`, connecting if there is none."""
        while True:
            conn = self._connections.get(addr)
            if conn is not None and not conn.closed:
                return conn
            pending = self._connecting.get(addr)
            if pending is None:
                break
            await pending.wait()
        event = self._connecting[addr] = trio.Event()
        try:
            return await self._connect(addr)
        finally:
            del self._connecting[addr]
            event.set()

    async def _connect(self, addr: str) -> Connection:
        assert self._nursery is not None, "use RemotingClient as an async context manager"
        host, port = split_addr(addr)
        with trio.fail_after(self.connect_timeout):
            sock_stream = await trio.open_tcp_stream(host, port)
            local = format_addr(sock_stream.socket.getsockname())
            stream: trio.abc.Stream = sock_stream
            if self.ssl_context is not None:
                tls = trio.SSLStream(sock_stream, self.ssl_context, https_compatible=True)
                try:
                    await tls.do_handshake()
                except BaseException:
                    await trio.aclose_forcefully(sock_stream)
                    raise
                stream = tls
        conn = Connection(
            stream,
            addr,
            local,
            self.handlers,
            idle_timeout=self.idle_timeout,
        )
        self._connections[addr] = conn
        self._nursery.start_soon(self._run, conn)
        return conn

    async def _run(self, conn: Connection) -> None:
        assert self._nursery is not None
        try:
            await conn.run()
        except Exception:
            log.exception("client connection %s failed", conn.remote_addr)
        finally:
            if self._connections.get(conn.remote_addr) is conn:
                del self._connections[conn.remote_addr]

    async def invoke(self, addr: str, cmd: RemotingCommand, timeout: float = 3.0) -> RemotingCommand:
        conn = await self.connection(addr)
        return await conn.invoke(cmd, timeout)

    async def invoke_oneway(self, addr: str, cmd: RemotingCommand) -> None:
        conn = await self.connection(addr)
        await conn.invoke_oneway(cmd)

    async def close(self, addr: str) -> None:
        conn = self._connections.pop(addr, None)
        if conn is not None:
            await conn.aclose()
