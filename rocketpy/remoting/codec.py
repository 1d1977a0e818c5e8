"""Sans-IO frame codec of the RocketMQ remoting protocol.

Frame (big-endian), mirroring NettyEncoder / NettyDecoder (a LengthFieldBasedFrameDecoder(16 MiB, 0, 4, 0, 4)):

    totalLen          int32   = 4 + headerLen + bodyLen (does not count itself)
    headerLenAndType  int32   high byte: SerializeType (0 JSON, 1 ROCKETMQ); low 24 bits: header length
    header            headerLen bytes
    body              the rest of the frame

Java counts the 4-byte prefix in the frame limit (`com.rocketmq.remoting.frameMaxLength`, default 16777216) and
closes the connection on an oversize or negative length, a header length past the frame, an unknown serialise type
or an undecodable header. `FrameDecoder.feed` raises CodecError for all of these; the caller closes the connection.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

import orjson

from rocketpy.protocol.codes import SerializeType
from rocketpy.remoting.command import (
    HeaderError,
    RemotingCommand,
    decode_json_header,
    decode_rocketmq_header,
)

DEFAULT_FRAME_MAX_LENGTH = 16 * 1024 * 1024
_PREFIX = struct.Struct(">ii")
_LEN = struct.Struct(">i")


class CodecError(Exception):
    """The peer sent bytes that are not a valid frame; the connection must be closed. ``decoded`` holds the
    commands of the same read before the bad frame: Netty's decoder hands those on before it fails, so they are
    served (and answered) before the connection closes."""

    decoded: list[RemotingCommand] = []


def encode(cmd: RemotingCommand) -> bytes:
    """One complete frame."""
    header = cmd.encode_header()
    body = cmd.body
    body_len = len(body) if body is not None else 0
    prefix = _PREFIX.pack(4 + len(header) + body_len, (cmd.serialize_type << 24) | len(header))
    if not body_len:
        return prefix + header
    return b"".join((prefix, header, body))  # type: ignore[arg-type]


def header_template(cmd: RemotingCommand, marks: Sequence[str]) -> list[str] | None:
    """The JSON header of ``cmd`` exactly as ``encode`` writes it, cut around the placeholders it holds: the ext
    field values ``marks`` (as JSON writes them), then its opaque. A fast path fills the gaps to answer with the
    general path's bytes. None when a placeholder is missing or appears twice (another field holds it)."""
    text = encode(cmd)[8:].decode()
    parts: list[str] = []
    for mark in (*(orjson.dumps(m).decode()[1:-1] for m in marks), str(cmd.opaque)):
        head, found, text = text.partition(mark)
        if not found or mark in text or mark in head:
            return None
        parts.append(head)
    parts.append(text)
    return parts


def encode_many(cmds: Iterable[RemotingCommand]) -> bytes:
    """Several frames in one buffer, so a batch of replies goes out with one write."""
    return b"".join(encode(cmd) for cmd in cmds)


def decode_frame(frame: bytes | memoryview) -> RemotingCommand:
    """Decode one frame without its length prefix (Java's RemotingCommand.decode)."""
    length = len(frame)
    if length < 4:
        raise CodecError(f"frame of {length} bytes has no header length")
    (ori,) = _LEN.unpack_from(frame, 0)
    header_len = ori & 0xFFFFFF
    ser = (ori >> 24) & 0xFF
    if header_len > length - 4:
        raise CodecError(f"decode error, bad header length: {header_len}")
    header = frame[4 : 4 + header_len]
    try:
        if ser == SerializeType.JSON:
            cmd = decode_json_header(header)
        elif ser == SerializeType.ROCKETMQ:
            cmd = decode_rocketmq_header(header)
        else:
            raise CodecError(f"unknown serialize type {ser}")
    except HeaderError as exc:
        raise CodecError(str(exc)) from None
    if length > 4 + header_len:
        cmd.body = bytes(frame[4 + header_len :])
    return cmd


class FrameDecoder:
    """Accumulates bytes and yields every complete command of each read in one pass."""

    __slots__ = ("_buf", "max_frame_length")

    def __init__(self, max_frame_length: int = DEFAULT_FRAME_MAX_LENGTH) -> None:
        self._buf = bytearray()
        self.max_frame_length = max_frame_length

    @property
    def buffered(self) -> int:
        """Bytes of an incomplete frame held back."""
        return len(self._buf)

    @property
    def missing(self) -> int:
        """Bytes still to come for the frame held back (0 when its length is not known yet)."""
        if len(self._buf) < 4:
            return 0
        (total,) = _LEN.unpack_from(self._buf, 0)
        return max(0, int(total) + 4 - len(self._buf))

    def take(self, data: bytes) -> bytes:
        """The bytes held back followed by ``data``, as one buffer that no longer counts as held back (for a reader
        that looks at whole frames itself first, then feeds what it left)."""
        if not self._buf:
            return data
        self._buf += data
        whole = bytes(self._buf)
        self._buf.clear()
        return whole

    def feed(self, data: bytes | bytearray | memoryview) -> list[RemotingCommand]:
        if self._buf:
            self._buf += data
            source: bytes | bytearray = self._buf
        else:
            source = bytes(data) if not isinstance(data, bytes) else data
        commands, consumed = self._parse(source)
        if source is self._buf:
            del self._buf[:consumed]
        elif consumed < len(source):
            self._buf += memoryview(source)[consumed:]
        return commands

    def _parse(self, source: bytes | bytearray) -> tuple[list[RemotingCommand], int]:
        commands: list[RemotingCommand] = []
        pos, end = 0, len(source)
        with memoryview(source) as view:
            try:
                while end - pos >= 4:
                    (total,) = _LEN.unpack_from(source, pos)
                    if total < 0:
                        raise CodecError(f"negative frame length {total}")
                    if total + 4 > self.max_frame_length:
                        raise CodecError(f"frame length {total + 4} exceeds the limit {self.max_frame_length}")
                    if end - pos - 4 < total:
                        break
                    commands.append(decode_frame(view[pos + 4 : pos + 4 + total]))
                    pos += 4 + total
            except CodecError as exc:
                exc.decoded = commands
                raise
        return commands, pos
