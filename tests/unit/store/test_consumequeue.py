"""Consume queue entries, fillers, idempotent puts, truncation, time search; checked against a Java sample."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rocketpy.store.consumequeue import FILLER, UNIT, ConsumeQueue
from rocketpy.store.format import INT_MAX, decode_records

DATA = Path(__file__).parent / "data"


def test_entry_layout_is_20_bytes_big_endian() -> None:
    assert UNIT.pack(0x0102030405060708, 9, -1) == bytes.fromhex("010203040506070800000009ffffffffffffffff")
    assert UNIT.unpack(FILLER) == (0, INT_MAX, 0)


def test_java_consume_queue_sample_matches_what_we_build(tmp_path: Path) -> None:
    """The Java broker's JTopic/1 queue: 2 entries; building it from the same records gives the same bytes."""
    java = (DATA / "java497_cq_JTopic_1.bin").read_bytes()
    msgs = [m for m in decode_records((DATA / "java497_commitlog_head.bin").read_bytes()) if m.queue_id == 1]
    cq = ConsumeQueue(tmp_path, "JTopic", 1, 6000)
    from rocketpy.store.format import tags_code

    for m in msgs:
        cq.put(m.queue_offset, m.phys_offset, m.total_size, tags_code(m.property_map.get("TAGS")))
    assert bytes(cq.files.files[0].view[:40]) == java
    assert (tmp_path / "JTopic" / "1" / "00000000000000000000").stat().st_size == 6000
    cq.close()


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2**50), st.integers(1, 2**31 - 2), st.integers(-(2**63), 2**63 - 1)), max_size=120
    )
)
def test_put_then_read_back_across_files(
    tmp_path_factory: pytest.TempPathFactory, units: list[tuple[int, int, int]]
) -> None:
    root = tmp_path_factory.mktemp("cq")
    cq = ConsumeQueue(root, "T", 0, 20 * 7)
    for i, (phys, size, code) in enumerate(units):
        assert cq.put(i, phys, size, code)
    assert cq.max_offset == len(units)
    assert [(p, s, c) for _, p, s, c in cq.iter_entries()] == units
    cq.close()
    again = ConsumeQueue(root, "T", 0, 20 * 7)
    again.load()
    assert again.max_offset == len(units)
    assert [(p, s, c) for _, p, s, c in again.iter_entries()] == units
    again.close()


def test_put_is_idempotent_and_keeps_existing(tmp_path: Path) -> None:
    cq = ConsumeQueue(tmp_path, "T", 0, 1000)
    assert cq.put(0, 100, 10, 5)
    assert not cq.put(0, 100, 10, 5)
    assert not cq.put(0, 999, 10, 5)  # another record's entry is reported, never overwritten
    assert cq.entry(0) == (100, 10, 5)
    assert cq.put(0, 100, 10, 6)  # the same record with a torn tags code is repaired from the log
    assert cq.entry(0) == (100, 10, 6)
    cq.close()


def test_queue_starting_midway_gets_fillers_and_min_offset(tmp_path: Path) -> None:
    cq = ConsumeQueue(tmp_path, "T", 0, 20 * 10)
    cq.put(23, 5000, 100, 0)
    assert cq.max_offset == 24
    assert cq.min_offset == 23
    assert cq.files.files[0].file_from == 20 * 20
    assert cq.entry(20) == (0, INT_MAX, 0)
    cq.close()
    again = ConsumeQueue(tmp_path, "T", 0, 20 * 10)
    again.load()
    assert (again.min_offset, again.max_offset) == (23, 24)
    again.close()


def test_truncate_dirty_drops_entries_past_the_log(tmp_path: Path) -> None:
    cq = ConsumeQueue(tmp_path, "T", 0, 20 * 4)
    for i in range(10):
        cq.put(i, i * 100, 100, 0)
    assert cq.truncate_dirty(650) == 4  # entries 6..9 end after 650 (600+100 > 650)
    assert cq.max_offset == 6
    assert cq.max_physic_offset == 600
    assert len(cq.files.files) == 2
    cq.close()


def test_recover_stops_at_zeroed_entries(tmp_path: Path) -> None:
    cq = ConsumeQueue(tmp_path, "T", 0, 20 * 10)
    for i in range(5):
        cq.put(i, i * 100, 100, 0)
    cq.files.files[0].view[60:80] = bytes(20)  # entry 3 torn: zeros
    cq.close()
    again = ConsumeQueue(tmp_path, "T", 0, 20 * 10)
    again.load()
    assert again.max_offset == 3
    assert bytes(again.files.files[0].view[60:100]) == bytes(40)  # the stale entry 4 was zeroed too
    again.close()


def test_offset_by_time_prefers_nearer_neighbour(tmp_path: Path) -> None:
    cq = ConsumeQueue(tmp_path, "T", 0, 20 * 100)
    times = {i * 100: 1000 + i * 10 for i in range(10)}  # phys -> store time
    for i in range(10):
        cq.put(i, i * 100, 100, 0)

    def store_time(phys: int, size: int) -> int:
        return times[phys]

    assert cq.offset_by_time(1000, store_time, 0) == 0
    assert cq.offset_by_time(1030, store_time, 0) == 3
    assert cq.offset_by_time(1032, store_time, 0) == 3  # 1030 is nearer than 1040
    assert cq.offset_by_time(1038, store_time, 0) == 4
    assert cq.offset_by_time(1035, store_time, 0) == 3  # a tie goes to the left neighbour, as in Java
    assert cq.offset_by_time(5, store_time, 0) == 0
    assert cq.offset_by_time(99999, store_time, 0) == 9
    assert cq.offset_by_time(1010, store_time, 300) == 3  # entries below the log's min offset are skipped
    cq.close()


def test_delete_expired_removes_whole_files_only(tmp_path: Path) -> None:
    cq = ConsumeQueue(tmp_path, "T", 0, 20 * 4)
    for i in range(10):
        cq.put(i, i * 100, 100, 0)
    assert cq.delete_expired(550) == 1  # file 0 (entries 0..3, last ends at 400) goes; file 1 ends at 800
    assert cq.min_offset == 6  # correctMinOffset: the first entry whose offset is >= 550 (phys 600)
    assert len(cq.files.files) == 2
    cq.close()


@pytest.mark.parametrize("hole", [0, 1, 17, 48, 49])
def test_recover_finds_a_hole_anywhere(tmp_path: Path, hole: int) -> None:
    """The binary-searched end must not skip a zeroed entry in the middle (the linear scan takes over)."""
    cq = ConsumeQueue(tmp_path, "T", 0, 20 * 64)
    for i in range(50):
        cq.put(i, i * 10, 10, 0)
    cq.files.files[0].view[hole * 20 : hole * 20 + 20] = bytes(20)
    cq.close()
    again = ConsumeQueue(tmp_path, "T", 0, 20 * 64)
    again.load()
    assert again.max_offset == hole
    again.close()
