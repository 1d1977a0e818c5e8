"""The data plane behind the real trio RemotingServer, over loopback: held pulls answer with their own opaque and
do not stall the connection; a closed connection drops its held pulls."""

from __future__ import annotations

import trio
import trio.testing

from rocketpy.protocol.bodies.topic_config import TopicConfig
from rocketpy.protocol.codes import RequestCode, ResponseCode, SerializeType
from rocketpy.remoting.client import RemotingClient
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.server import RemotingServer
from rocketpy.store.format import HostAddr, decode_message_id, decode_records
from tests.unit.broker.data.conftest import PULL_SUBSCRIPTION, PULL_SUSPEND, DataPlane, pull_ext, send_v2_ext


async def serve(plane: DataPlane, nursery: trio.Nursery) -> str:
    server = RemotingServer({**plane.controller.handlers(), **plane.table})
    port = await nursery.start(server.serve, 0, "127.0.0.1")
    return f"127.0.0.1:{port}"


def request(code: int, ext: dict[str, str], body: bytes | None = None, rocketmq: bool = False) -> RemotingCommand:
    cmd = RemotingCommand.request(code, ext, body)
    if rocketmq:
        cmd.serialize_type = SerializeType.ROCKETMQ
    return cmd


async def test_held_pull_and_send_share_a_connection(plane: DataPlane) -> None:
    plane.controller.topics.update_topic_config(TopicConfig("TopicTest", 4, 4, 6))
    replies: dict[str, RemotingCommand] = {}
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery, RemotingClient() as client:
            addr = await serve(plane, nursery)
            held = request(
                RequestCode.PULL_MESSAGE, pull_ext("G1", "TopicTest", 2, 0, sys_flag=PULL_SUBSCRIPTION | PULL_SUSPEND)
            )

            async def pull() -> None:
                replies["pull"] = await client.invoke(addr, held, timeout=8)

            nursery.start_soon(pull)
            while plane.holds.held_count() == 0:
                await trio.sleep(0.01)
            send = request(RequestCode.SEND_MESSAGE_V2, send_v2_ext("TopicTest", queue_id=2), b"wire", rocketmq=True)
            replies["send"] = await client.invoke(addr, send, timeout=3)  # answered while the pull is held
            while "pull" not in replies:
                await trio.sleep(0.01)
            nursery.cancel_scope.cancel()
    sent, pulled = replies["send"], replies["pull"]
    assert sent.code == ResponseCode.SUCCESS and sent.serialize_type == SerializeType.ROCKETMQ
    assert (pulled.code, pulled.remark) == (ResponseCode.SUCCESS, "FOUND")
    [record] = decode_records(bytes(pulled.body or b""))
    assert record.body == b"wire" and record.msg_id == (sent.ext_fields or {})["msgId"]
    assert record.born_host.ip == HostAddr.parse("127.0.0.1:1").ip and record.born_host.port > 0
    assert decode_message_id(record.msg_id)[1] == record.phys_offset


async def test_closing_the_connection_drops_its_held_pulls(plane: DataPlane) -> None:
    plane.controller.topics.update_topic_config(TopicConfig("TopicTest", 4, 4, 6))
    with trio.fail_after(10):
        async with trio.open_nursery() as nursery:
            addr = await serve(plane, nursery)
            async with RemotingClient() as client:
                held = request(
                    RequestCode.PULL_MESSAGE,
                    pull_ext(
                        "G1", "TopicTest", 0, 0, sys_flag=PULL_SUBSCRIPTION | PULL_SUSPEND, suspend_timeout_millis=60000
                    ),
                )
                client_nursery = client._nursery
                assert client_nursery is not None
                client_nursery.start_soon(client.invoke, addr, held, 30)
                while plane.holds.held_count() == 0:
                    await trio.sleep(0.01)
            # the client is gone: the server notices the EOF and cancels the held handler
            while plane.holds.held_count():
                await trio.sleep(0.01)
            nursery.cancel_scope.cancel()
