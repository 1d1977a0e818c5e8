"""The commit log: appends records into mapped files, serves byte ranges, flushes (``CommitLog``).

Appends copy the encoded record straight into the mapping with ``struct.pack_into`` (no intermediate bytes
object).  Flushing is separate: ``flush()`` msyncs what was written so far and is safe to call from a worker
thread while appends continue (``GroupCommit`` in ``flush.py`` shares one flush among waiting appends).
"""

from __future__ import annotations

import functools
import logging
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rocketpy.store.allocate import COMMITLOG_CHUNK
from rocketpy.store.format import (
    BORNHOST_V6_FLAG,
    END_FILE_MIN_BLANK_LENGTH,
    HEADERS,
    MESSAGE_MAGIC,
    STOREHOST_V6_FLAG,
    TRANSACTION_MASK,
    TRANSACTION_PREPARED_TYPE,
    TRANSACTION_ROLLBACK_TYPE,
    HostAddr,
    header_index,
    java_crc32,
    pack_blank,
    read_store_timestamp,
)
from rocketpy.store.mapped_file import MappedFile, MappedFileQueue

log = logging.getLogger("rocketpy.store")

_EMPTY_HOST = HostAddr(b"\0\0\0\0", 0)
_TOTAL_AND_MAGIC = struct.Struct(">ii")


@dataclass(slots=True)
class MessageInner:
    """A message to store (``MessageExtBrokerInner``); ``properties`` is the wire properties string."""

    topic: str
    queue_id: int
    body: bytes
    properties: str = ""
    flag: int = 0
    sys_flag: int = 0
    born_timestamp: int = 0
    born_host: HostAddr = _EMPTY_HOST
    store_host: HostAddr = _EMPTY_HOST
    reconsume_times: int = 0
    prepared_tx_offset: int = 0


class FileCreateError(OSError):
    """A new commit-log file could not be created (``CREATE_MAPEDFILE_FAILED``), e.g. the disk is full."""


class AppendError(ValueError):
    """The message cannot be stored as given (``MESSAGE_SIZE_EXCEEDED`` / ``PROPERTIES_SIZE_EXCEEDED``)."""

    def __init__(self, message: str, properties: bool = False) -> None:
        super().__init__(message)
        self.properties = properties


@dataclass(slots=True)
class AppendResult:
    phys_offset: int
    wrote_bytes: int
    queue_offset: int
    store_timestamp: int
    sys_flag: int


_topic_bytes = functools.lru_cache(maxsize=4096)(str.encode)  # a handful of topics take nearly every append


def effective_sys_flag(msg: MessageInner) -> int:
    """Set or clear the IPv6 host bits from the actual address lengths (the broker does this in Java)."""
    flag = msg.sys_flag & ~(BORNHOST_V6_FLAG | STOREHOST_V6_FLAG)
    if len(msg.born_host.ip) == 16:
        flag |= BORNHOST_V6_FLAG
    if len(msg.store_host.ip) == 16:
        flag |= STOREHOST_V6_FLAG
    return flag


def is_dispatched_to_queue(sys_flag: int) -> bool:
    """Prepared and rollback records get queue offset 0 and no consume-queue entry."""
    tran = sys_flag & TRANSACTION_MASK
    return tran != TRANSACTION_PREPARED_TYPE and tran != TRANSACTION_ROLLBACK_TYPE


def encode_into(
    buf: memoryview | bytearray,
    pos: int,
    msg: MessageInner,
    queue_offset: int,
    phys_offset: int,
    store_timestamp: int,
    parts: tuple[bytes, bytes] | None = None,
) -> int:
    """Write one record at ``pos``; returns its size.  ``parts`` = pre-encoded (topic, properties)."""
    topic_b, props_b = parts if parts is not None else (msg.topic.encode(), msg.properties.encode())
    sys_flag = effective_sys_flag(msg)
    return _encode(buf, pos, msg, queue_offset, phys_offset, store_timestamp, topic_b, props_b, sys_flag,
                   java_crc32(msg.body))  # fmt: skip


def _encode(
    buf: memoryview | bytearray,
    pos: int,
    msg: MessageInner,
    queue_offset: int,
    phys_offset: int,
    store_timestamp: int,
    topic_b: bytes,
    props_b: bytes,
    sys_flag: int,
    crc: int,
) -> int:
    hdr = HEADERS[(sys_flag >> 4) & 3]
    body = msg.body
    nb, nt, np_ = len(body), len(topic_b), len(props_b)
    total = hdr.size + nb + 3 + nt + np_
    # TOTALSIZE and MAGICCODE are written last: a process killed mid-copy leaves no magic, never half a record
    # that looks whole (the properties are not covered by the CRC).
    born, store = msg.born_host, msg.store_host
    hdr.pack_into(buf, pos, 0, 0, crc, msg.queue_id, msg.flag, queue_offset, phys_offset, sys_flag,
                  msg.born_timestamp, born.ip, born.port, store_timestamp, store.ip, store.port,
                  msg.reconsume_times, msg.prepared_tx_offset, nb)  # fmt: skip
    p = pos + hdr.size
    buf[p : p + nb] = body
    p += nb
    buf[p] = nt
    buf[p + 1 : p + 1 + nt] = topic_b
    p += 1 + nt
    buf[p] = np_ >> 8
    buf[p + 1] = np_ & 0xFF
    buf[p + 2 : p + 2 + np_] = props_b
    _TOTAL_AND_MAGIC.pack_into(buf, pos, total, MESSAGE_MAGIC)
    return total


def encode_record(msg: MessageInner, queue_offset: int, phys_offset: int, store_timestamp: int) -> bytes:
    """A stored record as bytes (for tests, tools and the broker's batch paths)."""
    topic_b, props_b = msg.topic.encode(), msg.properties.encode()
    size = HEADERS[header_index(effective_sys_flag(msg))].size + len(msg.body) + 3 + len(topic_b) + len(props_b)
    buf = bytearray(size)
    encode_into(buf, 0, msg, queue_offset, phys_offset, store_timestamp, (topic_b, props_b))
    return bytes(buf)


class CommitLog:
    """Append-only log over a ``MappedFileQueue`` plus the per-queue next offsets (``topicQueueTable``)."""

    def __init__(
        self,
        directory: Path,
        file_size: int,
        max_message_size: int,
        preallocate: bool = False,
        warm: Callable[[MappedFile], None] | None = None,
    ) -> None:
        """``preallocate``: reserve blocks ahead of the writer (``allocate.py``); ``warm``: warm new files."""
        chunk = COMMITLOG_CHUNK if preallocate else 0
        self.files = MappedFileQueue(directory, file_size, chunk, prepare_ahead=True, warm=warm)
        self.file_size = file_size
        self.max_message_size = max_message_size
        self.queue_offsets: dict[tuple[str, int], int] = {}
        self.lock = threading.Lock()
        self.last_store_timestamp = 0  # store time of the newest record (checkpoint physicMsgTimestamp)
        self.flushed_where = 0
        self.flushed_store_timestamp = 0

    def load(self) -> None:
        """Map the files; an empty log has its first file built now (in ``commitlog.next``, taken by the first
        put), so that no put ever creates a file on the caller's thread: the broker opens the store in a worker
        thread."""
        self.files.load()
        if not self.files.files:
            self.files.prepare_next()
            self.files.wait_next()

    @property
    def max_offset(self) -> int:
        return self.files.max_offset

    @property
    def min_offset(self) -> int:
        """``CommitLog.getMinOffset``: the first file's start (Java also skips a file being deleted)."""
        return self.files.min_offset

    def append(self, msg: MessageInner, now_ms: int | None = None) -> AppendResult:
        """Encode ``msg`` into the log; raises ``AppendError`` for an unstorable message."""
        return AppendResult(*self.append_fields(msg, now_ms))

    def append_fields(self, msg: MessageInner, now_ms: int | None = None) -> tuple[int, int, int, int, int]:
        """``append`` as (phys_offset, wrote_bytes, queue_offset, store_timestamp, sys_flag), no result object.

        The message store's append path; the checks and the record are those of ``append``."""
        topic_b = _topic_bytes(msg.topic)
        props_b = msg.properties.encode()
        if len(topic_b) > 127:
            raise AppendError(f"topic is {len(topic_b)} bytes, more than 127")
        if len(props_b) > 32767:
            raise AppendError(f"properties are {len(props_b)} bytes, more than 32767", properties=True)
        sys_flag = msg.sys_flag & ~(BORNHOST_V6_FLAG | STOREHOST_V6_FLAG)  # effective_sys_flag, inline
        if len(msg.born_host.ip) == 16:
            sys_flag |= BORNHOST_V6_FLAG
        if len(msg.store_host.ip) == 16:
            sys_flag |= STOREHOST_V6_FLAG
        return self.append_parts(msg.topic, topic_b, msg.queue_id, msg.body, props_b, msg.flag, sys_flag,
                                 msg.born_timestamp, msg.born_host, msg.store_host, msg.reconsume_times,
                                 msg.prepared_tx_offset, now_ms)  # fmt: skip

    def append_parts(
        self, topic: str, topic_b: bytes, queue_id: int, body: bytes, props_b: bytes, flag: int, sys_flag: int,
        born_timestamp: int, born: HostAddr, store: HostAddr, reconsume_times: int, prepared_tx_offset: int = 0,
        now_ms: int | None = None,
    ) -> tuple[int, int, int, int, int]:  # fmt: skip
        """The record from parts already encoded: ``topic_b`` at most 127 bytes, ``props_b`` at most 32767, and
        ``sys_flag`` with the IPv6 host bits as the hosts' addresses say (``append_fields`` does all three)."""
        hdr = HEADERS[(sys_flag >> 4) & 3]
        nb, nt, np_ = len(body), len(topic_b), len(props_b)
        total = hdr.size + nb + 3 + nt + np_
        if total > self.max_message_size or total + END_FILE_MIN_BLANK_LENGTH > self.file_size:
            raise AppendError(f"message is {total} bytes, more than maxMessageSize {self.max_message_size}")
        crc = zlib.crc32(body) & 0x7FFFFFFF  # java_crc32, outside the lock
        tran = sys_flag & TRANSACTION_MASK
        dispatch = tran != TRANSACTION_PREPARED_TYPE and tran != TRANSACTION_ROLLBACK_TYPE
        with self.lock:
            f = self._file_with_room(total)
            key = (topic, queue_id)
            queue_offset = self.queue_offsets.get(key, 0) if dispatch else 0
            store_ts = int(time.time() * 1000) if now_ms is None else now_ms
            pos = f.wrote
            phys = f.file_from + pos
            # _encode inline (the same writes in the same order: TOTALSIZE and MAGICCODE last)
            buf = f.view
            hdr.pack_into(buf, pos, 0, 0, crc, queue_id, flag, queue_offset, phys, sys_flag,
                          born_timestamp, born.ip, born.port, store_ts, store.ip, store.port,
                          reconsume_times, prepared_tx_offset, nb)  # fmt: skip
            p = pos + hdr.size
            buf[p : p + nb] = body
            p += nb
            buf[p] = nt
            buf[p + 1 : p + 1 + nt] = topic_b
            p += 1 + nt
            buf[p] = np_ >> 8
            buf[p + 1] = np_ & 0xFF
            buf[p + 2 : p + 2 + np_] = props_b
            _TOTAL_AND_MAGIC.pack_into(buf, pos, total, MESSAGE_MAGIC)
            f.wrote = pos + total
            if dispatch:
                self.queue_offsets[key] = queue_offset + 1
            self.last_store_timestamp = store_ts
        return phys, total, queue_offset, store_ts, sys_flag

    def _file_with_room(self, total: int) -> MappedFile:
        """The last file if ``total`` + 8 fits, else blank out its end and roll (``doAppend`` END_OF_FILE).

        The 8 bytes of a later blank are always reserved with the record.  Below ``f.limit`` nothing is due (the
        hot path: one comparison); at it, ``_room_due`` reserves blocks and starts the next file."""
        f = self.files.last()
        if f is not None:
            need = f.wrote + total + END_FILE_MIN_BLANK_LENGTH
            if need <= f.limit:
                return f
            if need <= f.size:
                self._room_due(f, need)
                return f
            if f.wrote < f.size:  # == size: a file whose blank was written just before a crash
                if f.wrote + END_FILE_MIN_BLANK_LENGTH > f.allocated:  # only a file loaded at start-up
                    self._room_due(f, min(f.size, f.wrote + END_FILE_MIN_BLANK_LENGTH))
                pack_blank(f.view, f.wrote, f.size - f.wrote)
                f.wrote = f.size
        try:
            f = self.files.create_file(0 if f is None else f.end_offset)
        except OSError as e:
            raise FileCreateError(e.errno, f"cannot create a commit-log file: {e}") from e
        self._room_due(f, total + END_FILE_MIN_BLANK_LENGTH)
        return f

    def _room_due(self, f: MappedFile, need: int) -> None:
        """[0, need) of ``f`` reserved (a full disk: ``FileCreateError``, nothing written); once a quarter is
        written the worker builds the next file (``prepare_next``, a no-op once it does); ``f.limit`` set to
        the next point where something is due."""
        try:
            self.files.ensure(f, need)
        except OSError as e:
            raise FileCreateError(e.errno, f"cannot reserve disk space in the commit log: {e}") from e
        quarter = f.size >> 2
        if f.wrote >= quarter:
            self.files.prepare_next()
        elif f.limit > quarter:
            f.limit = quarter

    def get_message(self, phys_offset: int, size: int) -> memoryview | None:
        """Zero-copy slice of one record, or None if that range is not in the written log."""
        f = self.files.find(phys_offset)
        if f is None:
            return None
        pos = phys_offset - f.file_from
        if size <= 0 or pos + size > f.wrote:
            return None
        return f.view[pos : pos + size]

    def get_data(self, phys_offset: int) -> memoryview | None:
        """From ``phys_offset`` to the end of what its file holds (``getData``, used by dispatch and HA)."""
        f = self.files.find(phys_offset)
        if f is None or phys_offset - f.file_from >= f.wrote:
            return None
        return f.view[phys_offset - f.file_from : f.wrote]

    def pickup_store_timestamp(self, phys_offset: int, size: int) -> int:
        rec = self.get_message(phys_offset, size)
        if rec is None or size < 91:
            return -1
        return read_store_timestamp(rec, 0)

    def roll_next_file(self, offset: int) -> int:
        return offset + self.file_size - offset % self.file_size

    def flush(self) -> int:
        """msync everything written so far; thread-safe against appends.  Returns the flushed offset."""
        with self.lock:
            target = self.files.max_offset
            store_ts = self.last_store_timestamp
        self.files.flush(target)
        if target > self.flushed_where:
            self.flushed_where = target
            self.flushed_store_timestamp = store_ts
        return self.flushed_where

    def dirty_bytes(self) -> int:
        return self.files.max_offset - self.flushed_where

    def close(self) -> None:
        self.files.close()
