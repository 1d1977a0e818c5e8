#!/usr/bin/env python3
"""SYNC_MASTER against ASYNC_MASTER: send TPS and average RT of the official benchmark Producer against one broker
group (a master and its slave) of the Java reference (4.9.7) and of rocketpy, on this machine (issue 10).

    python tools/bench_ha.py [--seconds 20] [--size 128] [--threads 64] [--targets java,rocketpy]
                             [--roles SYNC_MASTER,ASYNC_MASTER] [--markdown]

Per target and role, in fresh temporary stores: a NameServer, a master with that brokerRole and a slave
(brokerId=1, brokerRole=SLAVE), all of the target's implementation (the Java servers with bench_broker.py's JVM
options and store geometry, rocketpy as `rocketpy namesrv` + two `rocketpy broker`); a topic of 8 queues created
on the master with mqadmin; the benchmark Producer alone for --seconds (its first 10 s window dropped as
warm-up). A SYNC_MASTER acknowledges a send only once the slave has it, so its RT carries a replication round trip.
Printed: TPS and average RT per target and role, the server CPU (utime+stime) per message of the master and of
the slave over the steady windows, the SYNC/ASYNC ratios per target and the rocketpy/Java ratios per
role; --markdown prints the section docs/benchmarks.md holds; --profile DIR records a py-spy flame graph of each
rocketpy master during the send phase. A tool, not a test: nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from interop.harness.build import REFERENCE_DIR, InteropSetupError, reference_classpath  # noqa: E402
from interop.harness.ports import free_broker_port, free_port  # noqa: E402
from interop.harness.processes import BROKER_BOOT, NAMESRV_BOOT, ServerProcess, broker_conf  # noqa: E402
from tools.bench.procs import BenchSetupError, bench_classpath, cpu_seconds, require_tool, wait_until  # noqa: E402
from tools.bench.results import (  # noqa: E402
    SendSummary,
    cpu_per_message_us,
    parse_producer_output,
    ratio,
    summarise_send,
)
from tools.bench_broker import (  # noqa: E402
    CLIENT_OPTS,
    JAVA_SERVER_OPTS,
    STORE_DEFAULTS,
    Client,
    Context,
    Settings,
    TargetError,
    _await_ready,
    _loadavg,
    _spawn,
    start_client,
)

TOPIC, QUEUES = "BenchHa", 8
ROLES = ("SYNC_MASTER", "ASYNC_MASTER")
# Smaller commit-log files than the Java default 1 GiB: two stores per run, and the runs are short.
STORE = {**STORE_DEFAULTS, "mappedFileSizeCommitLog": str(256 * 1024 * 1024)}
# As in the interop harness: a loaded machine must not turn a SYNC_MASTER's queued sends into flow control.
HA_CONF = {"waitTimeMillsInSendQueue": "10000"}


@dataclass
class Group:
    namesrv_addr: str
    master_addr: str
    processes: list[ServerProcess]

    def stop(self) -> None:
        for server in reversed(self.processes):
            server.stop(grace=5.0)


@dataclass
class Result:
    target: str
    role: str
    send: SendSummary | None = None
    load: str = "?"
    master_cpu_us: float | None = None  # server CPU per message, master and slave processes
    slave_cpu_us: float | None = None
    error: str | None = None


def _java_server(ctx: Context, main: str, home: Path, args: list[str]) -> list[str]:
    assert ctx.server_cp is not None
    return [ctx.java, *JAVA_SERVER_OPTS, f"-Duser.home={home}", f"-Drocketmq.home.dir={REFERENCE_DIR}", "-cp",
            ctx.server_cp, main, *args]  # fmt: skip


def _rocketpy_env(home: Path) -> dict[str, str]:
    return {**os.environ, "HOME": str(home), "ROCKETMQ_HOME": str(REFERENCE_DIR), "PYTHONUNBUFFERED": "1"}


def start_group(ctx: Context, target: str, role: str, workdir: Path) -> Group:
    """NameServer, master (`role`) and slave of `target`, ready when every boot line is printed and ports accept."""
    ns_port = free_port()
    ns_addr = f"127.0.0.1:{ns_port}"
    group = Group(ns_addr, "", [])
    try:
        home = workdir / "namesrv"
        if target == "java":
            props = home / "namesrv" / "namesrv.properties"
            props.parent.mkdir(parents=True, exist_ok=True)
            props.write_text(f"listenPort={ns_port}\n")
            cmd = _java_server(ctx, "org.apache.rocketmq.namesrv.NamesrvStartup", home, ["-c", str(props)])
            server = _spawn("java-namesrv", cmd, home, ns_addr)
        else:
            cmd = [sys.executable, "-m", "rocketpy", "namesrv", f"--listenPort={ns_port}"]
            server = _spawn("rocketpy-namesrv", cmd, home, ns_addr, env=_rocketpy_env(home))
        group.processes.append(server)
        _await_ready(server, [NAMESRV_BOOT], [ns_port])
        for name, extra in (("master", {"brokerRole": role}), ("slave", {"brokerId": "1", "brokerRole": "SLAVE"})):
            port = free_broker_port()
            bdir = workdir / name
            conf = broker_conf(bdir, port, "DefaultCluster", "broker-a", extra={**STORE, **HA_CONF, **extra})
            if target == "java":
                args = ["-n", ns_addr, "-c", str(conf)]
                cmd = _java_server(ctx, "org.apache.rocketmq.broker.BrokerStartup", bdir, args)
                server = _spawn(f"java-{name}", cmd, bdir, f"127.0.0.1:{port}")
            else:
                cmd = [sys.executable, "-m", "rocketpy", "broker", "-n", ns_addr, "-c", str(conf)]
                server = _spawn(f"rocketpy-{name}", cmd, bdir, f"127.0.0.1:{port}", env=_rocketpy_env(bdir))
            group.processes.append(server)
            _await_ready(server, [BROKER_BOOT], [port])
            if name == "master":
                group.master_addr = server.addr
    except BaseException:
        group.stop()
        raise
    return group


def _wait_cpu_marks(ctx: Context, producer: Client, pids: list[int]) -> list[tuple[int, float, float]]:
    """Until the Producer printed the phase's statistics lines: (lines seen, master CPU s, slave CPU s) at each
    new line, for the CPU cost per message of each server."""
    want = ctx.settings.windows
    marks: list[tuple[int, float, float]] = []

    def done() -> bool:
        seen = len(parse_producer_output(producer.text()))
        if seen and (not marks or marks[-1][0] != seen):
            cpu = [cpu_seconds([pid]) for pid in pids]
            if None not in cpu:
                marks.append((seen, cpu[0] or 0.0, cpu[1] or 0.0))
        return seen >= want

    wait_until(done, timeout=10.0 * want + 45.0, alive=producer.alive, interval=0.2)
    return marks


def _profile(pid: int, out: Path, seconds: int) -> subprocess.Popen[bytes] | None:
    """py-spy on the master for the send phase (None when py-spy is not installed)."""
    spy = shutil.which("py-spy")
    if spy is None:
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [spy, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "200", "-o", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_one(ctx: Context, target: str, role: str, profile: Path | None = None) -> Result:
    result = Result(target, role, load=_loadavg())
    workdir = Path(tempfile.mkdtemp(prefix=f"rocketpy-bench-ha-{target}-{role}-"))
    try:
        group = start_group(ctx, target, role, workdir)
        try:
            args = ["org.apache.rocketmq.tools.command.MQAdminStartup", "updateTopic", "-n", group.namesrv_addr,
                    "-b", group.master_addr, "-t", TOPIC, "-r", str(QUEUES), "-w", str(QUEUES)]  # fmt: skip
            admin = start_client(ctx, "mqadmin", args, workdir)
            admin.proc.wait(60)
            if "success" not in admin.text():
                raise TargetError(f"mqadmin updateTopic failed:\n{admin.text()[-2000:]}")
            time.sleep(6)  # the slave's HA client connects within 5 s of learning the master's address
            s = ctx.settings
            producer_args = ["org.apache.rocketmq.example.benchmark.Producer", "-n", group.namesrv_addr, "-t", TOPIC,
                             "-w", str(s.threads), "-s", str(s.size)]  # fmt: skip
            producer = start_client(ctx, "producer", producer_args, workdir)
            master, slave = (p.proc.pid for p in group.processes[1:3])
            spy = None
            if profile is not None and target == "rocketpy":
                spy = _profile(master, profile / f"{target}-{role}.svg", s.seconds)
            try:
                marks = _wait_cpu_marks(ctx, producer, [master, slave])
            finally:
                producer.stop()
                if spy is not None:
                    spy.wait(60)
            windows = parse_producer_output(producer.text())
            result.send = summarise_send(windows)
            tps = [w.tps for w in windows]
            result.master_cpu_us = cpu_per_message_us([(n, m) for n, m, _ in marks], tps)
            result.slave_cpu_us = cpu_per_message_us([(n, sl) for n, _, sl in marks], tps)
            if result.send is None:
                raise TargetError(f"no statistics line from the Producer:\n{producer.text()[-2000:]}")
        finally:
            group.stop()
    except TargetError as exc:
        result.error = str(exc)
        print(f"[{target} {role}] FAILED: {exc}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return result


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render(results: list[Result], markdown: bool) -> str:
    by = {(r.target, r.role): r for r in results}
    rows = [["target", "role", "send TPS", "avg RT ms", "max RT ms", "failed", "master CPU us/msg",
             "slave CPU us/msg", "load (1 min)"]]  # fmt: skip
    for r in results:
        s = r.send
        rows.append([r.target, r.role, _fmt(s.tps if s else None, 0), _fmt(s.avg_rt_ms if s else None),
                     str(s.max_rt_ms) if s else "-", str(s.failed) if s else "-", _fmt(r.master_cpu_us, 1),
                     _fmt(r.slave_cpu_us, 1), r.load])  # fmt: skip
    ratios = [["ratio", "send TPS", "avg RT"]]
    targets = sorted({r.target for r in results})
    for t in targets:
        sync, asy = by.get((t, "SYNC_MASTER")), by.get((t, "ASYNC_MASTER"))
        if sync and asy and sync.send and asy.send:
            ratios.append([f"{t} SYNC/ASYNC", _fmt(ratio(sync.send.tps, asy.send.tps)),
                           _fmt(ratio(sync.send.avg_rt_ms, asy.send.avg_rt_ms))])  # fmt: skip
    for role in ROLES:
        rp, java = by.get(("rocketpy", role)), by.get(("java", role))
        if rp and java and rp.send and java.send:
            ratios.append([f"{role} rocketpy/Java", _fmt(ratio(rp.send.tps, java.send.tps)),
                           _fmt(ratio(rp.send.avg_rt_ms, java.send.avg_rt_ms))])  # fmt: skip
    out = []
    for table in (rows, ratios):
        if markdown:
            out.append("| " + " | ".join(table[0]) + " |")
            out.append("|" + "---|" * len(table[0]))
            out += ["| " + " | ".join(row) + " |" for row in table[1:]]
        else:
            widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
            out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in table]
        out.append("")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--seconds", type=int, default=20, help="length of the send phase, in 10 s windows (20)")
    p.add_argument("--size", type=int, default=128, help="message body size in bytes (128)")
    p.add_argument("--threads", type=int, default=64, help="producer send threads (64)")
    p.add_argument("--targets", default="java,rocketpy")
    p.add_argument("--roles", default=",".join(ROLES))
    p.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    p.add_argument("--profile", type=Path, help="directory for py-spy flame graphs of the rocketpy masters")
    a = p.parse_args(argv)
    targets = tuple(t for t in a.targets.split(",") if t)
    roles = tuple(r for r in a.roles.split(",") if r)
    if not set(targets) <= {"java", "rocketpy"} or not set(roles) <= set(ROLES):
        p.error("--targets takes java/rocketpy, --roles SYNC_MASTER/ASYNC_MASTER")
    settings = Settings(a.seconds, a.size, a.threads, targets, "ASYNC_FLUSH", False, False)
    try:
        java = require_tool("java")
        ctx = Context(settings, java, bench_classpath(), reference_classpath() if "java" in targets else None)
    except (BenchSetupError, InteropSetupError) as exc:
        print(f"bench_ha: cannot prepare the Java side: {exc}", file=sys.stderr)
        return 2
    results = []
    for role in roles:  # interleaved, so that background load hits both targets alike
        for target in targets:
            print(f"[{target} {role}] ...", file=sys.stderr, flush=True)
            results.append(run_one(ctx, target, role, a.profile))
    print("python tools/bench_ha.py " + shlex.join(argv))
    print(f"JVM options of the Java servers: {' '.join(JAVA_SERVER_OPTS)}; clients: {' '.join(CLIENT_OPTS)}")
    print(render(results, a.markdown))
    return 0 if all(r.error is None for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
