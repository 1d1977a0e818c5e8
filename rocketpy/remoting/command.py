"""RemotingCommand and its two header serialisations (JSON and ROCKETMQ binary).

Mirrors org.apache.rocketmq.remoting.protocol.RemotingCommand, RemotingSerializable (fastjson) and
RocketMQSerializable. Sans-IO: nothing here touches a socket.

JSON header: the fastjson rendering of RemotingCommand, keys in fastjson's sorted order (code, extFields, flag,
language, opaque, remark, serializeTypeCurrentRPC, version); remark and extFields are left out when null.

ROCKETMQ header (big-endian):

    code      int16        language  int8         version  int16
    opaque    int32        flag      int32
    remarkLen int32, remark UTF-8
    extLen    int32, then entries of (keyLen int16, key, valLen int32, value)

On decode a zero-length string reads as null (Java's readStr), so an empty remark or ext value is absent.
Ext entries keep their wire order, so a decoded frame re-encodes to the same bytes.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Any

import orjson

from rocketpy.protocol.codes import CURRENT_VERSION, LanguageCode, SerializeType

RESPONSE_FLAG = 1  # RemotingCommand RPC_TYPE bit
ONEWAY_FLAG = 2  # RemotingCommand RPC_ONEWAY bit

_LANG_BY_NAME = {lc.name: int(lc) for lc in LanguageCode}
_LANG_NAME = {int(lc): lc.name for lc in LanguageCode}
_SER_NAME = {int(st): st.name for st in SerializeType}

_FIXED = struct.Struct(">hbhii")  # code, language, version, opaque, flag: 13 bytes
_I32 = struct.Struct(">i")
_I16 = struct.Struct(">h")
_DECIMAL = re.compile(r"-?[0-9]{1,19}")
_STR_ONLY = frozenset((str,))
_I32_MIN, _I32_MAX = -(2**31), 2**31 - 1
_SER_JSON = int(SerializeType.JSON)


class HeaderError(ValueError):
    """A header that cannot be decoded; the connection that sent it is closed, as Java's NettyDecoder does."""


@dataclass(slots=True)
class RemotingCommand:
    """One request or response of the remoting protocol."""

    code: int
    language: int = LanguageCode.JAVA
    version: int = CURRENT_VERSION
    opaque: int = 0
    flag: int = 0
    remark: str | None = None
    ext_fields: dict[str, str] | None = None
    body: bytes | bytearray | memoryview | None = None
    serialize_type: int = SerializeType.JSON
    # Keys that arrived with a null value (JSON null, or an empty ROCKETMQ string): Java's decoders keep them with
    # null, which only the ACL signature sees (it appends "null"); here they are left out of ext_fields, named here.
    null_ext_keys: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def request(cls, code: int, ext_fields: dict[str, str] | None = None, body: bytes | None = None) -> RemotingCommand:
        return cls(code=int(code), ext_fields=ext_fields, body=body)

    @classmethod
    def response(
        cls,
        code: int = 0,
        remark: str | None = None,
        ext_fields: dict[str, str] | None = None,
        body: bytes | bytearray | memoryview | None = None,
    ) -> RemotingCommand:
        return cls(code=int(code), flag=RESPONSE_FLAG, remark=remark, ext_fields=ext_fields, body=body)

    @property
    def is_response(self) -> bool:
        return bool(self.flag & RESPONSE_FLAG)

    @property
    def is_oneway(self) -> bool:
        return bool(self.flag & ONEWAY_FLAG)

    def ext(self) -> dict[str, str]:
        """The extFields map, created on first use (Java's addExtField)."""
        if self.ext_fields is None:
            self.ext_fields = {}
        return self.ext_fields

    def encode_header(self) -> bytes:
        if self.serialize_type == SerializeType.ROCKETMQ:
            return encode_rocketmq_header(self)
        return encode_json_header(self)


def encode_json_header(cmd: RemotingCommand) -> bytes:
    doc: dict[str, Any] = {"code": cmd.code}
    if cmd.ext_fields is not None:
        doc["extFields"] = cmd.ext_fields
    doc["flag"] = cmd.flag
    doc["language"] = _LANG_NAME.get(cmd.language, "OTHER")
    doc["opaque"] = cmd.opaque
    if cmd.remark is not None:
        doc["remark"] = cmd.remark
    doc["serializeTypeCurrentRPC"] = _SER_NAME.get(cmd.serialize_type, "JSON")
    doc["version"] = cmd.version
    return orjson.dumps(doc)


def decode_json_header(data: bytes | memoryview) -> RemotingCommand:
    try:
        doc = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise HeaderError(f"invalid JSON header: {exc}") from None
    if not isinstance(doc, dict):
        raise HeaderError("JSON header is not an object")
    try:
        lang = doc.get("language", "JAVA")
        lang = _LANG_BY_NAME[lang] if type(lang) is str else _language(lang)
        ext = doc.get("extFields")
        ext_fields = None
        null_keys: tuple[str, ...] = ()
        if ext is not None:
            if not isinstance(ext, dict):
                raise HeaderError("extFields is not an object")
            if {*map(type, ext.values())} <= _STR_ONLY:  # what every client sends: taken as it is (C speed)
                ext_fields = ext
            else:
                # fastjson coerces scalar values to String for HashMap<String, String>; nulls read as absent.
                ext_fields = {k: v if isinstance(v, str) else _scalar_text(v) for k, v in ext.items() if v is not None}
                if len(ext_fields) != len(ext):
                    null_keys = tuple(k for k, v in ext.items() if v is None)
        # Every request of a busy connection comes here: the int fields checked inline, _int only for odd values,
        # and the command built positionally (keyword arguments cost as much as the rest of this function).
        code, version, opaque, flag = (
            doc.get("code", 0),
            doc.get("version", 0),
            doc.get("opaque", 0),
            doc.get("flag", 0),
        )
        if type(code) is not int or not _I32_MIN <= code <= _I32_MAX:
            code = _int(code)
        if type(version) is not int or not _I32_MIN <= version <= _I32_MAX:
            version = _int(version)
        if type(opaque) is not int or not _I32_MIN <= opaque <= _I32_MAX:
            opaque = _int(opaque)
        if type(flag) is not int or not _I32_MIN <= flag <= _I32_MAX:
            flag = _int(flag)
        remark = doc.get("remark")
        if remark is not None and not isinstance(remark, str):
            remark = _scalar_text(remark)
        # Field order: code, language, version, opaque, flag, remark, ext_fields, body, serialize_type, null_ext_keys.
        return RemotingCommand(code, lang, version, opaque, flag, remark, ext_fields, None, _SER_JSON, null_keys)
    except HeaderError:
        raise
    except (KeyError, TypeError, ValueError) as exc:  # type names only: a repr of hostile nesting would recurse
        raise HeaderError(f"bad JSON header field: {type(exc).__name__}") from None


def _language(value: Any) -> int:
    """fastjson's EnumDeserializer: a LanguageCode name, or an ordinal within the enum (else a JSONException)."""
    if isinstance(value, str):
        return _LANG_BY_NAME[value]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(_LANG_NAME):
        raise HeaderError(f"parse enum LanguageCode error, value: {_bounded_text(value)}")
    return value


def _bounded_text(value: Any) -> str:
    # Never the repr of something nested or huge: hostile headers must not cost recursion or memory to report.
    return str(value)[:32] if isinstance(value, int | float | str) else type(value).__name__


def _int(value: Any) -> int:
    if type(value) is int and -(2**31) <= value < 2**31:  # what every client sends
        return value
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise HeaderError(f"expected an integer, got {type(value).__name__}")
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        raise HeaderError(f"not a decimal integer: {value[:32]!r}")  # int() would take " 1", "1_0" and other digits
    result = int(value)
    if not -(2**31) <= result < 2**31:
        raise HeaderError(f"integer out of range: {_bounded_text(value)}")
    return result


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    raise HeaderError(f"header value is not a scalar: {type(value).__name__}")


def encode_rocketmq_header(cmd: RemotingCommand) -> bytes:
    parts = [_FIXED.pack(cmd.code, cmd.language, cmd.version, cmd.opaque, cmd.flag)]
    remark = cmd.remark.encode() if cmd.remark else b""
    parts.append(_I32.pack(len(remark)))
    parts.append(remark)
    ext_parts: list[bytes] = []
    if cmd.ext_fields:
        for key, value in cmd.ext_fields.items():
            kb, vb = key.encode(), value.encode()
            ext_parts += (_I16.pack(len(kb)), kb, _I32.pack(len(vb)), vb)
    ext = b"".join(ext_parts)
    parts.append(_I32.pack(len(ext)))
    parts.append(ext)
    return b"".join(parts)


def decode_rocketmq_header(data: bytes | memoryview) -> RemotingCommand:
    """Decode a binary header, bounds-checking every length against the header (Java #3475 hardening)."""
    end = len(data)
    if end < _FIXED.size + 8:
        raise HeaderError(f"ROCKETMQ header too short: {end} bytes")
    code, lang, version, opaque, flag = _FIXED.unpack_from(data, 0)
    pos = _FIXED.size
    (remark_len,) = _I32.unpack_from(data, pos)
    pos += 4
    if remark_len < 0 or pos + remark_len + 4 > end:
        raise HeaderError(f"remark length {remark_len} exceeds header length {end}")
    remark = _utf8(data[pos : pos + remark_len]) if remark_len else None
    pos += remark_len
    (ext_len,) = _I32.unpack_from(data, pos)
    pos += 4
    if ext_len < 0 or pos + ext_len > end:
        raise HeaderError(f"extFields length {ext_len} exceeds header length {end}")
    null_keys: list[str] = []
    ext_fields = _decode_ext(data, pos, pos + ext_len, null_keys) if ext_len > 0 else None
    return RemotingCommand(
        code=code,
        language=lang,
        version=version,
        opaque=opaque,
        flag=flag,
        remark=remark,
        ext_fields=ext_fields,
        serialize_type=SerializeType.ROCKETMQ,
        null_ext_keys=tuple(null_keys),
    )


def _decode_ext(data: bytes | memoryview, pos: int, end: int, null_keys: list[str]) -> dict[str, str]:
    ext: dict[str, str] = {}
    while pos < end:
        if pos + 2 > end:
            raise HeaderError("truncated extFields key length")
        (klen,) = _I16.unpack_from(data, pos)
        pos += 2
        if klen < 0 or pos + klen + 4 > end:
            raise HeaderError(f"extFields key length {klen} past the extFields end")
        key = _utf8(data[pos : pos + klen])
        pos += klen
        (vlen,) = _I32.unpack_from(data, pos)
        pos += 4
        if vlen < 0 or pos + vlen > end:
            raise HeaderError(f"extFields value length {vlen} past the extFields end")
        value = _utf8(data[pos : pos + vlen])
        pos += vlen
        if klen and vlen:  # zero-length strings read as null in Java: the entry is absent
            ext[key] = value
        elif klen:
            null_keys.append(key)
    return ext


def _utf8(raw: bytes | memoryview) -> str:
    # Netty's readCharSequence replaces malformed input rather than failing; do the same.
    return bytes(raw).decode("utf-8", "replace")
