"""One remoting connection over a trio stream, used alike by the server and the client.

Mirrors NettyRemotingAbstract: incoming requests go through a {code: handler} table, incoming responses resolve
the caller waiting on that opaque. Each side numbers its own requests, so a server-to-client request uses the
server's opaque counter and can never be confused with a client's request.

Throughput rules: every complete frame of a read is parsed in one pass, and the replies to all requests of one
read leave in one write.

Fairness rules (one connection's backlog must not delay the others' answers): inline handlers of one read give the
event loop a turn every `_SLICE_S` of work; the reader stops once `_HIGH_WATER` bytes of replies wait for a peer
that does not read, checked after every reply and not only after each read; and a connection holds at most
`MAX_TASKS` handler tasks, beyond which a request is refused with SYSTEM_BUSY as Java's NettyRemotingAbstract refuses
what its full executor queue rejects.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import trio

from rocketpy.protocol.codes import ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.remoting.codec import CodecError, FrameDecoder, encode
from rocketpy.remoting.command import ONEWAY_FLAG, RESPONSE_FLAG, RemotingCommand

log = logging.getLogger("RocketmqRemoting")

H = TypeVar("H")
Handler = Callable[["RequestContext", RemotingCommand], Awaitable[RemotingCommand | None]]
# RPCHook.doBeforeRequest(remoteAddr, request): runs before any handler; a RocketMQError it raises is the answer.
BeforeHook = Callable[[str, RemotingCommand], None]
# A synchronous handler for the common form of a request code, run in the read loop before the table's handler: the
# whole encoded reply frame, or None to hand the request to the table's handler, which then answers it as if the
# fast one did not exist (so a fast handler must change nothing before it is sure to answer); b"" when it took the
# request and answers it later itself (send_response_nowait). Not used on a connection with a before hook (ACL).
FastHandler = Callable[["Connection", RemotingCommand], bytes | None]
# Whole frames of a read at once, before they are decoded: (connection, data, pos) -> (where the first frame it left
# alone starts, the encoded replies of those it answered). What it leaves goes through the fast and table handlers.
# Not used on a connection with a before hook (ACL), like the fast handlers.
BatchHandler = Callable[["Connection", bytes, int], tuple[int, bytes]]

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
    nursery: trio.Nursery  # the connection's: work started here ends when the connection closes
    request: RemotingCommand

    def respond(self, response: RemotingCommand) -> Awaitable[None]:
        """Send a deferred response (the handler returned None for a two-way request)."""
        return self.connection.send_response(self.request, response)

    def respond_nowait(self, response: RemotingCommand) -> None:
        """`respond` from code that must not yield (a callback): the reply joins the connection's next write."""
        self.connection.send_response_nowait(self.request, response)


def inline(handler: H) -> H:
    """Mark a handler that never waits on the network or the disk: it runs in the read loop, and its reply joins
    the batch written for that read. Unmarked handlers run in a task of their own, so one that waits (long
    polling, a flush, a request to the client on this same connection) never stalls the connection."""
    handler.rocketpy_inline = True  # type: ignore[attr-defined]
    return handler


_HIGH_WATER = 8 * 1024 * 1024  # replies queued but not yet written before the reader stops reading
_READ_SIZE = 65536
_MAX_READ_SIZE = 4 * 1024 * 1024  # the read size while the rest of a large frame is awaited
_SLICE_S = 0.005  # inline work of one read after which the reader yields to other connections
MAX_TASKS = 4096  # handler tasks (held pulls, flush waits, ...) one connection may have running at once
OVERLOAD_REMARK = "[OVERLOAD]system busy, start flow control for a while"


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
    before_hook: BeforeHook | None = None
    fast_handlers: Mapping[int, FastHandler] = field(default_factory=dict)
    batch_handler: BatchHandler | None = None
    closed: bool = False
    _pending: dict[int, trio.MemorySendChannel[RemotingCommand]] = field(default_factory=dict)
    _outbox: list[bytes] = field(default_factory=list)
    _outbox_bytes: int = 0
    _wake_writer: trio.Event = field(default_factory=trio.Event)
    _drained: trio.Event | None = None  # set when the replies are all written; made only for a reader that waits
    _tasks: int = 0
    _overloads: int = 0
    _reading: bool = False  # the reader waits in receive_some, since `_read_since` (trio time)
    _read_since: float = 0.0
    _raw: socket.socket | None = None  # the plain socket under a trio SocketStream (None: TLS or a test stream)
    _in_read: bool = False  # the reader is serving a read: it writes the replies itself when it is done
    _writing: bool = False  # the writer task is inside send_all

    def __post_init__(self) -> None:
        # Reads and writes go straight to the non-blocking socket, and through trio only when it would block:
        # trio's receive_some and send_all each pass through the scheduler once even when the data is there
        # (cancel_shielded_checkpoint), which on small reads cost more than the requests themselves.
        raw = getattr(getattr(self.stream, "socket", None), "_sock", None)
        if type(self.stream) is trio.SocketStream and isinstance(raw, socket.socket):
            self._raw = raw

    def __hash__(self) -> int:
        return id(self)

    async def run(self) -> None:
        """Read until EOF, a codec error, idleness or cancellation; then close."""
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._writer)
                await self._reader(nursery)
                nursery.cancel_scope.cancel()
        except* (trio.BrokenResourceError, trio.ClosedResourceError, ConnectionError) as group:
            # The peer went away (reset, broken pipe): Java logs this as a WARN in exceptionCaught.
            log.info("connection %s closed: %s", self.remote_addr, group.exceptions[0])
        finally:
            await self.aclose()

    async def _reader(self, nursery: trio.Nursery) -> None:
        decoder = FrameDecoder(self.max_frame_length)
        idle = self.idle_timeout if self.idle_timeout > 0 else math.inf
        raw = self._raw
        batch = self.batch_handler if self.before_hook is None else None
        wait_readable = trio.lowlevel.wait_readable
        held = 0  # bytes of an incomplete frame the decoder holds back
        with trio.CancelScope() as idle_scope:
            if idle < math.inf:
                nursery.start_soon(self._idle_watch, idle_scope, idle)
            while True:
                # A large frame is read in large pieces: one read per turn of the event loop would make a busy
                # server take hundreds of turns per 16 MiB frame.
                size = min(max(decoder.missing, _READ_SIZE), _MAX_READ_SIZE) if held else _READ_SIZE
                waited = True  # other tasks had their turn since the last read
                if raw is None:
                    self._read_since, self._reading = trio.current_time(), True
                    data = bytes(await self.stream.receive_some(size))
                    self._reading = False
                else:
                    waited = False
                    while True:  # straight from the non-blocking socket; trio waits only when nothing is there
                        try:
                            data = raw.recv(size)
                            break
                        except BlockingIOError:
                            pass
                        except OSError as exc:
                            if raw.fileno() == -1:
                                raise trio.ClosedResourceError("the connection was closed") from None
                            raise trio.BrokenResourceError(f"socket connection broken: {exc}") from exc
                        self._read_since, self._reading, waited = trio.current_time(), True, True
                        await wait_readable(raw)
                        self._reading = False
                if not data:
                    return
                bad = commands = None
                if batch is not None:
                    if held:
                        data, held = decoder.take(data), 0
                    pos, replies = batch(self, data, 0)
                    data = b"" if pos == len(data) else data[pos:]  # mostly it takes every frame
                    if replies:
                        if raw is not None and not self._outbox and not self._writing:
                            replies = self._send_now(raw, replies)  # no queue when the socket takes it all
                        if replies:
                            self._outbox.append(replies)
                            self._outbox_bytes += len(replies)
                if data:
                    try:
                        commands = decoder.feed(data)
                    except CodecError as exc:  # the frames before the bad one are served first, as Netty does
                        commands, bad = exc.decoded, exc
                    held = decoder.buffered
                if commands:
                    self._in_read = raw is not None
                    try:
                        if not await self._process(commands, nursery, idle):
                            return
                    finally:
                        self._in_read = False
                if self._outbox:
                    self._write_now()
                if bad is not None:
                    log.warning("decode exception, %s: %s; closing the connection", self.remote_addr, bad)
                    return
                if self._outbox_bytes > _HIGH_WATER and not await self._wait_drained(idle):
                    return
                if not waited:
                    # The data was there at once: give the other connections their turn now, as a Netty event loop
                    # serves each ready channel's read in turn (one pass through trio's scheduler per read). A read
                    # after a wait had that pass already. (Waiting at once after a short read instead, to skip the
                    # recv that may fail with EAGAIN, costs more: see docs/benchmarks.md, "Per-read cost".)
                    await trio.lowlevel.checkpoint()
        log.info("closing idle connection %s", self.remote_addr)  # only the idle watch ends the loop this way

    @staticmethod
    def _send_now(raw: socket.socket, data: bytes) -> bytes:
        """What of `data` the socket does not take now (b"" mostly); a socket that would block or is broken takes
        nothing, and the writer's send_all then waits or raises as trio does."""
        try:
            sent = raw.send(data)
        except OSError:
            return data
        return data[sent:] if sent < len(data) else b""

    def _write_now(self) -> None:
        """Send what is queued straight away when the writer task has nothing in flight (so the order holds);
        what the socket does not take now is left to the writer, which waits until it can."""
        raw = self._raw
        if raw is None or self._writing:
            self._wake_writer.set()
            return
        batch = self._outbox
        rest = self._send_now(raw, batch[0] if len(batch) == 1 else b"".join(batch))
        if not rest:
            self._outbox, self._outbox_bytes = [], 0
            if self._drained is not None:
                self._drained.set()
                self._drained = None
            return
        self._outbox, self._outbox_bytes = [rest], len(rest)
        self._wake_writer.set()

    async def _idle_watch(self, read_scope: trio.CancelScope, idle: float) -> None:
        """Cancel the read that has waited `idle` seconds (Netty's IdleStateHandler): one timer for the connection's
        life instead of a cancel scope per read (6 us each, on every read of a busy connection)."""
        while True:
            now = trio.current_time()
            due = self._read_since + idle if self._reading else now + idle
            if due <= now:
                read_scope.cancel()  # the reader is parked in receive_some: that is what gets cancelled
                return
            await trio.sleep_until(due)

    async def _process(self, commands: list[RemotingCommand], nursery: trio.Nursery, idle: float) -> bool:
        """Serve one read's commands; False when the peer neither read its replies nor sent for `idle` seconds."""
        deadline = time.perf_counter() + _SLICE_S
        fast_handler = self.fast_handlers.get if self.before_hook is None else _no_fast_handler
        for cmd in commands:
            if cmd.flag & RESPONSE_FLAG:
                self._resolve(cmd)
                continue
            fast = fast_handler(cmd.code)
            data = None
            if fast is not None:
                try:
                    data = fast(self, cmd)
                except Exception as exc:  # answered as a failing handler is; the table's handler does not run
                    data = encode(_as_reply(cmd, self._failure(exc, cmd)))
            handler = self.handlers.get(cmd.code, self.default_handler) if data is None else None
            if data is not None:
                if data and not cmd.flag & ONEWAY_FLAG:  # b"": answered later (a parked pull)
                    self._enqueue(data)
            elif handler is None or getattr(handler, "rocketpy_inline", False):
                reply = self._refusal(handler, cmd)
                if reply is None:  # _dispatch without its own coroutine: this runs once per request of a read
                    try:
                        reply = await handler(RequestContext(self, nursery, cmd), cmd)  # type: ignore[misc]
                    except Exception as exc:
                        reply = self._failure(exc, cmd)
                if reply is not None and not cmd.flag & ONEWAY_FLAG:
                    self._enqueue(encode(_as_reply(cmd, reply)))
            elif self._tasks < MAX_TASKS:
                self._tasks += 1
                nursery.start_soon(self._run_handler, handler, cmd, nursery)
            else:
                self._refuse_overload(cmd)
            if self._outbox_bytes > _HIGH_WATER:
                self._write_now()
                if not await self._wait_drained(idle):
                    return False
                deadline = time.perf_counter() + _SLICE_S
            elif time.perf_counter() > deadline:
                if self._outbox:
                    self._write_now()
                await trio.lowlevel.checkpoint()  # let other connections' tasks run before the rest of this read
                deadline = time.perf_counter() + _SLICE_S
        return True

    async def _wait_drained(self, idle: float) -> bool:
        """Stop reading until the replies are written; a peer that reads none of them for `idle` s is dropped
        (Netty's IdleStateHandler counts neither reads nor completed writes then)."""
        if self.closed or (not self._outbox and not self._writing):  # written (the reader's own write took it all)
            return True
        if self._drained is None:
            self._drained = trio.Event()
        drained = self._drained
        with trio.move_on_after(idle):
            await drained.wait()
            return True
        log.info("closing connection %s: it has read none of its replies for %.0f s", self.remote_addr, idle)
        return False

    def _refuse_overload(self, cmd: RemotingCommand) -> None:
        self._overloads += 1
        if self._overloads & (self._overloads - 1) == 0:  # 1st, 2nd, 4th, 8th, ...: bounded log volume
            log.warning(
                "%s, too many requests in process (%d), request code %d refused with SYSTEM_BUSY (%d so far)",
                self.remote_addr, MAX_TASKS, cmd.code, self._overloads,
            )  # fmt: skip
        if not cmd.flag & ONEWAY_FLAG:
            self._enqueue(encode(_as_reply(cmd, RemotingCommand.response(ResponseCode.SYSTEM_BUSY, OVERLOAD_REMARK))))

    async def _run_handler(self, handler: Handler, cmd: RemotingCommand, nursery: trio.Nursery) -> None:
        try:
            reply = await self._dispatch(handler, cmd, nursery)
            if reply is not None and not cmd.flag & ONEWAY_FLAG:
                self._enqueue(encode(_as_reply(cmd, reply)))
        finally:
            self._tasks -= 1

    async def _dispatch(
        self, handler: Handler | None, cmd: RemotingCommand, nursery: trio.Nursery
    ) -> RemotingCommand | None:
        reply = self._refusal(handler, cmd)
        if reply is not None:
            return reply
        try:
            return await handler(RequestContext(self, nursery, cmd), cmd)  # type: ignore[misc]
        except Exception as exc:
            return self._failure(exc, cmd)

    def _refusal(self, handler: Handler | None, cmd: RemotingCommand) -> RemotingCommand | None:
        """The answer given before any handler runs: the RPC hook's refusal, or REQUEST_CODE_NOT_SUPPORTED."""
        if self.before_hook is not None:  # Java's broker hooks every code (its default processor takes the rest)
            try:
                self.before_hook(self.remote_addr, cmd)
            except RocketMQError as exc:
                return RemotingCommand.response(exc.code, exc.remark)
            except Exception as exc:
                log.exception("before hook failed on request %d from %s", cmd.code, self.remote_addr)
                return RemotingCommand.response(ResponseCode.SYSTEM_ERROR, _exception_desc(exc))
        if handler is None:
            log.warning("request type %d not supported, from %s", cmd.code, self.remote_addr)
            return RemotingCommand.response(
                ResponseCode.REQUEST_CODE_NOT_SUPPORTED, f" request type {cmd.code} not supported"
            )
        return None

    def _failure(self, exc: Exception, cmd: RemotingCommand) -> RemotingCommand:
        """A handler's exception as its answer: a RocketMQError's code and remark, anything else SYSTEM_ERROR."""
        if isinstance(exc, RocketMQError):
            return RemotingCommand.response(exc.code, exc.remark)
        log.exception("process request %d from %s failed", cmd.code, self.remote_addr, exc_info=exc)
        return RemotingCommand.response(ResponseCode.SYSTEM_ERROR, _exception_desc(exc))

    def _resolve(self, cmd: RemotingCommand) -> None:
        waiter = self._pending.pop(cmd.opaque, None)
        if waiter is None:
            log.warning("response with opaque %d matches no request, from %s", cmd.opaque, self.remote_addr)
            return
        with contextlib.suppress(trio.WouldBlock, trio.BrokenResourceError):
            waiter.send_nowait(cmd)

    def _enqueue(self, data: bytes) -> None:
        if self.closed:
            raise ConnectionClosedError(self.remote_addr)
        self._outbox.append(data)
        self._outbox_bytes += len(data)
        if not self._in_read:  # else the reader writes this read's replies when it is done with them
            self._wake_writer.set()

    async def _writer(self) -> None:
        """Write whatever is queued in one send: replies to one read, deferred replies, our own requests."""
        while True:
            await self._wake_writer.wait()
            self._wake_writer = trio.Event()
            while self._outbox:  # what was queued meanwhile too: its producer may not have woken us
                batch, self._outbox, self._outbox_bytes = self._outbox, [], 0
                self._writing = True
                try:
                    await self.stream.send_all(batch[0] if len(batch) == 1 else b"".join(batch))
                finally:
                    self._writing = False
            if self._drained is not None:
                self._drained.set()
                self._drained = None

    async def send_response(self, request: RemotingCommand, response: RemotingCommand) -> None:
        self.send_response_nowait(request, response)

    def send_response_nowait(self, request: RemotingCommand, response: RemotingCommand) -> None:
        if request.flag & ONEWAY_FLAG:
            return
        try:
            self._enqueue(encode(_as_reply(request, response)))
        except ConnectionClosedError:
            log.info("response to %s dropped: connection closed", self.remote_addr)

    def send_frame_nowait(self, data: bytes) -> bool:
        """An encoded reply frame built by its handler itself (a parked pull's), queued without waking the writer:
        the caller then calls `flush_nowait` once for all it queued. False if the connection is closed."""
        if self.closed:
            log.info("response to %s dropped: connection closed", self.remote_addr)
            return False
        self._outbox.append(data)
        self._outbox_bytes += len(data)
        return True

    def flush_nowait(self) -> None:
        """Write what is queued now from this task (the writer task takes what the socket does not), or leave it
        to the reader when it is serving a read: one send for several frames, no writer wake-up on loopback."""
        if self._outbox and not self._in_read and not self.closed:
            self._write_now()

    async def invoke(self, cmd: RemotingCommand, timeout: float) -> RemotingCommand:
        """Send a request on this connection and wait for its response."""
        cmd.opaque = next_opaque()
        cmd.flag &= ~(RESPONSE_FLAG | ONEWAY_FLAG)
        send, receive = trio.open_memory_channel[RemotingCommand](1)
        self._pending[cmd.opaque] = send
        try:
            with trio.move_on_after(timeout):
                self._enqueue(encode(cmd))
                try:
                    return await receive.receive()
                except trio.EndOfChannel:
                    raise ConnectionClosedError(self.remote_addr) from None
            raise RemotingTimeoutError(f"wait response on {self.remote_addr} timeout {timeout * 1000:.0f}ms")
        finally:
            self._pending.pop(cmd.opaque, None)

    async def invoke_oneway(self, cmd: RemotingCommand) -> None:
        self.send_oneway_nowait(cmd)

    def send_oneway_nowait(self, cmd: RemotingCommand) -> None:
        """Queue a oneway request without a checkpoint, for code that must not yield (an inline handler).

        Dropped while the peer has `_HIGH_WATER` bytes unread: Java's invokeOnewayImpl gives up likewise when its
        oneway semaphore finds too many writes unflushed (RemotingTooMuchRequestException), and a peer that never
        reads must not make the server queue notifications for it without bound."""
        if self._outbox_bytes > _HIGH_WATER:
            log.warning("oneway request %d to %s dropped: %d bytes unread", cmd.code, self.remote_addr,
                        self._outbox_bytes)  # fmt: skip
            return
        cmd.opaque = next_opaque()
        cmd.flag = (cmd.flag | ONEWAY_FLAG) & ~RESPONSE_FLAG
        self._enqueue(encode(cmd))

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        for waiter in self._pending.values():
            waiter.close()
        self._pending.clear()
        if self._drained is not None:
            self._drained.set()
        with trio.CancelScope(shield=True):
            await self.stream.aclose()


def _no_fast_handler(code: int) -> None:
    return None


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
