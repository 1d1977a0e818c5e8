"""Store micro-benchmark: append throughput, SYNC_FLUSH group commit, read throughput.

Not a test.  Usage::

    python tools/bench_store.py [--dir /tmp/bench-store] [--seconds 3] [--threads 8] [--sizes 128,1024,4096]

For each body size it reports:
  * ASYNC_FLUSH appends/s and MB/s (single caller; the background flusher runs as in production), and the
    process CPU time per append ("cpu us", all threads: the figure that survives a shared machine);
  * SYNC_FLUSH appends/s with ``--threads`` callers each waiting for its own flush (group commit), and the
    number of fsyncs/s those appends needed;
  * pull throughput: ``get_message`` batches of 32 from the consume queue, records/s, MB/s and CPU us per record;
  * for comparison, the raw cost of encoding a record into a preallocated buffer vs ``os.pwrite`` per record.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from rocketpy.store.commitlog import MessageInner, encode_into
from rocketpy.store.config import FlushDiskType, StoreConfig
from rocketpy.store.format import HostAddr, build_properties
from rocketpy.store.message_store import MessageStore

HOST = HostAddr.parse("10.0.0.1:10911")


def message(i: int, size: int) -> MessageInner:
    props = build_properties(
        {"UNIQ_KEY": f"7F0000010001{i:020X}", "KEYS": f"order-{i}", "TAGS": "TagA", "WAIT": "true"}
    )
    return MessageInner("BenchTopic", i % 8, b"x" * size, props, born_host=HOST, store_host=HOST)


def new_store(root: Path, mode: FlushDiskType) -> MessageStore:
    shutil.rmtree(root, ignore_errors=True)
    s = MessageStore(StoreConfig(root, flush_disk_type=mode, mapped_file_size_commit_log=256 * 1024 * 1024))
    s.open()
    s.start()
    return s


def bench_async(root: Path, size: int, seconds: float) -> tuple[float, float, float, MessageStore]:
    """Rate, MB/s and the process CPU time (every thread: the flusher too) per append in us."""
    s = new_store(root, FlushDiskType.ASYNC_FLUSH)
    msgs = [message(i, size) for i in range(1000)]
    n = 0
    total = 0
    c0, t0 = time.process_time(), time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for m in msgs:
            total += s.put_message(m).wrote_bytes
        n += len(msgs)
    dt = time.perf_counter() - t0
    return n / dt, total / dt / 1e6, (time.process_time() - c0) / n * 1e6, s


def bench_sync(root: Path, size: int, seconds: float, threads: int) -> tuple[float, float, float]:
    s = new_store(root, FlushDiskType.SYNC_FLUSH)
    stop = time.perf_counter() + seconds
    counts = [0] * threads

    def worker(t: int) -> None:
        i = 0
        while time.perf_counter() < stop:
            r = s.put_message_and_wait(message(t * 10_000_000 + i, size))
            assert r.ok, r
            i += 1
        counts[t] = i

    flushes0 = s.group_commit.flush_count
    t0 = time.perf_counter()
    ths = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    dt = time.perf_counter() - t0
    flushes = s.group_commit.flush_count - flushes0
    s.close()
    return sum(counts) / dt, flushes / dt, sum(counts) / max(flushes, 1)


def bench_read(s: MessageStore, seconds: float) -> tuple[float, float, float]:
    """Records/s, MB/s and the process CPU time per record read in us."""
    n = 0
    total = 0
    c0, t0 = time.process_time(), time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for q in range(8):
            off = 0
            while True:
                g = s.get_message("BenchTopic", q, off, 32)
                if not g.buffers:
                    break
                n += len(g.buffers)
                total += g.buffer_total_size
                off = g.next_begin_offset
                if time.perf_counter() - t0 >= seconds:
                    break
    dt = time.perf_counter() - t0
    return n / dt, total / dt / 1e6, (time.process_time() - c0) / max(n, 1) * 1e6


def bench_raw(root: Path, size: int, count: int = 100_000) -> tuple[float, float]:
    """Encode into a buffer (what mmap appends cost) vs encode + os.pwrite per record."""
    m = message(1, size)
    buf = bytearray(count * (size + 300))
    t0 = time.perf_counter()
    pos = 0
    for i in range(count):
        pos += encode_into(buf, pos, m, i, pos, 1)
    enc = count / (time.perf_counter() - t0)
    path = root / "pwrite.bin"
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    scratch = bytearray(size + 300)
    t0 = time.perf_counter()
    pos = 0
    for i in range(count):
        n = encode_into(scratch, 0, m, i, pos, 1)
        os.pwrite(fd, memoryview(scratch)[:n], pos)
        pos += n
    pw = count / (time.perf_counter() - t0)
    os.close(fd)
    path.unlink()
    return enc, pw


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--sizes", default="128,1024,4096")
    ap.add_argument("--no-sync", action="store_true", help="only the ASYNC_FLUSH appends and the reads")
    args = ap.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="bench-store-"))
    print(f"store dir {root} (filesystem of that dir matters for fsync figures)")
    print(f"{'body':>6} {'async msg/s':>12} {'MB/s':>7} {'cpu us':>7} {'sync msg/s':>11} {'fsync/s':>8} "
          f"{'msg/fsync':>9} {'read msg/s':>11} {'MB/s':>7} {'cpu us':>7} {'encode/s':>9} {'pwrite/s':>9}")  # fmt: skip
    for size in (int(x) for x in args.sizes.split(",")):
        a_rate, a_mb, a_cpu, s = bench_async(root / "a", size, args.seconds)
        r_rate, r_mb, r_cpu = bench_read(s, args.seconds)
        s.close()
        if args.no_sync:
            y_rate = fsyncs = per = enc = pw = 0.0
        else:
            y_rate, fsyncs, per = bench_sync(root / "s", size, args.seconds, args.threads)
            enc, pw = bench_raw(root / "raw", size)
        print(f"{size:>6} {a_rate:>12.0f} {a_mb:>7.1f} {a_cpu:>7.2f} {y_rate:>11.0f} {fsyncs:>8.0f} {per:>9.1f} "
              f"{r_rate:>11.0f} {r_mb:>7.1f} {r_cpu:>7.2f} {enc:>9.0f} {pw:>9.0f}")  # fmt: skip
    if args.dir is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
