#!/usr/bin/env python3
"""Side-by-side benchmark: the official RocketMQ benchmark Producer and Consumer against rocketpy and against the
Java reference (4.9.7 NameServer + Broker from Maven Central) on this machine, in one run.

    python tools/bench_broker.py [--seconds 20] [--size 128] [--threads 64] [--targets java,rocketpy]
                                 [--flush ASYNC_FLUSH|SYNC_FLUSH] [--brokers N] [--write-doc] [--keep]

--brokers N runs rocketpy as `rocketpy serve --brokers N` (N broker processes in one cluster, the topics created
on the cluster with `mqadmin updateTopic -c`, 8 queues on each broker) and counts the CPU of every process.

Per target, in a fresh temporary store: start the server(s) and time launch-to-ready (boot lines printed and ports
accepting), create two topics with mqadmin, then
  phase 1 "send":  the benchmark Producer alone for --seconds  -> send TPS, average and max RT;
  phase 2 "mixed": the benchmark Consumer, then a Producer on a second topic, together for --seconds
                   -> consume TPS and born-to-consume latency of live messages (and the send TPS alongside);
while a thread samples the servers' resident memory. Then everything is stopped and a table is printed with the
ratios rocketpy/Java; --write-doc also writes docs/benchmarks.md. The load generators are JVMs on the same machine:
the figures compare the two servers under identical conditions, they are not absolute capacities.
This is a tool, not a test: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from interop.harness.build import REFERENCE_DIR, InteropSetupError, reference_classpath  # noqa: E402
from interop.harness.ports import free_broker_port, free_port  # noqa: E402
from interop.harness.processes import (  # noqa: E402
    BROKER_BOOT,
    NAMESRV_BOOT,
    SERVER_JVM_OPTS,
    ServerProcess,
    broker_conf,
)
from tools.bench import report  # noqa: E402
from tools.bench.procs import (  # noqa: E402
    BenchSetupError,
    RssSampler,
    bench_classpath,
    cpu_seconds,
    port_accepts,
    require_tool,
    wait_until,
)
from tools.bench.results import (  # noqa: E402
    TargetResult,
    combine_rounds,
    cpu_per_message_us,
    parse_consumer_output,
    parse_producer_output,
    render_text,
    send_failure_reasons,
    summarise_consume,
    summarise_send,
)

PRODUCER = "org.apache.rocketmq.example.benchmark.Producer"
CONSUMER = "org.apache.rocketmq.example.benchmark.Consumer"
MQADMIN = "org.apache.rocketmq.tools.command.MQAdminStartup"
# Not "BenchmarkTest", the tools' default: a 4.9.x broker reserves it as a system topic (1024 queues, built in)
# and mqadmin updateTopic refuses it.
TOPIC_SEND, TOPIC_MIXED, QUEUES = "BenchSend", "BenchMixed", 8
CLUSTER, BROKER_NAME = "DefaultCluster", "broker-a"
READY_TIMEOUT_S = 60.0

# The interop harness's JVM options (small heaps, serial GC) minus C1-only compilation: that speeds up the
# harness's short-lived servers but would handicap the reference in a throughput benchmark.
JAVA_SERVER_OPTS = [o for o in SERVER_JVM_OPTS if not o.startswith("-XX:TieredStopAtLevel")]
CLIENT_OPTS = ["-Xms256m", "-Xmx1g", "-Duser.language=en", "-Duser.country=US"]

# Store geometry: the Java defaults (what an out-of-the-box broker uses), not the harness's tiny files.
STORE_DEFAULTS = {
    "mappedFileSizeCommitLog": str(1024 * 1024 * 1024),
    "mappedFileSizeConsumeQueue": str(300000 * 20),
    "maxHashSlotNum": "5000000",
    "maxIndexNum": "20000000",
}


class TargetError(RuntimeError):
    """One target could not be measured; the message says why and quotes the relevant output."""


@dataclass(frozen=True)
class Settings:
    seconds: int
    size: int
    threads: int
    targets: tuple[str, ...]
    flush: str
    write_doc: bool
    keep: bool
    rounds: int = 1
    brokers: int | None = None  # rocketpy: `serve --brokers N` instead of the one-process `serve`

    @property
    def windows(self) -> int:
        """How many 10-second statistics lines each phase waits for."""
        return max(1, math.ceil(self.seconds / 10))


@dataclass
class Servers:
    namesrv_addr: str
    broker_addr: str
    processes: list[ServerProcess] = field(default_factory=list)
    ready_times: list[str] = field(default_factory=list)
    cluster: bool = False  # several brokers: topics are created with -c
    broker_addrs: list[str] = field(default_factory=list)  # every broker's address (`serve --brokers N`)

    def pids(self) -> list[int]:
        """The server processes and their children (the brokers of `serve --brokers N`)."""
        pids = [s.proc.pid for s in self.processes]
        return pids + [c for p in pids for c in _children(p)]

    def stop(self) -> None:
        for server in reversed(self.processes):
            server.stop(grace=5.0)


def _children(pid: int) -> list[int]:
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        return [int(c) for t in tasks for c in (t / "children").read_text().split()]
    except OSError:
        return []


@dataclass
class Context:
    settings: Settings
    java: str
    client_cp: str
    server_cp: str | None


# ---------------------------------------------------------------- servers


def _spawn(name: str, cmd: list[str], workdir: Path, addr: str, env: dict[str, str] | None = None) -> ServerProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{name}.out"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir, env=env
        )
    return ServerProcess(name=name, proc=proc, log_path=log_path, addr=addr)


def _await_ready(server: ServerProcess, markers: list[str], ports: list[int]) -> float:
    """Seconds until `server` printed every marker and accepts on every port; TargetError if it never does."""

    def ready() -> bool:
        text = server.output(limit=1 << 20)
        return all(m in text for m in markers) and all(port_accepts(p) for p in ports)

    t0 = time.monotonic()
    if not wait_until(ready, READY_TIMEOUT_S, alive=lambda: server.proc.poll() is None):
        code = server.proc.poll()
        state = f"exited with code {code}" if code is not None else "still running"
        missing = [m for m in markers if m not in server.output(limit=1 << 20)]
        closed = [p for p in ports if not port_accepts(p)]
        raise TargetError(
            f"{server.name} not ready ({state} after {time.monotonic() - t0:.1f}s); boot lines missing: {missing}, "
            f"ports not accepting: {closed}; last output:\n{server.output(3000)}"
        )
    return time.monotonic() - t0


def _conf(workdir: Path, port: int, flush: str) -> Path:
    return broker_conf(workdir, port, CLUSTER, BROKER_NAME, extra={**STORE_DEFAULTS, "flushDiskType": flush})


def start_java(ctx: Context, workdir: Path) -> Servers:
    """Official 4.9.7 NameServer and Broker as two JVMs; ready when both printed their boot line and accept."""
    assert ctx.server_cp is not None
    ns_port = free_port()
    home = workdir / "namesrv"
    props = home / "namesrv" / "namesrv.properties"
    props.parent.mkdir(parents=True, exist_ok=True)
    props.write_text(f"listenPort={ns_port}\n")
    jvm = [ctx.java, *JAVA_SERVER_OPTS, f"-Drocketmq.home.dir={REFERENCE_DIR}", "-cp", ctx.server_cp]
    ns_cmd = [*jvm, f"-Duser.home={home}", "org.apache.rocketmq.namesrv.NamesrvStartup", "-c", str(props)]
    servers = Servers(namesrv_addr=f"127.0.0.1:{ns_port}", broker_addr="")
    servers.processes.append(_spawn("java-namesrv", ns_cmd, home, servers.namesrv_addr))
    try:
        waited = _await_ready(servers.processes[0], [NAMESRV_BOOT], [ns_port])
        servers.ready_times.append(f"NameServer JVM ready {waited:.2f}s after its launch")
        br_port = free_broker_port()
        bdir = workdir / "broker"
        conf = _conf(bdir, br_port, ctx.settings.flush)
        br_cmd = [
            *jvm,
            f"-Duser.home={bdir}",
            "org.apache.rocketmq.broker.BrokerStartup",
            "-n",
            servers.namesrv_addr,
            "-c",
            str(conf),
        ]
        servers.broker_addr = f"127.0.0.1:{br_port}"
        servers.broker_addrs = [servers.broker_addr]
        servers.processes.append(_spawn("java-broker", br_cmd, bdir, servers.broker_addr))
        waited = _await_ready(servers.processes[1], [BROKER_BOOT], [br_port])
        servers.ready_times.append(f"Broker JVM ready {waited:.2f}s after its launch")
    except BaseException:
        servers.stop()
        raise
    return servers


def _cluster_base_port(n: int) -> int:
    """A listenPort P whose ports P-2..P+1 + 10*i are free for broker i < n."""
    while True:
        port = free_broker_port()
        if all(free_port_is(port + 10 * i + d) for i in range(1, n) for d in (-2, -1, 0, 1)):
            return port


def free_port_is(port: int) -> bool:
    return not port_accepts(port)


def start_rocketpy(ctx: Context, workdir: Path) -> Servers:
    """`python -m rocketpy serve` (or `serve --brokers N`): ready when every boot line is printed and every
    port accepts."""
    n = ctx.settings.brokers
    ns_port, br_port = free_port(), (free_broker_port() if n is None else _cluster_base_port(n))
    conf = _conf(workdir, br_port, ctx.settings.flush)
    cmd = [
        sys.executable,
        "-m",
        "rocketpy",
        "serve",
        "-c",
        str(conf),
        f"--namesrv-port={ns_port}",
        f"--listenPort={br_port}",
        f"--storePathRootDir={workdir / 'store'}",
    ]
    ports = [ns_port, br_port]
    markers = [NAMESRV_BOOT, BROKER_BOOT]
    if n is not None:
        cmd.append(f"--brokers={n}")
        ports = [ns_port, *(br_port + 10 * i for i in range(n))]
        markers = [NAMESRV_BOOT, *(f"The broker[broker-{chr(ord('a') + i)}," for i in range(n))]
    env = {**os.environ, "HOME": str(workdir), "ROCKETMQ_HOME": str(REFERENCE_DIR), "PYTHONUNBUFFERED": "1"}
    server = _spawn("rocketpy-serve", cmd, workdir, f"127.0.0.1:{br_port}", env=env)
    servers = Servers(f"127.0.0.1:{ns_port}", f"127.0.0.1:{br_port}", [server], cluster=n is not None)
    servers.broker_addrs = [f"127.0.0.1:{p}" for p in ports[1:]]
    try:
        _await_ready(server, markers, ports)
    except TargetError as exc:
        servers.stop()
        raise TargetError(f"`rocketpy serve` did not start a working NameServer + Broker: {exc}") from None
    except BaseException:
        servers.stop()
        raise
    return servers


# ---------------------------------------------------------------- clients


@dataclass
class Client:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    def text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def start_client(ctx: Context, name: str, args: list[str], workdir: Path) -> Client:
    home = workdir / "clients"
    home.mkdir(parents=True, exist_ok=True)
    cmd = [
        ctx.java,
        *CLIENT_OPTS,
        f"-Duser.home={home}",
        f"-Drocketmq.home.dir={REFERENCE_DIR}",
        f"-Dlogback.configurationFile={REFERENCE_DIR / 'conf' / 'logback_tools.xml'}",
        "-cp",
        ctx.client_cp,
        *args,
    ]
    log_path = home / f"{name}.out"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=home)
    return Client(name, proc, log_path)


def create_topics(ctx: Context, servers: Servers, workdir: Path) -> None:
    """mqadmin updateTopic (4.9.8 tools) for both topics, straight to the broker (or with -c to every broker of
    the cluster), 8 read and write queues."""
    for topic in (TOPIC_SEND, TOPIC_MIXED):
        args = [
            MQADMIN,
            "updateTopic",
            "-n",
            servers.namesrv_addr,
            *(["-c", CLUSTER] if servers.cluster else ["-b", servers.broker_addr]),
            "-t",
            topic,
            "-r",
            str(QUEUES),
            "-w",
            str(QUEUES),
        ]
        client = start_client(ctx, f"mqadmin-{topic}", args, workdir)
        try:
            client.proc.wait(60)
        except subprocess.TimeoutExpired:
            client.stop()
        text = client.text()
        if client.proc.returncode != 0 or "success" not in text:
            raise TargetError(f"mqadmin updateTopic {topic} failed (exit {client.proc.returncode}):\n{text[-3000:]}")


def _producer_args(ctx: Context, servers: Servers, topic: str) -> list[str]:
    s = ctx.settings
    return [PRODUCER, "-n", servers.namesrv_addr, "-t", topic, "-w", str(s.threads), "-s", str(s.size)]


def _wait_windows(ctx: Context, clients: list[tuple[Client, bool]], pids: list[int]) -> list[tuple[int, float]]:
    """Until every client printed the phase's number of statistics lines (or one died, or time ran out). Returns
    (lines seen, server CPU seconds) for each new line of the first client, for the CPU cost per message."""
    want = ctx.settings.windows
    marks: list[tuple[int, float]] = []

    def count(client: Client, is_consumer: bool) -> int:
        parse = parse_consumer_output if is_consumer else parse_producer_output
        return len(parse(client.text()))

    def done() -> bool:
        seen = count(*clients[0])
        if seen and (not marks or marks[-1][0] != seen):
            cpu = cpu_seconds(pids)
            if cpu is not None:
                marks.append((seen, cpu))
        return all(count(c, k) >= want for c, k in clients)

    wait_until(done, timeout=10.0 * want + 45.0, alive=lambda: all(c.alive() for c, _ in clients), interval=0.2)
    return marks


def phase_send(ctx: Context, servers: Servers, workdir: Path, result: TargetResult) -> None:
    producer = start_client(ctx, "producer-send", _producer_args(ctx, servers, TOPIC_SEND), workdir)
    try:
        marks = _wait_windows(ctx, [(producer, False)], servers.pids())
    finally:
        producer.stop()
    windows = parse_producer_output(producer.text())
    result.send = summarise_send(windows)
    result.send_cpu_us = cpu_per_message_us(marks, [w.tps for w in windows])
    if result.send is None:
        raise TargetError(f"the benchmark Producer printed no statistics line; its output:\n{producer.text()[-3000:]}")
    if result.send.failed:
        log = workdir / "clients" / "logs" / "rocketmqlogs" / "rocketmq_client.log"
        reasons = send_failure_reasons(log.read_text(errors="replace")) if log.exists() else {}
        why = "; ".join(f"{n} x {reason}" for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:3])
        result.notes.append(f"send phase: {result.send.failed} failed sends ({why or 'reason not logged'})")


def phase_mixed(ctx: Context, servers: Servers, workdir: Path, result: TargetResult) -> None:
    consumer_args = [CONSUMER, "-n", servers.namesrv_addr, "-t", TOPIC_MIXED, "-g", "benchmark_consumer"]
    consumer = start_client(ctx, "consumer-mixed", consumer_args, workdir)
    producer: Client | None = None
    marks: list[tuple[int, float]] = []
    try:
        if not wait_until(lambda: "Consumer Started." in consumer.text(), 60.0, consumer.alive):
            raise TargetError(f"the benchmark Consumer did not start; its output:\n{consumer.text()[-3000:]}")
        producer = start_client(ctx, "producer-mixed", _producer_args(ctx, servers, TOPIC_MIXED), workdir)
        marks = _wait_windows(ctx, [(consumer, True), (producer, False)], servers.pids())
    finally:
        for client in (producer, consumer):
            if client is not None:
                client.stop()
    assert producer is not None
    result.mixed_send = summarise_send(parse_producer_output(producer.text()))
    consumed = parse_consumer_output(consumer.text())
    result.consume = summarise_consume(consumed)
    # every consumed message was also sent in this phase: the server's cost of carrying one message through
    result.mixed_cpu_us = cpu_per_message_us(marks, [w.tps for w in consumed])
    if result.consume is None:
        raise TargetError(f"the benchmark Consumer printed no statistics line; its output:\n{consumer.text()[-3000:]}")


# ---------------------------------------------------------------- one target


def run_target(ctx: Context, target: str) -> TargetResult:
    result = TargetResult(target=target)
    result.notes.append(f"1-min load average when it started: {_loadavg()}")
    workdir = Path(tempfile.mkdtemp(prefix=f"rocketpy-bench-{target}-"))
    start = start_java if target == "java" else start_rocketpy
    try:
        t0 = time.monotonic()
        servers = start(ctx, workdir)
        result.ready_s = time.monotonic() - t0
        result.notes += servers.ready_times
        _log(
            f"[{target}] ready in {result.ready_s:.2f}s (namesrv {servers.namesrv_addr}, broker {servers.broker_addr})"
        )
        sampler = RssSampler(servers.pids())
        sampler.start()
        try:
            create_topics(ctx, servers, workdir)
            _log(f"[{target}] phase 1: Producer alone ({ctx.settings.windows} x 10 s windows)")
            phase_send(ctx, servers, workdir, result)
            _log(f"[{target}] phase 2: Consumer + Producer")
            phase_mixed(ctx, servers, workdir, result)
        finally:
            sampler.stop()
            result.peak_rss_kb, result.peak_hwm_kb = sampler.peak_kb, sampler.hwm_kb()
            servers.stop()
    except TargetError as exc:
        result.error = str(exc)
        _log(f"[{target}] FAILED: {exc}")
    finally:
        if ctx.settings.keep:
            _log(f"[{target}] work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return result


def _loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except (OSError, IndexError):
        return "?"


def run_all(ctx: Context) -> list[TargetResult]:
    """Targets interleaved round by round (so that background load hits both alike), then combined per target.
    A target whose servers never became ready is not retried in later rounds."""
    rounds: dict[str, list[TargetResult]] = {t: [] for t in ctx.settings.targets}
    for n in range(1, ctx.settings.rounds + 1):
        for target, done in rounds.items():
            if done and done[-1].ready_s is None:
                continue
            if ctx.settings.rounds > 1:
                _log(f"[{target}] round {n}/{ctx.settings.rounds}")
            done.append(run_target(ctx, target))
    return [combine_rounds(r) for r in rounds.values()]


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def parse_args(argv: list[str]) -> Settings:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--seconds", type=int, default=20, help="length of each phase, rounded up to 10 s windows (20)")
    p.add_argument("--size", type=int, default=128, help="message body size in bytes (128, the tool's default)")
    p.add_argument("--threads", type=int, default=64, help="producer send threads (64, the tool's default)")
    p.add_argument("--targets", default="java,rocketpy", help="comma-separated: java, rocketpy (both)")
    p.add_argument("--flush", default="ASYNC_FLUSH", choices=["ASYNC_FLUSH", "SYNC_FLUSH"], help="flushDiskType")
    p.add_argument("--rounds", type=int, default=1, help="repeat java/rocketpy alternately, report medians (1)")
    p.add_argument("--brokers", type=int, help="rocketpy: `serve --brokers N` (N broker processes, one cluster)")
    p.add_argument("--write-doc", action="store_true", help="write docs/benchmarks.md with the results")
    p.add_argument("--keep", action="store_true", help="keep the work directories (logs, stores)")
    a = p.parse_args(argv)
    targets = tuple(t.strip() for t in a.targets.split(",") if t.strip())
    bad = [t for t in targets if t not in ("java", "rocketpy")]
    if bad or not targets:
        p.error(f"--targets takes java and/or rocketpy, not {a.targets!r}")
    if min(a.seconds, a.size, a.threads, a.rounds) < 1:
        p.error("--seconds, --size, --threads and --rounds must be positive")
    if a.brokers is not None and a.brokers < 1:
        p.error("--brokers must be positive")
    return Settings(a.seconds, a.size, a.threads, targets, a.flush, a.write_doc, a.keep, a.rounds, a.brokers)


def compile_bytecode() -> None:
    """rocketpy's .pyc files next to its sources, as `pip install` writes them: the launch is timed as installed,
    not with every module compiled from source (which PYTHONDONTWRITEBYTECODE would cause at each launch)."""
    import compileall

    if not compileall.compile_dir(REPO / "rocketpy", quiet=1):
        _log("bench_broker: some rocketpy modules did not compile; the launch includes compiling them")


def main(argv: list[str]) -> int:
    settings = parse_args(argv)
    if "rocketpy" in settings.targets:
        compile_bytecode()
    try:
        java = require_tool("java")
        client_cp = bench_classpath()
        server_cp = reference_classpath() if "java" in settings.targets else None
    except (BenchSetupError, InteropSetupError) as exc:
        _log(f"bench_broker: cannot prepare the Java side: {exc}")
        return 2
    ctx = Context(settings, java, client_cp, server_cp)
    machine = report.machine_info(java)  # before the run: its load average says how busy the machine already was
    results = run_all(ctx)
    print(render_text(results))
    for r in results:
        for line in ([f"ERROR: {r.error.splitlines()[0]}"] if r.error else []) + r.notes:
            print(f"[{r.target}] {line}")
    if settings.write_doc:
        command = "python tools/bench_broker.py " + shlex.join(argv)
        path = REPO / "docs" / "benchmarks.md"
        previous = path.read_text() if path.exists() else ""
        path.write_text(
            report.render_doc(
                results,
                command.strip(),
                machine,
                report.doc_settings(
                    settings.seconds,
                    settings.windows,
                    settings.rounds,
                    settings.size,
                    settings.threads,
                    settings.flush,
                    JAVA_SERVER_OPTS,
                    CLIENT_OPTS,
                    STORE_DEFAULTS,
                    QUEUES,
                ),
            )
        )
        path.write_text(path.read_text() + report.kept_sections(previous))
        _log(f"wrote {path}")
    return 0 if all(r.error is None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
