"""ConsumeQueue.put_run (the native send path's batch of entries) leaves every byte and figure as the per-entry
``put`` loop it replaces: runs appended, crossing files, after gaps, over existing entries (identical, torn or
different), below the min offset, into an empty queue starting mid-way."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rocketpy.store.consumequeue import UNIT, UNIT_SIZE, ConsumeQueue
from rocketpy.store.format import INT_MAX

Unit = tuple[int, int, int]
# (where the run starts, distance, its fresh units, how overlapped entries are taken)
Step = tuple[str, int, list[Unit], str]

units = st.lists(
    st.one_of(
        st.tuples(st.integers(0, 5000), st.integers(1, 300), st.integers(-(2**63), 2**63 - 1)),
        st.just((0, INT_MAX, 0)),  # a filler handed over as an entry
    ),
    min_size=0,
    max_size=24,
)
steps = st.lists(
    st.tuples(
        st.sampled_from(["append", "append", "gap", "overlap", "at"]),
        st.integers(0, 20),
        units,
        st.sampled_from(["same", "torn", "other"]),
    ),
    min_size=1,
    max_size=12,
)


class Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())


def state(cq: ConsumeQueue, directory: Path) -> tuple[object, ...]:
    files = {p.name: p.read_bytes() for p in sorted(directory.iterdir())} if directory.is_dir() else {}
    wrote = [(f.file_from, f.wrote) for f in cq.files.files]
    return files, wrote, cq.max_offset, cq.min_offset, cq.max_physic_offset


def run_for(step: Step, reference: ConsumeQueue) -> tuple[int, list[Unit]]:
    """The step's first offset and units; entries it overlaps are the reference's own (``same``), the same
    records with another tags code (``torn``) or its fresh units (``other``)."""
    where, distance, fresh, overlap = step
    top = reference.max_offset
    first = {"append": top, "gap": top + 1 + distance, "overlap": max(0, top - distance), "at": distance}[where]
    run: list[Unit] = []
    for i, unit in enumerate(fresh):
        q = first + i
        if overlap != "other" and reference.min_offset <= q < top:
            phys, size, code = reference.entry(q)
            unit = (phys, size, code if overlap == "same" else code ^ 1)
        run.append(unit)
    return first, run


@settings(max_examples=150, deadline=None)
@given(st.sampled_from([5, 7]), steps, st.booleans())
def test_put_run_equals_the_put_loop(
    tmp_path_factory: pytest.TempPathFactory, per_file: int, plan: list[Step], known_end: bool
) -> None:
    """With or without the caller's max_end (the native send path knows it)."""
    root = tmp_path_factory.mktemp("run")
    batched = ConsumeQueue(root / "a", "T", 3, UNIT_SIZE * per_file)
    looped = ConsumeQueue(root / "b", "T", 3, UNIT_SIZE * per_file)
    handler = Warnings()
    logger = logging.getLogger("rocketpy.store")
    logger.addHandler(handler)
    try:
        for step in plan:
            first, run = run_for(step, looped)
            before = len(handler.seen)
            max_end = max((phys + size for phys, size, _ in run), default=None) if known_end else None
            entries = b"".join(UNIT.pack(*u) for u in run) + b"\x01" * (len(run) % 3)  # + a torn unit
            batched.put_run(first, entries, max_end)
            from_batch = handler.seen[before:]
            for i, unit in enumerate(run):
                looped.put(first + i, *unit)
            assert from_batch == handler.seen[before + len(from_batch) :]
            assert state(batched, root / "a" / "T" / "3") == state(looped, root / "b" / "T" / "3")
    finally:
        logger.removeHandler(handler)
        batched.close()
        looped.close()


def test_put_run_appends_in_one_slice_per_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast case: a run from the tail's write position, split where a file ends; max_physic_offset is the
    largest record end of the run even when the entries are not in log order."""
    cq = ConsumeQueue(tmp_path, "T", 0, UNIT_SIZE * 4)
    cq.put(0, 100, 10, 1)
    run = [(500, 50, 2), (200, 10, 3), (300, 10, 4), (400, 10, 5), (410, 5, 6)]
    puts: list[int] = []
    put = cq.put
    monkeypatch.setattr(cq, "put", lambda q, *unit: puts.append(q) or put(q, *unit))
    cq.put_run(1, b"".join(UNIT.pack(*u) for u in run))
    assert puts == [4]  # only the first entry of the new file; 1-3 and 5 went in as slices
    assert [f.file_from for f in cq.files.files] == [0, UNIT_SIZE * 4]
    assert [cq.entry(q) for q in range(6)] == [(100, 10, 1), *run]
    assert cq.max_physic_offset == 550
    cq.put_run(6, b"")  # nothing to write
    assert cq.max_offset == 6
    cq.close()
