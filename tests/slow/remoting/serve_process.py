"""A `rocketpy serve` subprocess for the robustness tests: its ports, its log file (stderr), its RSS."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.integration.test_cli_serve import _free_port


@dataclass
class Serve:
    proc: subprocess.Popen[str]
    namesrv_port: int
    broker_port: int
    log: Path

    @property
    def vip_port(self) -> int:
        return self.broker_port - 2

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(status.split("VmRSS:", 1)[1].split()[0])

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        finally:
            assert self.proc.stdout is not None
            self.proc.stdout.close()


def start_serve(tmp: Path, *extra: str) -> Serve:
    """Start `rocketpy serve` on free ports with its store and log under `tmp`; return once both boot lines are out."""
    ns_port, port = _free_port(), _free_port(gap=1)
    log = tmp / "serve.log"
    with log.open("w") as err:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "rocketpy", "serve", f"--namesrv-port={ns_port}", f"--listenPort={port}",
                f"--storePathRootDir={tmp / 'store'}", "--mappedFileSizeCommitLog=4194304", *extra,
            ],
            stdout=subprocess.PIPE, stderr=err, text=True, env=dict(os.environ, HOME=str(tmp)),
        )  # fmt: skip
    assert proc.stdout is not None
    lines = [proc.stdout.readline() for _ in range(2)]
    assert "boot success" in lines[1], (lines, log.read_text())
    for p in (ns_port, port, port - 2):
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", p), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    return Serve(proc, ns_port, port, log)
