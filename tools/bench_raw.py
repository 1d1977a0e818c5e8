#!/usr/bin/env python3
"""Raw pipelined sender: pre-encoded SEND_MESSAGE_V2 frames against rocketpy and the Java reference (issue 12).

    python tools/bench_raw.py [--seconds 20] [--connections 4] [--depth 256] [--size 128] [--targets java,rocketpy]
                              [--batch B] [--brokers N]
    python tools/bench_raw.py --phase route [--seconds 20] [--connections 4] [--depth 64]
    python tools/bench_raw.py --phase async [--seconds 20] [--depth 256] [--size 128]

No client library in the way: each connection keeps `--depth` requests in flight, written as pre-encoded frames
(the JSON header a 4.9.8 DefaultMQProducer sends, distinct opaques), and reads reply frames by their length
prefix and the `"opaque":N` of their header. What it measures is the server's own cost of the send hot path:
"server CPU us per message" is the utime + stime of the server process(es) over the measured window divided by
the replies received, which stays meaningful on a shared machine; TPS is replies per second. The senders are one
thread per connection in this process, on the same machine: the figures compare the two servers under identical
load, not absolute capacities. Latency is each request's time from the write of its frame to the read that brought
its reply, matched by opaque (one perf_counter_ns per write and per read, not per frame): p50/p99/p99.9/max over
the window, nearest rank. It includes the sender's own queueing (its GIL share, the frames of a batch written
before it), so `--connections 16 --depth 2`, the analogue of the official benchmark's synchronous senders, is the
configuration to read it in. This is a tool, not a test: nothing here asserts a timing.

`--batch B` is the cheapest sender: each connection writes pre-encoded blocks of B frames, a new block whenever
B more replies came back, and counts replies by the start of their JSON header (bytes.count, no per-frame Python);
its latency is per block, from the block's write to the read that brought the reply count past its last frame.
`--brokers N` (rocketpy only: the Java reference runs one broker) starts `rocketpy serve --brokers N`, creates the
topics on the cluster (8 queues on every broker) and spreads the connections over the N brokers round robin; the
server CPU is that of every process (the supervisor with its NameServer, each broker). Each target's line under
the table gives the sender's own CPU per reply and the cores each process used in the window, to tell which one
is the bottleneck.

`--phase route` does the same against the NameServer port with GET_ROUTEINFO_BY_TOPIC (the header a 4.9.8
MQClientAPIImpl.getTopicRouteInfoFromNameServer sends), first for one topic, then for a mix of five registered
topics, and divides the NameServer's CPU time by the replies: for Java the NameServer JVM alone, for rocketpy the
one process that serves both (its broker idles meanwhile, and its small cost is counted in).

`--phase async` runs the official 4.9.8 client instead: one DefaultMQProducer keeping `--depth` send(msg, callback)
calls in flight (interop/driver's AsyncSendBench; the benchmark Producer has no async mode), and divides the server
processes' CPU time (NameServer and Broker JVMs; the rocketpy process) by the messages acknowledged SEND_OK. Its
latency is from each send call to its callback, for the sends started after the warm-up (a `latency` line).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from interop.harness.build import InteropSetupError, driver_classpath, reference_classpath  # noqa: E402
from rocketpy.broker.processors.send_support import properties_string  # noqa: E402
from rocketpy.protocol.codes import RequestCode  # noqa: E402
from rocketpy.remoting.codec import encode  # noqa: E402
from rocketpy.remoting.command import RemotingCommand  # noqa: E402
from rocketpy.serve_cluster import broker_names  # noqa: E402
from tools.bench.procs import BenchSetupError, bench_classpath, cpu_seconds, process_tree, require_tool  # noqa: E402
from tools.bench.results import ratio  # noqa: E402
from tools.bench_broker import (  # noqa: E402
    BROKER_NAME,
    CLIENT_OPTS,
    CLUSTER,
    QUEUES,
    TOPIC_MIXED,
    TOPIC_SEND,
    Context,
    Servers,
    Settings,
    TargetError,
    create_topics,
    start_java,
    start_rocketpy,
)

WARMUP_S = 3.0
_LEN = struct.Struct(">i")
_CODE0 = b'{"code":0,'  # both servers' JSON headers start with the code (fastjson sorts the keys)
_OPAQUE = b'"opaque":'  # a JSON header key; in a string value (remark) its quotes would be escaped
_ROCKETMQ = 1  # serialize type in the high byte of the header length: the binary header, opaque at offset 5
_I32 = struct.Struct(">i")
FRAMES = 4096  # distinct pre-encoded requests per run, cycled: far more than any request in flight
ROUTE_DEPTH = 64


def request_frame(topic: str, queue_id: int, opaque: int, size: int, n: int, broker: str = BROKER_NAME) -> bytes:
    """A SEND_MESSAGE_V2 frame as DefaultMQProducerImpl.sendKernelImpl builds it (TAGS, KEYS-less, WAIT, UNIQ_KEY)."""
    uniq = f"7F0000010B6418B4AAC2{n:012X}"
    props = properties_string({"TAGS": "TagA", "WAIT": "true", "UNIQ_KEY": uniq})
    ext = {
        "a": "BenchRawGroup",
        "b": topic,
        "c": "TBW102",
        "d": "4",
        "e": str(queue_id),
        "f": "0",
        "g": str(int(time.time() * 1000)),
        "h": "0",
        "i": props,
        "j": "0",
        "k": "false",
        "m": "false",
        "n": broker,
    }
    cmd = RemotingCommand.request(RequestCode.SEND_MESSAGE_V2, ext, bytes(size))
    cmd.opaque = opaque
    return encode(cmd)


def route_frame(topic: str, opaque: int) -> bytes:
    """GET_ROUTEINFO_BY_TOPIC as a 4.9.8 client writes it: JSON header, extFields {"topic"} (a null
    acceptStandardJsonOnly is left out), version V4_9_8, no body."""
    cmd = RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, {"topic": topic})
    cmd.opaque = opaque
    return encode(cmd)


def count_replies(buf: bytes | bytearray) -> tuple[int, int, int]:
    """(complete frames, frames whose header is not code 0, bytes they take) at the start of `buf`, read by the
    length prefix alone; the success check looks only at the start of the JSON header."""
    return take_replies(buf)


def reply_opaque(buf: bytes | bytearray, pos: int) -> int:
    """The opaque of the complete frame at `pos` of `buf`, from its JSON (or ROCKETMQ binary) header; -1 if the
    header has none."""
    mark = buf[pos + 4]
    start = pos + 8
    if mark == _ROCKETMQ:
        return int(_I32.unpack_from(buf, start + 5)[0])
    end = start + (_I32.unpack_from(buf, pos + 4)[0] & 0xFFFFFF)
    at = buf.rfind(_OPAQUE, start, end)  # the header's key, after the extFields object (keys sorted)
    if at < 0:
        return -1
    at += len(_OPAQUE)
    stop = buf.find(b",", at, end)
    if stop < 0:
        stop = buf.find(b"}", at, end)
    try:
        return int(buf[at:stop])
    except ValueError:
        return -1


def take_replies(buf: bytes | bytearray, opaques: list[int] | None = None) -> tuple[int, int, int]:
    """count_replies, also appending each complete frame's opaque (reply_opaque) to `opaques` when given."""
    pos, got, failed, end = 0, 0, 0, len(buf)
    while end - pos >= 4:
        (total,) = _LEN.unpack_from(buf, pos)
        if end - pos - 4 < total:
            break
        if not buf.startswith(_CODE0, pos + 8):
            failed += 1
        if opaques is not None:
            opaques.append(reply_opaque(buf, pos))
        got += 1
        pos += 4 + total
    return got, failed, pos


_REPLY = b'{"code":'  # a reply frame's JSON header starts so, once per frame (send replies have no body)


def count_marks(carry: bytes, data: bytes, mark: bytes) -> int:
    """Occurrences of `mark` in the stream whose next read is `data`, after `carry` (the previous read's last
    len(mark) - 1 bytes): those inside `data` and the one straddling the two reads (no mark overlaps itself)."""
    k = len(mark) - 1
    return data.count(mark) + (carry[-k:] + data[:k]).count(mark)


def spread(addrs: Sequence[str], connections: int) -> list[str]:
    """The broker each connection is sent to: round robin over `addrs`."""
    return [addrs[i % len(addrs)] for i in range(connections)]


def nearest_rank(ordered: Sequence[int], permille: int) -> int:
    """The `permille`/10 percentile of ascending `ordered` by nearest rank (the smallest value with at least that
    share of the values at or below it); integer arithmetic, as AsyncSendBench computes it."""
    rank = max(1, -(-permille * len(ordered) // 1000))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Latency:
    """Percentiles of one target's request latencies, in ms."""

    p50: float
    p99: float
    p999: float
    max: float
    samples: int


def latency_of(samples_ns: Sequence[int]) -> Latency | None:
    """p50, p99, p99.9 and max of nanosecond samples, in ms; None without samples."""
    if not samples_ns:
        return None
    ordered = sorted(samples_ns)
    p50, p99, p999 = (nearest_rank(ordered, q) / 1e6 for q in (500, 990, 999))
    return Latency(p50, p99, p999, ordered[-1] / 1e6, len(ordered))


@dataclass
class Sender:
    """One connection keeping `depth` requests in flight; counts replies and non-SUCCESS codes and appends each
    reply's latency in ns to `latencies` (frames[i] carries opaque i + 1: the write times are kept by opaque)."""

    addr: tuple[str, int]
    frames: list[bytes]
    depth: int
    batch: int = 0  # > 0: blocks of this many frames, replies counted by their header's start (module docstring)
    replies: int = 0
    failed: int = 0
    error: str | None = None
    unmatched: int = 0  # replies without an opaque of ours: no latency
    stop: threading.Event = field(default_factory=threading.Event)
    latencies: array[int] = field(default_factory=lambda: array("q"))

    def run(self) -> None:
        try:
            self._run()
        except OSError as exc:
            self.error = f"{type(exc).__name__}: {exc}"

    def _run(self) -> None:
        with socket.create_connection(self.addr, timeout=30) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.batch:
                self._run_blocks(sock)
                return
            frames, nframes = self.frames, len(self.frames)
            clock, latencies, opaques = time.perf_counter_ns, self.latencies, list[int]()
            written = [0] * (nframes + 1)  # write time by opaque
            now = clock()
            for i in range(self.depth):
                written[i % nframes + 1] = now
            sock.sendall(b"".join(frames[i % nframes] for i in range(self.depth)))
            nxt = self.depth
            buf = bytearray()
            while not self.stop.is_set():
                data = sock.recv(1 << 20)
                now = clock()
                if not data:
                    raise ConnectionError("server closed the connection")
                buf += data
                got, failed, pos = take_replies(buf, opaques)
                del buf[:pos]
                self.failed += failed
                self.replies += got
                if got:
                    matched = [now - written[o] for o in opaques if 0 < o <= nframes]
                    latencies.extend(matched)
                    self.unmatched += got - len(matched)
                    opaques.clear()
                    now = clock()
                    for i in range(nxt, nxt + got):
                        written[i % nframes + 1] = now
                    sock.sendall(b"".join(frames[i % nframes] for i in range(nxt, nxt + got)))
                    nxt += got

    def _run_blocks(self, sock: socket.socket) -> None:
        """`depth // batch` blocks in flight; a block's latency is from its write to the read that brought the
        cumulative reply count past its end (replies come back in order on a connection)."""
        size = self.batch
        blocks = [b"".join(self.frames[i : i + size]) for i in range(0, len(self.frames) - size + 1, size)]
        inflight = self.depth // size
        if inflight >= len(blocks):
            raise ValueError(f"{inflight} blocks in flight need more than the {len(blocks)} distinct blocks")
        clock, latencies, written = time.perf_counter_ns, self.latencies, deque[int]()
        now = clock()
        sock.sendall(b"".join(blocks[:inflight]))
        written.extend([now] * inflight)
        nxt, pending, carry = inflight, 0, b""
        keep = len(_CODE0) - 1
        while not self.stop.is_set():
            data = sock.recv(1 << 20)
            now = clock()
            if not data:
                raise ConnectionError("server closed the connection")
            got = count_marks(carry, data, _REPLY)
            self.failed += got - count_marks(carry, data, _CODE0)
            carry = (carry + data[-keep:])[-keep:]
            self.replies += got
            pending += got
            done, pending = divmod(pending, size)
            if done:
                for _ in range(done):
                    latencies.append(now - written.popleft())
                now = clock()
                sock.sendall(b"".join(blocks[(nxt + i) % len(blocks)] for i in range(done)))
                written.extend([now] * done)
                nxt += done


def process_label(argv: Sequence[str]) -> str:
    """A server process's short name from its command line: the broker's name, the supervisor, or the JVM's
    main class."""
    for arg in argv:
        if arg.startswith("--brokerName="):
            return arg.split("=", 1)[1]
    if "org.apache.rocketmq.namesrv.NamesrvStartup" in argv:
        return "java-namesrv"
    if "org.apache.rocketmq.broker.BrokerStartup" in argv:
        return "java-broker"
    if "serve" in argv:
        return "serve (NameServer)" if any(a.startswith("--brokers") for a in argv) else "serve"
    return "other"


def _labels(pids: list[int]) -> dict[int, str]:
    labels = {}
    for pid in pids:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            argv = []
        labels[pid] = process_label(argv)
    return labels


def machine_ticks(stat: str) -> tuple[int, int]:
    """(busy, idle) clock ticks of all CPUs from the `cpu` line of /proc/stat (idle counts iowait too)."""
    fields = [int(x) for x in stat.split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields[:8]) - idle, idle


def _machine() -> tuple[int, int]:
    try:
        return machine_ticks(Path("/proc/stat").read_text())
    except (OSError, ValueError, IndexError):
        return 0, 0


def _per_process(pids: list[int]) -> dict[int, float | None]:
    return {pid: cpu_seconds([pid]) for pid in pids}


def cores_used(
    before: Mapping[int, float | None], after: Mapping[int, float | None], seconds: float
) -> dict[int, float]:
    """Cores each process used over `seconds` (its CPU seconds per second); processes without both figures left out."""
    out = {}
    for pid, c0 in before.items():
        c1 = after.get(pid)
        if c0 is not None and c1 is not None and seconds > 0:
            out[pid] = (c1 - c0) / seconds
    return out


@dataclass
class RawResult:
    target: str
    tps: float = 0.0
    cpu_us_per_msg: float = 0.0
    replies: int = 0
    failed: int = 0
    error: str | None = None
    label: str = ""
    latency: Latency | None = None
    note: str = ""
    sender_cpu_us_per_msg: float = 0.0
    sender_sys_share: float = 0.0  # of the sender's CPU, the kernel's part (socket calls)
    machine_idle: float | None = None  # share of all CPUs' time idle in the window
    cores: dict[str, float] = field(default_factory=dict)  # process label -> cores used in the window


def pump(
    plan: list[tuple[tuple[str, int], list[bytes]]], args: argparse.Namespace, pids: list[int], result: RawResult
) -> None:
    """One sender per (address, frames) of `plan`, `args.depth` deep, for a warm-up and `args.seconds`; fills rate,
    the servers' and the sender's CPU per reply, the cores of each process and the latencies of the replies read in
    the window."""
    if any(args.depth >= len(frames) for _, frames in plan):
        raise TargetError(f"--depth {args.depth} needs fewer in flight than the {FRAMES} distinct opaques")
    batch = getattr(args, "batch", 0)
    senders = [Sender(addr, frames, args.depth, batch) for addr, frames in plan]
    threads = [threading.Thread(target=s.run, daemon=True) for s in senders]
    labels = _labels(pids)
    for t in threads:
        t.start()
    time.sleep(WARMUP_S)
    c0, n0, t0 = cpu_seconds(pids), sum(s.replies for s in senders), time.monotonic()
    p0, s0, m0 = _per_process(pids), os.times(), _machine()
    l0 = [len(s.latencies) for s in senders]
    time.sleep(args.seconds)
    c1, n1, t1 = cpu_seconds(pids), sum(s.replies for s in senders), time.monotonic()
    p1, s1, m1 = _per_process(pids), os.times(), _machine()
    l1 = [len(s.latencies) for s in senders]
    for s in senders:
        s.stop.set()
    for t in threads:
        t.join(10)
    errors = [s.error for s in senders if s.error]
    if errors:
        raise TargetError("; ".join(errors))
    result.replies = n1 - n0
    result.failed = sum(s.failed for s in senders)
    result.tps = result.replies / (t1 - t0)
    if c0 is not None and c1 is not None and result.replies:
        result.cpu_us_per_msg = (c1 - c0) * 1e6 / result.replies
    sender_cpu = (s1.user - s0.user) + (s1.system - s0.system)
    if result.replies:
        result.sender_cpu_us_per_msg = sender_cpu * 1e6 / result.replies
    if sender_cpu > 0:
        result.sender_sys_share = (s1.system - s0.system) / sender_cpu
    for pid, cores in cores_used(p0, p1, t1 - t0).items():
        label = labels.get(pid, "other")
        result.cores[label] = result.cores.get(label, 0.0) + cores
    result.cores["sender (this process)"] = sender_cpu / (t1 - t0)
    busy, idle = m1[0] - m0[0], m1[1] - m0[1]
    if busy + idle > 0:
        result.machine_idle = idle / (busy + idle)
    window = array("q")
    for s, a, b in zip(senders, l0, l1, strict=True):
        window.extend(s.latencies[a:b])
    result.latency = latency_of(window)
    unmatched = sum(s.unmatched for s in senders)
    if unmatched:
        result.note = f"{unmatched:,} replies without an opaque of a request: not in the latencies"


@contextlib.contextmanager
def booted(target: str, ctx: Context, phase: str) -> Iterator[tuple[Servers, Path]]:
    """The target's servers started in a fresh work directory with the benchmark topics created; stopped and the
    directory removed afterwards. A start that fails raises TargetError."""
    workdir = Path(tempfile.mkdtemp(prefix=f"rocketpy-bench{phase}-{target}-"))
    start = start_java if target == "java" else start_rocketpy
    try:
        servers = start(ctx, workdir)
        try:
            create_topics(ctx, servers, workdir)
            yield servers, workdir
        finally:
            servers.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def host_port(addr: str) -> tuple[str, int]:
    """A server's "host:port" as a socket address."""
    host, port = addr.rsplit(":", 1)
    return host, int(port)


def measure(target: str, ctx: Context, args: argparse.Namespace) -> RawResult:
    result = RawResult(target)
    try:
        with booted(target, ctx, "raw") as (servers, _):
            addrs = servers.broker_addrs or [servers.broker_addr]
            names = broker_names(len(addrs)) if servers.cluster else [BROKER_NAME]
            frames = {
                addr: [request_frame(TOPIC_SEND, i % QUEUES, i + 1, args.size, i, name) for i in range(FRAMES)]
                for addr, name in zip(addrs, names, strict=True)
            }
            plan = [(host_port(addr), frames[addr]) for addr in spread(addrs, args.connections)]
            pids = servers.pids()
            if servers.cluster and len(pids) != len(addrs) + 1:
                raise TargetError(f"expected the supervisor and {len(addrs)} brokers, found processes {pids}")
            pump(plan, args, pids, result)
    except TargetError as exc:
        result.error = str(exc)
    return result


ROUTE_MIX = (TOPIC_SEND, TOPIC_MIXED, "TBW102", CLUSTER, BROKER_NAME)  # all registered by both brokers


def await_routes(addr: tuple[str, int], topics: tuple[str, ...], timeout: float = 30.0) -> None:
    """Ask for each topic's route until every answer is SUCCESS (the broker registers a new topic with the
    NameServer shortly after mqadmin created it); TargetError otherwise."""
    deadline = time.monotonic() + timeout
    with socket.create_connection(addr, timeout=10) as sock:
        for i, topic in enumerate(topics):
            while True:
                sock.sendall(route_frame(topic, i + 1))
                buf = bytearray()
                while not count_replies(buf)[0]:
                    data = sock.recv(1 << 16)
                    if not data:
                        raise TargetError("the NameServer closed the connection")
                    buf += data
                if not count_replies(buf)[1]:
                    break
                if time.monotonic() > deadline:
                    raise TargetError(
                        f"GET_ROUTEINFO_BY_TOPIC {topic} is not SUCCESS after {timeout:.0f}s: {buf[:300]!r}"
                    )
                time.sleep(0.5)


def measure_route(target: str, ctx: Context, args: argparse.Namespace) -> list[RawResult]:
    """One boot: the one-topic window, then the mixed one; the NameServer's own process(es) are measured."""
    results = [RawResult(target, label=TOPIC_SEND), RawResult(target, label=f"mix of {len(ROUTE_MIX)}")]
    try:
        with booted(target, ctx, "route") as (servers, _):
            addr = host_port(servers.namesrv_addr)
            await_routes(addr, ROUTE_MIX)
            pids = process_tree(servers.processes[0].proc.pid)  # the NameServer JVM, or rocketpy's one process
            for result, topics in zip(results, ((TOPIC_SEND,), ROUTE_MIX), strict=True):
                frames = [route_frame(topics[i % len(topics)], i + 1) for i in range(FRAMES)]
                pump([(addr, frames)] * args.connections, args, pids, result)
    except TargetError as exc:
        for result in results:
            result.error = result.error or str(exc)
    return results


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    try:
        java = require_tool("java")
        client_cp = bench_classpath()
        server_cp = reference_classpath() if "java" in targets else None
    except (BenchSetupError, InteropSetupError) as exc:
        print(f"bench_raw: cannot prepare the Java side: {exc}", file=sys.stderr)
        return 2
    settings = Settings(args.seconds, args.size, 1, tuple(targets), "ASYNC_FLUSH", False, False, brokers=args.brokers)
    ctx = Context(settings, java, client_cp, server_cp)
    if args.phase == "async":
        try:
            driver_cp = driver_classpath()
        except InteropSetupError as exc:
            print(f"bench_raw: cannot build interop/driver: {exc}", file=sys.stderr)
            return 2
        return report_async([measure_async(t, ctx, args, driver_cp) for t in targets], args)
    if args.phase == "route":
        return report_route([r for t in targets for r in measure_route(t, ctx, args)], args)
    print(_loadavg(), "at the start", flush=True)
    results = [measure(t, ctx, args) for t in targets]
    title = f"raw pipelined SEND_MESSAGE_V2: {args.connections} connections x {args.depth} deep, {args.size}-byte"
    if args.batch:
        title += f" bodies, written in blocks of {args.batch}; latency from a block's write to the read of its end"
    else:
        title += " bodies; latency from a frame's write to the read of its reply"
    if args.brokers is not None:
        title += f"; `rocketpy serve --brokers {args.brokers}`, connections round robin"
    return print_results(title, ("replies", "not SUCCESS"), results)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--seconds", type=int, default=20, help="measured window after a 3 s warm-up (20)")
    p.add_argument("--connections", type=int, default=4, help="sender connections (4)")
    p.add_argument("--phase", choices=("send", "route", "async"), default="send", help="send (default), route, async")
    p.add_argument("--depth", type=int, help=f"requests in flight per connection (256; route: {ROUTE_DEPTH})")
    p.add_argument("--size", type=int, default=128, help="message body size in bytes (128)")
    p.add_argument("--targets", default="java,rocketpy", help="comma-separated: java, rocketpy (both)")
    p.add_argument(
        "--batch", type=int, default=0, help="send: write blocks of B pre-encoded frames, count replies in bulk (off)"
    )
    p.add_argument(
        "--brokers",
        type=int,
        help="send, rocketpy target only: `rocketpy serve --brokers N`, connections spread round robin (the Java "
        "reference runs one broker)",
    )
    return p


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parse and check the options; the depth defaults by phase. --brokers and --batch apply to the send phase,
    --brokers > 1 to the rocketpy target alone."""
    p = build_parser()
    args = p.parse_args(argv)
    if args.depth is None:
        args.depth = ROUTE_DEPTH if args.phase == "route" else 256
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if not targets or any(t not in ("java", "rocketpy") for t in targets):
        p.error(f"--targets takes java and/or rocketpy, not {args.targets!r}")
    if min(args.seconds, args.connections, args.depth, args.size) < 1 or args.batch < 0:
        p.error("--seconds, --connections, --depth and --size must be positive, --batch not negative")
    if args.brokers is not None:
        if args.phase != "send":
            p.error("--brokers applies to the send phase only")
        if not 1 <= args.brokers <= 26:
            p.error("--brokers takes 1 to 26")
        if args.brokers > 1 and "java" in targets:
            p.error("--brokers > 1 needs --targets rocketpy: the Java reference runs one broker")
    if args.batch:
        if args.phase != "send":
            p.error("--batch applies to the send phase only")
        if args.depth % args.batch or args.depth < 2 * args.batch:
            p.error("--depth must be a multiple of --batch and at least twice it (blocks in flight)")
        if args.depth + args.batch > FRAMES:
            p.error(f"--depth + --batch must not exceed the {FRAMES} distinct opaques")
    return args


LATENCY_HEAD = f"{'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'max ms':>8}"


def latency_cells(lat: Latency | None) -> str:
    """The four percentile cells of a row (dashes without samples)."""
    if lat is None:
        return f"{'-':>8} {'-':>8} {'-':>9} {'-':>8}"
    return f"{lat.p50:>8.2f} {lat.p99:>8.2f} {lat.p999:>9.2f} {lat.max:>8.2f}"


def ratio_row(results: list[RawResult]) -> str | None:
    """rocketpy/java of TPS, CPU per message and each percentile, when both targets have figures."""
    by = {r.target: r for r in results if r.error is None}
    rp, java = by.get("rocketpy"), by.get("java")
    if rp is None or java is None:
        return None
    pairs = [(rp.tps, java.tps), (rp.cpu_us_per_msg, java.cpu_us_per_msg)]
    if rp.latency is not None and java.latency is not None:
        a, b = rp.latency, java.latency
        pairs += [(a.p50, b.p50), (a.p99, b.p99), (a.p999, b.p999), (a.max, b.max)]
    cells = [_ratio(x, y) for x, y in pairs] + ["-"] * (6 - len(pairs))
    widths = (10, 18, 8, 8, 9, 8)
    return f"{'rp/java':<10} " + " ".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True))


def cores_line(r: RawResult) -> str:
    """The sender's CPU per reply and every process's cores in the window, servers first."""
    cells = ", ".join(f"{label} {cores:.2f}" for label, cores in r.cores.items())
    sender = f"sender CPU {r.sender_cpu_us_per_msg:.2f} us/msg ({r.sender_sys_share:.0%} in the kernel)"
    idle = "" if r.machine_idle is None else f"; machine {os.cpu_count()} CPUs, {r.machine_idle:.0%} idle"
    return f"{sender}; cores used: {cells}{idle}"


def _ratio(numerator: float, denominator: float) -> str:
    value = ratio(numerator, denominator)
    return "n/a" if value is None else f"{value:.2f}"


def print_results(title: str, counts: tuple[str, str], results: list[RawResult]) -> int:
    """One row per target: TPS, server CPU per message, latency percentiles and the two counts, then the
    rocketpy/java ratios and the load average; the exit status (1 on any error)."""
    print(title)
    print(f"{'target':<10} {'TPS':>10} {'server CPU us/msg':>18} {LATENCY_HEAD} {counts[0]:>10} {counts[1]:>12}")
    for r in results:
        if r.error:
            print(f"{r.target:<10} ERROR: {r.error.splitlines()[0]}")
        else:
            print(
                f"{r.target:<10} {r.tps:>10,.0f} {r.cpu_us_per_msg:>18.1f} {latency_cells(r.latency)} "
                f"{r.replies:>10,} {r.failed:>12,}"
            )
    row = ratio_row(results)
    if row is not None:
        print(row)
    for r in results:
        if r.note:
            print(f"{r.target}: {r.note}")
        if r.error is None and r.cores:
            print(f"{r.target}: {cores_line(r)}")
    print(_loadavg())
    return 0 if all(r.error is None for r in results) else 1


ASYNC_WARMUP_S = 5  # client JIT and route lookups: progress lines before this are not measured


@dataclass(frozen=True)
class Mark:
    """One `progress` line of AsyncSendBench with the servers' CPU seconds and the time when it was read."""

    ok: int
    failed: int
    cpu: float | None
    at: float


def parse_progress(line: str) -> tuple[int, int] | None:
    """(ok, failed) of a `progress <ok> <failed> <ns>` line; None for any other line."""
    parts = line.split()
    if len(parts) == 4 and parts[0] == "progress" and parts[1].isdigit() and parts[2].isdigit():
        return int(parts[1]), int(parts[2])
    return None


def parse_latency(line: str) -> tuple[Latency | None, int] | None:
    """(percentiles in ms, samples not recorded) of a `latency <samples> <dropped> <p50> <p99> <p99.9> <max>` line
    (nanoseconds; percentiles None for 0 samples); None for any other line."""
    parts = line.split()
    if len(parts) != 7 or parts[0] != "latency" or not all(x.isdigit() for x in parts[1:]):
        return None
    samples, dropped, *ns = (int(x) for x in parts[1:])
    if samples == 0:
        return None, dropped
    p50, p99, p999, top = (x / 1e6 for x in ns)
    return Latency(p50, p99, p999, top, samples), dropped


def async_window(marks: list[Mark], warmup: int, result: RawResult) -> None:
    """Rate and server CPU per acknowledged message between the mark after `warmup` seconds and the last one."""
    if len(marks) <= warmup + 1:
        raise TargetError(f"AsyncSendBench printed {len(marks)} progress lines, fewer than the warm-up needs")
    first, last = marks[warmup], marks[-1]
    result.replies = last.ok - first.ok
    result.failed = last.failed
    if result.replies <= 0:
        raise TargetError(f"no send acknowledged SEND_OK in the window ({last.failed} failed)")
    result.tps = result.replies / (last.at - first.at)
    if first.cpu is not None and last.cpu is not None:
        result.cpu_us_per_msg = (last.cpu - first.cpu) * 1e6 / result.replies


def measure_async(target: str, ctx: Context, args: argparse.Namespace, driver_cp: str) -> RawResult:
    result = RawResult(target, label=f"{args.depth} in flight")
    try:
        with booted(target, ctx, "async") as (servers, workdir):
            pids = servers.pids()
            cmd = [
                ctx.java,
                *CLIENT_OPTS,
                f"-Duser.home={workdir}",
                "-cp",
                driver_cp,
                "rocketpy.interop.AsyncSendBench",
                *("--namesrv", servers.namesrv_addr, "--topic", TOPIC_SEND, "--inflight", str(args.depth)),
                *("--seconds", str(args.seconds + ASYNC_WARMUP_S), "--size", str(args.size)),
                *("--warmup", str(ASYNC_WARMUP_S)),
            ]
            marks: list[Mark] = []
            latency: tuple[Latency | None, int] | None = None
            with (workdir / "async-client.err").open("wb") as err:
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, cwd=workdir, text=True)
                try:
                    assert proc.stdout is not None
                    for line in proc.stdout:
                        progress = parse_progress(line)
                        if progress is not None:
                            marks.append(Mark(*progress, cpu_seconds(pids), time.monotonic()))
                        latency = parse_latency(line) or latency
                    proc.wait(30)
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait(10)
            if proc.returncode != 0:
                tail = (workdir / "async-client.err").read_text(errors="replace")[-2000:]
                raise TargetError(f"AsyncSendBench exited with {proc.returncode}: {tail}")
            async_window(marks, ASYNC_WARMUP_S, result)
            if latency is None:
                raise TargetError("AsyncSendBench printed no latency line")
            result.latency, dropped = latency
            if dropped:
                result.note = f"latency of the first {result.latency and result.latency.samples:,} sends only"
                result.note += f" ({dropped:,} more not recorded)"
    except TargetError as exc:
        result.error = str(exc)
    return result


def report_async(results: list[RawResult], args: argparse.Namespace) -> int:
    title = f"async send (4.9.8 DefaultMQProducer, send with callback): {args.depth} in flight, {args.size}-byte bodies"
    return print_results(title + "; latency from the send call to its callback", ("SEND_OK", "failed"), results)


def report_route(results: list[RawResult], args: argparse.Namespace) -> int:
    print(f"pipelined GET_ROUTEINFO_BY_TOPIC: {args.connections} connections x {args.depth} deep, {_loadavg()}")
    print(
        f"{'target':<10} {'topics':<12} {'QPS':>10} {'server CPU us/req':>18} {LATENCY_HEAD} {'replies':>10} "
        f"{'not SUCCESS':>12}"
    )
    for r in results:
        if r.error:
            print(f"{r.target:<10} {r.label:<12} ERROR: {r.error.splitlines()[0]}")
        else:
            print(
                f"{r.target:<10} {r.label:<12} {r.tps:>10,.0f} {r.cpu_us_per_msg:>18.1f} {latency_cells(r.latency)} "
                f"{r.replies:>10,} {r.failed:>12,}"
            )
    return 0 if all(r.error is None for r in results) else 1


def _loadavg() -> str:
    try:
        return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "load average unknown"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
