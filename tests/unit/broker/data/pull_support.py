"""Helpers the PULL_MESSAGE test modules share: a consumer's subscription as its heartbeat carries it, a pull as it
arrives on the wire, the reply frame it gets back, and the check of a record against its golden file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import orjson

from rocketpy.common.java import java_string_hash
from rocketpy.protocol.codes import LanguageCode, RequestCode
from rocketpy.remoting.codec import FrameDecoder, encode
from rocketpy.remoting.command import RESPONSE_FLAG, RemotingCommand
from tests.unit.broker.conftest import subscription


def java_subscription(topic: str, sub: str, version: int, expression_type: str = "TAG") -> str:
    """SubscriptionData as FilterAPI.buildSubscriptionData fills it in the client: tagsSet and their hash codes."""
    data = orjson.loads(subscription(topic, sub, expression_type=expression_type, version=version))
    data["codeSet"] = [java_string_hash(t) for t in data["tagsSet"]]
    return orjson.dumps(data).decode()


def wire_pull(ext: dict[str, str], opaque: int, rocketmq_header: bool = False) -> RemotingCommand:
    """PULL_MESSAGE as a 4.9.8 Java consumer writes it (JSON or ROCKETMQ header), read back by the FrameDecoder."""
    request = RemotingCommand.request(RequestCode.PULL_MESSAGE, ext)
    request.language, request.version, request.opaque = LanguageCode.JAVA, 409, opaque
    request.serialize_type = 1 if rocketmq_header else 0
    (cmd,) = FrameDecoder().feed(encode(request))
    return cmd


def reply_frame(request: RemotingCommand, reply: RemotingCommand) -> bytes:
    """The frame the connection writes for `reply`: the request's opaque and header type, the response flag."""
    reply.opaque, reply.flag, reply.serialize_type = request.opaque, reply.flag | RESPONSE_FLAG, request.serialize_type
    return encode(reply)


def digest(frame: bytes) -> str:
    """What a golden file keeps of a reply frame."""
    return hashlib.sha256(frame).hexdigest()[:24]


def check_golden(path: Path, record: dict[str, Any], regen: bool = False) -> None:
    """`record` equals the golden file at `path`, key by key; with `regen` it is written there instead."""
    if regen:
        path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        return
    golden = json.loads(path.read_text())
    diff = [k for k in golden if record.get(k) != golden[k]]
    assert not diff, f"{len(diff)} differ: {[(k, record.get(k), golden[k]) for k in diff[:3]]}"
    assert record.keys() == golden.keys()
