"""The stored golden frames (tests/data/golden, made by interop/capture_golden.py) exist and are well-formed.

Regenerates nothing and needs no Java: it checks each file against its index entry (length prefix, serialisation
byte, decodable header with the indexed code and flag), request/response pairing, and the required coverage.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from interop.golden_frames import ONEWAY_FLAG, RESPONSE_FLAG, SERIALIZE_TYPES, Frame

pytestmark = pytest.mark.interop

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "golden"
# (code, serialisation) pairs whose request AND response must both be stored.
REQUIRED_PAIRS = [
    (103, "JSON"),
    (105, "JSON"),
    (105, "ROCKETMQ"),
    (106, "JSON"),
    (100, "JSON"),
    (34, "JSON"),
    (310, "JSON"),
    (104, "JSON"),
    (104, "ROCKETMQ"),
]


def _index() -> dict[str, Any]:
    index_file = GOLDEN / "index.json"
    assert index_file.is_file(), f"{index_file} is missing: run `python -m interop.capture_golden`"
    index: dict[str, Any] = json.loads(index_file.read_text())
    return index


def test_index_lists_existing_well_formed_frames() -> None:
    frames = _index()["frames"]
    assert frames, "the golden index lists no frames"
    for entry in frames:
        raw = (GOLDEN / entry["file"]).read_bytes()
        assert len(raw) == entry["length"] >= 8, entry["file"]
        assert int.from_bytes(raw[:4], "big") == len(raw) - 4, f"{entry['file']}: length prefix"
        frame = Frame(raw)
        assert raw[4] in SERIALIZE_TYPES, f"{entry['file']}: serialisation byte {raw[4]}"
        assert frame.serialize_type == entry["serializeType"], entry["file"]
        assert 0 < frame.header_length <= len(raw) - 8, f"{entry['file']}: header length"
        assert frame.body_length == entry["bodyLength"], entry["file"]
        header = frame.header()
        assert (header["code"], header["flag"]) == (entry["code"], entry["flag"]), entry["file"]
        assert header == entry["header"], entry["file"]
        assert bool(header["flag"] & RESPONSE_FLAG) == (entry["kind"] == "response"), entry["file"]
        assert bool(header["flag"] & ONEWAY_FLAG) == (entry["kind"] == "oneway"), entry["file"]


def test_pairs_match_by_opaque() -> None:
    by_file = {e["file"]: e for e in _index()["frames"]}
    for entry in by_file.values():
        if entry["kind"] == "request":
            response = by_file[entry["pairedWith"]]
            assert response["kind"] == "response" and response["pairedWith"] == entry["file"]
            assert response["header"]["opaque"] == entry["header"]["opaque"]
            assert response["serializeType"] == entry["serializeType"], "a response keeps the request's type"


def test_required_frames_are_present() -> None:
    by_file = {e["file"]: e for e in _index()["frames"]}
    stored = {
        (e["code"], e["serializeType"])
        for e in by_file.values()
        if e["kind"] == "request" and by_file[e["pairedWith"]]["kind"] == "response"
    }
    missing = [pair for pair in REQUIRED_PAIRS if pair not in stored]
    assert not missing, f"golden frames lack request/response pairs for {missing}"
