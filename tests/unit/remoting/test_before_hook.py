"""The server's before-hook (Java's RPCHook.doBeforeRequest): runs before every handler, unknown codes included;
what it raises is the answer, and a oneway request still gets none."""

from __future__ import annotations

import pytest
import trio

from rocketpy.protocol.codes import ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.remoting.client import RemotingClient
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import RequestContext
from rocketpy.remoting.server import RemotingServer

ran: list[int] = []


async def ok(ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
    ran.append(cmd.code)
    return RemotingCommand.response(ResponseCode.SUCCESS)


def hook(addr: str, cmd: RemotingCommand) -> None:
    assert addr.startswith("127.0.0.1:")
    if (cmd.ext_fields or {}).get("AccessKey") != "good":
        raise RocketMQError(ResponseCode.SYSTEM_ERROR, "refused")
    if cmd.code == 13:
        raise KeyError("boom")


@pytest.fixture
async def addr(nursery: trio.Nursery) -> str:
    srv = RemotingServer({10: ok}, before_hook=hook)
    port = await nursery.start(srv.serve, 0, "127.0.0.1")
    return f"127.0.0.1:{port}"


async def test_hook_answers_before_any_handler(addr: str) -> None:
    ran.clear()
    async with RemotingClient() as client:
        refused = await client.invoke(addr, RemotingCommand.request(10), timeout=5)
        assert (refused.code, refused.remark) == (ResponseCode.SYSTEM_ERROR, "refused")
        unknown = await client.invoke(addr, RemotingCommand.request(777), timeout=5)
        assert (unknown.code, unknown.remark) == (ResponseCode.SYSTEM_ERROR, "refused")
        await client.invoke_oneway(addr, RemotingCommand.request(10))
        allowed = await client.invoke(addr, RemotingCommand.request(10, {"AccessKey": "good"}), timeout=5)
        assert allowed.code == ResponseCode.SUCCESS
        unknown = await client.invoke(addr, RemotingCommand.request(777, {"AccessKey": "good"}), timeout=5)
        assert unknown.code == ResponseCode.REQUEST_CODE_NOT_SUPPORTED
        broken = await client.invoke(addr, RemotingCommand.request(13, {"AccessKey": "good"}), timeout=5)
        assert broken.code == ResponseCode.SYSTEM_ERROR and "KeyError" in (broken.remark or "")
    assert ran == [10]
