"""The trio server over real loopback sockets: dispatch, oneway, errors, abuse; it never goes down."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator

import pytest
import trio

from rocketpy.protocol.codes import ResponseCode, SerializeType
from rocketpy.protocol.errors import RocketMQError
from rocketpy.remoting.client import RemotingClient
from rocketpy.remoting.codec import FrameDecoder, encode
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import RequestContext, inline
from rocketpy.remoting.server import RemotingServer

ECHO, FAIL, CRASH, ONEWAY, ASK_CLIENT = 9001, 9002, 9003, 9004, 9005
FAIL_INLINE, CRASH_INLINE = 9006, 9007


class Recorder:
    def __init__(self) -> None:
        self.oneway: list[str] = []
        self.closed: list[str] = []


@inline
async def echo(ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
    return RemotingCommand.response(ResponseCode.SUCCESS, cmd.remark, dict(cmd.ext_fields or {}), cmd.body)


async def fail(ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
    raise RocketMQError(ResponseCode.TOPIC_NOT_EXIST, "No topic route info in name server for the topic: T")


async def crash(ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
    raise KeyError("boom")


async def fail_inline(ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
    return await fail(ctx, cmd)


async def crash_inline(ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
    return await crash(ctx, cmd)


@pytest.fixture
async def server(nursery: trio.Nursery) -> AsyncIterator[tuple[str, Recorder]]:
    rec = Recorder()

    async def oneway(ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        rec.oneway.append(cmd.remark or "")
        return RemotingCommand.response(ResponseCode.SUCCESS)

    async def ask_client(ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        # A server-to-client request on the same connection, with the server's own opaque.
        answer = await ctx.connection.invoke(RemotingCommand.request(40, {"q": "ping"}), timeout=5)
        return RemotingCommand.response(ResponseCode.SUCCESS, answer.remark)

    srv = RemotingServer(
        {ECHO: echo, FAIL: fail, CRASH: crash, ONEWAY: oneway, ASK_CLIENT: ask_client,
         FAIL_INLINE: inline(fail_inline), CRASH_INLINE: inline(crash_inline)}, max_frame_length=1 << 20
    )  # fmt: skip
    srv.on_close(lambda conn: rec.closed.append(conn.remote_addr))
    port = await nursery.start(srv.serve, 0, "127.0.0.1")
    yield f"127.0.0.1:{port}", rec


async def _raw_exchange(addr: str, payload: bytes, expect_reply: bool) -> list[RemotingCommand] | None:
    host, port = addr.split(":")
    stream = await trio.open_tcp_stream(host, int(port))
    async with stream:
        await stream.send_all(payload)
        decoder = FrameDecoder()
        got: list[RemotingCommand] = []
        with trio.fail_after(5):
            while True:
                data = await stream.receive_some(65536)
                if not data:
                    return got if got else None  # closed by the server
                got += decoder.feed(data)
                if expect_reply and got:
                    return got


async def test_echo_both_serialisations(server: tuple[str, Recorder]) -> None:
    addr, _ = server
    async with RemotingClient() as client:
        for ser in (SerializeType.JSON, SerializeType.ROCKETMQ):
            req = RemotingCommand.request(ECHO, {"k": "v"}, b"payload")
            req.serialize_type = ser
            req.remark = "hi"
            resp = await client.invoke(addr, req, timeout=5)
            assert resp.is_response and resp.code == ResponseCode.SUCCESS
            assert resp.ext_fields == {"k": "v"} and resp.body == b"payload" and resp.remark == "hi"
            assert resp.serialize_type == ser  # a reply goes out in the request's serialisation
            assert resp.opaque == req.opaque


async def test_error_codes_and_unknown_request(server: tuple[str, Recorder]) -> None:
    addr, _ = server
    async with RemotingClient() as client:
        resp = await client.invoke(addr, RemotingCommand.request(FAIL), timeout=5)
        assert resp.code == ResponseCode.TOPIC_NOT_EXIST
        resp = await client.invoke(addr, RemotingCommand.request(CRASH), timeout=5)
        assert resp.code == ResponseCode.SYSTEM_ERROR and "KeyError" in (resp.remark or "")
        resp = await client.invoke(addr, RemotingCommand.request(777), timeout=5)
        assert resp.code == ResponseCode.REQUEST_CODE_NOT_SUPPORTED
        assert resp.remark == " request type 777 not supported"


async def test_inline_handlers_fail_as_task_handlers_do(server: tuple[str, Recorder]) -> None:
    """Inline requests are dispatched in the read loop by their own code path: the same answers as in a task."""
    addr, _ = server
    async with RemotingClient() as client:
        for task_code, inline_code in ((FAIL, FAIL_INLINE), (CRASH, CRASH_INLINE)):
            in_task = await client.invoke(addr, RemotingCommand.request(task_code), timeout=5)
            in_loop = await client.invoke(addr, RemotingCommand.request(inline_code), timeout=5)
            assert (in_loop.code, in_loop.remark, in_loop.ext_fields) == (in_task.code, in_task.remark, None)
        assert in_loop.code == ResponseCode.SYSTEM_ERROR and "KeyError" in (in_loop.remark or "")


async def test_oneway_gets_no_reply(server: tuple[str, Recorder]) -> None:
    addr, rec = server
    one = RemotingCommand.request(ONEWAY)
    one.remark = "fire"
    one.flag = 2
    one.opaque = 1
    echo_req = RemotingCommand.request(ECHO)
    echo_req.opaque = 2
    got = await _raw_exchange(addr, encode(one) + encode(echo_req), expect_reply=True)
    assert got is not None and [c.opaque for c in got] == [2]  # only the two-way request was answered
    assert rec.oneway == ["fire"]


async def test_many_requests_in_one_write_are_all_answered(server: tuple[str, Recorder]) -> None:
    addr, _ = server
    frames = b""
    for i in range(50):
        req = RemotingCommand.request(ECHO, {"i": str(i)})
        req.opaque = i
        frames += encode(req)
    host, port = addr.split(":")
    stream = await trio.open_tcp_stream(host, int(port))
    async with stream:
        await stream.send_all(frames)
        decoder, got = FrameDecoder(), []
        with trio.fail_after(5):
            while len(got) < 50:
                got += decoder.feed(await stream.receive_some(65536))
    assert [c.opaque for c in got] == list(range(50))
    assert [c.ext_fields for c in got] == [{"i": str(i)} for i in range(50)]


async def test_server_to_client_request_uses_its_own_opaque(server: tuple[str, Recorder]) -> None:
    addr, _ = server

    async def on_ask(ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        return RemotingCommand.response(ResponseCode.SUCCESS, f"pong:{(cmd.ext_fields or {}).get('q')}")

    async with RemotingClient({40: on_ask}) as client:
        resp = await client.invoke(addr, RemotingCommand.request(ASK_CLIENT), timeout=5)
        assert resp.code == ResponseCode.SUCCESS and resp.remark == "pong:ping"


def _bad_inputs() -> dict[str, bytes]:
    return {
        "garbage": b"\xde\xad\xbe\xef" * 64,
        "2GiB length prefix": struct.pack(">i", 2**31 - 1) + b"xx",
        "negative length": struct.pack(">i", -1),
        "header past frame": struct.pack(">ii", 8, 500) + b"abcd",
        "invalid JSON": struct.pack(">ii", 9, 5) + b"{nope",
        "unknown serialize type": struct.pack(">ii", 6, (7 << 24) | 2) + b"{}",
    }


@pytest.mark.parametrize("name", sorted(_bad_inputs()))
async def test_bad_connection_is_closed_and_others_unaffected(server: tuple[str, Recorder], name: str) -> None:
    addr, rec = server
    async with RemotingClient() as client:
        # A well-behaved client keeps working while the bad one is dealt with.
        before = await client.invoke(addr, RemotingCommand.request(ECHO, {"n": "1"}), timeout=5)
        assert before.code == ResponseCode.SUCCESS
        got = await _raw_exchange(addr, _bad_inputs()[name], expect_reply=False)
        assert got is None  # closed without a reply
        after = await client.invoke(addr, RemotingCommand.request(ECHO, {"n": "2"}), timeout=5)
        assert after.code == ResponseCode.SUCCESS and after.ext_fields == {"n": "2"}
    with trio.fail_after(5):
        while len(rec.closed) < 2:
            await trio.sleep(0.01)


async def test_concurrent_abuse_and_traffic(server: tuple[str, Recorder]) -> None:
    addr, _ = server
    errors: list[BaseException] = []

    async def good_client() -> None:
        async with RemotingClient() as client:
            for i in range(100):
                resp = await client.invoke(addr, RemotingCommand.request(ECHO, {"i": str(i)}), timeout=5)
                if resp.code != ResponseCode.SUCCESS or resp.ext_fields != {"i": str(i)}:
                    errors.append(AssertionError(resp))

    async def bad_client() -> None:
        for payload in list(_bad_inputs().values()) * 5:
            await _raw_exchange(addr, payload, expect_reply=False)

    async with trio.open_nursery() as nursery:
        for _ in range(3):
            nursery.start_soon(good_client)
        nursery.start_soon(bad_client)
    assert errors == []


async def test_idle_connection_is_closed(nursery: trio.Nursery) -> None:
    srv = RemotingServer({ECHO: echo}, idle_timeout=0.2)
    closed = trio.Event()
    srv.on_close(lambda conn: closed.set())
    port = await nursery.start(srv.serve, 0, "127.0.0.1")
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        with trio.fail_after(5):
            await closed.wait()
            assert await stream.receive_some(10) == b""


async def test_idle_time_counts_from_the_last_read(nursery: trio.Nursery) -> None:
    """A connection whose requests come more often than the idle time stays open however long it lives; once they
    stop it is closed about one idle time after the last one (the idle watch of Connection)."""
    idle = 0.3
    srv = RemotingServer({ECHO: echo}, idle_timeout=idle)
    closed = trio.Event()
    srv.on_close(lambda conn: closed.set())
    port = await nursery.start(srv.serve, 0, "127.0.0.1")
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    async with stream:
        decoder = FrameDecoder()
        for i in range(8):  # 8 x 0.1 s: well past the idle time in total
            cmd = RemotingCommand.request(ECHO)
            cmd.opaque = i
            await stream.send_all(encode(cmd))
            replies: list[RemotingCommand] = []
            while not replies:
                replies = decoder.feed(await stream.receive_some(4096))
            assert not closed.is_set()
            await trio.sleep(idle / 3)
        last = trio.current_time()
        with trio.fail_after(5):
            await closed.wait()
        assert trio.current_time() - last >= idle - idle / 3 - 0.01


async def test_slow_handler_times_out_without_stalling_the_connection(nursery: trio.Nursery) -> None:
    from rocketpy.remoting.connection import RemotingTimeoutError

    async def never(ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        await trio.sleep_forever()
        raise AssertionError("unreachable")

    srv = RemotingServer({ECHO: echo, 9100: never})
    port = await nursery.start(srv.serve, 0, "127.0.0.1")
    addr = f"127.0.0.1:{port}"
    async with RemotingClient() as client:
        async with trio.open_nursery() as inner:
            outcome: list[str] = []

            async def slow() -> None:
                with pytest.raises(RemotingTimeoutError):
                    await client.invoke(addr, RemotingCommand.request(9100), timeout=0.5)
                outcome.append("timeout")

            inner.start_soon(slow)
            await trio.sleep(0.05)
            resp = await client.invoke(addr, RemotingCommand.request(ECHO, {"a": "b"}), timeout=5)
            assert resp.ext_fields == {"a": "b"}
            outcome.append("echo")
        assert outcome == ["echo", "timeout"]
