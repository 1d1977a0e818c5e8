"""The conf/2m-2s-sync and conf/2m-2s-async layouts (docs/cluster.md) booted from their files as a user does:
two `rocketpy namesrv -c`, four `rocketpy broker -c`, each in the layout's working directory. Only the ports are
given on the command line (free ones: the shared machine may run a 9876 already) and a small commit-log file.
Both NameServers list both groups with their master and slave, and a send acknowledged by broker-a's master
(a SYNC_MASTER acknowledges only once its slave has it) is in its slave's commit log."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from rocketpy.client.admin import AdminClient
from rocketpy.protocol.codes import ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.message_headers import SendMessageRequestHeaderV2

from .test_cli_serve import NAMESRV_BOOT, _free_port

CONF = Path(__file__).resolve().parents[2] / "conf"
BROKERS = ("broker-a", "broker-a-s", "broker-b", "broker-b-s")
BROKER_BOOT = "The broker["


class Layout:
    """The processes of one layout, their output in log files under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.procs: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, args: list[str], marker: str) -> None:
        log = self.root / f"{name}.out"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "rocketpy", *args], stdout=out, stderr=subprocess.STDOUT, cwd=self.root,
                env=dict(os.environ, HOME=str(self.root)),
            )  # fmt: skip
        self.procs.append((proc, log))
        deadline = time.monotonic() + 60
        while marker not in log.read_text(errors="replace"):
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.05)

    def stop(self) -> None:
        for proc, _ in reversed(self.procs):
            proc.kill()
            proc.wait()


@pytest.fixture
def layout(tmp_path: Path) -> Iterator[Layout]:
    running = Layout(tmp_path)
    try:
        yield running
    finally:
        running.stop()


def _broker_ports() -> dict[str, int]:
    ports: dict[str, int] = {}
    while len(ports) < len(BROKERS):
        port = _free_port(gap=1)
        if all(abs(port - p) > 3 for p in ports.values()):
            ports[BROKERS[len(ports)]] = port
    return ports


async def _send_until_acked(admin: AdminClient, addr: str, deadline: float) -> int:
    header = SendMessageRequestHeaderV2(
        a="layout_producer", b="LayoutTopic", c="TBW102", d=4, e=0, f=0, g=int(time.time() * 1000), h=0,
        i="WAIT\x01true\x02",
    )  # fmt: skip
    while True:
        try:
            code, _ = await admin.send_message(addr, header, b"replicated")
            if code == ResponseCode.SUCCESS:
                return code
        except RocketMQError:
            pass
        assert time.monotonic() < deadline, "broker-a's master never acknowledged a send"
        await trio.sleep(0.3)


@pytest.mark.parametrize(("name", "role"), [("2m-2s-sync", "SYNC_MASTER"), ("2m-2s-async", "ASYNC_MASTER")])
async def test_layout_boots_from_its_files_and_the_slave_replicates(layout: Layout, name: str, role: str) -> None:
    files = CONF / name
    ns_ports = [_free_port(), _free_port()]
    namesrvs = ";".join(f"127.0.0.1:{p}" for p in ns_ports)
    for i, port in enumerate(ns_ports, 1):
        layout.start(f"namesrv-{i}", ["namesrv", "-c", str(files / f"namesrv-{i}.properties"),
                                      f"--listenPort={port}"], NAMESRV_BOOT)  # fmt: skip
    ports = _broker_ports()
    for broker, port in ports.items():
        layout.start(broker, ["broker", "-c", str(files / f"{broker}.properties"), "-n", namesrvs,
                              f"--listenPort={port}", "--mappedFileSizeCommitLog=1048576"], BROKER_BOOT)  # fmt: skip
    addrs = {broker: f"127.0.0.1:{port}" for broker, port in ports.items()}
    for broker in BROKERS:  # the store of each broker where its file puts it, under the working directory
        assert (layout.root / "store" / name / broker / "commitlog").is_dir()
    async with AdminClient([f"127.0.0.1:{ns_ports[0]}"]) as first, AdminClient([f"127.0.0.1:{ns_ports[1]}"]) as second:
        for admin in (first, second):
            info = await admin.cluster_info()
            assert info.cluster_addr_table == {"DefaultCluster": {"broker-a", "broker-b"}}
            for group in ("broker-a", "broker-b"):
                assert info.broker_addr_table[group].broker_addrs == {0: addrs[group], 1: addrs[f"{group}-s"]}
        config = await first.broker_config(addrs["broker-a"])
        assert config["brokerRole"] == role and config["storePathRootDir"] == f"store/{name}/broker-a"
        deadline = time.monotonic() + 30
        await _send_until_acked(first, addrs["broker-a"], deadline)
        master = int((await first.broker_runtime_info(addrs["broker-a"]))["commitLogMaxOffset"])
        while int((await first.broker_runtime_info(addrs["broker-a-s"]))["commitLogMaxOffset"]) < master:
            assert time.monotonic() < deadline, "the slave did not replicate"
            await trio.sleep(0.2)
