"""Process plumbing for the benchmark: resolve the benchmark clients' classpath, sample server memory, wait for
ports and output lines. Kept apart from tools/bench_broker.py so that the orchestration reads as the steps it takes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tools.bench.results import parse_proc_status

BENCH_DIR = Path(__file__).resolve().parent
CACHE_DIR = Path(tempfile.gettempdir()) / "rocketpy-bench"


class BenchSetupError(RuntimeError):
    """The benchmark cannot run at all (no java/mvn, Maven failure)."""


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BenchSetupError(f"`{name}` is not on PATH: the benchmark needs a JDK (17) and Maven with Maven Central")
    return path


def bench_classpath() -> str:
    """Classpath of rocketmq-example 4.7.0 (benchmark Producer/Consumer) over the 4.9.8 client and tools jars.

    Resolved with `mvn dependency:build-classpath` once per pom content and cached in the system temp directory.
    """
    pom = BENCH_DIR / "pom.xml"
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:16]
    cp_file = CACHE_DIR / f"classpath-{digest}.txt"
    if cp_file.is_file():
        entries = [e for e in cp_file.read_text().strip().split(os.pathsep) if e]
        if entries and all(Path(e).exists() for e in entries):
            return os.pathsep.join(entries)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    tmp = cp_file.with_suffix(".tmp")
    cmd = [require_tool("mvn"), "-q", "-B", "dependency:build-classpath", f"-Dmdep.outputFile={tmp}"]
    proc = subprocess.run(cmd, cwd=BENCH_DIR, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        raise BenchSetupError(
            f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        )
    tmp.replace(cp_file)
    return cp_file.read_text().strip()


def cpu_seconds(pids: list[int]) -> float | None:
    """utime + stime of the processes (all their threads), from /proc/<pid>/stat; None if one is gone."""
    total = 0
    try:
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None
    return total / os.sysconf("SC_CLK_TCK")


def port_accepts(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], bool], timeout: float, alive: Callable[[], bool], interval: float = 0.02) -> bool:
    """Poll `check` until it holds (True), the deadline passes or `alive` turns False (both False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        if not alive():
            return check()
        time.sleep(interval)
    return False


def process_tree(pid: int) -> list[int]:
    """`pid` and its descendants (via /proc/PID/task/*/children), so a server that forks is fully counted."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(c) for c in task.read_text().split()]
            except OSError:
                continue
    return found


def read_status(pid: int) -> dict[str, int]:
    try:
        return parse_proc_status(Path(f"/proc/{pid}/status").read_text())
    except OSError:
        return {}


class RssSampler:
    """Samples the summed VmRSS of some process trees on a thread; `peak_kb` is the largest sum seen.

    The kernel's own per-process peak (VmHWM) is read by `hwm_kb()` just before the servers are stopped: it cannot
    miss a short spike between samples, but a sum of per-process peaks may exceed any real instantaneous total.
    """

    def __init__(self, pids: list[int], interval: float = 0.2) -> None:
        self.pids = pids
        self.interval = interval
        self.peak_kb = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _all_pids(self) -> list[int]:
        return [p for root in self.pids for p in process_tree(root)]

    def sample(self) -> int:
        total = sum(read_status(pid).get("VmRSS", 0) for pid in self._all_pids())
        self.peak_kb = max(self.peak_kb, total)
        self.samples += 1
        return total

    def hwm_kb(self) -> int:
        return sum(read_status(pid).get("VmHWM", 0) for pid in self._all_pids())

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sample()
