"""SIGKILL crash harness shared by the CI-sized and the slow crash tests."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rocketpy.store.format import check_record, decode_record
from rocketpy.store.message_store import MessageStore

from .checks import assert_consistent
from .crash_writer import TOPIC, body_for, config

WRITER = Path(__file__).with_name("crash_writer.py")


@dataclass
class CrashResult:
    kills: int
    acked: int
    recovered: int
    lost: int


def run_writer_once(root: Path, mode: str, first: int, threads: int, rng: random.Random) -> list[tuple[int, int]]:
    """Start the writer, let it run, SIGKILL it; returns the acknowledged (queue, id) pairs."""
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), str(root), mode, str(first), str(threads)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    first_line = proc.stdout.readline()  # wait until recovery is done and appends are being acknowledged
    time.sleep(rng.uniform(0.05, 0.6))
    proc.send_signal(signal.SIGKILL)
    # Read through the same buffered reader: communicate() would read the raw pipe and skip whatever
    # readline() had already buffered, splitting a line.
    rest = proc.stdout.read()
    assert proc.stderr is not None
    err = proc.stderr.read()
    proc.wait()
    proc.stdout.close()
    proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
    lines = (first_line + rest).decode().split("\n")[:-1]  # text after the last newline is no complete ack
    acked = []
    for line in lines:
        parts = line.split()
        assert len(parts) == 2, f"unexpected writer output {line!r}"
        acked.append((int(parts[0]), int(parts[1])))
    return acked


def recovered_ids(store: MessageStore, threads: int) -> dict[int, list[int]]:
    """Ids per queue, read through the consume queues, with every record checked (CRC included)."""
    out: dict[int, list[int]] = {}
    for q in range(threads):
        cq = store.find_queue(TOPIC, q)
        ids: list[int] = []
        for _, phys, size, _ in cq.iter_entries() if cq else []:
            f = store.commitlog.files.find(phys)
            assert f is not None
            assert check_record(f.view[: f.wrote], phys - f.file_from, f.file_from).error is None
            m = decode_record(f.view[phys - f.file_from : phys - f.file_from + size])
            ident = int(m.property_map["KEYS"][2:])
            assert m.body == body_for(ident)
            ids.append(ident)
        out[q] = ids
    return out


def crash_test(root: Path, mode: str, kills: int, threads: int, seed: int) -> CrashResult:
    rng = random.Random(seed)
    acked: list[tuple[int, int]] = []
    for k in range(kills):
        acked += run_writer_once(root, mode, k * 1_000_000, threads, rng)
    store = MessageStore(config(root, mode))
    report = store.open()
    try:
        assert report.cut == [] or all(c.records_inside <= threads for c in report.cut)
        got = recovered_ids(store, threads)
        lost = 0
        for q in range(threads):
            ids = got[q]
            assert ids == sorted(set(ids)), f"queue {q}: out of order or duplicated"
            present = set(ids)
            lost += sum(1 for qq, i in acked if qq == q and i not in present)
        assert_consistent(store, index_sample=2000)
        for _q, ident in rng.sample(acked, min(20, len(acked))):
            found = store.query_message(TOPIC, f"id{ident}", 4, 0, 2**62).buffers
            assert [decode_record(b).body for b in found] == [body_for(ident)]
        result = CrashResult(kills, len(acked), sum(len(v) for v in got.values()), lost)
    finally:
        store.close()
    print(f"crash test {mode}: kills={result.kills} acked={result.acked} recovered={result.recovered} "
          f"lost={result.lost}")  # fmt: skip
    return result
