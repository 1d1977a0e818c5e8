"""Golden results of ``MessageStore.get_message`` (the pull path's store read; issue 12).

Recorded from the reader as it was before its loop was inlined (commit 3ed90f2), so the fast loop is proven to
answer every pull as before: statuses, next/min/max offsets, the record bytes and queue offsets returned, the
total size and the slave suggestion.  The store rolls commit-log and consume-queue files, has a queue with filler
entries, prepared records, records behind the in-memory window (the disk limits) and, at the end, a first
commit-log file deleted under its queue entries (MESSAGE_WAS_REMOVING).

Regenerate only for an intended change of behaviour: ROCKETPY_REGEN_READ_GOLDEN=1 pytest this file.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from rocketpy.common.java import java_string_hash
from rocketpy.store.format import TRANSACTION_PREPARED_TYPE, DispatchInfo
from rocketpy.store.message_store import MessageStore
from tests.unit.store.conftest import make_msg, small_config

GOLDEN_PATH = Path(__file__).parent / "data" / "read_golden.json"
REGEN = os.environ.get("ROCKETPY_REGEN_READ_GOLDEN") == "1"
TAGS = ["TagA", "TagB", "TagC", "TagA"]


def build(root: Path) -> MessageStore:
    cfg = small_config(
        root,
        mapped_file_size_commit_log=4096,
        mapped_file_size_consume_queue=20 * 16,
        max_transfer_bytes_on_message_in_memory=1200,
        max_transfer_count_on_message_in_memory=6,
        max_transfer_bytes_on_message_in_disk=500,
        max_transfer_count_on_message_in_disk=3,
        access_message_in_memory_max_ratio=10,
        total_physical_memory=40_000,  # 4,000 bytes in memory: older records count as on disk
    )
    store = MessageStore(cfg)
    store.open()
    for i in range(150):
        flag = TRANSACTION_PREPARED_TYPE if i % 17 == 5 else 0
        store.put_message(make_msg(i, "T", queue_id=i % 3, tags=TAGS[i % 4], sys_flag=flag))
    # a queue fed by hand with gaps: filler entries at 0-1 and 5-6, the entries point at records of T
    for q, src in ((2, 0), (3, 1), (4, 2), (7, 3), (8, 4)):
        phys, size, code = store.find_queue("T", 0).entry(src)  # type: ignore[union-attr]
        store.dispatch_record(DispatchInfo("F", 0, phys, size, code, 0, q, 0, None, None))
    return store


def snapshot(store: MessageStore, topic: str, queue_id: int, offset: int, nums: int, kind: str) -> list[Any]:
    tags = None
    records = None
    if kind == "tagA":
        code = java_string_hash("TagA")
        tags = lambda c: c == code  # noqa: E731
    elif kind == "even":
        records = lambda rec: len(rec) % 2 == 0  # noqa: E731
    r = store.get_message(topic, queue_id, offset, nums, tags, records)
    body = b"".join(r.buffers)
    return [r.status.name, r.next_begin_offset, r.min_offset, r.max_offset, r.queue_offsets, r.buffer_total_size,
            r.suggest_pulling_from_slave, hashlib.sha256(body).hexdigest()[:16]]  # fmt: skip


def all_reads(store: MessageStore) -> dict[str, str]:
    """Every read of a queue with one filter and batch size, digested per group (the golden file stays small)."""
    out: dict[str, str] = {}
    queues = [("T", 0), ("T", 1), ("T", 2), ("F", 0), ("missing", 0)]
    for topic, qid in queues:
        hi = store.get_max_offset_in_queue(topic, qid)
        for nums in (1, 4, 32):
            for kind in ("all", "tagA", "even"):
                reads = [snapshot(store, topic, qid, offset, nums, kind) for offset in [-1, *range(0, hi + 3)]]
                digest = hashlib.sha256(json.dumps(reads).encode()).hexdigest()[:24]
                out[f"{topic}-{qid} x{nums} {kind}"] = digest
    return out


def test_read_golden(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_700_000_123.456)
    store = build(tmp_path / "store")
    try:
        got = {"live": all_reads(store)}
        store.commitlog.files.remove_first(2)  # retention deleted the oldest records under their queue entries
        got["removed"] = all_reads(store)
    finally:
        store.close()
    if REGEN:
        GOLDEN_PATH.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        return
    golden = json.loads(GOLDEN_PATH.read_text())
    for part in ("live", "removed"):
        diff = [k for k in golden[part] if got[part].get(k) != golden[part][k]]
        assert not diff, f"{part}: the reads of {len(diff)} groups differ: {diff}"
        assert got[part].keys() == golden[part].keys()
