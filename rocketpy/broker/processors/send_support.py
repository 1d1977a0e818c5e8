"""Pure helpers of the send path: Java's properties-string rules, the batch body, hosts, the put-result mapping.

Mirrors MessageDecoder.string2messageProperties / messageProperties2String (a java.util.HashMap, so the stored
string lists properties in HashMap iteration order; `properties_string` reproduces it, which makes our records
byte-identical to a Java broker's), MessageDecoder.encodeMessages (the SEND_BATCH_MESSAGE body),
CommitLog.MessageExtBatchEncoder (batch properties appended to each message) and
SendMessageProcessor.handlePutMessageResult (store status to response code and remark).

Batch body, per message (big-endian)::

    totalSize int32 (whole entry)   magic int32 (0)   bodyCRC int32 (0)   flag int32
    bodyLen int32, body             propsLen int16, properties (UTF-8, name\\x01value\\x02...)
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from rocketpy.common.fastjson import java_hash_order
from rocketpy.protocol.codes import ResponseCode
from rocketpy.store.config import PutMessageStatus
from rocketpy.store.format import HostAddr

NAME_VALUE_SEPARATOR = "\x01"
PROPERTY_SEPARATOR = "\x02"
# MessageConst keys the send path reads or writes
PROPERTY_WAIT = "WAIT"
PROPERTY_CLUSTER = "CLUSTER"
PROPERTY_DELAY = "DELAY"
PROPERTY_TRAN_MSG = "TRAN_MSG"
PROPERTY_REAL_TOPIC = "REAL_TOPIC"
PROPERTY_REAL_QUEUE_ID = "REAL_QID"
PROPERTY_MSG_REGION = "MSG_REGION"
PROPERTY_TRACE_SWITCH = "TRACE_ON"
PROPERTIES_MAX = 32767  # Short.MAX_VALUE: the stored length is an int16

_BATCH_HEAD = struct.Struct(">iiiii")  # totalSize, magic, bodyCRC, flag, bodyLen
_I16 = struct.Struct(">h")
_NO_HOST = HostAddr(b"\0\0\0\0", 0)


def parse_properties(text: str | None) -> dict[str, str]:
    """MessageDecoder.string2messageProperties (4.9.8): segments of >= 3 chars with a non-empty name and value."""
    if not text:
        return {}
    # A segment counts when both the name before its first 0x01 and the value after it are non-empty, which also
    # makes it at least 3 chars long; a later duplicate name overwrites the value but keeps the first position.
    pairs = (item.partition(NAME_VALUE_SEPARATOR) for item in text.split(PROPERTY_SEPARATOR))
    return {name: value for name, _, value in pairs if name and value}


def properties_string(props: Mapping[str, str], insertion: Iterable[str] | None = None, skip: str = "") -> str:
    """messageProperties2String over a HashMap filled in `insertion` order (default: the dict's order).

    `skip` leaves one key out of the string while it still counts for the table size, as SendMessageProcessor
    removes WAIT just before rendering (the map held it, so the table was sized with it).
    """
    keys = hash_order(tuple(props) if insertion is None else tuple(insertion))
    return PROPERTY_SEPARATOR.join([f"{k}{NAME_VALUE_SEPARATOR}{props[k]}" for k in keys if k != skip and k in props])


@functools.lru_cache(maxsize=1024)
def hash_order(keys: tuple[str, ...]) -> list[str]:
    """java_hash_order of a key sequence, cached: producers send the same few property names over and over.
    Callers must not mutate the list."""
    return java_hash_order(keys)


def java_bool(text: str | None) -> bool:
    """Boolean.parseBoolean."""
    return text is not None and text.lower() == "true"


def java_int(text: str | None, default: int = 0) -> int:
    """Integer.parseInt for a property, with `default` where Java would throw (a garbage DELAY is not a crash)."""
    if text is None:
        return default
    try:
        return int(text.strip()) if text.strip().lstrip("+-").isdigit() else default
    except ValueError:
        return default


@dataclass(frozen=True, slots=True)
class BatchEntry:
    flag: int
    body: bytes
    properties: bytes


class BatchError(ValueError):
    """A SEND_BATCH_MESSAGE body that does not decode (Java fails with a buffer exception: SYSTEM_ERROR)."""


def decode_batch(data: bytes | bytearray | memoryview) -> list[BatchEntry]:
    """MessageDecoder.decodeMessages: the entries of an encodeMessages blob, bounds-checked."""
    view = memoryview(data)
    entries = []
    pos = 0
    while pos < len(view):
        if pos + _BATCH_HEAD.size > len(view):
            raise BatchError(f"truncated batch entry header at {pos}")
        _total, _magic, _crc, flag, body_len = _BATCH_HEAD.unpack_from(view, pos)
        pos += _BATCH_HEAD.size
        if body_len < 0 or pos + body_len + 2 > len(view):
            raise BatchError(f"batch entry body length {body_len} past the end at {pos}")
        body = bytes(view[pos : pos + body_len])
        pos += body_len
        (props_len,) = _I16.unpack_from(view, pos)
        pos += 2
        if props_len < 0 or pos + props_len > len(view):
            raise BatchError(f"batch entry properties length {props_len} past the end at {pos}")
        entries.append(BatchEntry(flag, body, bytes(view[pos : pos + props_len])))
        pos += props_len
    return entries


def encode_batch(entries: Iterable[tuple[int, bytes, str]]) -> bytes:
    """MessageDecoder.encodeMessages of (flag, body, properties string) triples (tests and tools)."""
    out = bytearray()
    for flag, body, props in entries:
        pb = props.encode()
        total = _BATCH_HEAD.size + len(body) + 2 + len(pb)
        out += _BATCH_HEAD.pack(total, 0, 0, flag, len(body)) + body + _I16.pack(len(pb)) + pb
    return bytes(out)


def batch_properties(entry_props: bytes, batch_props: bytes) -> bytes:
    """MessageExtBatchEncoder: the message's own properties, a 0x02 if it lacks one, then the batch's."""
    if entry_props and batch_props and entry_props[-1:] != b"\x02":
        return entry_props + b"\x02" + batch_props
    return entry_props + batch_props


@functools.lru_cache(maxsize=4096)
def parse_host(addr: str) -> HostAddr:
    """A socket address "ip:port" (IPv6 without brackets, as RemotingHelper prints it) as a stored host.

    Cached: a connection sends from one address, and parsing it per message was a visible cost."""
    try:
        return HostAddr.parse(addr)
    except ValueError:
        return _NO_HOST


def resolve_host(host: str, port: int) -> HostAddr:
    """brokerIP1:listenPort as InetSocketAddress resolves it (a host name is looked up once)."""
    try:
        return HostAddr(ipaddress.ip_address(host).packed, port)
    except ValueError:
        pass
    try:
        return HostAddr(ipaddress.ip_address(socket.gethostbyname(host)).packed, port)
    except (OSError, ValueError):
        return HostAddr(b"\x7f\0\0\1", port)


def disk_ratio_text(cl: float, cq: float, index: float) -> str:
    """SendMessageProcessor.diskUtil."""
    return f"CL: {min(100.0, cl):5.2f} CQ: {cq:5.2f} INDEX: {index:5.2f}"


def put_status_reply(
    status: PutMessageStatus, max_message_size: int, disk_util: Callable[[], str]
) -> tuple[int, str | None, bool]:
    """handlePutMessageResult: (response code, remark, stored) for a store status; `disk_util` is only asked
    for the SERVICE_NOT_AVAILABLE remark."""
    if status is PutMessageStatus.PUT_OK:
        return ResponseCode.SUCCESS, None, True
    stored = {
        PutMessageStatus.FLUSH_DISK_TIMEOUT: ResponseCode.FLUSH_DISK_TIMEOUT,
        PutMessageStatus.FLUSH_SLAVE_TIMEOUT: ResponseCode.FLUSH_SLAVE_TIMEOUT,
        PutMessageStatus.SLAVE_NOT_AVAILABLE: ResponseCode.SLAVE_NOT_AVAILABLE,
    }
    if status in stored:
        return stored[status], None, True
    if status is PutMessageStatus.CREATE_MAPEDFILE_FAILED:
        return ResponseCode.SYSTEM_ERROR, "create mapped file failed, server is busy or broken.", False
    if status in (PutMessageStatus.MESSAGE_ILLEGAL, PutMessageStatus.PROPERTIES_SIZE_EXCEEDED):
        remark = (
            "the message is illegal, maybe msg body or properties length not matched. "
            f"msg body length limit {max_message_size}B, msg properties length limit 32KB."
        )
        return ResponseCode.MESSAGE_ILLEGAL, remark, False
    if status is PutMessageStatus.SERVICE_NOT_AVAILABLE:
        remark = (
            "service not available now. It may be caused by one of the following reasons: the broker's disk is "
            f"full [{disk_util()}], messages are put to the slave, message store has been shut down, etc."
        )
        return ResponseCode.SERVICE_NOT_AVAILABLE, remark, False
    if status is PutMessageStatus.OS_PAGECACHE_BUSY:
        return ResponseCode.SYSTEM_ERROR, "[PC_SYNCHRONIZED]broker busy, start flow control for a while", False
    return ResponseCode.SYSTEM_ERROR, "UNKNOWN_ERROR", False


def perm_string(perm: int) -> str:
    """PermName.perm2String."""
    return ("R" if perm & 4 else "-") + ("W" if perm & 2 else "-") + ("X" if perm & 1 else "-")
