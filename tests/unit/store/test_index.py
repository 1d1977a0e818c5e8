"""Index file: Java layout (checked byte for byte against a Java 4.9.7 index), chains, time ranges, rolling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rocketpy.store.format import DispatchInfo, decode_records
from rocketpy.store.index import ENTRY_SIZE, HEADER_SIZE, IndexFile, IndexService, index_key_hash
from rocketpy.store.index_repair import repair_newest_file

DATA = Path(__file__).parent / "data"


def info(phys: int, ts: int, keys: str | None = None, uniq: str | None = None, sys_flag: int = 0) -> DispatchInfo:
    return DispatchInfo("T", 0, phys, 100, 0, ts, 0, sys_flag, keys, uniq)


def test_key_hash_is_abs_with_min_value_to_zero() -> None:
    assert index_key_hash("polygenelubricants") == 0
    assert index_key_hash("TagA") == 2598919


def test_same_bytes_as_java_index(tmp_path: Path) -> None:
    """Index the Java sample's records into a file of the same geometry; header, slots, entries all match."""
    ref = json.loads((DATA / "java497_index_sparse.json").read_text())
    svc = IndexService(tmp_path, ref["slots_num"], ref["index_num"])
    for m in decode_records((DATA / "java497_commitlog_head.bin").read_bytes()):
        p = m.property_map
        svc.build_index(DispatchInfo(m.topic, m.queue_id, m.phys_offset, m.total_size, 0, m.store_timestamp,
                                     m.queue_offset, m.sys_flag, p.get("KEYS"), p.get("UNIQ_KEY")))  # fmt: skip
    view = svc.files[0].view
    assert bytes(view[:HEADER_SIZE]).hex() == ref["header"]
    slots = {str(s): bytes(view[HEADER_SIZE + s * 4 : HEADER_SIZE + s * 4 + 4]).hex() for s in range(1000)}
    assert {k: v for k, v in slots.items() if v != "00000000"} == ref["slots"]
    base = HEADER_SIZE + 1000 * 4
    assert bytes(view[base : base + 7 * ENTRY_SIZE]).hex() == ref["entries_0_to_6"]
    offsets, _last_ts, last_phy = svc.query("JTopic", "kB", 10, 0, 2**62)
    assert offsets == [0] and last_phy == 435
    svc.close()


def test_file_name_is_local_time_millis(tmp_path: Path) -> None:
    svc = IndexService(tmp_path, 10, 20)
    svc.build_index(info(0, 1000, "a"))
    name = svc.files[0].path.name
    assert len(name) == 17 and name.isdigit()
    svc.close()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "d", "polygenelubricants", "é𝄞"]), min_size=1, max_size=60))
def test_query_finds_every_put_newest_first(tmp_path_factory: pytest.TempPathFactory, keys: list[str]) -> None:
    svc = IndexService(tmp_path_factory.mktemp("idx"), 4, 16)  # 4 slots force collisions; 15 entries per file
    for i, k in enumerate(keys):
        svc.build_index(info(i * 100, 1_000_000 + i * 1000, keys=k))
    for k in set(keys):
        want = [i * 100 for i, kk in reversed(list(enumerate(keys))) if kk == k]
        got, _, _ = svc.query("T", k, 1000, 0, 2**62)
        assert got == want
    svc.close()


def test_rolls_to_new_file_that_continues_offsets(tmp_path: Path) -> None:
    svc = IndexService(tmp_path, 8, 4)  # 3 usable entries per file
    for i in range(7):
        svc.build_index(info(i * 10, 5000 + i * 1000, keys=f"k{i}"))
    assert len(svc.files) == 3
    h = svc.files[1].header
    assert h.begin_phy_offset == 30 and h.end_phy_offset == 50
    # Java computes the first diff of a rolled file from the begin time it inherited (7000), then resets begin
    first = svc.files[1].view[HEADER_SIZE + 8 * 4 + ENTRY_SIZE : HEADER_SIZE + 8 * 4 + 2 * ENTRY_SIZE]
    assert int.from_bytes(first[12:16], "big") == (8000 - 7000) // 1000
    assert svc.query("T", "k0", 5, 0, 2**62)[0] == [0]
    assert svc.query("T", "k6", 5, 0, 2**62)[0] == [60]
    svc.close()


def test_time_range_filters(tmp_path: Path) -> None:
    svc = IndexService(tmp_path, 16, 64)
    for i in range(5):
        svc.build_index(info(i * 10, 1_000_000 + i * 10_000, keys="same"))
    got, _, _ = svc.query("T", "same", 10, 1_010_000, 1_030_000)
    assert got == [30, 20, 10]
    svc.close()


def test_uniq_key_and_each_key_indexed_rollback_skipped(tmp_path: Path) -> None:
    svc = IndexService(tmp_path, 16, 64)
    svc.build_index(info(0, 1000, keys="x  y", uniq="U1"))
    svc.build_index(info(100, 2000, keys="z", sys_flag=0xC))
    assert svc.files[0].header.index_count == 4  # entry 0 unused + U1, x, y
    assert svc.query("T", "y", 5, 0, 2**62)[0] == [0]
    assert svc.query("T", "z", 5, 0, 2**62)[0] == []
    svc.build_index(info(0, 1000, keys="x"))  # already indexed offsets are skipped
    assert svc.files[0].header.index_count == 4
    svc.close()


def test_reload_keeps_header(tmp_path: Path) -> None:
    svc = IndexService(tmp_path, 16, 64)
    svc.build_index(info(0, 1000, keys="x"))
    svc.close()
    again = IndexService(tmp_path, 16, 64)
    again.load()
    assert again.end_phy_offset == 0 and again.files[0].header.index_count == 2
    assert again.query("T", "x", 5, 0, 2**62)[0] == [0]
    again.close()


def test_index_file_size(tmp_path: Path) -> None:
    f = IndexFile(tmp_path / "20240101000000000", 5_000_000, 20_000_000, create=True)
    assert f.path.stat().st_size == 420_000_040
    f.destroy()


def test_torn_header_is_repaired_from_last_entry(tmp_path: Path) -> None:
    svc = IndexService(tmp_path, 16, 64)
    svc.build_index(info(0, 1_000_000, keys="a"))
    svc.build_index(info(100, 1_005_000, keys="b"))
    f = svc.files[0]
    # a kill after endPhyOffset/endTimestamp but before indexCount of a third put reached the header
    f.view[8:16] = (1_009_000).to_bytes(8, "big")
    f.view[24:32] = (200).to_bytes(8, "big")
    svc.close()
    again = IndexService(tmp_path, 16, 64)
    again.load()
    assert again.files[0].header.end_phy_offset == 200
    assert repair_newest_file(again, 0) == 0
    assert again.files[0].header.end_phy_offset == 100 and again.end_phy_offset == 100
    assert again.query("T", "b", 4, 0, 2**62)[0] == [100]
    again.close()


def _index_with(tmp_path: Path, n: int) -> tuple[IndexService, bytes]:
    svc = IndexService(tmp_path, 8, 200)  # 8 slots: long chains
    for i in range(n):
        svc.build_index(info(i * 100, 1_000_000 + i * 1000, keys=f"k{i % 11}"))
    return svc, bytes(svc.files[0].view)


def test_lost_pages_after_power_failure(tmp_path: Path) -> None:
    """Revert the header and slot region to an older image (pages not written back): repaired in place."""
    svc, old = _index_with(tmp_path, 30)
    for i in range(30, 60):
        svc.build_index(info(i * 100, 1_000_000 + i * 1000, keys=f"k{i % 11}"))
    now = bytes(svc.files[0].view)
    svc.files[0].view[: HEADER_SIZE + 8 * 4] = old[: HEADER_SIZE + 8 * 4]  # header + slots page lost
    svc.close()
    again = IndexService(tmp_path, 8, 200)
    again.load()
    assert repair_newest_file(again, 1_000_000 + 40 * 1000) == 0  # checkpoint: flushed up to entry ~40
    assert bytes(again.files[0].view[HEADER_SIZE : HEADER_SIZE + 8 * 4]) == now[HEADER_SIZE : HEADER_SIZE + 8 * 4]
    assert again.files[0].header.index_count == 61
    for k in range(11):
        want = sorted((i * 100 for i in range(60) if i % 11 == k), reverse=True)
        assert again.query("T", f"k{k}", 100, 0, 2**62)[0] == want
    again.close()


def test_lost_entry_page_rebuilds_the_file(tmp_path: Path) -> None:
    svc, _ = _index_with(tmp_path, 40)
    base = HEADER_SIZE + 8 * 4
    svc.files[0].view[base + 35 * ENTRY_SIZE : base + 36 * ENTRY_SIZE] = bytes(ENTRY_SIZE)
    svc.close()
    again = IndexService(tmp_path, 8, 200)
    again.load()
    assert repair_newest_file(again, 1_000_000 + 30 * 1000) == 1 and again.files == []


def test_repair_leaves_an_intact_file_alone(tmp_path: Path) -> None:
    svc, before = _index_with(tmp_path, 50)
    assert repair_newest_file(svc, 1_000_000 + 20 * 1000) == 0
    assert bytes(svc.files[0].view) == before
    svc.close()


def test_drop_after_looks_past_an_empty_newest_file(tmp_path: Path) -> None:
    """A record whose keys were split by a roll, crash before the new file got any: roll it back fully."""
    svc = IndexService(tmp_path, 8, 3)  # 2 usable entries per file
    svc.build_index(info(0, 1000, keys="a"))
    f = svc.files[0]
    f.put_keys(["T#b"], 100, 2000)  # the first key of record 100 fills the file ...
    svc._writable()  # ... and the roll happened, then the crash: the new file is empty
    assert svc.files[-1].empty and svc.end_phy_offset == 100
    assert svc.drop_after(100) == 1
    assert svc.end_phy_offset == 0
    svc.build_index(info(100, 2000, keys="b c"))  # re-indexed completely
    assert svc.query("T", "c", 4, 0, 2**62)[0] == [100] and svc.query("T", "b", 4, 0, 2**62)[0] == [100]
    svc.close()
