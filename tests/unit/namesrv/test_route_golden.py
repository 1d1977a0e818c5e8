"""Golden reply frames of GET_ROUTEINFO_BY_TOPIC, as a client reads them off the NameServer's socket (issue 12).

Recorded from the route path as it was before the fast path (commit 7974415: cached encoded bodies behind the general
header decode, RemotingCommand and frame encoder), so that whatever answers route lookups faster is proven to write
the same bytes: fastjson's field order, standard JSON for a >= V4_9_4 client or one asking acceptStandardJsonOnly
and fastjson's unquoted integer keys otherwise, orderTopicConf when orderMessageEnable is on, TOPIC_NOT_EXIST with
Java's remark, JSON and ROCKETMQ headers, opaques, and a second (cached) answer equal to the first. Each setting
gets a NameServer whose requests are written pipelined, as frames, into a real remoting Connection.

Regenerate only for an intended change of behaviour: ROCKETPY_REGEN_ROUTE_GOLDEN=1 pytest this file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import trio
import trio.testing

from rocketpy.namesrv.config import NamesrvSettings
from rocketpy.namesrv.controller import NamesrvController
from rocketpy.namesrv.kvconfig import NAMESPACE_ORDER_TOPIC_CONFIG
from rocketpy.protocol.codes import LanguageCode, RequestCode, SerializeType
from rocketpy.remoting.codec import FrameDecoder, encode
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Connection

from .conftest import Clock, register, topic

GOLDEN_PATH = Path(__file__).with_name("route_golden.json")
REGEN = os.environ.get("ROCKETPY_REGEN_ROUTE_GOLDEN") == "1"

# name -> (extFields, version, serialize type)
Ask = tuple[dict[str, str], int, int]
ASKS: dict[str, Ask] = {
    "T 4.9.8": ({"topic": "T"}, 409, SerializeType.JSON),
    "T 4.9.8 again": ({"topic": "T"}, 409, SerializeType.JSON),
    "T V4_9_3": ({"topic": "T"}, 399, SerializeType.JSON),
    "T V4_9_3 again": ({"topic": "T"}, 399, SerializeType.JSON),
    "T V4_9_3 acceptStandardJsonOnly": ({"topic": "T", "acceptStandardJsonOnly": "true"}, 399, SerializeType.JSON),
    "T V4_9_3 acceptStandardJsonOnly false": (
        {"topic": "T", "acceptStandardJsonOnly": "false"},
        399,
        SerializeType.JSON,
    ),
    "T V4_9_4": ({"topic": "T"}, 401, SerializeType.JSON),
    "T ROCKETMQ header": ({"topic": "T"}, 409, SerializeType.ROCKETMQ),
    "T V4_9_3 ROCKETMQ header": ({"topic": "T"}, 399, SerializeType.ROCKETMQ),
    "T extra field": ({"topic": "T", "lmq": "x"}, 409, SerializeType.JSON),
    "U one broker": ({"topic": "U"}, 409, SerializeType.JSON),
    "U V4_9_3": ({"topic": "U"}, 399, SerializeType.JSON),
    "sys-flag topic": ({"topic": "%RETRY%g"}, 409, SerializeType.JSON),
    "broker-name topic": ({"topic": "broker-a"}, 409, SerializeType.JSON),
    "cluster-name topic": ({"topic": "DefaultCluster"}, 409, SerializeType.JSON),
    "not found": ({"topic": "Nope"}, 409, SerializeType.JSON),
    "not found again": ({"topic": "Nope"}, 409, SerializeType.JSON),
    "not found unicode": ({"topic": "主题"}, 409, SerializeType.JSON),
    "not found ROCKETMQ header": ({"topic": "Nope"}, 409, SerializeType.ROCKETMQ),
    "empty topic": ({"topic": ""}, 409, SerializeType.JSON),
    "no topic field": ({}, 409, SerializeType.JSON),
    "order-conf topic": ({"topic": "O"}, 409, SerializeType.JSON),
    "order-conf topic V4_9_3": ({"topic": "O"}, 399, SerializeType.JSON),
    "order conf without route": ({"topic": "OrderOnly"}, 409, SerializeType.JSON),
}
SETTINGS = ("default", "orderMessageEnable", "clusterTest")


async def _namesrv(tmp_path: Path, setting: str) -> NamesrvController:
    settings = NamesrvSettings()
    settings.namesrv.kv_config_path = str(tmp_path / setting / "kvConfig.json")
    settings.namesrv.order_message_enable = setting == "orderMessageEnable"
    settings.namesrv.cluster_test = setting == "clusterTest"
    controller = NamesrvController(settings, Clock())
    t, u = topic("T", queues=8), topic("U", perm=4, queues=2)
    await register(controller, topics=(t, topic("O"), topic("%RETRY%g", queues=1, sys_flag=1)))
    await register(controller, addr="10.0.0.2:10911", broker_id=1, topics=(t,))
    await register(controller, "broker-b", "10.0.0.3:10911", topics=(t, u, topic("O", queues=2)))
    controller.kv.put(NAMESPACE_ORDER_TOPIC_CONFIG, "O", "broker-a:4;broker-b:2")
    controller.kv.put(NAMESPACE_ORDER_TOPIC_CONFIG, "OrderOnly", "broker-a:4")
    return controller


def _request_frames() -> bytes:
    frames = []
    for opaque, (ext, version, ser) in enumerate(ASKS.values(), start=7):
        cmd = RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, dict(ext))
        cmd.opaque, cmd.version, cmd.serialize_type, cmd.language = opaque, version, ser, LanguageCode.JAVA
        frames.append(encode(cmd))
    return b"".join(frames)


async def _replies(controller: NamesrvController) -> list[bytes]:
    """The reply frames (length prefix included) a client reads after writing every ask in one go."""
    client, server = trio.testing.memory_stream_pair()
    conn = Connection(server, "10.0.0.9:50000", "127.0.0.1:9876", controller.handlers())
    raw = bytearray()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(conn.run)
        await client.send_all(_request_frames())
        with trio.fail_after(10):
            while len(FrameDecoder().feed(bytes(raw))) < len(ASKS):
                raw += await client.receive_some(1 << 20)
        await client.aclose()
    frames, pos = [], 0
    while pos < len(raw):
        total = int.from_bytes(raw[pos : pos + 4], "big")
        frames.append(bytes(raw[pos : pos + 4 + total]))
        pos += 4 + total
    assert pos == len(raw)
    return frames


@pytest.mark.parametrize("setting", SETTINGS)
async def test_route_reply_frames_are_golden(tmp_path: Path, setting: str) -> None:
    frames = await _replies(await _namesrv(tmp_path, setting))
    got = {name: frame.hex() for name, frame in zip(ASKS, frames, strict=True)}
    golden = json.loads(GOLDEN_PATH.read_text()) if GOLDEN_PATH.exists() else {}
    if REGEN:
        golden[setting] = got
        GOLDEN_PATH.write_text(json.dumps(golden, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    assert setting in golden, "no golden replies recorded: ROCKETPY_REGEN_ROUTE_GOLDEN=1"
    for name in ASKS:
        assert got[name] == golden[setting][name], f"{setting}: {name}: {bytes.fromhex(got[name])[:400]!r}"


def test_golden_replies_show_what_java_answers() -> None:
    """A readable spot check of the recorded bytes, so the golden file cannot silently pin something wrong."""
    golden = json.loads(GOLDEN_PATH.read_text())
    default, order = golden["default"], golden["orderMessageEnable"]
    standard = bytes.fromhex(default["T 4.9.8"])
    assert standard[8:].startswith(b'{"code":0,"flag":1,"language":"JAVA","opaque":7,')  # createResponseCommand(null)
    assert b'"brokerAddrs":{"0":"10.0.0.1:10911","1":"10.0.0.2:10911"}' in standard
    assert b'"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"}' in bytes.fromhex(default["T V4_9_3"])
    assert b'"brokerAddrs":{"0"' in bytes.fromhex(default["T V4_9_3 acceptStandardJsonOnly"])
    assert b"orderTopicConf" not in bytes.fromhex(default["order-conf topic"])
    assert b'"orderTopicConf":"broker-a:4;broker-b:2"' in bytes.fromhex(order["order-conf topic"])
    missing = bytes.fromhex(default["not found"])
    assert b'"code":17,' in missing
    assert b'"remark":"No topic route info in name server for the topic: Nope\\nSee http' in missing
    assert b"topic: null\\n" in bytes.fromhex(default["no topic field"])
    for name in ("T 4.9.8", "T V4_9_3", "not found"):  # a cached answer is the first one under another opaque
        first, again = (FrameDecoder().feed(bytes.fromhex(default[n])).pop() for n in (name, f"{name} again"))
        assert (first.code, first.remark, first.body) == (again.code, again.remark, again.body)
        assert again.opaque == first.opaque + 1
