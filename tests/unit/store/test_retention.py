"""Retention: expired commit-log files go with their consume-queue and index files."""

from __future__ import annotations

import os
import time
from pathlib import Path

from rocketpy.store.config import GetMessageStatus
from rocketpy.store.message_store import MessageStore
from rocketpy.store.retention import is_time_to_delete

from .checks import assert_consistent
from .conftest import make_msg, small_config


def fill(root: Path, n: int) -> MessageStore:
    s = MessageStore(small_config(root, file_reserved_time=1, max_index_num=40))
    s.open()
    for i in range(n):
        s.put_message(make_msg(i, body=b"r" * 400))
    return s


def age(paths: list[Path], hours: float) -> None:
    t = time.time() - hours * 3600
    for p in paths:
        os.utime(p, (t, t))


def test_delete_when_hours() -> None:
    t = time.mktime((2024, 1, 1, 4, 30, 0, 0, 0, -1))
    assert is_time_to_delete("04", t)
    assert is_time_to_delete("03;04", t)
    assert not is_time_to_delete("05", t)


def test_expired_files_removed_with_queues_and_index(tmp_path: Path) -> None:
    s = fill(tmp_path, 200)
    try:
        files = s.commitlog.files.snapshot()
        assert len(files) >= 5
        age([f.path for f in files[:3]], 2)
        res = s.retention.run(time.time(), force=True)
        assert res.commitlog_files == 3
        assert s.commitlog.min_offset == files[3].file_from
        assert res.index_files >= 1
        for (topic, qid), cq in s.queues.items():
            g = s.get_message(topic, qid, 0, 32)
            assert g.status is GetMessageStatus.OFFSET_TOO_SMALL and g.next_begin_offset == cq.min_offset
            phys, _, _ = cq.entry(cq.min_offset)
            assert phys >= s.commitlog.min_offset
        assert assert_consistent(s) > 0
        assert s.retention.run(time.time(), force=True).commitlog_files == 0  # younger files stay
    finally:
        s.close()
    s = MessageStore(small_config(tmp_path, file_reserved_time=1, max_index_num=40))
    rep = s.open()
    try:
        assert rep.cut == [] and assert_consistent(s) > 0
    finally:
        s.close()


def test_not_time_and_disk_not_full_keeps_files(tmp_path: Path) -> None:
    s = fill(tmp_path, 100)
    try:
        age([f.path for f in s.commitlog.files.snapshot()[:-1]], 5)
        s.config.delete_when = str((time.localtime().tm_hour + 2) % 24)
        s.retention.disk_ratio = lambda: 0.10  # type: ignore[method-assign]
        assert s.retention.run(time.time()).commitlog_files == 0
        s.retention.disk_ratio = lambda: 0.80  # type: ignore[method-assign]  # over diskMaxUsedSpaceRatio 75
        assert s.retention.run(time.time()).commitlog_files > 0
    finally:
        s.close()


def test_disk_nearly_full_deletes_even_young_files_but_never_the_last(tmp_path: Path) -> None:
    s = fill(tmp_path, 100)
    try:
        n = len(s.commitlog.files.snapshot())
        s.retention.disk_ratio = lambda: 0.90  # type: ignore[method-assign]
        deleted = 0
        for _ in range(5):
            deleted += s.retention.run(time.time()).commitlog_files
        assert deleted == n - 1 and len(s.commitlog.files.snapshot()) == 1
        assert s.put_message(make_msg(1000)).ok
    finally:
        s.close()


def test_full_disk_refuses_writes_until_space_returns(tmp_path: Path) -> None:
    """Above diskSpaceWarningLevelRatio (0.90) the store refuses appends, as Java's runningFlags.makeDiskFull does;
    nothing already stored is touched, and writes resume once space is back."""
    s = fill(tmp_path, 3)
    try:
        before = s.max_phy_offset
        s.retention.disk_ratio = lambda: 0.95  # type: ignore[method-assign]
        assert s.check_disk_space() is True
        refused = s.put_message(make_msg(0, queue_id=0))
        assert refused.status.name == "SERVICE_NOT_AVAILABLE"
        assert s.max_phy_offset == before
        s.retention.disk_ratio = lambda: 0.50  # type: ignore[method-assign]
        assert s.check_disk_space() is False
        assert s.put_message(make_msg(3, queue_id=0)).ok
        assert s.max_phy_offset > before
        assert s.get_max_offset_in_queue("TopicA", 0) == 2  # messages 0 and 3 of queue 0
    finally:
        s.close()
