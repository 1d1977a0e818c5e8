"""Frames captured from the official Java reference (interop/capture_golden.py) decode, and re-encode to the same
bytes: header serialisation, field order, escaping and body framing all match Java's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rocketpy.protocol.codes import SerializeType
from rocketpy.remoting.codec import FrameDecoder, encode

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "golden"
INDEX = json.loads((GOLDEN / "index.json").read_text())["frames"]


def test_there_are_golden_frames_in_both_serialisations() -> None:
    kinds = {(f["serializeType"], f["kind"]) for f in INDEX}
    assert {("JSON", "request"), ("JSON", "response"), ("ROCKETMQ", "request"), ("ROCKETMQ", "response")} <= kinds


@pytest.mark.parametrize("entry", INDEX, ids=[f["file"] for f in INDEX])
def test_golden_frame_decodes_and_reencodes_identically(entry: dict[str, object]) -> None:
    raw = (GOLDEN / str(entry["file"])).read_bytes()
    decoder = FrameDecoder()
    (cmd,) = decoder.feed(raw)
    assert decoder.buffered == 0
    assert cmd.code == entry["code"]
    assert cmd.flag == entry["flag"]
    assert SerializeType(cmd.serialize_type).name == entry["serializeType"]
    header = entry["header"]
    assert isinstance(header, dict)
    if header.get("extFields"):
        assert cmd.ext_fields == header["extFields"]
    else:  # Java writes an empty map as {} in JSON and as nothing in ROCKETMQ
        assert not cmd.ext_fields
    assert cmd.remark == header.get("remark")
    assert len(cmd.body or b"") == entry["bodyLength"]
    assert encode(cmd) == raw
