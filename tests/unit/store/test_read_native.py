"""The pull fast path's store read (`MessageStore.get_message_joined`, in C: store/_readpath.c) against the Python
reader (`get_message`, whose answers test_read_golden.py pins), on the golden store: rolled commit-log and
consume-queue files, filler entries, prepared records, the in-memory and on-disk batch limits, tags codes outside
int32 (a scheduled message's entry holds its delivery time) and a commit-log file deleted under its entries.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rocketpy.common.java import java_string_hash
from rocketpy.store import reader
from rocketpy.store.format import DispatchInfo
from rocketpy.store.message_store import MessageStore
from tests.unit.store.conftest import make_msg, small_config
from tests.unit.store.test_read_golden import TAGS, build

CODES = [java_string_hash(t) for t in TAGS[:3]]
BIG = [CODES[0] + 2**32, CODES[1] - 2**32, 2**40 + 5, -(2**40)]  # intValue: TagA, TagB, 5, 0
QUEUES = [("T", 0), ("T", 1), ("T", 2), ("F", 0), ("G", 0), ("missing", 0)]
FILTERS: list[frozenset[int] | None] = [
    None, frozenset(CODES[:1]), frozenset(CODES[1:]), frozenset([5, 0]), frozenset([BIG[2]]), frozenset(),
    frozenset(range(70)) | frozenset(CODES[:1]),  # more codes than the C walk holds: the Python loop decides
]  # fmt: skip


def add_big_codes(store: MessageStore) -> None:
    """Queue G: entries of T's records whose tags codes are not int32."""
    for q in range(8):
        phys, size, _ = store.find_queue("T", 1).entry(q)  # type: ignore[union-attr]
        store.dispatch_record(DispatchInfo("G", 0, phys, size, BIG[q % 4], 0, q, 0, None, None))


@pytest.fixture(scope="module")
def golden_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MessageStore]:
    store = build(tmp_path_factory.mktemp("readnative") / "store")
    add_big_codes(store)
    yield store
    store.close()


def build_counted(root: Path) -> MessageStore:
    """Small records under byte limits they never reach, so that the count limits (5 in memory, 3 on disk) bind."""
    cfg = small_config(root, mapped_file_size_commit_log=8192, max_transfer_bytes_on_message_in_memory=100_000,
                       max_transfer_count_on_message_in_memory=5, max_transfer_bytes_on_message_in_disk=100_000,
                       max_transfer_count_on_message_in_disk=3, access_message_in_memory_max_ratio=10,
                       total_physical_memory=60_000)  # fmt: skip
    store = MessageStore(cfg)
    store.open()
    for i in range(160):
        store.put_message(make_msg(i, "T", queue_id=i % 3, tags=TAGS[i % 4], body=b"x"))
    add_big_codes(store)
    return store


def python_read(store: MessageStore, topic: str, qid: int, offset: int, nums: int, codes: frozenset[int] | None):  # type: ignore[no-untyped-def]
    r = store.get_message(topic, qid, offset, nums, reader.codes_matcher(codes), None)
    return (r.status, r.next_begin_offset, r.min_offset, r.max_offset, len(r.buffers), r.buffer_total_size,
            r.suggest_pulling_from_slave, b"".join(r.buffers))  # fmt: skip


def check_all(store: MessageStore) -> None:
    for topic, qid in QUEUES:
        hi = store.get_max_offset_in_queue(topic, qid)
        for nums in (1, 3, 4, 32):
            for codes in FILTERS:
                for offset in [-1, *range(0, hi + 3)]:
                    want = python_read(store, topic, qid, offset, nums, codes)
                    got = store.get_message_joined(topic, qid, offset, nums, codes)
                    assert tuple(got) == want, (topic, qid, offset, nums, codes)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each C walk answered (True) or left the read to the Python loop (False)."""
    assert reader._readpath is not None
    real = reader._readpath.collect
    seen: list[bool] = []

    def collect(*args):  # type: ignore[no-untyped-def]
        got = real(*args)
        seen.append(got is not None)
        return got

    monkeypatch.setattr(reader._readpath, "collect", collect)
    return seen


def test_extension_built() -> None:
    """CI must run the C walk: a build without it would serve pulls correctly but slowly and prove nothing here."""
    assert reader.NATIVE, "rocketpy.store._readpath is not built: run `pip install -e .` (needs a C compiler)"


def test_joined_reads_equal_python_reads(golden_store: MessageStore, counted: list[bool]) -> None:
    check_all(golden_store)
    assert counted.count(True) > 1000 and counted.count(False) > 50  # both ways were taken, many times


def test_joined_reads_under_count_limits(tmp_path: Path, counted: list[bool]) -> None:
    store = build_counted(tmp_path / "store")
    try:
        check_all(store)
    finally:
        store.close()
    assert counted.count(True) > 1000


def test_joined_reads_after_a_file_was_deleted(tmp_path: Path, counted: list[bool]) -> None:
    store = build(tmp_path / "store")
    try:
        add_big_codes(store)
        store.commitlog.files.remove_first(2)  # retention deleted the oldest records under their queue entries
        check_all(store)
    finally:
        store.close()
    assert counted.count(True) > 500 and counted.count(False) > 50


@settings(max_examples=300, deadline=None)
@given(
    queue=st.sampled_from(QUEUES[:5]),
    offset=st.integers(-2, 60),
    nums=st.integers(0, 40),
    codes=st.one_of(st.none(), st.frozensets(st.sampled_from(CODES + BIG + [0, 5, -1, 2**63 - 1, -(2**63)]))),
)
def test_random_reads(golden_store: MessageStore, queue: tuple[str, int], offset: int, nums: int,
                      codes: frozenset[int] | None) -> None:  # fmt: skip
    topic, qid = queue
    assert tuple(golden_store.get_message_joined(topic, qid, offset, nums, codes)) == python_read(
        golden_store, topic, qid, offset, nums, codes
    )


def test_codes_beyond_int64_leave_it_to_python(golden_store: MessageStore, counted: list[bool]) -> None:
    codes = frozenset([CODES[0], 2**64])
    assert tuple(golden_store.get_message_joined("T", 0, 0, 32, codes)) == python_read(
        golden_store, "T", 0, 0, 32, codes
    )
    assert counted == [False]


# ---------------------------------------------------------------- collect() called directly, at its arguments' edges

UNIT = struct.Struct(">qiq")
LOG = bytes(range(100))
LIMITS = (1000, 32, 1000, 32)  # bytes and count in memory, then on disk


def collect(units: list[tuple[int, int, int]], *, log_from: int = 0, log_end: int = 100, wrote: int = 100,
            max_py: int = 100, memory: int = 10**9, max_nums: int = 32, limits: tuple[int, int, int, int] = LIMITS,
            codes: frozenset[int] | None = None) -> tuple[int, int, int, int, bytes] | None:  # fmt: skip
    from rocketpy.store import _readpath

    entries = memoryview(b"".join(UNIT.pack(*u) for u in units))
    return _readpath.collect(entries, len(entries), codes, memoryview(LOG), log_from, log_end, wrote, max_py, memory,
                             max_nums, *limits)  # fmt: skip


TWO = [(0, 10, 0), (10, 10, 0)]


def test_collect_a_log_end_near_int64_max_does_not_read_past_the_log() -> None:
    """A record whose end (offset + size) passes INT64_MAX is not written (read_queue's `pos + size > wrote`): it
    must not wrap around into a read before the log's buffer."""
    far = 2**63 - 10
    assert collect([(far, 100, 0)], log_end=2**63 - 1) is None
    assert collect([(2**62, 10, 0)], log_from=-(2**63), log_end=2**63 - 1) is None


def test_collect_memory_limits_at_int64_edges_as_read_queue() -> None:
    """isTheBatchFull with extreme limits, as Python's integers judge it (no wrap-around): the second record is
    past the in-memory count limit in both cases, so the walk stops after the first (or leaves it to Python)."""
    first = (1, 1, 10, 10, LOG[:10])  # the second entry scanned (its offset the last looked at), not taken
    assert collect(TWO, max_py=-(2**63), memory=100, limits=(1000, 1, 1000, 8)) in (None, first)
    assert collect(TWO, limits=(1000, -(2**63), 1000, 8)) in (None, first)
    assert collect(TWO, max_py=10**9, memory=0, limits=(1000, 8, 1000, -(2**63))) in (None, first)


class _ManyCodes(frozenset):  # type: ignore[type-arg]
    """A set whose iteration yields more codes than its size says."""

    def __iter__(self) -> Iterator[int]:
        return iter(range(1000))


def test_collect_takes_only_plain_sets_of_codes() -> None:
    assert collect(TWO, codes=_ManyCodes([1])) is None  # the Python loop decides (it never overflows the C table)


def python_walk(units: list[tuple[int, int, int]], *, log_from: int, log_end: int, wrote: int, max_py: int,
                memory: int, max_nums: int, limits: tuple[int, int, int, int],
                codes: frozenset[int] | None) -> tuple[int, int, int, int, bytes] | None:  # fmt: skip
    """read_queue's loop over one commit-log file holding LOG, in collect's terms; None where read_queue would look
    in another file or skip a record it cannot read (collect must then leave the read to it)."""
    match = reader.codes_matcher(codes)
    mem_bytes, mem_count, disk_bytes, disk_count = limits
    total = count = max_pulling = n = 0
    out = []
    for phys, size, code in units:
        n += 1
        if (phys == 0 and size == 2**31 - 1) or phys < -1:
            return None  # skipped by read_queue: a filler, or before the first file
        max_pulling = phys
        if total and count:
            if max_nums <= count:
                n -= 1
                break
            if max_py - phys > memory:
                if total + size > disk_bytes or count > disk_count - 1:
                    n -= 1
                    break
            elif total + size > mem_bytes or count > mem_count - 1:
                n -= 1
                break
        if match is not None and not match(code):
            continue
        if not log_from <= phys < log_end or size <= 0 or phys - log_from + size > wrote:
            return None
        out.append(LOG[phys - log_from : phys - log_from + size])
        total += size
        count += 1
    return n, count, total, max_pulling, b"".join(out)


EDGES = [0, 1, -1, 2**31 - 1, -(2**31), 2**63 - 1, -(2**63)]
_offsets = st.one_of(st.integers(-5, 110), st.sampled_from([*EDGES, 2**63 - 50]))  # from log_from, or absolute
_sizes = st.one_of(st.integers(-2, 110), st.sampled_from([2**31 - 1, -(2**31), 0]))
_codes = st.one_of(st.integers(0, 3), st.sampled_from([2**32 + 1, -(2**32) + 2, 2**63 - 1, -(2**63)]))


@settings(max_examples=800, deadline=None)
@given(
    units=st.lists(st.tuples(_offsets, _sizes, _codes), max_size=12),
    log_from=st.one_of(st.sampled_from([0, 0, 5, 2**63 - 60]), st.sampled_from(EDGES)),
    log_span=st.one_of(st.integers(-5, 110), st.sampled_from(EDGES)),
    wrote=st.one_of(st.integers(-5, 110), st.sampled_from(EDGES)),
    max_py=st.one_of(st.integers(0, 10**6), st.sampled_from(EDGES)),
    memory=st.one_of(st.sampled_from([10**9, 50, 0]), st.sampled_from(EDGES)),
    max_nums=st.one_of(st.integers(0, 6), st.sampled_from(EDGES)),
    limits=st.tuples(*[st.one_of(st.integers(0, 60), st.sampled_from(EDGES))] * 4),
    codes=st.one_of(st.none(), st.frozensets(st.sampled_from([0, 1, 2**63 - 1, -(2**63), 2**64]), max_size=3)),
)
def test_collect_equals_the_python_walk(units: list[tuple[int, int, int]], log_from: int, log_span: int, wrote: int,
                                        max_py: int, memory: int, max_nums: int, limits: tuple[int, int, int, int],
                                        codes: frozenset[int] | None) -> None:  # fmt: skip
    """Entries pointing anywhere, sizes and limits at the int32/int64 edges: whatever collect answers is read_queue's
    answer (it may always leave the read to read_queue instead)."""

    def clamp(v: int) -> int:
        return max(-(2**63), min(2**63 - 1, v))

    log_end = clamp(log_from + log_span) if log_span not in EDGES else log_span
    units = [(clamp(log_from + phys) if -5 <= phys <= 110 else phys, size, code) for phys, size, code in units]
    kw = dict(log_from=log_from, log_end=log_end, wrote=wrote, max_py=max_py, memory=memory, max_nums=max_nums,
              limits=limits, codes=codes)  # fmt: skip
    got = collect(units, **kw)  # type: ignore[arg-type]
    if got is not None:
        assert got == python_walk(units, **kw)  # type: ignore[arg-type]
