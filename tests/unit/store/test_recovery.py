"""Damage and rebuild: torn tails, zeroed blocks, flipped bits, garbage, deleted queues/index/checkpoint."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import orjson
import pytest

from rocketpy.store.format import decode_message_id, decode_record
from rocketpy.store.mapped_file import StoreError
from rocketpy.store.message_store import MessageStore
from rocketpy.store.recovery import RecoveryReport

from .checks import assert_consistent, snapshot
from .conftest import make_msg, small_config


def build(root: Path, n: int, body: bytes | None = None) -> list[tuple[int, int]]:
    """A cleanly closed store with ``n`` messages; returns (offset, size) of each."""
    s = MessageStore(small_config(root))
    s.open()
    out = [(r.phys_offset, r.wrote_bytes) for r in (s.put_message(make_msg(i, body=body)) for i in range(n))]
    s.close()
    return out


def reopen(root: Path, crashed: bool = True) -> tuple[MessageStore, RecoveryReport]:
    if crashed:
        (root / "abort").touch()
    s = MessageStore(small_config(root))
    rep = s.open()
    return s, rep


def commitlog_file(root: Path, offset: int) -> tuple[Path, int]:
    size = 16 * 1024
    return root / "commitlog" / f"{offset - offset % size:020d}", offset % size


def recover_and_check(root: Path, crashed: bool = True) -> tuple[int, RecoveryReport]:
    s, rep = reopen(root, crashed)
    try:
        n = assert_consistent(s)
    finally:
        s.close()
    return n, rep


def test_undamaged_recovery_is_identity(tmp_path: Path) -> None:
    root = tmp_path / "s"
    build(root, 300)
    before = snapshot(root)
    for crashed in (False, True, True):
        n, rep = recover_and_check(root, crashed)
        assert n == 300 and rep.cut == [] and rep.skipped == []
        assert snapshot(root) == before


def test_truncation_at_every_byte_of_last_records(tmp_path: Path) -> None:
    pristine = tmp_path / "pristine"
    recs = build(pristine, 40)
    first_cut = recs[-3][0]
    end = recs[-1][0] + recs[-1][1]
    starts = [o for o, _ in recs]
    for cut in range(first_cut, end + 1):
        root = tmp_path / "w"
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(pristine, root)
        path, pos = commitlog_file(root, cut)
        with path.open("r+b") as fh:  # zero from the cut to the end of the data: a torn write
            fh.seek(pos)
            fh.write(bytes(end - cut))
        n, rep = recover_and_check(root)
        whole = [o for o, sz in recs if o + sz <= cut]
        assert n == len(whole), cut
        rec_start = max([o for o in starts if o <= cut] or [0])
        original = (pristine / path.relative_to(root)).read_bytes()
        partial = original[rec_start % (16 * 1024) : pos] if cut not in starts and cut != end else b""
        if not partial.rstrip(b"\0"):
            assert rep.cut == []
        else:
            (lost,) = rep.cut
            assert (lost.offset, lost.length) == (rec_start, len(partial.rstrip(b"\0")))
            assert lost.saved_to is not None and Path(lost.saved_to).read_bytes() == partial.rstrip(b"\0")
        once = snapshot(root)
        recover_and_check(root)
        assert snapshot(root) == once, f"second recovery changed files (cut at {cut})"


def test_truncated_file_is_extended_and_recovered(tmp_path: Path) -> None:
    root = tmp_path / "s"
    recs = build(root, 10)
    path, pos = commitlog_file(root, recs[-1][0] + 10)
    with path.open("r+b") as fh:
        fh.truncate(pos)
    n, rep = recover_and_check(root)
    assert n == 9 and rep.cut[0].offset == recs[-1][0]


def test_garbage_after_tail_is_cut_and_saved(tmp_path: Path) -> None:
    root = tmp_path / "s"
    recs = build(root, 20)
    end = recs[-1][0] + recs[-1][1]
    path, pos = commitlog_file(root, end)
    garbage = random.Random(1).randbytes(300)
    with path.open("r+b") as fh:
        fh.seek(pos)
        fh.write(garbage)
    n, rep = recover_and_check(root)
    assert n == 20
    (lost,) = rep.cut
    assert (lost.offset, lost.length) == (end, len(garbage.rstrip(b"\0")))
    log_lines = (root / "lost" / "lost.log").read_bytes().splitlines()
    assert orjson.loads(log_lines[-1])["offset"] == end
    assert snapshot(root) == (once := snapshot(root)) and recover_and_check(root)[0] == 20 and snapshot(root) == once


def test_zeroed_block_in_last_file_cuts_rest_but_saves_it(tmp_path: Path) -> None:
    root = tmp_path / "s"
    recs = build(root, 60)
    last_file_start = recs[-1][0] - recs[-1][0] % (16 * 1024)
    in_last = [r for r in recs if r[0] >= last_file_start]
    victim = in_last[len(in_last) // 2]
    path, pos = commitlog_file(root, victim[0])
    with path.open("r+b") as fh:
        fh.seek(pos)
        fh.write(bytes(victim[1]))
    n, rep = recover_and_check(root)
    assert n == recs.index(victim)
    (lost,) = rep.cut
    assert lost.offset == victim[0] and lost.records_inside == len(in_last) - in_last.index(victim) - 1


def test_damage_in_middle_file_keeps_later_files(tmp_path: Path) -> None:
    root = tmp_path / "s"
    recs = build(root, 150, body=b"m" * 300)
    files = sorted((root / "commitlog").iterdir())
    assert len(files) >= 3
    mid_start = int(files[-2].name)
    victim = next(r for r in recs if r[0] > mid_start + 2000)
    path, pos = commitlog_file(root, victim[0])
    with path.open("r+b") as fh:  # break the total size field: a structural error
        fh.seek(pos)
        fh.write(b"\x7f\xff\xff\x00")
    n, rep = recover_and_check(root)
    lost_in_file = [r for r in recs if victim[0] <= r[0] < int(files[-1].name)]
    assert n == 150 - len(lost_in_file)
    (lost,) = rep.cut
    assert lost.offset == victim[0] and lost.records_inside == len(lost_in_file)
    s, _ = reopen(root, crashed=False)
    assert s.look_message_by_offset(recs[-1][0]) is not None  # the newest file survived
    assert s.put_message(make_msg(999)).ok
    s.close()


def test_body_bit_flip_loses_only_that_message(tmp_path: Path) -> None:
    root = tmp_path / "s"
    recs = build(root, 30)
    victim = recs[10]
    path, pos = commitlog_file(root, victim[0])
    body_pos = pos + 88 + 2  # inside the body (IPv4 header is 88 bytes incl. body length)
    with path.open("r+b") as fh:
        fh.seek(body_pos)
        b = fh.read(1)
        fh.seek(body_pos)
        fh.write(bytes([b[0] ^ 0x10]))
    shutil.rmtree(root / "consumequeue")
    n, rep = recover_and_check(root)
    assert n == 29
    assert rep.skipped == [(victim[0], victim[1], "body crc mismatch")]
    assert rep.rejected == []  # reported once
    s, _rep2 = reopen(root)
    g = s.get_message("TopicA", 10 % 4, 0, 32)
    assert victim[0] not in [decode_record(b).phys_offset for b in g.buffers]
    assert g.queue_offsets == [0, 1, 3, 4, 5, 6]  # queue 2 held messages 2, 6, .., 26; the 3rd is skipped
    assert g.next_begin_offset == 7
    s.close()


def assert_accounted(s: MessageStore, rep: RecoveryReport, recs: list[tuple[int, int]]) -> None:
    """Every original record is in a queue, or reported (skipped, rejected, cut), or no longer dispatchable."""
    in_queues = {p for cq in s.queues.values() for _, p, _, _ in cq.iter_entries()}
    reported = {o for o, _, _ in rep.skipped} | {o for o, _ in rep.rejected}
    cuts = [(c.offset, c.offset + c.length) for c in rep.cut]
    for off, _ in recs:
        if off in in_queues or off in reported or any(a <= off < b for a, b in cuts):
            continue
        m = s.look_message_by_offset(off)
        assert m is not None and m.sys_flag & 0xC in (0x4, 0xC), f"record at {off} vanished silently"


@pytest.mark.parametrize("seed", range(4))
def test_random_bit_flips_never_crash(tmp_path: Path, seed: int) -> None:
    pristine = tmp_path / "pristine"
    recs = build(pristine, 80)
    end = recs[-1][0] + recs[-1][1]
    rng = random.Random(seed)
    for trial in range(25):
        root = tmp_path / f"w{trial}"
        shutil.copytree(pristine, root)
        if trial % 2:
            shutil.rmtree(root / "consumequeue")  # force a rebuild from the damaged log
            shutil.rmtree(root / "index")
        for _ in range(rng.randint(1, 3)):
            off = rng.randrange(end)
            path, pos = commitlog_file(root, off)
            with path.open("r+b") as fh:
                fh.seek(pos)
                b = fh.read(1)
                fh.seek(pos)
                fh.write(bytes([b[0] ^ (1 << rng.randrange(8))]))
        try:
            s, rep = reopen(root)
        except StoreError:
            continue  # a clear refusal is acceptable
        try:
            assert_accounted(s, rep, recs)
            if trial % 2:
                assert_consistent(s, {o for o, _ in rep.rejected})
        finally:
            s.close()
        once = snapshot(root)
        s, _ = reopen(root)
        s.close()
        assert snapshot(root) == once
        shutil.rmtree(root)


@pytest.mark.parametrize("victim", ["consumequeue", "index", "checkpoint", "all"])
def test_deleted_queues_index_or_checkpoint_are_rebuilt(tmp_path: Path, victim: str) -> None:
    root = tmp_path / "s"
    build(root, 200)
    s, _ = reopen(root, crashed=False)
    expected = {k: [bytes(b) for b in s.get_message(k[0], k[1], 0, 32).buffers] for k in s.queues}
    s.close()
    for name in ["consumequeue", "index", "checkpoint"] if victim == "all" else [victim]:
        p = root / name
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    s, _rep = reopen(root, crashed=False)
    try:
        assert assert_consistent(s) == 200
        for (topic, qid), bufs in expected.items():
            assert [bytes(b) for b in s.get_message(topic, qid, 0, 32).buffers] == bufs
        for i in (0, 77, 199):
            found = s.query_message("TopicA", f"key{i}", 4, 0, 2**62).buffers
            m = decode_record(found[0])
            assert m.property_map["UNIQ_KEY"] == f"UNIQ{i:08d}"
            host, offset = decode_message_id(m.msg_id)  # reachable by its offset message id
            assert s.look_message_by_offset(offset) == m and host == m.store_host
    finally:
        s.close()


def test_header_flip_in_last_record_cuts_it_with_a_log(tmp_path: Path) -> None:
    root = tmp_path / "s"
    recs = build(root, 12)
    off, size = recs[-1]
    path, pos = commitlog_file(root, off + 36)  # SYSFLAG: the IPv6 born-host bit changes the header length
    with path.open("r+b") as fh:
        fh.seek(pos + 3)
        fh.write(b"\x10")
    n, rep = recover_and_check(root)
    assert n == 11
    (lost,) = rep.cut
    assert (lost.offset, lost.length, lost.reason) == (off, size, "length mismatch")
    entry = orjson.loads((root / "lost" / "lost.log").read_bytes().splitlines()[-1])
    assert (entry["offset"], entry["length"], entry["records_inside"]) == (off, size, 1)


def test_wrong_size_middle_file_is_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "s"
    build(root, 150, body=b"m" * 300)
    first = sorted((root / "commitlog").iterdir())[0]
    with first.open("r+b") as fh:
        fh.truncate(100)
    with pytest.raises(StoreError, match="differs from the configured"):
        reopen(root)


def test_hole_in_a_consume_queue_is_refilled_from_the_log(tmp_path: Path) -> None:
    """A lost page in a queue file (power failure) drops entries after it; they come back from the log."""
    root = tmp_path / "s"
    build(root, 120)
    cq_file = root / "consumequeue" / "TopicA" / "1" / f"{0:020d}"
    with cq_file.open("r+b") as fh:
        fh.seek(20 * 5)
        fh.write(bytes(20))
    n, _rep = recover_and_check(root, crashed=False)
    assert n == 120
