"""RegisterBrokerBody (REGISTER_BROKER request body), the body CRC and RegisterBrokerResult.

Mirrors org.apache.rocketmq.common.protocol.body.RegisterBrokerBody. The plain form is fastjson JSON:
`{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":..,"topicConfigTable":{..}}}`.

The compressed form (broker `compressedRegister=true`, header `compressed=true`) is one zlib stream
(java.util.zip.Deflater, BEST_COMPRESSION, with the zlib header) holding, all integers big-endian int32:

    len, DataVersion JSON
    topic count
    count x (len, TopicConfig.encode() text "name readQ writeQ perm filterType", UTF-8)
    len, filterServerList JSON array

It loses topicSysFlag and order. The header's bodyCrc32 is UtilAll.crc32 of the body bytes as sent: CRC32 masked
with 0x7FFFFFFF; 0 means "not checked" (DefaultRequestProcessor.checksum).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from rocketpy.common import fastjson
from rocketpy.common.records import FieldwiseEqRepr
from rocketpy.protocol.bodies._fields import BodyError, as_str, get_list, get_map, parse_object
from rocketpy.protocol.bodies.data_version import DataVersion
from rocketpy.protocol.bodies.kv import KVTable
from rocketpy.protocol.bodies.topic_config import TopicConfig, TopicConfigSerializeWrapper

_INT = struct.Struct(">i")
MAX_INFLATED = 256 * 1024 * 1024  # refuse zlib bombs; 4.9 brokers with 100k topics inflate to a few MiB


def body_crc32(body: bytes | None) -> int:
    """UtilAll.crc32: CRC32 of the bytes with the sign bit cleared; 0 for no body."""
    if not body:
        return 0
    return zlib.crc32(body) & 0x7FFFFFFF


@dataclass(slots=True, eq=False, repr=False)
class RegisterBrokerBody(FieldwiseEqRepr):
    topic_config_serialize_wrapper: TopicConfigSerializeWrapper = field(default_factory=TopicConfigSerializeWrapper)
    filter_server_list: list[str] = field(default_factory=list)

    def to_obj(self) -> dict[str, Any]:
        return {
            "filterServerList": list(self.filter_server_list),
            "topicConfigSerializeWrapper": self.topic_config_serialize_wrapper.to_obj(),
        }

    @classmethod
    def from_obj(cls, obj: Mapping[Any, Any]) -> Self:
        servers = [as_str(s, "filterServerList") for s in get_list(obj, "filterServerList")]
        wrapper = TopicConfigSerializeWrapper.from_obj(get_map(obj, "topicConfigSerializeWrapper"))
        return cls(wrapper, servers)

    def encode(self, compress: bool = False) -> bytes:
        """RegisterBrokerBody.encode(compress)."""
        if not compress:
            return fastjson.dumps(self.to_obj())
        parts = [_framed(self.topic_config_serialize_wrapper.data_version.to_json())]
        table = self.topic_config_serialize_wrapper.topic_config_table
        parts.append(_INT.pack(len(table)))
        parts.extend(_framed(tc.encode_line().encode("utf-8")) for tc in table.values())
        parts.append(_framed(fastjson.dumps(list(self.filter_server_list))))
        return zlib.compress(b"".join(parts), 9)

    @classmethod
    def decode(cls, data: bytes, compressed: bool) -> Self:
        """RegisterBrokerBody.decode(data, compressed); BodyError on anything malformed."""
        if not compressed:
            return cls.from_obj(parse_object(data, "RegisterBrokerBody"))
        reader = _InflateReader(data)
        body = cls()
        wrapper = body.topic_config_serialize_wrapper
        wrapper.data_version = DataVersion.from_json(reader.read(reader.read_int()))
        count = reader.read_int()
        for _ in range(count):
            line = reader.read(reader.read_int()).decode("utf-8", "replace")
            config = TopicConfig.decode_line(line)
            wrapper.topic_config_table[config.topic_name or ""] = config
        servers_json = reader.read(reader.read_int())
        try:  # Java logs and keeps an empty list when this JSON is bad
            servers = fastjson.loads(servers_json)
            body.filter_server_list = [as_str(s, "filterServerList") for s in servers or []]
        except (ValueError, TypeError):
            body.filter_server_list = []
        return body


def _framed(payload: bytes) -> bytes:
    return _INT.pack(len(payload)) + payload


class _InflateReader:
    """Reads exact byte counts from a zlib stream, like RegisterBrokerBody.readBytes over InflaterInputStream."""

    __slots__ = ("_buffer", "_inflater", "_pos", "_produced")

    def __init__(self, data: bytes) -> None:
        self._inflater = zlib.decompressobj()
        self._buffer = b""
        self._pos = 0
        self._produced = 0
        try:
            self._buffer = self._inflater.decompress(data, MAX_INFLATED)
        except zlib.error as exc:
            raise BodyError(f"bad compressed RegisterBrokerBody: {exc}") from None
        if self._inflater.unconsumed_tail:
            raise BodyError("compressed RegisterBrokerBody inflates beyond the limit")

    def read(self, length: int) -> bytes:
        if length < 0 or self._pos + length > len(self._buffer):
            raise BodyError("End of compressed data has reached")
        chunk = self._buffer[self._pos : self._pos + length]
        self._pos += length
        return chunk

    def read_int(self) -> int:
        value: int = _INT.unpack(self.read(4))[0]
        return value


@dataclass(slots=True, eq=False, repr=False)
class RegisterBrokerResult(FieldwiseEqRepr):
    """namesrv.RegisterBrokerResult: what a broker learns from one NameServer (response header + KVTable body)."""

    ha_server_addr: str | None = None
    master_addr: str | None = None
    kv_table: KVTable = field(default_factory=KVTable)
