"""Record format: Java hash codes, CRC, encode/decode round trips, message ids, a Java 4.9.7-written sample."""

from __future__ import annotations

import zlib
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from rocketpy.store.commitlog import MessageInner, encode_record
from rocketpy.store.format import (
    BLANK_MAGIC,
    MESSAGE_MAGIC,
    HostAddr,
    RecordError,
    build_properties,
    check_record,
    create_message_id,
    decode_message_id,
    decode_record,
    decode_records,
    java_crc32,
    java_string_hash,
    parse_properties,
    record_length,
    tags_code,
)

DATA = Path(__file__).parent / "data"


def test_java_string_hash_known_values() -> None:
    assert java_string_hash("") == 0
    assert java_string_hash("a") == 97
    assert java_string_hash("Hello") == 69609650
    # "TagA": ((84*31 + 97)*31 + 103)*31 + 65; also the tags code the Java 4.9.7 broker stored (sample below).
    assert java_string_hash("TagA") == 2598919
    # The famous string whose hashCode is Integer.MIN_VALUE (sign handling).
    assert java_string_hash("polygenelubricants") == -(2**31)
    # U+1D11E is two UTF-16 code units, 0xD834 0xDD1E: 0xD834*31 + 0xDD1E.
    assert java_string_hash("\U0001d11e") == 0xD834 * 31 + 0xDD1E
    # "Tag" + U+1D11E, as stored by the Java broker.
    assert java_string_hash("Tag\U0001d11e") == 82336868


def test_tags_code_is_sign_extended_and_zero_without_tags() -> None:
    assert tags_code(None) == 0
    assert tags_code("") == 0
    assert tags_code("polygenelubricants") == -(2**31)


@given(st.text(max_size=40))
def test_java_string_hash_matches_utf16_definition(s: str) -> None:
    units = s.encode("utf-16-be")
    h = 0
    for i in range(0, len(units), 2):
        h = (h * 31 + int.from_bytes(units[i : i + 2], "big")) % 2**32
    assert java_string_hash(s) == (h - 2**32 if h >= 2**31 else h)


def test_java_crc32_is_masked_like_utilall() -> None:
    body = b"hello-java-1"
    assert java_crc32(body) == zlib.crc32(body) & 0x7FFFFFFF
    assert java_crc32(body) >= 0


hosts = st.one_of(
    st.builds(HostAddr, st.binary(min_size=4, max_size=4), st.integers(0, 65535)),
    st.builds(HostAddr, st.binary(min_size=16, max_size=16), st.integers(0, 65535)),
)
messages = st.builds(
    MessageInner,
    topic=st.text(st.characters(codec="utf-8"), min_size=1, max_size=30).filter(lambda t: len(t.encode()) <= 127),
    queue_id=st.integers(0, 2**31 - 1),
    body=st.binary(max_size=300),
    properties=st.text(st.characters(codec="utf-8"), max_size=60),
    flag=st.integers(-(2**31), 2**31 - 1),
    sys_flag=st.integers(0, 0x3) | st.sampled_from([0x4, 0x8, 0xC]),
    born_timestamp=st.integers(0, 2**62),
    born_host=hosts,
    store_host=hosts,
    reconsume_times=st.integers(0, 16),
    prepared_tx_offset=st.integers(0, 2**62),
)


@given(messages, st.integers(0, 2**40), st.integers(0, 2**40), st.integers(0, 2**62))
def test_encode_decode_round_trip(msg: MessageInner, qoff: int, phys: int, ts: int) -> None:
    rec = encode_record(msg, qoff, phys, ts)
    topic_b, props_b = msg.topic.encode(), msg.properties.encode()
    m = decode_record(rec)
    assert m.total_size == len(rec) == record_length(m.sys_flag, len(msg.body), len(topic_b), len(props_b))
    assert (m.topic, m.queue_id, m.body, m.properties, m.flag) == (
        msg.topic,
        msg.queue_id,
        msg.body,
        msg.properties,
        msg.flag,
    )
    assert (m.queue_offset, m.phys_offset, m.store_timestamp) == (qoff, phys, ts)
    assert (m.born_host, m.store_host, m.born_timestamp) == (msg.born_host, msg.store_host, msg.born_timestamp)
    assert bool(m.sys_flag & 0x10) == (len(msg.born_host.ip) == 16)
    assert bool(m.sys_flag & 0x20) == (len(msg.store_host.ip) == 16)
    assert m.sys_flag & 0xF == msg.sys_flag & 0xF
    assert m.body_crc == java_crc32(msg.body)
    # The recovery check agrees with the decoder when the record sits at its own physical offset.
    padded = bytes(phys % 64) + rec
    r = check_record(padded, phys % 64, phys - phys % 64)
    assert r.error is None and r.size == len(rec)


@given(messages, st.integers(0, 2**40))
def test_check_record_catches_body_flip(msg: MessageInner, phys: int) -> None:
    rec = bytearray(encode_record(msg, 0, phys, 1))
    body_at = len(rec) - 3 - len(msg.topic.encode()) - len(msg.properties.encode()) - len(msg.body)
    if not msg.body:
        return
    rec[body_at] ^= 0x01
    assert check_record(bytes(rec), 0, phys).error is RecordError.BAD_CRC


def test_fixed_size_is_91_bytes_for_ipv4() -> None:
    assert record_length(0, 0, 0, 0) == 91
    assert record_length(0x30, 0, 0, 0) == 91 + 24


def test_magic_codes() -> None:
    assert MESSAGE_MAGIC & 0xFFFFFFFF == 0xDAA320A7
    assert BLANK_MAGIC & 0xFFFFFFFF == 0xCBD43194


def test_message_id_round_trip() -> None:
    host = HostAddr.parse("127.0.0.1:29911")
    mid = create_message_id(host.ip, host.port, 0x1B3)
    assert mid == "7F000001000074D700000000000001B3"
    assert decode_message_id(mid) == (host, 0x1B3)
    v6 = HostAddr.parse("[fd00::2]:10911")
    mid6 = create_message_id(v6.ip, v6.port, 5)
    assert len(mid6) == 56 and decode_message_id(mid6) == (v6, 5)


def test_properties_parse_skips_short_and_separatorless_segments() -> None:
    text = "KEYS\x01a b\x02xx\x02noval\x02TAGS\x01T"
    assert parse_properties(text) == {"KEYS": "a b", "TAGS": "T"}
    assert parse_properties(build_properties({"A": "1", "B": "2"})) == {"A": "1", "B": "2"}


def test_decodes_records_written_by_java_4_9_7() -> None:
    """Three records a Java 4.9.7 broker stored (sendMessage from mqadmin 4.9.8); 621 bytes."""
    raw = (DATA / "java497_commitlog_head.bin").read_bytes()
    msgs = decode_records(raw)
    assert [m.body.decode() for m in msgs] == ["hello-java-1", "héllo ☃ \U0001d11e two", "third"]
    assert [m.phys_offset for m in msgs] == [0, 214, 435]
    assert [m.queue_offset for m in msgs] == [0, 1, 0]
    assert [m.queue_id for m in msgs] == [1, 1, 0]
    assert all(m.body_crc == java_crc32(m.body) for m in msgs)
    assert msgs[1].property_map["TAGS"] == "Tag\U0001d11e"
    assert msgs[2].msg_id == "7F000001000074D700000000000001B3"
    assert str(msgs[0].store_host) == "127.0.0.1:29911"
    for m in msgs:
        assert check_record(raw, m.phys_offset, 0).error is None


def test_reencoding_java_records_is_byte_identical() -> None:
    raw = (DATA / "java497_commitlog_head.bin").read_bytes()
    for m in decode_records(raw):
        msg = MessageInner(
            m.topic, m.queue_id, m.body, m.properties, m.flag, m.sys_flag, m.born_timestamp, m.born_host,
            m.store_host, m.reconsume_times, m.prepared_tx_offset,
        )  # fmt: skip
        assert (
            encode_record(msg, m.queue_offset, m.phys_offset, m.store_timestamp)
            == raw[m.phys_offset : m.phys_offset + m.total_size]
        )
