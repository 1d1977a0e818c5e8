"""Against frames captured from the Java reference (tests/data/golden): a 4.9.7 broker's REGISTER_BROKER and a 4.9.8
client's HEART_BEAT."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import trio

from rocketpy.broker.controller import BrokerController
from rocketpy.broker.persistence import MemoryConfigStore
from rocketpy.protocol.bodies.register import body_crc32
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.remoting.codec import FrameDecoder
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import RequestContext, inline
from rocketpy.remoting.server import RemotingServer

from .conftest import FakeConnection, call, make_settings

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "golden"


def golden(name: str) -> RemotingCommand:
    commands = FrameDecoder(1 << 24).feed((GOLDEN / name).read_bytes())
    assert len(commands) == 1
    return commands[0]


async def test_registration_matches_the_java_broker(nursery: trio.Nursery) -> None:
    java = golden("000-broker-register-json-103-request-json.bin")
    seen: list[RemotingCommand] = []

    @inline
    async def namesrv(ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        seen.append(cmd)
        return RemotingCommand.response(ResponseCode.SUCCESS)

    port = await nursery.start(RemotingServer({RequestCode.REGISTER_BROKER: namesrv}).serve, 0, "127.0.0.1")
    settings = make_settings()  # broker-a in DefaultCluster, as the reference was started
    settings.netty.listen_port = 15555
    settings.store.ha_listen_port = 15556
    settings.broker.namesrv_addr = f"127.0.0.1:{port}"
    controller = BrokerController(settings, config_store=MemoryConfigStore())
    async with trio.open_nursery() as broker:
        await broker.start(controller.run)
        broker.cancel_scope.cancel()
    ours = seen[0]
    assert ours.ext_fields is not None and java.ext_fields is not None
    assert set(ours.ext_fields) == set(java.ext_fields)
    for key in ("brokerId", "clusterName", "brokerAddr", "haServerAddr", "compressed", "brokerName"):
        assert ours.ext_fields[key] == java.ext_fields[key], key
    assert int(ours.ext_fields["bodyCrc32"]) == body_crc32(bytes(ours.body or b""))
    java_body, our_body = orjson.loads(bytes(java.body or b"")), orjson.loads(bytes(ours.body or b""))
    assert our_body["filterServerList"] == java_body["filterServerList"] == []
    # The same system topics with the same permissions and queue counts as the Java 4.9.7 broker.
    java_topics = java_body["topicConfigSerializeWrapper"]["topicConfigTable"]
    assert our_body["topicConfigSerializeWrapper"]["topicConfigTable"] == java_topics
    assert our_body["topicConfigSerializeWrapper"]["dataVersion"]["counter"] == 0


async def test_java_client_heartbeat_registers_the_producer() -> None:
    index = json.loads((GOLDEN / "index.json").read_text())
    files = [f["file"] for f in index["frames"] if f["code"] == 34 and f["kind"] == "request"]
    assert files
    for name in files:
        frame = golden(name)
        controller = BrokerController(make_settings(), config_store=MemoryConfigStore())
        conn = FakeConnection("192.0.2.2:40000")
        reply = await call(controller, RequestCode.HEART_BEAT, frame.ext_fields, bytes(frame.body or b""), conn=conn)
        assert reply.code == ResponseCode.SUCCESS
        client_id = orjson.loads(bytes(frame.body or b""))["clientID"]
        connections = controller.producers.connections("interop_raw_producer")
        assert connections is not None and [c.client_id for c in connections] == [client_id]
