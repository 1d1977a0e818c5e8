"""The reader's raw-socket path (rocketpy.remoting.connection.Connection._reader): data that arrives while a read is
being served is read next, a peer that half-closes is seen after its last request is answered, a frame split over
reads is whole again, and every read whose data was there at once is followed by one pass through the scheduler
(the fairness rule of docs/benchmarks.md)."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
import trio

from rocketpy.protocol.codes import ResponseCode
from rocketpy.remoting import connection as connection_mod
from rocketpy.remoting.codec import FrameDecoder, encode
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Connection, RequestContext, inline
from rocketpy.remoting.server import RemotingServer

CODE = 10


@inline
async def general(ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
    return RemotingCommand.response(ResponseCode.SUCCESS, "general")


def frame(opaque: int) -> bytes:
    cmd = RemotingCommand.request(CODE)
    cmd.opaque = opaque
    return encode(cmd)


def reply(opaque: int) -> bytes:
    cmd = RemotingCommand.response(ResponseCode.SUCCESS, "batch")
    cmd.opaque, cmd.flag = opaque, 1
    return encode(cmd)


class Batch:
    """A batch handler answering every whole frame of a read, calling `during` on each read before it answers."""

    def __init__(self, during: Callable[[int], None] = lambda _: None) -> None:
        self.reads: list[list[int]] = []  # the opaques of each read
        self.during = during

    def __call__(self, conn: Connection, data: bytes, pos: int) -> tuple[int, bytes]:
        opaques, out = [], b""
        while len(data) - pos >= 4:
            end = pos + 4 + int.from_bytes(data[pos : pos + 4], "big")
            if end > len(data):
                break
            (cmd,) = FrameDecoder().feed(data[pos:end])
            opaques.append(cmd.opaque)
            out += reply(cmd.opaque)
            pos = end
        self.reads.append(opaques)
        self.during(len(self.reads))
        return pos, out


async def serve(nursery: trio.Nursery, batch: Batch) -> int:
    srv = RemotingServer({CODE: general}, batch_handler=batch)  # type: ignore[arg-type]
    port: int = await nursery.start(srv.serve, 0, "127.0.0.1")
    return port


async def replies(sock: trio.socket.SocketType, count: int) -> tuple[list[int], bool]:
    """The opaques of up to `count` replies, and whether the server closed the connection after them."""
    decoder, got = FrameDecoder(), []
    with trio.fail_after(5):
        while len(got) < count:
            data = await sock.recv(65536)
            if not data:
                return [c.opaque for c in got], True
            got += decoder.feed(data)
        with trio.move_on_after(0.2):
            return [c.opaque for c in got], not await sock.recv(65536)
    return [c.opaque for c in got], False


def connect(port: int) -> tuple[socket.socket, trio.socket.SocketType]:
    plain = socket.create_connection(("127.0.0.1", port))
    return plain, trio.socket.from_stdlib_socket(plain)


async def test_data_that_arrives_while_a_short_read_is_served_is_read_next(nursery: trio.Nursery) -> None:
    """The peer's next request reaches the socket after the server's read took less than it asked for and before
    the server waits again: it is read and answered without anything more arriving."""
    plain: socket.socket | None = None

    def during(read: int) -> None:
        if read == 1:
            assert plain is not None
            plain.send(frame(2))  # now, in the middle of serving the first read

    batch = Batch(during)
    plain, sock = connect(await serve(nursery, batch))
    with sock:
        await sock.send(frame(1))
        got, closed = await replies(sock, 2)
    assert got == [1, 2] and not closed
    assert batch.reads == [[1], [2]]


async def test_a_peer_that_half_closes_while_its_read_is_served_is_answered_then_closed(nursery: trio.Nursery) -> None:
    plain: socket.socket | None = None

    def during(read: int) -> None:
        assert plain is not None
        plain.shutdown(socket.SHUT_WR)  # EOF reaches the server while it serves the read (before its next wait)

    batch = Batch(during)
    plain, sock = connect(await serve(nursery, batch))
    with sock:
        await sock.send(frame(1) + frame(2))
        got, closed = await replies(sock, 2)
    assert got == [1, 2] and closed
    assert batch.reads == [[1, 2]]


async def test_a_peer_that_half_closes_after_a_pause_is_seen(nursery: trio.Nursery) -> None:
    batch = Batch()
    plain, sock = connect(await serve(nursery, batch))
    with sock:
        await sock.send(frame(1))
        got, _ = await replies(sock, 1)
        plain.shutdown(socket.SHUT_WR)  # the server is waiting for more by now
        rest, closed = await replies(sock, 1)
    assert got == [1] and rest == [] and closed


async def test_a_frame_split_over_reads_is_taken_whole(nursery: trio.Nursery) -> None:
    batch = Batch()
    _, sock = connect(await serve(nursery, batch))
    data = frame(1) + frame(2)
    with sock:
        for piece in (data[:3], data[3:20], data[20:-5], data[-5:]):
            await sock.send(piece)
            await trio.sleep(0.02)  # each piece its own read
        got, closed = await replies(sock, 2)
    assert got == [1, 2] and not closed
    assert [o for r in batch.reads for o in r] == [1, 2]


@pytest.mark.parametrize("read_size", [0, 65536])
async def test_every_read_is_followed_by_a_pass_through_the_scheduler(
    nursery: trio.Nursery, monkeypatch: pytest.MonkeyPatch, read_size: int
) -> None:
    """50 pipelined requests: read one frame at a time (reads that take all they ask for, so more is there at
    once) or as they come; a task that runs once per scheduler pass must run between the reads."""
    one = len(frame(0))
    monkeypatch.setattr(connection_mod, "_READ_SIZE", read_size or one)
    ticks = 0
    seen: list[int] = []

    async def spin() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await trio.sleep(0)

    batch = Batch(lambda read: seen.append(ticks))
    nursery.start_soon(spin)
    _, sock = connect(await serve(nursery, batch))
    with sock:
        await sock.send(b"".join(frame(i) for i in range(50)))
        got, _ = await replies(sock, 50)
    assert got == list(range(50))
    reads = len([r for r in batch.reads if r])
    if not read_size:
        assert reads == 50
    # trio runs each runnable task once per pass, in an order of its choice: one pass per read means at least
    # reads - 2 turns of the spinner between the first read and the last
    assert seen[-1] - seen[0] >= reads - 2, (seen, reads)


async def test_replies_the_socket_does_not_take_at_once_follow_in_order(nursery: trio.Nursery) -> None:
    """A read's replies go straight to the socket; what it does not take (a peer that is not reading yet) is left to
    the writer task, and the replies of later reads queue behind it."""
    big = RemotingCommand.response(ResponseCode.SUCCESS, body=b"r" * (1 << 20))
    big.flag = 1

    def answer(conn: Connection, data: bytes, pos: int) -> tuple[int, bytes]:
        out = b""
        while len(data) - pos >= 4:
            end = pos + 4 + int.from_bytes(data[pos : pos + 4], "big")
            if end > len(data):
                break
            (cmd,) = FrameDecoder().feed(data[pos:end])
            big.opaque = cmd.opaque
            out += encode(big)
            pos = end
        return pos, out

    srv = RemotingServer({CODE: general}, batch_handler=answer)
    port = await nursery.start(srv.serve, 0, "127.0.0.1")
    _, sock = connect(port)
    with sock:
        for i in range(6):
            await sock.send(frame(i))  # 6 MiB of replies in all, while this peer reads nothing
            await trio.sleep(0.02)
        got, closed = await replies(sock, 6)
    assert got == list(range(6)) and not closed
