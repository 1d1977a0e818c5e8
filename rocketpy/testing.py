"""pytest plugin: a NameServer and a Broker for the test, on free ports, with a fresh store in the test's tmp dir.

Registered as the `pytest11` entry point `rocketpy`, so installing rocketpy makes the fixtures available:

    def test_send(rocketpy_namesrv):          # "127.0.0.1:PORT", the NameServer address
        producer.set_namesrv_addr(rocketpy_namesrv)

    def test_more(rocketpy_server):           # RocketpyServer: namesrv_addr, broker_addr, store_dir
        ...

Each runs `python -m rocketpy serve --namesrv-port=0 --listenPort=0` in a subprocess (so it works whatever the
test's event loop, trio, asyncio or none), waits for its ready line, prints the chosen addresses and stops the
process (SIGTERM, then SIGKILL) after the test. Users of other languages run the same command and read the line
`rocketpy serve ready: namesrvAddr=... brokerAddr=... storePathRootDir=...`.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

READY = re.compile(r"^rocketpy serve ready: namesrvAddr=(\S+) brokerAddr=(\S+) storePathRootDir=(.*)$")
BOOT_TIMEOUT = 60.0


@dataclass
class RocketpyServer:
    """A running `rocketpy serve` process and its addresses."""

    namesrv_addr: str
    broker_addr: str
    store_dir: Path
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM (the broker unregisters and closes its store), SIGKILL after `grace` seconds."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.reader is not None:
            self.reader.join(5.0)  # the pipe is at its end once the process has gone
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_server(workdir: Path, *extra: str, timeout: float = BOOT_TIMEOUT) -> RocketpyServer:
    """`rocketpy serve` on free ports with its store and home under `workdir`; returns once it is ready.

    `extra` are further `--KEY=VALUE` broker settings (e.g. "--messageDelayLevel=1s 2s")."""
    workdir.mkdir(parents=True, exist_ok=True)
    store = workdir / "store"
    cmd = [
        sys.executable,
        "-m",
        "rocketpy",
        "serve",
        "--namesrv-port=0",
        "--listenPort=0",
        f"--storePathRootDir={store}",
        "--brokerIP1=127.0.0.1",
        *extra,
    ]
    env = {**os.environ, "HOME": str(workdir)}  # the NameServer's kvConfig.json lives under ~/namesrv
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=workdir)
    assert process.stdout is not None
    lines: list[str] = []
    ready: list[re.Match[str]] = []
    seen = threading.Event()

    def pump() -> None:  # keeps reading so that the server never blocks on a full pipe
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            match = READY.match(lines[-1])
            if match:
                ready.append(match)
                seen.set()
        seen.set()

    reader = threading.Thread(target=pump, name="rocketpy-serve-output", daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while not ready and process.poll() is None and time.monotonic() < deadline:
        seen.wait(0.1)
    if not ready:
        process.kill()
        process.wait()
        reader.join(5.0)
        process.stdout.close()
        tail = "\n".join(lines[-40:])
        raise RuntimeError(f"rocketpy serve did not become ready within {timeout:.0f} s:\n{tail}")
    match = ready[0]
    return RocketpyServer(match.group(1), match.group(2), Path(match.group(3)), process, lines, reader)


@pytest.fixture
def rocketpy_server(tmp_path: Path) -> Iterator[RocketpyServer]:
    """NameServer + Broker (`rocketpy serve`) on free ports with a fresh store in the test's tmp dir."""
    server = start_server(tmp_path / "rocketpy")
    print(f"rocketpy serve: namesrvAddr={server.namesrv_addr} brokerAddr={server.broker_addr}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def rocketpy_namesrv(rocketpy_server: RocketpyServer) -> str:
    """The NameServer address ("127.0.0.1:PORT") of a fresh `rocketpy serve` for this test."""
    return rocketpy_server.namesrv_addr
