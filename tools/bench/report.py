"""docs/benchmarks.md: the machine, the settings, the exact command, the table and how to read it.

The whole document is generated (tools/bench_broker.py --write-doc), so the explanation of the method lives here,
next to the code that it describes.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from pathlib import Path

from tools.bench.results import TargetResult, render_markdown


def machine_info(java: str) -> dict[str, str]:
    """Cores, CPU model, RAM, kernel, `java -version` and the Python running the tool."""
    info = {"cores": str(os.cpu_count() or "?")}
    cpuinfo = _read("/proc/cpuinfo")
    model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo.splitlines() if ln.startswith("model name")), "")
    info["cpu"] = model or platform.processor() or "?"
    mem = next((ln.split()[1] for ln in _read("/proc/meminfo").splitlines() if ln.startswith("MemTotal:")), "")
    info["ram"] = f"{int(mem) / 1024 / 1024:.1f} GiB" if mem.isdigit() else "?"
    info["os"] = f"{platform.system()} {platform.release()}"
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30, check=False).stderr
        info["java"] = " / ".join(ln.strip() for ln in out.splitlines() if ln.strip())
    except OSError as exc:
        info["java"] = f"unavailable ({exc})"
    info["python"] = f"{platform.python_implementation()} {platform.python_version()}"
    info["rocketpy revision"] = _revision()
    info["load average (1, 5, 15 min) before the run"] = " ".join(_read("/proc/loadavg").split()[:3])
    return info


def _revision() -> str:
    """HEAD of the checkout the tool runs from, and whether uncommitted changes to rocketpy/ were measured too."""
    repo = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=30, check=False
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "rocketpy"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout.strip()
    except OSError:
        return "?"
    return f"{head or '?'}{' plus uncommitted changes under rocketpy/' if dirty else ''}"


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def doc_settings(
    seconds: int,
    windows: int,
    rounds: int,
    size: int,
    threads: int,
    flush: str,
    server_opts: list[str],
    client_opts: list[str],
    store: dict[str, str],
    queues: int,
) -> dict[str, str]:
    """The run's settings as the document lists them."""
    return {
        "phase length": f"{seconds} s requested, {windows} statistics window(s) of 10 s per phase",
        "rounds": f"{rounds} (targets alternate; medians of rates, latencies and start times, maxima of peaks)",
        "messages": f"{size}-byte bodies, {threads} producer threads, {queues} queues per topic",
        "flushDiskType": flush,
        "Java server JVM options": " ".join(server_opts),
        "benchmark client JVM options": " ".join(client_opts),
        "store settings (both targets)": ", ".join(f"{k}={v}" for k, v in store.items()),
    }


METHOD = """\
## How it is measured

- Load: `org.apache.rocketmq.example.benchmark.Producer` and `Consumer` from rocketmq-example 4.7.0 (the newest 4.x on
  Maven Central; there is no 4.9.x) running on the 4.9.8 client jars (`tools/bench/pom.xml`), unmodified, as JVMs.
- Java reference: the official 4.9.7 NameServer and Broker jars (the newest 4.9.x servers on Maven Central), two JVMs
  with the interop harness's small heaps. rocketpy: one `python -m rocketpy serve` process. Both get the same
  broker.conf (loopback address, the store settings above, a fresh store in a temporary directory).
- Launch to ready: from starting the first server process until every boot line (`The Name Server boot success`,
  `The broker[...] boot success`) has been printed and the NameServer and Broker ports accept connections.
  rocketpy's bytecode is compiled beforehand, as `pip install` does (an environment with PYTHONDONTWRITEBYTECODE
  would otherwise compile every module from source at each launch, as the JVM would if given .java files).
- Phase 1 (send): the Producer alone on topic `BenchSend` (created with `mqadmin updateTopic` beforehand, 8 queues; the
  tools' default `BenchmarkTest` is a built-in 1024-queue system topic on a 4.9.x broker).
  Phase 2 (mixed): the Consumer subscribes to `BenchMixed`, then a new Producer sends to it; the Consumer reads
  live messages, so its born-to-consume latency is meaningful, and consume TPS is bounded by the send rate.
- The tools print a line every 10 s computed over their last ten 1-second snapshots. Each figure is the mean over the
  windows of a phase, the first window (client start-up, JIT warm-up) dropped when a phase has more than one. Average
  RT is weighted by each window's TPS; "max RT" is the tool's own maximum since it started (warm-up included).
- Peak RSS: a thread samples VmRSS of the server processes (Java NameServer + Broker JVMs summed; the rocketpy
  process and any children) every 0.2 s from ready to stop; the largest sum is "sampled sum". "sum of VmHWM" adds the
  kernel's per-process high-water marks read just before stopping (it cannot miss a spike between samples, but may
  exceed any real instantaneous total). Memory-mapped store pages that were touched count as resident for both.
- The load generators share the machine with the server under test and nothing is pinned to a core: on a small
  machine the clients take a large share of the CPU. The figures compare the two servers under identical conditions
  on this machine; they are not capacities. Short runs are noisy; use `--seconds 60` or more for steadier figures.
- The 1-minute load average noted when each target starts includes the tail of the previous target's own run (the
  benchmark clients and server) as well as anything else running on the machine; with `--rounds` the targets
  alternate so that both meet similar background load, and the table gives medians over rounds.
"""


def render_doc(
    results: list[TargetResult], command: str, machine: dict[str, str], settings: dict[str, str], now: str = ""
) -> str:
    """The complete markdown document."""
    date = now or datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "# Benchmarks: rocketpy against the Java reference",
        "",
        "Generated by `tools/bench_broker.py --write-doc`; rerun the command below to refresh it. Ratios are "
        "rocketpy/Java: above 1 means rocketpy has more of it (good for TPS, bad for RT, memory and start time).",
        "",
        f"Date: {date}",
        "",
        "Command:",
        "",
        "```sh",
        command,
        "```",
        "",
        "## Results",
        "",
        render_markdown(results),
        "",
    ]
    problems = [(r.target, line) for r in results for line in ([r.error] if r.error else []) + r.notes]
    if problems:
        parts += ["Notes and problems (the machine may be shared: see the load averages):", ""]
        parts += [f"- {target}: {_first_lines(text)}" for target, text in problems]
        parts.append("")
    parts += ["## Machine", "", *(f"- {k}: {v}" for k, v in machine.items()), ""]
    parts += ["## Settings", "", *(f"- {k}: `{v}`" for k, v in settings.items()), ""]
    parts.append(METHOD)
    return "\n".join(parts)


def _first_lines(text: str, n: int = 3) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    short = " ".join(lines[:n])
    return short if len(lines) <= n else short + " ..."


KEPT_MARKER = "<!-- sections below this line are written by hand or by other tools; --write-doc keeps them -->"


def kept_sections(previous: str) -> str:
    """The part of the old docs/benchmarks.md below KEPT_MARKER (store figures and the like), marker included."""
    at = previous.find(KEPT_MARKER)
    return "" if at < 0 else "\n" + previous[at:]
