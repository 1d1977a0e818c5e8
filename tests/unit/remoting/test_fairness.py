"""One connection's backlog never delays another connection's answers (rocketpy.remoting.connection's fairness
rules): inline work of one read is time-sliced, the reply high-water mark holds within one read, the handler tasks of
one connection are bounded (SYSTEM_BUSY beyond, as Java's rejected executor), and a peer that never reads is dropped.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest
import trio

from rocketpy.protocol.codes import ResponseCode
from rocketpy.remoting import connection as connection_mod
from rocketpy.remoting.codec import FrameDecoder, encode
from rocketpy.remoting.command import ONEWAY_FLAG, RemotingCommand
from rocketpy.remoting.connection import OVERLOAD_REMARK, RequestContext, inline
from rocketpy.remoting.server import RemotingServer

BURN, ECHO, BIG, HOLD = 9101, 9102, 9103, 9104


BURNED: list[int] = []


@inline
async def burn(ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
    BURNED.append(cmd.opaque)
    end = time.perf_counter() + 0.001  # 1 ms of CPU, never yielding: an expensive inline handler
    while time.perf_counter() < end:
        pass
    return RemotingCommand.response(ResponseCode.SUCCESS)


@inline
async def echo(ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
    return RemotingCommand.response(ResponseCode.SUCCESS, cmd.remark)


@inline
async def big(ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
    return RemotingCommand.response(ResponseCode.SUCCESS, body=b"x" * (256 * 1024))


def _echo(remark: str) -> RemotingCommand:
    cmd = RemotingCommand.request(ECHO)
    cmd.remark = remark
    return cmd


async def _start(nursery: trio.Nursery, hold: trio.Event, idle: float = 120.0) -> tuple[RemotingServer, int]:
    async def held(ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        await hold.wait()  # a handler task that waits (a held pull, a flush)
        return RemotingCommand.response(ResponseCode.SUCCESS)

    server = RemotingServer({BURN: burn, ECHO: echo, BIG: big, HOLD: held}, idle_timeout=idle)
    port = await nursery.start(server.serve, 0, "127.0.0.1")
    return server, port


class Flooder:
    """A peer in a thread of its own that pipelines requests with blocking sends and never reads the replies (in
    the test's event loop it would only send while the server is not busy)."""

    def __init__(self, port: int, code: int, count: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.settimeout(3)  # a peer that is pushed back cannot send everything
        cmd = RemotingCommand.request(code)
        frames = []
        for i in range(count):
            cmd.opaque = i
            frames.append(encode(cmd))
        self.data = b"".join(frames)
        self.thread = threading.Thread(target=self._send, daemon=True)
        self.thread.start()

    def _send(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall(self.data)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.thread.join()
        self.sock.close()


async def _echo_latencies(port: int, rounds: int) -> list[float]:
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    decoder = FrameDecoder()
    latencies = []
    async with stream:
        for i in range(rounds):
            start = time.perf_counter()
            await stream.send_all(encode(_echo(str(i))))
            got: list[RemotingCommand] = []
            while not got:
                got = decoder.feed(await stream.receive_some(65536))
            assert got[0].remark == str(i)
            latencies.append(time.perf_counter() - start)
            await trio.sleep(0.005)
    return latencies


async def test_expensive_inline_backlog_does_not_stall_the_event_loop(nursery: trio.Nursery) -> None:
    """3000 requests of 1 ms inline work each, pipelined: one 64 KiB read holds ~700 of them, which without the
    time slice would keep every other connection waiting 0.7 s; the loop must come round every few ms."""
    _, port = await _start(nursery, trio.Event())
    burned = len(BURNED)
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    frames = []
    for i in range(3000):
        cmd = RemotingCommand.request(BURN)
        cmd.opaque = i
        frames.append(encode(cmd))
    await stream.send_all(b"".join(frames))
    most = 0  # burns between two turns of this task: counted, not timed, so a loaded machine does not matter
    with trio.fail_after(60):
        while len(BURNED) < burned + 3000:
            before = len(BURNED)
            await trio.sleep(0)
            most = max(most, len(BURNED) - before)
    assert most < 60, most  # a 5 ms slice is ~5 burns; a whole read ~700
    await stream.aclose()


async def test_handler_tasks_per_connection_are_bounded(nursery: trio.Nursery, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connection_mod, "MAX_TASKS", 8)
    hold = trio.Event()
    server, port = await _start(nursery, hold)
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        oneway = RemotingCommand.request(HOLD)
        oneway.flag |= ONEWAY_FLAG
        frames = [encode(RemotingCommand.request(HOLD)) for _ in range(10)] + [encode(oneway)]
        frames.append(encode(_echo("inline still served")))
        await stream.send_all(b"".join(frames))
        decoder = FrameDecoder()
        got: list[RemotingCommand] = []
        with trio.fail_after(5):
            while len(got) < 3:
                got += decoder.feed(await stream.receive_some(65536))
        busy = [c for c in got if c.code == ResponseCode.SYSTEM_BUSY]
        assert [c.remark for c in busy] == [OVERLOAD_REMARK] * 2  # the oneway over the bound is dropped silently
        assert got[-1].remark == "inline still served"
        hold.set()  # the 8 held handlers answer; the connection takes new tasks again
        with trio.fail_after(5):
            while len(got) < 11:
                got += decoder.feed(await stream.receive_some(65536))
        assert sum(c.code == ResponseCode.SUCCESS for c in got) == 9
        (conn,) = server.connections
        assert conn._tasks == 0


async def test_reply_high_water_holds_within_one_read(nursery: trio.Nursery) -> None:
    server, port = await _start(nursery, trio.Event())
    flooder = Flooder(port, BIG, 400)  # 100 MiB of replies asked in one 9 KiB write
    await trio.sleep(1)
    (conn,) = server.connections
    assert conn._outbox_bytes <= connection_mod._HIGH_WATER + 300 * 1024
    with trio.fail_after(10):
        latencies = await _echo_latencies(port, 20)
    assert max(latencies) < 0.5
    flooder.close()


async def test_peer_that_never_reads_is_dropped_after_the_idle_time(nursery: trio.Nursery) -> None:
    server, port = await _start(nursery, trio.Event(), idle=1.0)
    flooder = Flooder(port, BIG, 200)
    with trio.fail_after(10):
        while server.connections:
            await trio.sleep(0.1)
    flooder.close()


async def test_oneway_requests_to_a_peer_that_does_not_read_are_dropped(
    nursery: trio.Nursery, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connection_mod, "_HIGH_WATER", 64 * 1024)
    server, port = await _start(nursery, trio.Event())
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        await stream.send_all(encode(_echo("hello")))
        with trio.fail_after(5):
            while not server.connections:
                await trio.sleep(0.01)
        (conn,) = server.connections
        notice = b"n" * 4096
        for _ in range(20_000):  # 80 MB of notifications the peer never reads
            conn.send_oneway_nowait(RemotingCommand.request(40, body=notice))
            if _ % 100 == 0:
                await trio.sleep(0)
        assert conn._outbox_bytes <= 64 * 1024 + 4200
        assert not conn.closed


def test_decoder_tells_how_much_of_a_large_frame_is_missing() -> None:
    frame = encode(RemotingCommand.request(ECHO, body=b"b" * 1_000_000))
    decoder = FrameDecoder()
    assert decoder.missing == 0
    assert decoder.feed(frame[:2]) == [] and decoder.missing == 0  # length not known yet
    assert decoder.feed(frame[2:70_000]) == [] and decoder.missing == len(frame) - 70_000
    assert len(decoder.feed(frame[70_000:])) == 1 and decoder.missing == 0


async def test_large_frames_arrive_while_other_connections_are_busy(nursery: trio.Nursery) -> None:
    """A 12 MiB frame is read in large pieces: a connection is served one read per turn of the event loop, and 64
    KiB reads would make a busy server take ~200 turns for it (the busy connections' work is counted)."""
    _, port = await _start(nursery, trio.Event())
    flooders = [Flooder(port, BURN, 20_000) for _ in range(2)]  # busy connections: 5 ms of work per turn each
    await trio.sleep(0.2)
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        big_request = _echo("big")
        big_request.body = b"x" * (12 * 1024 * 1024)
        decoder = FrameDecoder()
        turns_before = len(BURNED)
        with trio.fail_after(30):
            await stream.send_all(encode(big_request))
            got: list[RemotingCommand] = []
            while not got:
                got = decoder.feed(await stream.receive_some(65536))
        assert got[0].remark == "big"
        turns = len(BURNED) - turns_before  # measured: ~650 with large reads, ~1750 with 64 KiB reads
        assert turns < 1200, turns
    for flooder in flooders:
        flooder.close()
