"""The commit-log record format of RocketMQ 4.9, byte for byte.

Mirrors ``CommitLog.DefaultAppendMessageCallback.doAppend`` (encoding), ``CommitLog.calMsgLength`` and
``CommitLog.checkMessageAndReturnSize`` (validation during recovery and dispatch) and ``MessageDecoder``
(offset message ids, decoding).  All integers are big-endian.

Record layout (IPv4 hosts; an IPv6 host takes 16 + 4 bytes instead of 4 + 4)::

    off  size field
      0     4 TOTALSIZE            whole record, this field included
      4     4 MAGICCODE            0xDAA320A7
      8     4 BODYCRC              CRC32 of the stored body & 0x7FFFFFFF (UtilAll.crc32: never negative)
     12     4 QUEUEID
     16     4 FLAG
     20     8 QUEUEOFFSET          consume-queue index; 0 for prepared/rollback records
     28     8 PHYSICALOFFSET       absolute commit-log offset of this record
     36     4 SYSFLAG              0x10: born host is IPv6, 0x20: store host is IPv6
     40     8 BORNTIMESTAMP
     48   4+4 BORNHOST             ip, port (int32)
     56     8 STORETIMESTAMP
     64   4+4 STOREHOST
     72     4 RECONSUMETIMES
     76     8 PREPARED_TX_OFFSET
     84     4 BODYLEN, then BODY
      .     1 TOPICLEN (signed byte), then TOPIC (UTF-8)
      .     2 PROPLEN (int16), then PROPERTIES (UTF-8, name\\x01value\\x02...)

A file that cannot hold the next record plus 8 bytes ends with a blank record: ``[int32 remaining]
[int32 0xCBD43194]`` (``END_FILE_MIN_BLANK_LENGTH``); the rest of the file stays zero.
"""

from __future__ import annotations

import functools
import struct
import zlib
from dataclasses import dataclass
from enum import Enum

from rocketpy.common.java import java_string_hash

MESSAGE_MAGIC = -626843481  # 0xDAA320A7 as a Java int
BLANK_MAGIC = -875286124  # 0xCBD43194 as a Java int
END_FILE_MIN_BLANK_LENGTH = 8
INT_MAX = 2**31 - 1

# MessageSysFlag
COMPRESSED_FLAG = 0x1
MULTI_TAGS_FLAG = 0x2
TRANSACTION_NOT_TYPE = 0x0
TRANSACTION_PREPARED_TYPE = 0x4
TRANSACTION_COMMIT_TYPE = 0x8
TRANSACTION_ROLLBACK_TYPE = 0xC
TRANSACTION_MASK = 0xC
BORNHOST_V6_FLAG = 0x10
STOREHOST_V6_FLAG = 0x20

# MessageConst property names the store reads
PROPERTY_KEYS = "KEYS"
PROPERTY_TAGS = "TAGS"
PROPERTY_UNIQ_KEY = "UNIQ_KEY"
PROPERTY_DELAY_TIME_LEVEL = "DELAY"
NAME_VALUE_SEPARATOR = "\x01"
PROPERTY_SEPARATOR = "\x02"
SCHEDULE_TOPIC = "SCHEDULE_TOPIC_XXXX"

_PREFIX = struct.Struct(">iiiiiqqiq")  # total .. born timestamp: 48 bytes
assert _PREFIX.size == 48
_BLANK = struct.Struct(">ii")
_I32 = struct.Struct(">i")
_I16 = struct.Struct(">h")
_Q64 = struct.Struct(">q")


def _header_struct(born_v6: bool, store_v6: bool) -> struct.Struct:
    born = "16s" if born_v6 else "4s"
    store = "16s" if store_v6 else "4s"
    return struct.Struct(">iiiiiqqiq" + born + "iq" + store + "iiqi")


# Indexed by (sysflag >> 4) & 3: bit 0 = born v6, bit 1 = store v6.
HEADERS = tuple(_header_struct(bool(i & 1), bool(i & 2)) for i in range(4))
assert HEADERS[0].size == 88 and HEADERS[3].size == 112


def header_index(sys_flag: int) -> int:
    """Which of HEADERS describes a record with this sysflag."""
    return (sys_flag >> 4) & 3


def record_length(sys_flag: int, body_len: int, topic_len: int, props_len: int) -> int:
    """``CommitLog.calMsgLength``: the TOTALSIZE a record with these parts must have."""
    return HEADERS[header_index(sys_flag)].size + body_len + 1 + topic_len + 2 + props_len


def java_crc32(data: bytes | memoryview) -> int:
    """``UtilAll.crc32``: java.util.zip.CRC32 masked with 0x7FFFFFFF, so the stored BODYCRC is never negative."""
    return zlib.crc32(data) & 0x7FFFFFFF


@functools.lru_cache(maxsize=4096)
def _cached_tags_code(tags: str) -> int:
    return java_string_hash(tags)


def tags_code(tags: str | None) -> int:
    """``MessageExtBrokerInner.tagsString2tagsCode``: 0 without tags, else the Java hashCode (sign-extended)."""
    if not tags:
        return 0
    return _cached_tags_code(tags)


def parse_properties(text: str) -> dict[str, str]:
    """``MessageDecoder.string2messageProperties``: segments shorter than 3 chars or without 0x01 are skipped."""
    out: dict[str, str] = {}
    if not text:
        return out
    for item in text.split(PROPERTY_SEPARATOR):
        if len(item) < 3:
            continue
        name, sep, value = item.partition(NAME_VALUE_SEPARATOR)
        if sep:
            out[name] = value
    return out


def get_property(text: str, name: str) -> str | None:
    """One property's value without parsing the whole string (the append path needs only three)."""
    key = name + NAME_VALUE_SEPARATOR
    start = 0
    while True:
        i = text.find(key, start)
        if i < 0:
            return None
        if i == 0 or text[i - 1] == PROPERTY_SEPARATOR:
            j = text.find(PROPERTY_SEPARATOR, i)
            return text[i + len(key) : j if j >= 0 else len(text)]
        start = i + 1


def dispatch_properties(text: str) -> tuple[str | None, str | None, str | None]:
    """(TAGS, KEYS, UNIQ_KEY) as ``get_property`` finds them; the three scans unrolled for the append path."""
    sep = PROPERTY_SEPARATOR
    i = text.find("TAGS\x01")
    if i < 0:
        tags = None
    elif i == 0 or text[i - 1] == sep:
        j = text.find(sep, i)
        tags = text[i + 5 : j] if j >= 0 else text[i + 5 :]
    else:
        tags = get_property(text, PROPERTY_TAGS)
    i = text.find("KEYS\x01")
    if i < 0:
        keys = None
    elif i == 0 or text[i - 1] == sep:
        j = text.find(sep, i)
        keys = text[i + 5 : j] if j >= 0 else text[i + 5 :]
    else:
        keys = get_property(text, PROPERTY_KEYS)
    i = text.find("UNIQ_KEY\x01")
    if i < 0:
        uniq = None
    elif i == 0 or text[i - 1] == sep:
        j = text.find(sep, i)
        uniq = text[i + 9 : j] if j >= 0 else text[i + 9 :]
    else:
        uniq = get_property(text, PROPERTY_UNIQ_KEY)
    return tags, keys, uniq


def build_properties(props: dict[str, str]) -> str:
    """``MessageDecoder.messageProperties2String`` (no trailing separator in 4.9.7+)."""
    return PROPERTY_SEPARATOR.join(f"{k}{NAME_VALUE_SEPARATOR}{v}" for k, v in props.items())


@dataclass(frozen=True, slots=True)
class HostAddr:
    """A born/store host as stored: the packed IP (4 or 16 bytes) and the port."""

    ip: bytes
    port: int

    def __post_init__(self) -> None:
        if len(self.ip) not in (4, 16):
            raise ValueError(f"host ip must be 4 or 16 bytes, got {len(self.ip)}")

    @classmethod
    def parse(cls, addr: str) -> HostAddr:
        """Parse "1.2.3.4:10911" or "[::1]:10911" / "::1:10911" (last colon separates the port)."""
        import ipaddress

        host, _, port = addr.rpartition(":")
        host = host.strip("[]")
        return cls(ipaddress.ip_address(host).packed, int(port))

    def __str__(self) -> str:
        import ipaddress

        return f"{ipaddress.ip_address(self.ip)}:{self.port}"


def create_message_id(store_ip: bytes, store_port: int, phys_offset: int) -> str:
    """``MessageDecoder.createMessageId``: uppercase hex of ip + int32 port + int64 commit-log offset."""
    return (store_ip + struct.pack(">iq", store_port, phys_offset)).hex().upper()


def decode_message_id(msg_id: str) -> tuple[HostAddr, int]:
    """``MessageDecoder.decodeMessageId``: 32 hex chars means IPv4, otherwise IPv6."""
    raw = bytes.fromhex(msg_id)
    ip_len = 4 if len(msg_id) == 32 else 16
    if len(raw) != ip_len + 12:
        raise ValueError(f"not an offset message id: {msg_id!r}")
    port, offset = struct.unpack_from(">iq", raw, ip_len)
    return HostAddr(raw[:ip_len], port), offset


class RecordError(Enum):
    """Why a position does not hold a valid record (see ``check_record``)."""

    TRUNCATED = "truncated"
    BAD_MAGIC = "bad magic"
    BAD_LENGTH = "length mismatch"
    BAD_CRC = "body crc mismatch"
    BAD_OFFSET = "physical offset field differs from position"
    BAD_TEXT = "topic or properties are not UTF-8"


@dataclass(slots=True)
class DispatchInfo:
    """What dispatch needs from one record (``DispatchRequest``)."""

    topic: str
    queue_id: int
    phys_offset: int
    size: int
    tags_code: int
    store_timestamp: int
    queue_offset: int
    sys_flag: int
    keys: str | None
    uniq_key: str | None


@dataclass(frozen=True, slots=True)
class RecordCheck:
    """Result of checking one position: a record (size > 0), a blank end of file, or an error."""

    size: int
    blank: bool = False
    error: RecordError | None = None
    info: DispatchInfo | None = None


def check_record(
    buf: memoryview | bytes,
    pos: int,
    file_from: int,
    check_crc: bool = True,
    delay_table: dict[int, int] | None = None,
    strict_text: bool = False,
) -> RecordCheck:
    """``CommitLog.checkMessageAndReturnSize``, stricter: also checks PHYSICALOFFSET and text decoding.

    ``strict_text`` (recovery) also rejects a NUL in the topic or a run of 4 NULs in the properties: what a
    page lost in a power failure leaves inside the one part of a record the CRC does not cover.

    ``buf`` is one commit-log file, ``pos`` a position in it, ``file_from`` the file's start offset.
    """
    end = len(buf)
    if pos + 8 > end:
        return RecordCheck(0, error=RecordError.TRUNCATED)
    total, magic = _BLANK.unpack_from(buf, pos)
    if magic == BLANK_MAGIC:
        if total != end - pos:
            return RecordCheck(0, error=RecordError.BAD_LENGTH)
        return RecordCheck(0, blank=True)
    if magic != MESSAGE_MAGIC:
        return RecordCheck(0, error=RecordError.BAD_MAGIC)
    if total < 91 or pos + total > end:
        return RecordCheck(0, error=RecordError.BAD_LENGTH)
    return _check_message(buf, pos, total, file_from, check_crc, delay_table, strict_text)


def _check_message(
    buf: memoryview | bytes,
    pos: int,
    total: int,
    file_from: int,
    check_crc: bool,
    delay_table: dict[int, int] | None,
    strict_text: bool = False,
) -> RecordCheck:
    sys_flag = _I32.unpack_from(buf, pos + 36)[0]
    hdr = HEADERS[header_index(sys_flag)]
    if hdr.size + 3 > total:
        return RecordCheck(0, error=RecordError.BAD_LENGTH)
    f = hdr.unpack_from(buf, pos)
    body_len = f[-1]
    p = pos + hdr.size
    if body_len < 0 or p + body_len + 3 > pos + total:
        return RecordCheck(0, error=RecordError.BAD_LENGTH)
    body = buf[p : p + body_len]
    p += body_len
    topic_len = buf[p]
    if topic_len > 127 or p + 1 + topic_len + 2 > pos + total:
        return RecordCheck(0, error=RecordError.BAD_LENGTH)
    topic_b = bytes(buf[p + 1 : p + 1 + topic_len])
    p += 1 + topic_len
    props_len = _I16.unpack_from(buf, p)[0]
    if props_len < 0 or record_length(sys_flag, body_len, topic_len, props_len) != total:
        return RecordCheck(0, error=RecordError.BAD_LENGTH)
    if f[6] != file_from + pos:
        return RecordCheck(0, error=RecordError.BAD_OFFSET)
    if check_crc and java_crc32(body) != f[2]:
        return RecordCheck(total, error=RecordError.BAD_CRC)
    props_b = bytes(buf[p + 2 : p + 2 + props_len])
    if strict_text and (b"\0" in topic_b or b"\0\0\0\0" in props_b):
        return RecordCheck(total, error=RecordError.BAD_TEXT)
    try:
        topic = topic_b.decode()
        props = parse_properties(props_b.decode())
    except UnicodeDecodeError:
        return RecordCheck(total, error=RecordError.BAD_TEXT)
    store_ts = f[11]
    code = tags_code(props.get(PROPERTY_TAGS))
    if topic == SCHEDULE_TOPIC and delay_table is not None:
        code = schedule_tags_code(props, store_ts, delay_table, code)
    info = DispatchInfo(
        topic, f[3], f[6], total, code, store_ts, f[5], sys_flag, props.get(PROPERTY_KEYS), props.get(PROPERTY_UNIQ_KEY)
    )
    return RecordCheck(total, info=info)


def schedule_tags_code(props: dict[str, str], store_ts: int, delay_table: dict[int, int], code: int) -> int:
    """For SCHEDULE_TOPIC_XXXX the tags code is the deliver time (``ScheduleMessageService``)."""
    level_s = props.get(PROPERTY_DELAY_TIME_LEVEL)
    if level_s is None:
        return code
    try:
        level = min(int(level_s), max(delay_table, default=0))
    except ValueError:
        return code
    if level <= 0:
        return code
    return store_ts + delay_table.get(level, 1000)


@dataclass(slots=True)
class StoredMessage:
    """A fully decoded record (``MessageExt``); for tools, tests and view-by-offset paths."""

    total_size: int
    body_crc: int
    queue_id: int
    flag: int
    queue_offset: int
    phys_offset: int
    sys_flag: int
    born_timestamp: int
    born_host: HostAddr
    store_timestamp: int
    store_host: HostAddr
    reconsume_times: int
    prepared_tx_offset: int
    body: bytes
    topic: str
    properties: str

    @property
    def msg_id(self) -> str:
        return create_message_id(self.store_host.ip, self.store_host.port, self.phys_offset)

    @property
    def property_map(self) -> dict[str, str]:
        return parse_properties(self.properties)


class DecodeError(ValueError):
    """The bytes are not a well-formed commit-log record."""


def decode_record(buf: bytes | memoryview, pos: int = 0) -> StoredMessage:
    """``MessageDecoder.decode`` (no decompression; the body is returned as stored)."""
    if pos + 48 > len(buf):
        raise DecodeError("record shorter than its fixed header")
    total, magic = _BLANK.unpack_from(buf, pos)
    if magic != MESSAGE_MAGIC:
        raise DecodeError(f"bad magic 0x{magic & 0xFFFFFFFF:08X} at {pos}")
    if total < 91 or pos + total > len(buf):
        raise DecodeError(f"bad total size {total} at {pos}")
    sys_flag = _I32.unpack_from(buf, pos + 36)[0]
    hdr = HEADERS[header_index(sys_flag)]
    f = hdr.unpack_from(buf, pos)
    p = pos + hdr.size
    body_len = f[-1]
    if body_len < 0 or p + body_len + 3 > pos + total:
        raise DecodeError(f"bad body length {body_len} at {pos}")
    body = bytes(buf[p : p + body_len])
    p += body_len
    topic_len = buf[p]
    if topic_len > 127:
        raise DecodeError(f"bad topic length {topic_len} at {pos}")
    topic = bytes(buf[p + 1 : p + 1 + topic_len]).decode()
    p += 1 + topic_len
    props_len = _I16.unpack_from(buf, p)[0]
    if props_len < 0 or record_length(sys_flag, body_len, topic_len, props_len) != total:
        raise DecodeError(f"record parts do not add up to total size {total} at {pos}")
    props = bytes(buf[p + 2 : p + 2 + props_len]).decode()
    return StoredMessage(
        total,
        f[2],
        f[3],
        f[4],
        f[5],
        f[6],
        sys_flag,
        f[8],
        HostAddr(f[9], f[10]),
        f[11],
        HostAddr(f[12], f[13]),
        f[14],
        f[15],
        body,
        topic,
        props,
    )


def decode_records(buf: bytes | memoryview) -> list[StoredMessage]:
    """Decode concatenated records (a pull or query body)."""
    out = []
    pos = 0
    while pos < len(buf):
        msg = decode_record(buf, pos)
        out.append(msg)
        pos += msg.total_size
    return out


def pack_blank(buf: memoryview | bytearray, pos: int, remaining: int) -> None:
    """Write the end-of-file blank record."""
    _BLANK.pack_into(buf, pos, remaining, BLANK_MAGIC)


def read_store_timestamp(buf: memoryview | bytes, pos: int) -> int:
    """``CommitLog.pickupStoreTimestamp``: STORETIMESTAMP sits after the born host, whose size depends on sysflag."""
    sys_flag = _I32.unpack_from(buf, pos + 36)[0]
    off = 56 if not sys_flag & BORNHOST_V6_FLAG else 68
    return int(_Q64.unpack_from(buf, pos + off)[0])
