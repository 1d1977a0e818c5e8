"""Frame codec: round trips in both serialisations, partial input, trailing bytes, malformed input."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rocketpy.protocol.codes import LanguageCode, SerializeType
from rocketpy.remoting.codec import CodecError, FrameDecoder, decode_frame, encode
from rocketpy.remoting.command import RemotingCommand

# Java strings: no lone surrogates (they cannot be UTF-8 encoded by Java either).
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
nonempty_text = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40)
int32 = st.integers(-(2**31), 2**31 - 1)
int16 = st.integers(-(2**15), 2**15 - 1)


@st.composite
def commands(draw: st.DrawFn, serialize_type: int | None = None) -> RemotingCommand:
    ser = draw(st.sampled_from([0, 1])) if serialize_type is None else serialize_type
    # ROCKETMQ reads empty strings back as null, so generate what survives that rule.
    value = nonempty_text if ser == SerializeType.ROCKETMQ else text
    remark = draw(st.none() | value)
    ext = draw(st.none() | st.dictionaries(nonempty_text, value, max_size=6))
    if ser == SerializeType.ROCKETMQ and ext == {}:
        ext = None
    body = draw(st.none() | st.binary(min_size=1, max_size=300))
    return RemotingCommand(
        code=draw(int16),
        language=draw(st.sampled_from(list(LanguageCode))),
        version=draw(int16),
        opaque=draw(int32),
        flag=draw(st.integers(0, 3)),
        remark=remark,
        ext_fields=ext,
        body=body,
        serialize_type=ser,
    )


def _same(a: RemotingCommand, b: RemotingCommand) -> None:
    assert (a.code, a.language, a.version, a.opaque, a.flag) == (b.code, b.language, b.version, b.opaque, b.flag)
    assert a.remark == b.remark
    assert a.ext_fields == b.ext_fields
    assert (bytes(a.body) if a.body else None) == (bytes(b.body) if b.body else None)
    assert a.serialize_type == b.serialize_type


@given(commands())
def test_round_trip(cmd: RemotingCommand) -> None:
    frame = encode(cmd)
    (decoded,) = FrameDecoder().feed(frame)
    _same(cmd, decoded)
    assert encode(decoded) == frame


@given(st.lists(commands(), min_size=1, max_size=5), st.data())
def test_many_frames_whole_bytewise_and_split(cmds: list[RemotingCommand], data: st.DataObject) -> None:
    stream = b"".join(encode(c) for c in cmds)
    whole = FrameDecoder().feed(stream)
    assert len(whole) == len(cmds)
    for a, b in zip(cmds, whole, strict=True):
        _same(a, b)

    bytewise = FrameDecoder()
    got: list[RemotingCommand] = []
    for i in range(len(stream)):
        got += bytewise.feed(stream[i : i + 1])
    assert [encode(c) for c in got] == [encode(c) for c in cmds]

    cut = data.draw(st.integers(0, len(stream)))
    split = FrameDecoder()
    parts = split.feed(stream[:cut]) + split.feed(stream[cut:])
    assert [encode(c) for c in parts] == [encode(c) for c in cmds]
    assert split.buffered == 0


@given(commands(), st.binary(min_size=1, max_size=7))
def test_trailing_partial_frame_is_held_back(cmd: RemotingCommand, tail: bytes) -> None:
    decoder = FrameDecoder()
    out = decoder.feed(encode(cmd) + tail[:3])
    assert len(out) == 1
    assert decoder.buffered == len(tail[:3])


@given(st.binary(max_size=200))
def test_random_bytes_raise_only_codec_error(data: bytes) -> None:
    decoder = FrameDecoder(max_frame_length=1024)
    with contextlib.suppress(CodecError):
        decoder.feed(data)


@given(commands(), st.data())
def test_mutated_frames_raise_only_codec_error(cmd: RemotingCommand, data: st.DataObject) -> None:
    frame = bytearray(encode(cmd))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(frame) - 1))
        frame[i] = data.draw(st.integers(0, 255))
    with contextlib.suppress(CodecError):
        FrameDecoder(max_frame_length=4096).feed(bytes(frame))


def _frame(header_word: int, payload: bytes, total: int | None = None) -> bytes:
    body = struct.pack(">i", header_word) + payload
    return struct.pack(">i", len(body) if total is None else total) + body


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (struct.pack(">i", -5), "negative"),
        (struct.pack(">i", 2**31 - 1), "exceeds"),
        (struct.pack(">i", 16 * 1024 * 1024 - 3), "exceeds"),  # the 4-byte prefix counts toward the limit
        (_frame(100, b"{}"), "bad header length"),
        (_frame(2 << 24 | 2, b"{}"), "unknown serialize type"),
        (_frame(0 << 24 | 5, b"{nope"), "invalid JSON"),
        (_frame(0 << 24 | 2, b"[]"), "not an object"),
        (_frame(1 << 24 | 3, b"abc"), "too short"),
        (struct.pack(">i", 0), "no header length"),
    ],
)
def test_malformed_frames(raw: bytes, reason: str) -> None:
    with pytest.raises(CodecError, match=reason):
        FrameDecoder().feed(raw)


def test_frame_at_exactly_the_limit_is_accepted() -> None:
    cmd = RemotingCommand(code=10, body=b"")
    header = cmd.encode_header()
    limit = 4 + 4 + len(header) + 1000
    frame = encode(RemotingCommand(code=10, body=b"x" * 1000))
    assert len(frame) == limit
    assert len(FrameDecoder(max_frame_length=limit).feed(frame)) == 1
    with pytest.raises(CodecError):
        FrameDecoder(max_frame_length=limit - 1).feed(frame)


def _binary_header(remark_len: int, remark: bytes, ext_len: int, ext: bytes) -> bytes:
    fixed = struct.pack(">hbhii", 105, 0, 409, 1, 0)
    return fixed + struct.pack(">i", remark_len) + remark + struct.pack(">i", ext_len) + ext


@pytest.mark.parametrize(
    "header",
    [
        _binary_header(1000, b"ab", 0, b""),  # remark length past the header
        _binary_header(0, b"", 1000, b""),  # extFields length past the header
        _binary_header(0, b"", 8, struct.pack(">h", 50) + b"abcdef"),  # key length past extFields
        _binary_header(0, b"", 9, struct.pack(">h", 1) + b"k" + struct.pack(">i", 99) + b"vv"),  # value length
        _binary_header(-1, b"", 0, b""),
    ],
)
def test_binary_header_lengths_are_bounds_checked(header: bytes) -> None:
    body = struct.pack(">i", 1 << 24 | len(header)) + header
    with pytest.raises(CodecError):
        decode_frame(body)


def test_binary_empty_strings_read_as_null() -> None:
    ext = struct.pack(">h", 1) + b"k" + struct.pack(">i", 0) + struct.pack(">h", 1) + b"j" + struct.pack(">i", 1) + b"v"
    header = _binary_header(0, b"", len(ext), ext)
    cmd = decode_frame(struct.pack(">i", 1 << 24 | len(header)) + header)
    assert cmd.remark is None
    assert cmd.ext_fields == {"j": "v"}


def test_json_header_matches_fastjson_layout() -> None:
    cmd = RemotingCommand(code=105, opaque=3, ext_fields={"topic": "T"})
    header = cmd.encode_header()
    assert header == (
        b'{"code":105,"extFields":{"topic":"T"},"flag":0,"language":"JAVA","opaque":3,'
        b'"serializeTypeCurrentRPC":"JSON","version":409}'
    )


def test_json_header_control_characters_are_escaped() -> None:
    # A properties string inside a JSON header carries \x01 and \x02 separators (PROTOCOL.md 7h).
    cmd = RemotingCommand(code=310, ext_fields={"i": "KEYS\x01k\x02TAGS\x01t"})
    assert b"\\u0001" in cmd.encode_header()
    (back,) = FrameDecoder().feed(encode(cmd))
    assert back.ext_fields == {"i": "KEYS\x01k\x02TAGS\x01t"}


def test_json_scalar_ext_values_are_coerced_to_strings() -> None:
    header = b'{"code":14,"extFields":{"queueId":3,"flag":true,"none":null},"flag":0,"opaque":9}'
    cmd = decode_frame(struct.pack(">i", len(header)) + header)
    assert cmd.ext_fields == {"queueId": "3", "flag": "true"}
    assert cmd.language == LanguageCode.JAVA


@pytest.mark.parametrize("depth", [10, 999, 1000, 5000])
@pytest.mark.parametrize("where", ["ext", "remark", "code", "language"])
def test_deeply_nested_header_values_are_a_header_error(depth: int, where: str) -> None:
    """Hostile nesting is refused by type, never with a repr that would raise RecursionError (issue 8)."""
    from rocketpy.remoting.command import HeaderError, decode_json_header

    nested = "[" * depth + "]" * depth
    doc = {
        "ext": '{"code":10,"extFields":{"a":%s}}',
        "remark": '{"code":10,"remark":%s}',
        "code": '{"code":%s}',
        "language": '{"code":10,"language":%s}',
    }[where] % nested
    with pytest.raises(HeaderError):
        decode_json_header(doc.encode())
