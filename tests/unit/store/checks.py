"""Consistency checks shared by the recovery, crash and stress tests."""

from __future__ import annotations

from pathlib import Path

from rocketpy.store.commitlog import is_dispatched_to_queue
from rocketpy.store.consumequeue import is_filler
from rocketpy.store.format import check_record, decode_record
from rocketpy.store.message_store import MessageStore
from rocketpy.store.recovery import iter_file


def snapshot(root: Path) -> dict[str, bytes]:
    """Every data file of a store (lock, abort, lost/ and config/ excluded)."""
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and rel.split("/")[0] in ("commitlog", "consumequeue", "index", "checkpoint"):
            out[rel] = p.read_bytes()
    return out


def log_records(store: MessageStore) -> list[tuple[int, int]]:
    """(offset, size) of every well-formed record in the written log, CRC included."""
    out = []
    for f in store.commitlog.files.snapshot():
        for pos, r in iter_file(f, 0, f.wrote, True, None):
            if r.info is not None:
                out.append((f.file_from + pos, r.size))
    return out


def assert_consistent(
    store: MessageStore, excused: set[int] | frozenset[int] = frozenset(), index_sample: int | None = None
) -> int:
    """Consume queues and the log agree both ways; every record's UNIQ_KEY is found by the index (or, for big
    stores, ``index_sample`` evenly spread records plus the newest one).

    Returns the number of dispatched records checked.
    """
    in_queues: set[int] = set()
    for (topic, qid), cq in store.queues.items():
        prev = -1
        for qoff, phys, size, _ in cq.iter_entries():
            if is_filler(phys, size):
                continue
            rec = store.select_one_message_by_offset(phys, size)
            assert rec is not None, f"{topic}-{qid}@{qoff} points outside the log ({phys}, {size})"
            f = store.commitlog.files.find(phys)
            assert f is not None and check_record(f.view[: f.wrote], phys - f.file_from, f.file_from).error is None
            m = decode_record(rec)
            assert (m.topic, m.queue_id, m.queue_offset) == (topic, qid, qoff), (m.topic, m.queue_id, qoff)
            assert phys > prev
            prev = phys
            in_queues.add(phys)
    count = 0
    records = log_records(store)
    step = max(1, len(records) // index_sample) if index_sample else 1
    for n, (phys, size) in enumerate(records):
        rec = store.commitlog.get_message(phys, size)
        assert rec is not None
        m = decode_record(rec)
        if is_dispatched_to_queue(m.sys_flag):
            assert phys in in_queues or phys in excused, f"record at {phys} is in no consume queue"
            count += 1
        uniq = m.property_map.get("UNIQ_KEY")
        if uniq and m.sys_flag & 0xC != 0xC and phys not in excused and (n % step == 0 or n == len(records) - 1):
            found = store.query_message(m.topic, uniq, 64, 0, 2**62).buffers
            assert any(decode_record(b).phys_offset == phys for b in found), f"{uniq} not indexed"
    return count
