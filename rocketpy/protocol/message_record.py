"""Messages as a client reads them from PULL_MESSAGE / QUERY_MESSAGE / VIEW_MESSAGE_BY_ID bodies
(common.message.MessageDecoder.decode / decodes, for clients; the broker's store has its own codec).

A body is a run of records laid out as in the commit log (see rocketpy.store.format for the layout); hosts are IPv4
(4 + 4 bytes) unless sysFlag bit 0x10 (born) / 0x20 (store) says IPv6 (16 + 4). Properties are
`name\\x01value\\x02` pairs.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

_FIXED = struct.Struct(">iiiiiqqiq")  # totalSize .. bornTimestamp
_I32 = struct.Struct(">i")
_I16 = struct.Struct(">h")
_Q64 = struct.Struct(">q")
COMPRESSED_FLAG = 0x1


class MessageDecodeError(ValueError):
    """A body that is not a run of well-formed message records."""


@dataclass(slots=True)
class MessageExt:
    topic: str
    queue_id: int
    flag: int
    queue_offset: int
    commit_log_offset: int
    sys_flag: int
    born_timestamp: int
    born_host: str
    store_timestamp: int
    store_host: str
    store_host_bytes: bytes
    store_port: int
    reconsume_times: int
    prepared_transaction_offset: int
    body: bytes
    body_crc: int
    properties: dict[str, str] = field(default_factory=dict)
    store_size: int = 0  # the record's total size (MessageExt.storeSize)

    @property
    def offset_msg_id(self) -> str:
        """MessageDecoder.createMessageId: store ip, store port, commit-log offset, in upper-case hex."""
        return (self.store_host_bytes + struct.pack(">iq", self.store_port, self.commit_log_offset)).hex().upper()

    @property
    def msg_id(self) -> str:
        """MessageClientExt.getMsgId: the client's unique key if it set one, else the offset message id."""
        return self.properties.get("UNIQ_KEY") or self.offset_msg_id

    @property
    def keys(self) -> str | None:
        return self.properties.get("KEYS")

    @property
    def tags(self) -> str | None:
        return self.properties.get("TAGS")


def parse_properties(text: str) -> dict[str, str]:
    """MessageDecoder.string2messageProperties."""
    props: dict[str, str] = {}
    for item in text.split("\x02"):
        name, sep, value = item.partition("\x01")
        if sep:
            props[name] = value
    return props


def _host(buf: bytes, pos: int, v6: bool) -> tuple[str, bytes, int, int]:
    size = 16 if v6 else 4
    raw = buf[pos : pos + size]
    port = _I32.unpack_from(buf, pos + size)[0]
    if v6:
        import ipaddress

        ip = str(ipaddress.IPv6Address(raw))
    else:
        ip = ".".join(str(b) for b in raw)
    return f"{ip}:{port}", raw, port, pos + size + 4


def decode_one(buf: bytes, pos: int = 0, *, decompress: bool = True) -> tuple[MessageExt, int]:
    """One record at `pos`; returns it and the position after it."""
    if pos + _FIXED.size > len(buf):
        raise MessageDecodeError("record shorter than its fixed header")
    total, _magic, crc, queue_id, flag, queue_offset, phys, sys_flag, born_ts = _FIXED.unpack_from(buf, pos)
    if total < _FIXED.size or pos + total > len(buf):
        raise MessageDecodeError(f"bad total size {total} at {pos}")
    try:
        born, _, _, p = _host(buf, pos + _FIXED.size, bool(sys_flag & 0x10))
        store_ts = _Q64.unpack_from(buf, p)[0]
        store, store_raw, store_port, p = _host(buf, p + 8, bool(sys_flag & 0x20))
        reconsume = _I32.unpack_from(buf, p)[0]
        prepared = _Q64.unpack_from(buf, p + 4)[0]
        body_len = _I32.unpack_from(buf, p + 12)[0]
        p += 16
        body = bytes(buf[p : p + body_len])
        p += body_len
        if decompress and sys_flag & COMPRESSED_FLAG:
            body = zlib.decompress(body)
        topic_len = buf[p]
        topic = bytes(buf[p + 1 : p + 1 + topic_len]).decode("utf-8", "replace")
        p += 1 + topic_len
        props_len = _I16.unpack_from(buf, p)[0]
        props = bytes(buf[p + 2 : p + 2 + props_len]).decode("utf-8", "replace")
    except (struct.error, IndexError, zlib.error) as exc:
        raise MessageDecodeError(f"malformed record at {pos}: {exc}") from None
    message = MessageExt(
        topic,
        queue_id,
        flag,
        queue_offset,
        phys,
        sys_flag,
        born_ts,
        born,
        store_ts,
        store,
        store_raw,
        store_port,
        reconsume,
        prepared,
        body,
        crc,
        parse_properties(props),
        total,
    )
    return message, pos + total


def decode_all(body: bytes | None) -> list[MessageExt]:
    """MessageDecoder.decodes: every record of a body."""
    out: list[MessageExt] = []
    buf, pos = body or b"", 0
    while pos < len(buf):
        message, pos = decode_one(buf, pos)
        out.append(message)
    return out
