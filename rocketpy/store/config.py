"""Store configuration and result types (``MessageStoreConfig``, ``PutMessageStatus``, ``GetMessageStatus``).

Field names are snake_case forms of the Java ``MessageStoreConfig`` properties, with the Java defaults, so the
broker can map ``broker.conf`` keys one to one (``java_name`` gives the Java spelling).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from enum import Enum
from pathlib import Path

from rocketpy.common.records import FieldwiseEqRepr
from rocketpy.store.format import HostAddr, create_message_id


class FlushDiskType(Enum):
    ASYNC_FLUSH = "ASYNC_FLUSH"
    SYNC_FLUSH = "SYNC_FLUSH"


@dataclass(eq=False, repr=False)
class StoreConfig(FieldwiseEqRepr):
    """The subset of ``MessageStoreConfig`` the store honours."""

    store_path_root_dir: Path
    mapped_file_size_commit_log: int = 1024 * 1024 * 1024
    mapped_file_size_consume_queue: int = 300_000 * 20
    max_hash_slot_num: int = 5_000_000
    max_index_num: int = 5_000_000 * 4
    max_msgs_num_batch: int = 64
    max_message_size: int = 1024 * 1024 * 4
    flush_disk_type: FlushDiskType = FlushDiskType.ASYNC_FLUSH
    flush_interval_commit_log: int = 500
    flush_commit_log_least_pages: int = 4
    flush_commit_log_thorough_interval: int = 10_000
    flush_interval_consume_queue: int = 1000
    flush_consume_queue_least_pages: int = 2
    flush_consume_queue_thorough_interval: int = 60_000
    sync_flush_timeout: int = 5000
    file_reserved_time: int = 72
    delete_when: str = "04"
    disk_max_used_space_ratio: int = 75
    clean_resource_interval: int = 10_000
    max_transfer_bytes_on_message_in_memory: int = 256 * 1024
    max_transfer_count_on_message_in_memory: int = 32
    max_transfer_bytes_on_message_in_disk: int = 64 * 1024
    max_transfer_count_on_message_in_disk: int = 8
    access_message_in_memory_max_ratio: int = 40
    check_crc_on_recover: bool = True
    message_index_enable: bool = True
    message_delay_level: str = "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h"
    # Reserve disk blocks (posix_fallocate) ahead of the writer in sparse files, so that a full disk refuses a
    # message cleanly instead of SIGBUS on an mmap write (allocate.py); not a Java key.
    preallocate_files: bool = True
    warm_maped_file_enable: bool = False  # new commit-log files reserved whole and pre-faulted (warmMappedFile)
    flush_least_pages_when_warm_maped_file: int = 1024 // 4 * 16
    total_physical_memory: int = field(default=0)  # 0 = read from the OS

    def __post_init__(self) -> None:
        self.store_path_root_dir = Path(self.store_path_root_dir)
        if self.mapped_file_size_consume_queue % 20:
            raise ValueError("mapped_file_size_consume_queue must be a multiple of 20")
        if self.mapped_file_size_commit_log < 4096:
            raise ValueError("mapped_file_size_commit_log must be at least 4096")

    @property
    def commitlog_dir(self) -> Path:
        return self.store_path_root_dir / "commitlog"

    @property
    def consume_queue_dir(self) -> Path:
        return self.store_path_root_dir / "consumequeue"

    @property
    def index_dir(self) -> Path:
        return self.store_path_root_dir / "index"

    @property
    def config_dir(self) -> Path:
        return self.store_path_root_dir / "config"

    def delay_level_table(self) -> dict[int, int]:
        """``ScheduleMessageService.parseDelayLevel``: level (1-based) to milliseconds."""
        units = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
        table = {}
        for i, word in enumerate(self.message_delay_level.split()):
            m = re.fullmatch(r"(\d+)([smhd])", word)
            if not m:
                raise ValueError(f"bad messageDelayLevel entry {word!r}")
            table[i + 1] = int(m.group(1)) * units[m.group(2)]
        return table

    @staticmethod
    def java_name(python_name: str) -> str:
        """The ``MessageStoreConfig`` property name (``broker.conf`` key) of a field."""
        if python_name in _JAVA_NAME_EXCEPTIONS:
            return _JAVA_NAME_EXCEPTIONS[python_name]
        head, *rest = python_name.split("_")
        return head + "".join(w.capitalize() for w in rest)

    @classmethod
    def from_properties(cls, props: dict[str, str], **overrides: object) -> StoreConfig:
        """Build from ``broker.conf``-style string properties (Java names); unknown keys are ignored.

        ``storePathRootDir`` defaults to ``~/store`` as in Java.
        """
        kwargs: dict[str, object] = {}
        for f in fields(cls):
            raw = props.get(cls.java_name(f.name))
            if raw is None:
                continue
            kwargs[f.name] = _parse_value(f.name, raw.strip())
        kwargs.setdefault("store_path_root_dir", Path.home() / "store")
        kwargs.update(overrides)
        return cls(**kwargs)  # type: ignore[arg-type]

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


_JAVA_NAME_EXCEPTIONS = {"check_crc_on_recover": "checkCRCOnRecover"}
_BOOL_FIELDS = {"check_crc_on_recover", "message_index_enable", "preallocate_files", "warm_maped_file_enable"}
_STR_FIELDS = {"delete_when", "message_delay_level"}


def _parse_value(name: str, raw: str) -> object:
    if name == "store_path_root_dir":
        return Path(raw)
    if name == "flush_disk_type":
        return FlushDiskType[raw]
    if name in _BOOL_FIELDS:
        if raw.lower() not in ("true", "false"):
            raise ValueError(f"{name}: expected true or false, got {raw!r}")
        return raw.lower() == "true"
    if name in _STR_FIELDS:
        return raw
    return int(raw)


class PutMessageStatus(Enum):
    """``PutMessageStatus`` (names are Java's; the broker maps them to response codes)."""

    PUT_OK = "PUT_OK"
    FLUSH_DISK_TIMEOUT = "FLUSH_DISK_TIMEOUT"
    FLUSH_SLAVE_TIMEOUT = "FLUSH_SLAVE_TIMEOUT"
    SLAVE_NOT_AVAILABLE = "SLAVE_NOT_AVAILABLE"
    SERVICE_NOT_AVAILABLE = "SERVICE_NOT_AVAILABLE"
    CREATE_MAPEDFILE_FAILED = "CREATE_MAPEDFILE_FAILED"
    MESSAGE_ILLEGAL = "MESSAGE_ILLEGAL"
    PROPERTIES_SIZE_EXCEEDED = "PROPERTIES_SIZE_EXCEEDED"
    OS_PAGECACHE_BUSY = "OS_PAGECACHE_BUSY"
    UNKNOWN_ERROR = "UNKNOWN_ERROR"


class GetMessageStatus(Enum):
    """``GetMessageStatus``."""

    FOUND = "FOUND"
    NO_MATCHED_MESSAGE = "NO_MATCHED_MESSAGE"
    MESSAGE_WAS_REMOVING = "MESSAGE_WAS_REMOVING"
    OFFSET_FOUND_NULL = "OFFSET_FOUND_NULL"
    OFFSET_OVERFLOW_BADLY = "OFFSET_OVERFLOW_BADLY"
    OFFSET_OVERFLOW_ONE = "OFFSET_OVERFLOW_ONE"
    OFFSET_TOO_SMALL = "OFFSET_TOO_SMALL"
    NO_MATCHED_LOGIC_QUEUE = "NO_MATCHED_LOGIC_QUEUE"
    NO_MESSAGE_IN_QUEUE = "NO_MESSAGE_IN_QUEUE"


@dataclass(slots=True)
class PutMessageResult:
    """Outcome of an append.  ``flush_offset`` is what must be flushed before a SYNC_FLUSH ack."""

    status: PutMessageStatus
    phys_offset: int = 0
    wrote_bytes: int = 0
    queue_offset: int = 0
    store_timestamp: int = 0
    remark: str = ""
    store_host: HostAddr | None = None

    @property
    def msg_id(self) -> str:
        """The offset message id (computed on demand: the append path does not need it)."""
        if self.store_host is None or not self.ok:
            return ""
        return create_message_id(self.store_host.ip, self.store_host.port, self.phys_offset)

    @property
    def flush_offset(self) -> int:
        return self.phys_offset + self.wrote_bytes

    @property
    def ok(self) -> bool:
        return self.status is PutMessageStatus.PUT_OK


@dataclass(slots=True)
class GetMessageResult:
    """``GetMessageResult``: ``buffers`` are zero-copy slices of the commit log, in queue order."""

    status: GetMessageStatus
    next_begin_offset: int
    min_offset: int
    max_offset: int
    buffers: list[memoryview] = field(default_factory=list)
    queue_offsets: list[int] = field(default_factory=list)
    buffer_total_size: int = 0
    suggest_pulling_from_slave: bool = False

    @property
    def message_count(self) -> int:
        return len(self.buffers)


@dataclass(frozen=True, slots=True)
class QueryMessageResult:
    """``QueryMessageResult``: records found through the index plus the index's last update point."""

    buffers: list[memoryview]
    index_last_update_timestamp: int
    index_last_update_phyoffset: int
