"""Fast handlers (the send fast path's hook in the connection): tried before the table's handler; bytes are the
answer, None hands the request to the table's handler, an exception is answered as a failing handler's is, a oneway
request gets nothing, and a connection with a before hook (ACL) never uses them."""

from __future__ import annotations

import pytest
import trio

from rocketpy.protocol.codes import ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.remoting.client import RemotingClient
from rocketpy.remoting.codec import FrameDecoder, encode
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Connection, RequestContext, _as_reply, inline
from rocketpy.remoting.server import RemotingServer

table_ran: list[str] = []
fast_ran: list[str] = []


@inline
async def general(ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
    table_ran.append((cmd.ext_fields or {}).get("k", ""))
    return RemotingCommand.response(ResponseCode.SUCCESS, "general")


later: list[tuple[Connection, bytes]] = []


def fast(conn: Connection, cmd: RemotingCommand) -> bytes | None:
    kind = (cmd.ext_fields or {}).get("k", "")
    fast_ran.append(kind)
    if kind == "later":  # taken, answered afterwards from elsewhere (a parked pull)
        later.append((conn, encode(_as_reply(cmd, RemotingCommand.response(ResponseCode.SUCCESS, "later")))))
        return b""
    if kind == "boom":
        raise RuntimeError("fast path broke")
    if kind != "fast":
        return None
    return encode(_as_reply(cmd, RemotingCommand.response(ResponseCode.SUCCESS, "fast")))


def hook(addr: str, cmd: RemotingCommand) -> None:
    if (cmd.ext_fields or {}).get("k") == "deny":
        raise RocketMQError(ResponseCode.NO_PERMISSION, "denied")


async def serve(nursery: trio.Nursery, **kw: object) -> str:
    srv = RemotingServer({10: general}, fast_handlers={10: fast}, **kw)  # type: ignore[arg-type]
    port = await nursery.start(srv.serve, 0, "127.0.0.1")
    return f"127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def clear() -> None:
    table_ran.clear()
    fast_ran.clear()
    later.clear()


async def test_fast_answer_none_falls_back_exception_is_answered(nursery: trio.Nursery) -> None:
    addr = await serve(nursery)
    async with RemotingClient() as client:
        replies = [await client.invoke(addr, RemotingCommand.request(10, {"k": k}), timeout=5)
                   for k in ("fast", "slow", "boom")]  # fmt: skip
        await client.invoke_oneway(addr, RemotingCommand.request(10, {"k": "fast"}))
        last = await client.invoke(addr, RemotingCommand.request(10, {"k": "fast"}), timeout=5)
    assert [(r.code, r.remark) for r in replies[:2]] == [
        (ResponseCode.SUCCESS, "fast"),
        (ResponseCode.SUCCESS, "general"),
    ]
    assert replies[2].code == ResponseCode.SYSTEM_ERROR and "fast path broke" in (replies[2].remark or "")
    assert last.remark == "fast"  # the oneway one got no answer: the next reply is this request's
    assert fast_ran == ["fast", "slow", "boom", "fast", "fast"]
    assert table_ran == ["slow"]


async def test_a_before_hook_disables_fast_handlers(nursery: trio.Nursery) -> None:
    addr = await serve(nursery, before_hook=hook)
    async with RemotingClient() as client:
        denied = await client.invoke(addr, RemotingCommand.request(10, {"k": "deny"}), timeout=5)
        allowed = await client.invoke(addr, RemotingCommand.request(10, {"k": "fast"}), timeout=5)
    assert (denied.code, denied.remark) == (ResponseCode.NO_PERMISSION, "denied")
    assert (allowed.code, allowed.remark) == (ResponseCode.SUCCESS, "general")
    assert fast_ran == [] and table_ran == ["fast"]


batch_saw: list[bytes] = []


def batch(conn: Connection, data: bytes, pos: int) -> tuple[int, bytes]:
    """Answers every leading frame whose ext field k is "batch" (as the C send path answers its sends)."""
    out = b""
    while len(data) - pos >= 4:
        end = pos + 4 + int.from_bytes(data[pos : pos + 4], "big")
        if end > len(data) or b'"k":"batch"' not in data[pos:end]:
            break
        batch_saw.append(data[pos:end])
        (cmd,) = FrameDecoder().feed(data[pos:end])
        out += encode(_as_reply(cmd, RemotingCommand.response(ResponseCode.SUCCESS, "batch")))
        pos = end
    return pos, out


async def raw_exchange(addr: str, chunks: list[bytes], replies: int) -> list[RemotingCommand]:
    host, port = addr.split(":")
    stream = await trio.open_tcp_stream(host, int(port))
    async with stream:
        for chunk in chunks:
            await stream.send_all(chunk)
            await trio.sleep(0.05)  # separate reads
        decoder, got = FrameDecoder(), []
        with trio.move_on_after(5):
            while len(got) < replies:
                data = await stream.receive_some()
                if not data:
                    break
                got += decoder.feed(data)
        return got


async def test_batch_handler_takes_whole_reads_then_the_rest_goes_frame_by_frame(nursery: trio.Nursery) -> None:
    batch_saw.clear()
    srv = RemotingServer({10: general}, fast_handlers={10: fast}, batch_handler=batch)  # type: ignore[arg-type]
    addr = f"127.0.0.1:{await nursery.start(srv.serve, 0, '127.0.0.1')}"
    frames = []
    for opaque, k in enumerate(("batch", "batch", "fast", "batch", "slow")):
        request = RemotingCommand.request(10, {"k": k})
        request.opaque = 100 + opaque
        frames.append(encode(request))
    whole = b"".join(frames)
    cut = len(frames[0]) + 7  # the second frame arrives in two reads: held back, then taken as a whole
    got = await raw_exchange(addr, [whole[:cut], whole[cut:]], 5)
    assert sorted((c.remark or "") for c in got) == ["batch", "batch", "fast", "general", "general"]
    assert batch_saw == frames[:2]  # the third is not its own: the rest of that read went frame by frame
    assert fast_ran == ["fast", "batch", "slow"] and table_ran == ["batch", "slow"]


async def test_frames_before_a_bad_one_are_served_then_the_connection_closes(nursery: trio.Nursery) -> None:
    addr = await serve(nursery)
    good = encode(RemotingCommand.request(10, {"k": "fast"}))
    got = await raw_exchange(addr, [good + (-5).to_bytes(4, "big", signed=True) + b"junk"], 2)
    assert [c.remark for c in got] == ["fast"]  # answered, then closed (no second reply)


async def test_taken_now_answered_later_with_one_write(nursery: trio.Nursery) -> None:
    addr = await serve(nursery)
    async with RemotingClient() as client:
        results: list[RemotingCommand] = []

        async def ask(kind: str) -> None:
            results.append(await client.invoke(addr, RemotingCommand.request(10, {"k": kind}), timeout=5))

        async with trio.open_nursery() as inner:
            inner.start_soon(ask, "later")
            inner.start_soon(ask, "later")
            with trio.fail_after(5):
                while len(later) < 2:
                    await trio.sleep(0.01)
            assert not results  # nothing was written for them yet
            conn = later[0][0]
            assert all(conn.send_frame_nowait(frame) for _, frame in later)
            conn.flush_nowait()
        assert [r.remark for r in results] == ["later", "later"]
        assert table_ran == []
        conn.closed = True
        assert not conn.send_frame_nowait(later[0][1])  # a closed connection takes nothing
