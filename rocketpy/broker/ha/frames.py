"""The 4.x HA wire format, sans-IO (HAConnection / HAService.HAClient of 4.9.8).

Slave to master: a stream of 8-byte big-endian longs, each the slave's max commit-log offset. The master reads
whatever arrived and keeps only the last complete long (ReadSocketService: ``position - position % 8``).
Master to slave: frames of an 8-byte offset, a 4-byte size and that many commit-log bytes; a size of 0 is the
heartbeat. No magic, no version: both sides are Java's NIO byte buffers, so the layout is all there is.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

OFFSET_SIZE = 8
HEADER_SIZE = 12  # phyoffset + size
_HEADER = struct.Struct(">qi")
_OFFSET = struct.Struct(">q")


def encode_offset(offset: int) -> bytes:
    """HAClient.reportSlaveMaxOffset."""
    return _OFFSET.pack(offset)


def encode_header(offset: int, size: int) -> bytes:
    """WriteSocketService's header (size 0: the heartbeat the master sends every haSendHeartbeatInterval)."""
    return _HEADER.pack(offset, size)


class OffsetReader:
    """Master side: bytes from the slave in, the newest reported offset out (None until 8 bytes arrived)."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> int | None:
        buf = self._pending + data
        whole = len(buf) - len(buf) % OFFSET_SIZE
        self._pending = buf[whole:]
        if whole == 0:
            return None
        return int(_OFFSET.unpack_from(buf, whole - OFFSET_SIZE)[0])


@dataclass(frozen=True, slots=True)
class Transfer:
    offset: int
    data: bytes  # empty for a heartbeat


class TransferDecoder:
    """Slave side: bytes from the master in, complete (offset, data) frames out, in order.

    Java's slave buffer is 4 MiB and a frame never exceeds haTransferBatchSize plus the header; a size that is
    negative or over ``max_size`` is a broken stream (the caller closes the connection, as Java would on the
    offset mismatch that follows).
    """

    def __init__(self, max_size: int = 4 * 1024 * 1024) -> None:
        self._buf = bytearray()
        self.max_size = max_size

    def feed(self, data: bytes) -> list[Transfer]:
        self._buf += data
        out: list[Transfer] = []
        pos = 0
        buf = self._buf
        while len(buf) - pos >= HEADER_SIZE:
            offset, size = _HEADER.unpack_from(buf, pos)
            if size < 0 or size > self.max_size:
                raise ValueError(f"bad HA frame size {size} at offset {offset}")
            if len(buf) - pos - HEADER_SIZE < size:
                break
            start = pos + HEADER_SIZE
            out.append(Transfer(int(offset), bytes(buf[start : start + size])))
            pos = start + size
        del buf[:pos]
        return out

    def buffered(self) -> int:
        return len(self._buf)


def first_transfer_offset(slave_request: int, master_max: int, file_size: int) -> int:
    """WriteSocketService: a slave that reports 0 (empty) gets data from the start of the master's last file."""
    if slave_request != 0:
        return slave_request
    return max(master_max - master_max % file_size, 0)
