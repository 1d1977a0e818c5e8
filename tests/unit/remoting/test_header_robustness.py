"""Hostile headers in both serialisations: a decoded command or a CodecError (the connection is closed, as Java's
NettyDecoder does), never another exception; and what decodes can always be answered.

Complements test_codec.py (random bytes, mutated frames, JSON nesting in extFields/remark) with structured JSON
documents of wrong types, invalid UTF-8, nesting in every position, and a NameServer fed such frames over a socket.
"""

from __future__ import annotations

import json
import logging
import struct
from typing import Any

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from rocketpy.namesrv.config import load_settings
from rocketpy.namesrv.controller import NamesrvController
from rocketpy.protocol.codes import LanguageCode, RequestCode, SerializeType
from rocketpy.remoting.codec import CodecError, FrameDecoder, decode_frame, encode
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.server import RemotingServer

FIELDS = ["code", "language", "version", "opaque", "flag", "remark", "extFields", "serializeTypeCurrentRPC"]
INT32 = range(-(2**31), 2**31)


def _frame(header: bytes, ser: int = 0, body: bytes = b"") -> bytes:
    """A frame without its length prefix, as decode_frame takes it."""
    return struct.pack(">i", (ser << 24) | len(header)) + header + body


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        st.sampled_from([name.name for name in LanguageCode] + ["JSON", "ROCKETMQ", "", " 1", "1_0", "٣"]),
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=12,
    )


def _assert_answerable(cmd: RemotingCommand) -> None:
    for value in (cmd.code, cmd.version, cmd.opaque, cmd.flag):
        assert isinstance(value, int) and value in INT32
    assert cmd.language in {int(lc) for lc in LanguageCode} or cmd.serialize_type == SerializeType.ROCKETMQ
    assert cmd.remark is None or isinstance(cmd.remark, str)
    assert cmd.ext_fields is None or all(isinstance(k, str) and isinstance(v, str) for k, v in cmd.ext_fields.items())
    # The server echoes a request's remark or ext values in answers: they must encode in both serialisations.
    for ser in SerializeType:
        reply = RemotingCommand.response(0, cmd.remark, dict(cmd.ext_fields or {}))
        reply.serialize_type = ser
        encode(reply)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=4), _json_values(), max_size=8))
def test_json_documents_of_any_shape_decode_or_raise_codec_error(doc: dict[str, Any]) -> None:
    try:
        cmd = decode_frame(_frame(json.dumps(doc).encode()))
    except CodecError:
        return
    _assert_answerable(cmd)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120), st.sampled_from([0, 1]))
def test_arbitrary_header_bytes_decode_or_raise_codec_error(header: bytes, ser: int) -> None:
    try:
        cmd = decode_frame(_frame(header, ser))
    except CodecError:
        return
    _assert_answerable(cmd)


@pytest.mark.parametrize("field", ["code", "language", "version", "opaque", "flag", "remark", "extFields"])
@pytest.mark.parametrize("opener", [b"[", b'{"a":'])
def test_deep_nesting_in_any_field_is_a_codec_error(field: str, opener: bytes) -> None:
    closer = b"]" if opener == b"[" else b"}"
    nested = opener * 50_000 + b"1" + closer * 50_000
    with pytest.raises(CodecError):
        decode_frame(_frame(b'{"%s":' % field.encode() + nested + b"}"))


@pytest.mark.parametrize(
    "header",
    [
        b'{"code":"\xff\xfe"}',
        b'{"code":1,"remark":"\xc3"}',
        b'{"code":1,"extFields":{"\xed\xa0\x80":"x"}}',  # an encoded surrogate
        b'{"code":1,"remark":"\\ud800"}',  # a lone escaped surrogate
        b'{"code":1,"extFields":{"a":"\\udc00"}}',
    ],
)
def test_invalid_utf8_and_lone_surrogates_in_json_are_codec_errors(header: bytes) -> None:
    with pytest.raises(CodecError):
        decode_frame(_frame(header))


def test_invalid_utf8_in_binary_headers_is_replaced_as_netty_does() -> None:
    remark = b"\xff\xfeok"
    ext = struct.pack(">h", 2) + b"\xc3k" + struct.pack(">i", 2) + b"\xed\xa0"
    header = struct.pack(">hbhii", 1, 0, 409, 7, 0) + struct.pack(">i", len(remark)) + remark
    header += struct.pack(">i", len(ext)) + ext
    cmd = decode_frame(_frame(header, 1))
    assert cmd.remark == "\ufffd\ufffdok"
    assert cmd.ext_fields == {"\ufffdk": "\ufffd\ufffd"}
    _assert_answerable(cmd)


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ({"code": 1, "language": 13}, "enum"),
        ({"code": 1, "language": -1}, "enum"),
        ({"code": 1, "language": True}, "enum"),
        ({"code": 1, "language": 2**80}, "enum"),
        ({"code": 1, "language": "KLINGON"}, "KeyError"),
        ({"code": " 1"}, "decimal"),
        ({"code": "1_0"}, "decimal"),
        ({"code": "٣"}, "decimal"),
        ({"code": "9" * 5000}, "decimal"),
        ({"code": 2**31}, "range"),
        ({"opaque": 1.5}, "float"),
        ({"flag": [1]}, "list"),
        ({"code": 1, "remark": {"a": 1}}, "dict"),
        ({"code": 1, "extFields": {"a": [1]}}, "list"),
        ({"code": 1, "extFields": "a=b"}, "object"),
    ],
)
def test_wrong_types_are_codec_errors_naming_the_problem(doc: dict[str, Any], reason: str) -> None:
    with pytest.raises(CodecError, match=reason):
        decode_frame(_frame(json.dumps(doc).encode()))


def test_a_language_ordinal_is_accepted_as_fastjson_does() -> None:
    cmd = decode_frame(_frame(b'{"code":1,"language":3}'))
    assert cmd.language == LanguageCode.PYTHON


# --- over a socket: a NameServer fed hostile frames answers or closes, and never logs a traceback -------------

HOSTILE = [
    # decodable, with header fields the handlers must reject by answering
    RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, {"topic": "\ufffd" * 300}),
    RemotingCommand.request(RequestCode.REGISTER_BROKER, {"brokerId": "abc", "brokerName": "b"}, b"\xff" * 10),
    RemotingCommand.request(RequestCode.REGISTER_BROKER, {"brokerId": "9" * 40, "compressed": "maybe"}, b"{"),
    RemotingCommand.request(RequestCode.UNREGISTER_BROKER, {"brokerId": "-"}),
    RemotingCommand.request(RequestCode.PUT_KV_CONFIG, {"namespace": "n", "key": "k"}),
    RemotingCommand.request(RequestCode.GET_KVLIST_BY_NAMESPACE, {"namespace": "\x00"}),
    RemotingCommand.request(RequestCode.UPDATE_NAMESRV_CONFIG, None, b"\xff\xfe=\n=\\u12"),
    RemotingCommand.request(RequestCode.QUERY_DATA_VERSION, {"brokerAddr": "x", "brokerId": "1.5"}, b"[]"),
    RemotingCommand.request(RequestCode.GET_TOPICS_BY_CLUSTER, {"cluster": ""}),
    RemotingCommand.request(-5),
]
CLOSING = [
    _frame(b'{"code":105,"language":99}'),
    _frame(b"[" * 100_000),
    _frame(b'{"code":105,"remark":"\xff"}'),
    _frame(b"\x00\x01", 1),
]


@pytest.mark.parametrize("ser", [SerializeType.JSON, SerializeType.ROCKETMQ])
async def test_namesrv_answers_hostile_requests_without_a_traceback(
    nursery: trio.Nursery, tmp_path: Any, caplog: pytest.LogCaptureFixture, ser: SerializeType
) -> None:
    settings_ = load_settings(None, {"kvConfigPath": str(tmp_path / "kv.json"), "configStorePath": str(tmp_path / "p")})
    controller = NamesrvController(settings_)
    server = RemotingServer(controller.handlers())
    port = await nursery.start(server.serve, 0, "127.0.0.1")
    caplog.set_level(logging.WARNING)

    stream = await trio.open_tcp_stream("127.0.0.1", port)
    decoder = FrameDecoder()
    for opaque, cmd in enumerate(HOSTILE, 1):
        cmd.opaque, cmd.serialize_type = opaque, ser
        await stream.send_all(encode(cmd))
        replies: list[RemotingCommand] = []
        with trio.fail_after(5):
            while not replies:
                data = await stream.receive_some(65536)
                assert data, f"connection closed on {cmd.code}"
                replies = decoder.feed(data)
        assert replies[0].opaque == opaque
    await stream.aclose()

    for raw in CLOSING:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        await stream.send_all(struct.pack(">i", len(raw)) + raw)
        with trio.fail_after(5):
            assert await stream.receive_some(65536) == b""
        await stream.aclose()

    tracebacks = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not tracebacks, [r.getMessage() for r in tracebacks]
