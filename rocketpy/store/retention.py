"""Deleting expired files (``DefaultMessageStore.CleanCommitLogService`` / ``CleanConsumeQueueService``).

A commit-log file other than the newest is deleted when it was last modified more than ``fileReservedTime``
hours ago and either the hour is in ``deleteWhen`` ("04" or "04;05") or the disk is fuller than
``diskMaxUsedSpaceRatio`` percent.  Above 85 % (``diskSpaceCleanForciblyRatio``) files go regardless of age.
At most 10 files go per round (``deleteFilesBatchMax``).  Consume-queue files whose last entry points below
the new commit-log minimum, and index files whose newest record is below it, are deleted with them.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rocketpy.store.message_store import MessageStore

log = logging.getLogger("rocketpy.store")

CLEAN_FORCIBLY_RATIO = 0.85
DELETE_FILES_BATCH_MAX = 10


def is_time_to_delete(delete_when: str, now: float) -> bool:
    hour = time.localtime(now).tm_hour
    return any(h.strip().isdigit() and int(h) == hour for h in delete_when.split(";"))


def disk_used_ratio(path: os.PathLike[str] | str) -> float:
    """Used fraction of the partition holding ``path`` (``UtilAll.getDiskPartitionSpaceUsedPercent``)."""
    st = os.statvfs(path)
    total = st.f_blocks * st.f_frsize
    if total <= 0:
        return -1.0
    return (total - st.f_bfree * st.f_frsize) / total


@dataclass
class RetentionResult:
    commitlog_files: int = 0
    consume_queue_files: int = 0
    index_files: int = 0


class Retention:
    def __init__(self, store: MessageStore) -> None:
        self.store = store

    def disk_ratio(self) -> float:
        """Overridable in tests to simulate a full disk."""
        return disk_used_ratio(self.store.config.store_path_root_dir)

    def run(self, now: float, force: bool = False) -> RetentionResult:
        """One cleaning round; ``force`` deletes expired files whatever the hour (``executeDeleteFilesManually``)."""
        cfg = self.store.config
        ratio = self.disk_ratio()
        space_full = ratio < 0 or ratio > cfg.disk_max_used_space_ratio / 100
        if not (force or space_full or is_time_to_delete(cfg.delete_when, now)):
            return RetentionResult()
        immediately = ratio > CLEAN_FORCIBLY_RATIO
        with self.store.lock:
            result = RetentionResult(commitlog_files=self._delete_commitlog(now, cfg.file_reserved_time, immediately))
            if result.commitlog_files:
                cl_min = self.store.commitlog.min_offset
                for cq in list(self.store.queues.values()):
                    result.consume_queue_files += cq.delete_expired(cl_min)
                result.index_files = self.store.index.delete_expired(cl_min)
        if result.commitlog_files:
            log.info("retention deleted %s", result)
        return result

    def _delete_commitlog(self, now: float, reserved_hours: int, immediately: bool) -> int:
        files = self.store.commitlog.files.snapshot()[:-1]
        count = 0
        for f in files[:DELETE_FILES_BATCH_MAX]:
            try:
                mtime = f.path.stat().st_mtime
            except FileNotFoundError:
                mtime = 0.0
            if not immediately and mtime + reserved_hours * 3600 > now:
                break
            count += 1
        if count:
            self.store.commitlog.files.remove_first(count)
        return count
