"""The client-side message decoder (MessageDecoder.decodes) and unique ids (MessageClientIDSetter)."""

from __future__ import annotations

import re
import zlib
from pathlib import Path

import pytest

from rocketpy.client.message_id import create_uniq_id
from rocketpy.protocol.message_record import MessageDecodeError, decode_all, decode_one, parse_properties

JAVA_RECORDS = Path(__file__).resolve().parents[1] / "store" / "data" / "java497_commitlog_head.bin"


def test_decodes_records_a_java_broker_stored() -> None:
    """Three records of a Java 4.9.7 commit log (sendMessage from mqadmin 4.9.8), as a query body carries them."""
    msgs = decode_all(JAVA_RECORDS.read_bytes()[:621])
    assert [m.body.decode() for m in msgs] == ["hello-java-1", "héllo ☃ \U0001d11e two", "third"]
    assert [(m.queue_id, m.queue_offset, m.commit_log_offset) for m in msgs] == [(1, 0, 0), (1, 1, 214), (0, 0, 435)]
    assert msgs[2].offset_msg_id == "7F000001000074D700000000000001B3"
    assert msgs[0].store_host == "127.0.0.1:29911"
    assert msgs[1].tags == "Tag\U0001d11e"
    assert all(m.msg_id == m.properties.get("UNIQ_KEY", m.offset_msg_id) for m in msgs)


def test_compressed_bodies_are_inflated_and_garbage_is_refused() -> None:
    raw = bytearray(JAVA_RECORDS.read_bytes()[:214])
    first, _ = decode_one(bytes(raw))
    packed = zlib.compress(first.body)
    body_at = raw.index(first.body)
    record = raw[: body_at - 4] + len(packed).to_bytes(4, "big") + packed + raw[body_at + len(first.body) :]
    record[0:4] = len(record).to_bytes(4, "big")
    record[36:40] = (first.sys_flag | 1).to_bytes(4, "big")
    again, end = decode_one(bytes(record))
    assert again.body == first.body and end == len(record)
    with pytest.raises(MessageDecodeError):
        decode_all(bytes(raw[:100]))


def test_properties_and_unique_ids() -> None:
    assert parse_properties("KEYS\x01a b\x02junk\x02TAGS\x01T\x02") == {"KEYS": "a b", "TAGS": "T"}
    first, second = create_uniq_id(), create_uniq_id()
    assert re.fullmatch(r"[0-9A-F]{32}", first) and first != second and first[:20] == second[:20]
