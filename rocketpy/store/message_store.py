"""The message store facade the broker uses (``DefaultMessageStore``).

Threading contract: ``put_message`` is cheap (encode into the page cache, dispatch to the consume queue and the
index) and never blocks on the disk; ``wait_flushed`` is the blocking part of a SYNC_FLUSH acknowledgement and
is meant for ``trio.to_thread.run_sync``.  Calls from several threads are serialised by one lock; the optional
background thread (``start``) does the periodic flushes, the checkpoint and retention, like Java's
``FlushRealTimeService``, ``FlushConsumeQueueService`` and ``CleanCommitLogService``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from rocketpy.store.allocate import warm as warm_file
from rocketpy.store.checkpoint import StoreCheckpoint, StoreLock, create_abort_file, remove_abort_file
from rocketpy.store.commitlog import AppendError, CommitLog, FileCreateError, MessageInner, is_dispatched_to_queue
from rocketpy.store.config import (
    FlushDiskType,
    GetMessageResult,
    PutMessageResult,
    PutMessageStatus,
    QueryMessageResult,
    StoreConfig,
)
from rocketpy.store.consumequeue import ConsumeQueue
from rocketpy.store.flush import AsyncFlushPolicy, GroupCommit
from rocketpy.store.format import (
    INT_MAX,
    MESSAGE_MAGIC,
    SCHEDULE_TOPIC,
    TRANSACTION_MASK,
    DispatchInfo,
    HostAddr,
    StoredMessage,
    decode_record,
    dispatch_properties,
    parse_properties,
    read_store_timestamp,
    schedule_tags_code,
    tags_code,
)
from rocketpy.store.index import IndexService
from rocketpy.store.index_repair import repair_newest_file
from rocketpy.store.reader import JoinedRead, read_queue, read_queue_joined
from rocketpy.store.recovery import RecoveryReport, iter_dispatch, recover_commitlog
from rocketpy.store.retention import Retention

log = logging.getLogger("rocketpy.store")

_VALID_TOPIC = re.compile(r"[%|a-zA-Z0-9_-]{1,127}")  # Java's TopicValidator charset and length
_MAGIC = (MESSAGE_MAGIC & 0xFFFFFFFF).to_bytes(4, "big")
ArrivalListener = Callable[[str, int, int], None]
T = TypeVar("T")
# MessageStore.append_batch's writer: (log view, file_from, wrote, limit, max message size, file size, queue offsets,
# index state) -> (wrote, last store timestamp, consume-queue runs, records, bytes, extra)
BatchWriter = Callable[
    [memoryview, int, int, int, int, int, dict[tuple[str, int], int], list[Any] | None],
    tuple[int, int, list[tuple[str, int, int, int, bytes, int]], int, int, T],
]


_valid_topic = functools.lru_cache(maxsize=4096)(lambda topic: _VALID_TOPIC.fullmatch(topic) is not None)

DISK_SPACE_WARNING_RATIO = 0.90  # -Drocketmq.broker.diskSpaceWarningLevelRatio


@dataclass
class StoreStats:
    puts: int = 0
    put_bytes: int = 0
    commitlog_flushes: int = 0


class MessageStore:
    """Open with ``open()`` (load + recovery), close with ``close()`` (flush, clean-exit marker)."""

    def __init__(self, config: StoreConfig, arrival_listener: ArrivalListener | None = None) -> None:
        self.config = config
        self.arrival_listener = arrival_listener
        warm = None
        if config.warm_maped_file_enable:  # AllocateMappedFileService warms commit-log files only
            warm = functools.partial(
                warm_file,
                sync_flush=config.flush_disk_type is FlushDiskType.SYNC_FLUSH,
                flush_pages=config.flush_least_pages_when_warm_maped_file,
            )
        self.commitlog = CommitLog(
            config.commitlog_dir,
            config.mapped_file_size_commit_log,
            config.max_message_size,
            config.preallocate_files,
            warm,
        )
        self.queues: dict[tuple[str, int], ConsumeQueue] = {}
        self.index = IndexService(config.index_dir, config.max_hash_slot_num, config.max_index_num)
        self.checkpoint = StoreCheckpoint(config.store_path_root_dir / "checkpoint")
        self.group_commit = GroupCommit(self._flush_commitlog)
        self.lock = threading.RLock()
        self.stats = StoreStats()
        self.delay_table = config.delay_level_table()
        self.retention = Retention(self)
        self.last_dispatch_timestamp = 0
        self.writeable = True
        self.disk_full = False  # set by check_disk_space, cleared when space comes back
        self.manual_delete_rounds = 0  # forced retention rounds left (maintenance.request_manual_delete)
        self.reput_from = 0  # replication: the next commit-log offset to dispatch (see replication.py)
        self.recovery: RecoveryReport | None = None
        self._lock_file: StoreLock | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.closed = True

    # -- lifecycle ------------------------------------------------------------------------------------------
    def open(self) -> RecoveryReport:
        """Lock the directory, load every file, recover, and mark the store as running (abort file)."""
        root = self.config.store_path_root_dir
        self._lock_file = StoreLock(root)
        try:
            # DefaultMessageStore's constructor: the commit-log and consume-queue directories exist from boot, so
            # the disk ratios (brokerStatus, clusterList #SPACE) are real before the first message.
            for directory in (self.config.commitlog_dir, self.config.consume_queue_dir):
                directory.mkdir(parents=True, exist_ok=True)
            last_exit_ok = not (root / "abort").exists()
            self.checkpoint = StoreCheckpoint.open(root / "checkpoint")
            self.commitlog.load()
            self._load_queues()
            self.index.load()
            self.recovery = self._recover(last_exit_ok)
            self.reput_from = self.commitlog.max_offset
            self.check_disk_space()
            create_abort_file(root)
        except BaseException:
            self._lock_file.release()
            raise
        self.closed = False
        return self.recovery

    def _load_queues(self) -> None:
        root = self.config.consume_queue_dir
        if not root.is_dir():
            return
        for tdir in sorted(root.iterdir()):
            if not tdir.is_dir():
                continue
            for qdir in sorted(tdir.iterdir()):
                if qdir.is_dir() and qdir.name.lstrip("-").isdigit():
                    cq = ConsumeQueue(
                        root,
                        tdir.name,
                        int(qdir.name),
                        self.config.mapped_file_size_consume_queue,
                        self.config.preallocate_files,
                    )
                    cq.load()
                    self.queues[(tdir.name, int(qdir.name))] = cq

    def _recover(self, last_exit_ok: bool) -> RecoveryReport:
        cfg = self.config
        report = recover_commitlog(
            self.commitlog,
            self.checkpoint,
            last_exit_ok,
            cfg.store_path_root_dir / "lost",
            cfg.check_crc_on_recover,
            self.delay_table,
        )
        cl_max, cl_min = self.commitlog.max_offset, self.commitlog.min_offset
        size = cfg.mapped_file_size_commit_log
        # a cut inside an older file ends that file (blank record): nothing after it in the file is valid, even
        # where the image holds zeros a queue entry flushed earlier may still point to
        mid_cuts = [(off, off - off % size + size) for off in report.blanked]
        mid_cuts += [(off, off + 1) for off, _, _ in report.skipped]  # kept but corrupt: not to be served
        for cq in self.queues.values():
            report.cq_entries_dropped += cq.truncate_dirty(cl_max)
            for lo, hi in mid_cuts:
                report.cq_entries_dropped += cq.blank_range(lo, hi)
            cq.correct_min_offset(cl_min)
        if cfg.message_index_enable:
            report.index_entries_dropped = self.index.drop_after(cl_max)
            if not last_exit_ok:
                report.index_files_dropped = repair_newest_file(self.index, self.checkpoint.logics_msg_timestamp)
                # the newest record may have been indexed for only some of its keys: index it again
                if self.index.end_phy_offset >= 0:
                    report.index_entries_dropped += self.index.drop_after(self.index.end_phy_offset)
        start = self._dispatch_start(report)
        report.dispatch_from = start
        skipped = {off for off, _, _ in report.skipped}
        with self.lock:
            for info in iter_dispatch(self.commitlog, start, cfg.check_crc_on_recover, self.delay_table, report):
                if info.phys_offset not in skipped and self._redispatch(info, report):
                    report.dispatched += 1
            self.commitlog.queue_offsets = {k: cq.max_offset for k, cq in self.queues.items()}
        for off, why in report.rejected:
            log.error("recovery did not dispatch the record at %d: %s", off, why)
        return report

    def _dispatch_start(self, report: RecoveryReport) -> int:
        """Where re-dispatch begins: the newest consume-queue/index end, earlier after a crash or damage."""
        cl_min, cl_max = self.commitlog.min_offset, self.commitlog.max_offset
        ends = [cq.max_physic_offset for cq in self.queues.values() if cq.max_physic_offset >= 0]
        start = max(ends) if ends else cl_min
        damaged = [max(cq.max_physic_offset, cl_min) for cq in self.queues.values() if cq.damaged]
        start = min([start, *damaged])
        if not report.last_exit_ok:
            start = min(start, report.scan_from)
        if self.config.message_index_enable:
            idx_end = self.index.end_phy_offset
            start = min(start, idx_end if idx_end >= 0 else cl_min)
        return min(max(start, cl_min), cl_max)

    def _redispatch(self, info: DispatchInfo, report: RecoveryReport) -> bool:
        """Dispatch one recovered record unless its queue offset contradicts the queue (a damaged header)."""
        if is_dispatched_to_queue(info.sys_flag):
            cq = self._queue(info.topic, info.queue_id)
            gap = info.queue_offset - cq.max_offset
            if gap > len(report.skipped) + len(report.rejected) and cq.max_offset > 0:
                report.rejected.append((info.phys_offset, f"queue offset {info.queue_offset} skips {gap} entries"))
                return False
        self._dispatch(info)
        return True

    def close(self) -> None:
        """Stop the flusher, flush everything, write the checkpoint and remove the abort file."""
        if self.closed:
            return
        self.shutdown_background()
        self.flush()
        for cq in self.queues.values():
            cq.close()
        self.index.close()
        self.commitlog.close()
        remove_abort_file(self.config.store_path_root_dir)
        if self._lock_file is not None:
            self._lock_file.release()
        self.closed = True

    def __enter__(self) -> MessageStore:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------------------------
    def put_message(self, msg: MessageInner) -> PutMessageResult:
        """Append and dispatch; does not wait for the disk (see ``wait_flushed``)."""
        if self.closed:
            return PutMessageResult(PutMessageStatus.SERVICE_NOT_AVAILABLE, remark="store is closed")
        if not _valid_topic(msg.topic) or not 0 <= msg.queue_id <= INT_MAX:
            # The topic names a directory under consumequeue/: never let one escape the store root.
            return PutMessageResult(PutMessageStatus.MESSAGE_ILLEGAL, remark=f"illegal topic or queue id {msg.topic!r}")
        text = msg.properties
        with self.lock:
            if not self.writeable or self.disk_full:
                return PutMessageResult(PutMessageStatus.SERVICE_NOT_AVAILABLE, remark="store is not writeable")
            try:
                phys, size, queue_offset, store_ts, sys_flag = self.commitlog.append_fields(msg)
            except AppendError as e:
                status = PutMessageStatus.PROPERTIES_SIZE_EXCEEDED if e.properties else PutMessageStatus.MESSAGE_ILLEGAL
                return PutMessageResult(status, remark=str(e))
            except FileCreateError as e:
                log.error("%s", e)
                return PutMessageResult(PutMessageStatus.CREATE_MAPEDFILE_FAILED, remark=str(e))
            topic = msg.topic
            if text:
                tags, keys, uniq = dispatch_properties(text)
                code = tags_code(tags)
                if topic == SCHEDULE_TOPIC:
                    code = schedule_tags_code(parse_properties(text), store_ts, self.delay_table, code)
            else:
                code, keys, uniq = 0, None, None
            self._dispatch_appended(topic, msg.queue_id, phys, size, queue_offset, store_ts, sys_flag, code, keys, uniq)
        stats = self.stats
        stats.puts += 1
        stats.put_bytes += size
        return PutMessageResult(PutMessageStatus.PUT_OK, phys, size, queue_offset, store_ts, "", msg.store_host)

    def put_parts(
        self, topic: str, topic_b: bytes, queue_id: int, body: bytes, props_b: bytes, flag: int, sys_flag: int,
        born_timestamp: int, born_host: HostAddr, store_host: HostAddr, reconsume_times: int, tags_code: int,
        keys: str | None, uniq: str | None,
    ) -> tuple[int, int, int, int] | None:  # fmt: skip
        """``put_message`` for a caller that holds the record's parts and its dispatch fields already (the broker's
        send fast path): (phys_offset, wrote_bytes, queue_offset, store_timestamp), or None when the message is not
        a plain one this path stores or the store refuses it, with nothing written; ``put_message`` then says why.

        Plain means: no transaction bits, not SCHEDULE_TOPIC_XXXX, ``topic_b`` is the topic's UTF-8 (at most 127
        bytes), ``props_b`` at most 32767 bytes, ``sys_flag`` with the IPv6 host bits set as the hosts are."""
        if (self.closed or sys_flag & TRANSACTION_MASK or topic == SCHEDULE_TOPIC or not _valid_topic(topic)
                or not 0 <= queue_id <= INT_MAX):  # fmt: skip
            return None
        with self.lock:
            if not self.writeable or self.disk_full:
                return None
            try:
                phys, size, queue_offset, store_ts, _ = self.commitlog.append_parts(
                    topic, topic_b, queue_id, body, props_b, flag, sys_flag, born_timestamp, born_host, store_host,
                    reconsume_times,
                )  # fmt: skip
            except (AppendError, FileCreateError):
                return None
            self._dispatch_appended(topic, queue_id, phys, size, queue_offset, store_ts, sys_flag, tags_code, keys,
                                    uniq)  # fmt: skip
        stats = self.stats
        stats.puts += 1
        stats.put_bytes += size
        return phys, size, queue_offset, store_ts

    def append_batch(self, write: BatchWriter[T]) -> T | None:
        """Let ``write`` append plain records (as ``put_parts`` would) straight into the commit log's last file,
        under the store lock; then dispatch them as ``put_parts`` does, one consume-queue run per queue.

        ``write(view, file_from, wrote, limit, max_message_size, file_size, queue_offsets, index)`` must stay
        below ``limit`` (past it the log has work due), keep ``queue_offsets`` as ``append_parts`` does, and
        write index entries as ``IndexFile.put_keys`` would into ``index``: None when indexing is off, else
        [view or None (no file yet), slots, entries, begin_ts, end_ts, begin_phy, end_phy, slot_count,
        index_count, the service's end_phy_offset], the header values updated in place. It returns
        (wrote, last store timestamp, [(topic, queue_id, first_offset, next_offset, units)], records, bytes,
        extra); ``extra`` is what this returns. None when the store takes no writes now (``write`` not called)."""
        if self.closed:
            return None
        with self.lock:
            log_ = self.commitlog
            f = log_.files.last()
            if not self.writeable or self.disk_full or f is None:  # the first file: put_message creates it
                return None
            index: list[Any] | None = None
            last = None
            if self.config.message_index_enable:
                files = self.index.files
                last = files[-1] if files else None
                if last is None:
                    index = [None, 1, 0, 0, 0, 0, 0, 0, 0, self.index.end_phy_offset]
                else:
                    h = last.header
                    index = [last.view, last.slots, last.entries, h.begin_timestamp, h.end_timestamp,
                             h.begin_phy_offset, h.end_phy_offset, h.hash_slot_count, h.index_count,
                             self.index.end_phy_offset]  # fmt: skip
            first_phys = f.file_from + f.wrote
            wrote, store_ts, queues, records, size, extra = write(
                f.view, f.file_from, f.wrote, f.limit, log_.max_message_size, log_.file_size, log_.queue_offsets,
                index,
            )  # fmt: skip
            if not records:
                return extra
            f.wrote = wrote
            log_.last_store_timestamp = store_ts
            if last is not None and index is not None:
                h = last.header
                (h.begin_timestamp, h.end_timestamp, h.begin_phy_offset, h.end_phy_offset, h.hash_slot_count,
                 h.index_count) = index[3:9]  # fmt: skip
            done: list[ConsumeQueue] = []
            try:
                for topic, queue_id, first, _, units, max_end in queues:
                    cq = self.queues.get((topic, queue_id)) or self._queue(topic, queue_id)
                    done.append(cq)
                    cq.put_run(first, units, max_end)
                    if self.arrival_listener is not None:
                        self.arrival_listener(topic, queue_id, cq.max_offset)
                self.last_dispatch_timestamp = store_ts
            except OSError:
                # As _dispatch_appended: the records are in the log, the store stops taking writes and recovery
                # dispatches them. The queues are dispatched one after the other, not in log order, so no queue
                # may keep an entry of this batch (recovery starts after the newest entry of any queue).
                log.exception("dispatch of a batch of records failed; the store stops accepting writes")
                self.writeable = False
                for cq in done:
                    with contextlib.suppress(OSError):
                        cq.truncate_dirty(first_phys)
        stats = self.stats
        stats.puts += records
        stats.put_bytes += size
        return extra

    def _dispatch_appended(
        self, topic: str, queue_id: int, phys: int, size: int, queue_offset: int, store_ts: int, sys_flag: int,
        code: int, keys: str | None, uniq: str | None,
    ) -> None:  # fmt: skip
        """_dispatch of a record just appended, without the DispatchInfo (under the lock)."""
        try:
            if is_dispatched_to_queue(sys_flag):
                cq = self.queues.get((topic, queue_id)) or self._queue(topic, queue_id)
                cq.put(queue_offset, phys, size, code)
                if self.arrival_listener is not None:
                    self.arrival_listener(topic, queue_id, cq.max_offset)
            if self.config.message_index_enable and (keys or uniq):
                self.index.build_index_keys(topic, phys, store_ts, sys_flag, keys, uniq)
            self.last_dispatch_timestamp = store_ts
        except OSError:
            # The record is in the log; its queue entry will come from the next recovery.  Like Java's
            # runningFlags.makeLogicsQueueError, refuse further writes rather than leave queue gaps.
            log.exception("dispatch of the record at %d failed; the store stops accepting writes", phys)
            self.writeable = False

    def put_messages(self, msgs: list[MessageInner]) -> list[PutMessageResult]:
        """A batch (SEND_BATCH_MESSAGE): appended under one lock, so queue offsets are consecutive.

        Stops at the first message that cannot be stored; the caller reports that status.  Unlike Java the
        batch may straddle two commit-log files (Java moves the whole batch to the next file).
        """
        out: list[PutMessageResult] = []
        with self.lock:
            for m in msgs:
                r = self.put_message(m)
                out.append(r)
                if not r.ok:
                    break
        return out

    def wait_flushed(self, result: PutMessageResult, timeout: float | None = None) -> PutMessageStatus:
        """SYNC_FLUSH acknowledgement: PUT_OK once the record is on disk, FLUSH_DISK_TIMEOUT after the timeout.

        Blocking; call it from a worker thread.  In ASYNC_FLUSH mode it returns at once (the record is already
        in the page cache, which survives a process crash).
        """
        if not result.ok or self.config.flush_disk_type is FlushDiskType.ASYNC_FLUSH:
            return result.status
        t = self.config.sync_flush_timeout / 1000 if timeout is None else timeout
        ok = self.group_commit.wait_flushed(result.flush_offset, t)
        return PutMessageStatus.PUT_OK if ok else PutMessageStatus.FLUSH_DISK_TIMEOUT

    def put_message_and_wait(self, msg: MessageInner) -> PutMessageResult:
        """``put_message`` then ``wait_flushed``: the whole Java ``putMessage`` for callers without trio."""
        r = self.put_message(msg)
        status = self.wait_flushed(r)
        if status is r.status:
            return r
        return dataclasses.replace(r, status=status)

    def _queue(self, topic: str, queue_id: int) -> ConsumeQueue:
        cq = self.queues.get((topic, queue_id))
        if cq is None:
            cfg = self.config
            cq = ConsumeQueue(
                cfg.consume_queue_dir, topic, queue_id, cfg.mapped_file_size_consume_queue, cfg.preallocate_files
            )
            self.queues[(topic, queue_id)] = cq
        return cq

    def _dispatch(self, info: DispatchInfo) -> None:
        """``CommitLogDispatcherBuildConsumeQueue`` + ``CommitLogDispatcherBuildIndex`` + arrival notification."""
        if is_dispatched_to_queue(info.sys_flag):
            cq = self._queue(info.topic, info.queue_id)
            cq.put(info.queue_offset, info.phys_offset, info.size, info.tags_code)
            if self.arrival_listener is not None:
                self.arrival_listener(info.topic, info.queue_id, cq.max_offset)
        if self.config.message_index_enable:
            self.index.build_index(info)
        self.last_dispatch_timestamp = info.store_timestamp

    # -- flushing -------------------------------------------------------------------------------------------
    def _flush_commitlog(self) -> int:
        flushed = self.commitlog.flush()
        self.stats.commitlog_flushes += 1
        return flushed

    def flush(self) -> None:
        """Flush the commit log, the consume queues and the index, then the checkpoint."""
        self.group_commit.note_flushed(self._flush_commitlog())
        self.flush_queues_and_checkpoint()

    def flush_queues_and_checkpoint(self) -> None:
        with self.lock:
            queues = list(self.queues.values())
            logics_ts = self.last_dispatch_timestamp
        for cq in queues:
            cq.flush()
        index_ts = self.index.flush() if self.config.message_index_enable else 0
        cp = self.checkpoint
        cp.physic_msg_timestamp = max(cp.physic_msg_timestamp, self.commitlog.flushed_store_timestamp)
        cp.logics_msg_timestamp = max(cp.logics_msg_timestamp, logics_ts)
        cp.index_msg_timestamp = max(cp.index_msg_timestamp, index_ts)
        cp.flush()

    def start(self) -> None:
        """Start the background flush/retention thread."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._background, name="rocketpy-store-flush", daemon=True)
        self._thread.start()

    def shutdown_background(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def check_disk_space(self) -> bool:
        """CleanCommitLogService's disk check: above diskSpaceWarningLevelRatio (0.90) the store refuses writes
        (runningFlags.getAndMakeDiskFull) until space comes back; Java's broker then answers
        SERVICE_NOT_AVAILABLE. Returns whether the disk counts as full now."""
        ratio = self.retention.disk_ratio()
        full = ratio > DISK_SPACE_WARNING_RATIO
        if full != self.disk_full:
            if full:
                log.error("physic disk maybe full soon, used ratio %.2f: the store refuses writes", ratio)
            else:
                log.info("physic disk space OK again, used ratio %.2f", ratio)
        self.disk_full = full
        return full

    def _background(self) -> None:
        cfg = self.config
        policy = AsyncFlushPolicy(cfg.flush_commit_log_least_pages, cfg.flush_commit_log_thorough_interval)
        last_cq = last_clean = time.monotonic()
        while not self._stop.wait(cfg.flush_interval_commit_log / 1000):
            now = time.monotonic()
            try:
                if policy.should_flush(self.commitlog.dirty_bytes(), now * 1000):
                    self.group_commit.note_flushed(self._flush_commitlog())
                if now - last_cq >= cfg.flush_interval_consume_queue / 1000:
                    last_cq = now
                    self.flush_queues_and_checkpoint()
                self.check_disk_space()
                if now - last_clean >= cfg.clean_resource_interval / 1000:
                    last_clean = now
                    manual = self.manual_delete_rounds > 0
                    if manual:
                        self.manual_delete_rounds -= 1
                    self.retention.run(time.time(), force=manual)
            except Exception:  # the flusher must survive anything; the failure is logged
                log.exception("store background flush failed")

    # -- replication (HA) -----------------------------------------------------------------------------------
    def get_commit_log_data(self, phys_offset: int) -> memoryview | None:
        """Master side: raw log bytes from ``phys_offset`` to the end of what its file holds (zero-copy)."""
        return self.commitlog.get_data(phys_offset)

    def append_replicated(self, phys_offset: int, data: bytes | memoryview) -> bool:
        """Slave side: append the master's bytes at ``phys_offset`` (the log's end) and dispatch them."""
        from rocketpy.store.replication import append_replicated

        return append_replicated(self, phys_offset, data)

    def dispatch_record(self, info: DispatchInfo) -> None:
        self._dispatch(info)

    # -- reading --------------------------------------------------------------------------------------------
    def get_message(
        self,
        topic: str,
        queue_id: int,
        offset: int,
        max_msg_nums: int,
        tags_filter: Callable[[int], bool] | None = None,
        record_filter: Callable[[memoryview], bool] | None = None,
    ) -> GetMessageResult:
        """``getMessage``: records of a queue from ``offset``, filtered by tags code, within the batch limits."""
        with self.lock:
            return read_queue(self, topic, queue_id, offset, max_msg_nums, tags_filter, record_filter)

    def get_message_joined(
        self, topic: str, queue_id: int, offset: int, max_msg_nums: int, codes: frozenset[int] | None
    ) -> JoinedRead:
        """``getMessage`` for the pull fast path: the records joined in one bytes; `codes` as reader.codes_matcher."""
        with self.lock:
            return read_queue_joined(self, topic, queue_id, offset, max_msg_nums, codes)

    def find_queue(self, topic: str, queue_id: int) -> ConsumeQueue | None:
        return self.queues.get((topic, queue_id))

    def get_max_offset_in_queue(self, topic: str, queue_id: int) -> int:
        cq = self.find_queue(topic, queue_id)
        return cq.max_offset if cq else 0

    def get_min_offset_in_queue(self, topic: str, queue_id: int) -> int:
        cq = self.find_queue(topic, queue_id)
        return cq.min_offset if cq else 0  # Java creates the missing queue, whose min offset is 0

    def get_offset_in_queue_by_time(self, topic: str, queue_id: int, timestamp: int) -> int:
        cq = self.find_queue(topic, queue_id)
        if cq is None:
            return 0
        with self.lock:
            return cq.offset_by_time(timestamp, self.commitlog.pickup_store_timestamp, self.commitlog.min_offset)

    def get_commit_log_offset_in_queue(self, topic: str, queue_id: int, offset: int) -> int:
        cq = self.find_queue(topic, queue_id)
        if cq is None or not cq.min_offset <= offset < cq.max_offset:
            return 0
        return cq.entry(offset)[0]

    def get_message_store_timestamp(self, topic: str, queue_id: int, offset: int) -> int:
        """``getMessageStoreTimeStamp``: -1 if the entry or its record is gone."""
        cq = self.find_queue(topic, queue_id)
        if cq is None or not cq.min_offset <= offset < cq.max_offset:
            return -1
        phys, size, _ = cq.entry(offset)
        return self.commitlog.pickup_store_timestamp(phys, size)

    def get_earliest_message_time(self, topic: str | None = None, queue_id: int = 0) -> int:
        """Store time of the oldest record of the log, or of one queue; -1 if none."""
        if topic is not None:
            cq = self.find_queue(topic, queue_id)
            return self.get_message_store_timestamp(topic, queue_id, cq.min_offset) if cq else -1
        rec = self.commitlog.get_data(self.commitlog.min_offset)
        if rec is None or len(rec) < 91:
            return -1
        return read_store_timestamp(rec, 0)

    def select_one_message_by_offset(self, phys_offset: int, size: int | None = None) -> memoryview | None:
        """The record at ``phys_offset`` as a zero-copy slice (size read from the record when not given)."""
        if size is None:
            head = self.commitlog.get_message(phys_offset, 4)
            if head is None:
                return None
            size = int.from_bytes(head, "big", signed=True)
        rec = self.commitlog.get_message(phys_offset, size)
        if rec is None or size < 91 or rec[4:8] != _MAGIC:  # e.g. an index entry into a range recovery cut
            return None
        return rec

    def look_message_by_offset(self, phys_offset: int) -> StoredMessage | None:
        rec = self.select_one_message_by_offset(phys_offset)
        if rec is None:
            return None
        try:
            return decode_record(rec)
        except ValueError:
            return None

    def query_message(self, topic: str, key: str, max_num: int, begin: int, end: int) -> QueryMessageResult:
        """``queryMessage``: the newest ``min(max_num, maxMsgsNumBatch)`` matches, returned in log order.

        Like Java, the last-update fields are 0 when nothing matched.
        """
        with self.lock:
            offsets, ts, phy = self.index.query(topic, key, min(max_num, self.config.max_msgs_num_batch), begin, end)
            if not offsets:
                return QueryMessageResult([], 0, 0)
            bufs = [b for b in (self.select_one_message_by_offset(o) for o in sorted(offsets)) if b is not None]
        return QueryMessageResult(bufs, ts, phy)

    @property
    def max_phy_offset(self) -> int:
        return self.commitlog.max_offset

    @property
    def min_phy_offset(self) -> int:
        return self.commitlog.min_offset

    def topics(self) -> set[str]:
        return {t for t, _ in self.queues}

    @staticmethod
    def total_physical_memory() -> int:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
