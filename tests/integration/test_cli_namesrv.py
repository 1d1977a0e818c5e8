"""`rocketpy namesrv` as a user runs it: boot line, abuse over real sockets, clean stop, persisted KV config."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio

from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.remoting.client import RemotingClient
from rocketpy.remoting.command import RemotingCommand

BOOT_LINE = "The Name Server boot success. serializeType=JSON"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def namesrv(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str], Path]]:
    port = _free_port()
    kv_path = tmp_path / "kv" / "kvConfig.json"
    env = dict(os.environ, HOME=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "rocketpy", "namesrv", f"--listenPort={port}", f"--kvConfigPath={kv_path}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 20
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.strip() == BOOT_LINE or not line:
            break
    assert line.strip() == BOOT_LINE, f"no boot line; exit={proc.poll()}"
    try:
        yield f"127.0.0.1:{port}", proc, kv_path
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()


ABUSE = [
    b"\xde\xad\xbe\xef" * 100,
    struct.pack(">i", 2**31 - 1) + b"x" * 10,
    struct.pack(">ii", 8, 4000) + b"abcd",
    struct.pack(">ii", 9, 5) + b"{nope",
    struct.pack(">ii", 6, (9 << 24) | 2) + b"{}",
]


async def _abuse(addr: str) -> int:
    host, port = addr.split(":")
    closed = 0
    for payload in ABUSE * 4:
        stream = await trio.open_tcp_stream(host, int(port))
        async with stream:
            await stream.send_all(payload)
            with trio.fail_after(5):
                if await stream.receive_some(100) == b"":
                    closed += 1
    return closed


async def test_abuse_while_a_good_client_works(namesrv: tuple[str, subprocess.Popen[str], Path]) -> None:
    addr, proc, _ = namesrv
    failures: list[object] = []
    closed: list[int] = []

    async def good() -> None:
        async with RemotingClient() as client:
            for _ in range(200):
                resp = await client.invoke(addr, RemotingCommand.request(RequestCode.GET_BROKER_CLUSTER_INFO), 5)
                if resp.code != ResponseCode.SUCCESS or not resp.body:
                    failures.append(resp)

    async def bad() -> None:
        closed.append(await _abuse(addr))

    async with trio.open_nursery() as nursery:
        nursery.start_soon(good)
        nursery.start_soon(bad)
    assert failures == []
    assert closed == [len(ABUSE) * 4]  # every bad connection was closed without a reply
    assert proc.poll() is None  # and the server is still up


async def test_unknown_code_is_answered(namesrv: tuple[str, subprocess.Popen[str], Path]) -> None:
    addr, _, _ = namesrv
    async with RemotingClient() as client:
        resp = await client.invoke(addr, RemotingCommand.request(12345), 5)
    assert resp.code == ResponseCode.REQUEST_CODE_NOT_SUPPORTED
    assert resp.remark == " request type 12345 not supported"


async def test_sigterm_stops_cleanly_and_kv_config_persists(namesrv: tuple[str, subprocess.Popen[str], Path]) -> None:
    addr, proc, kv_path = namesrv
    put = RemotingCommand.request(
        RequestCode.PUT_KV_CONFIG, {"namespace": "ORDER_TOPIC_CONFIG", "key": "T1", "value": "broker-a:4"}
    )
    async with RemotingClient() as client:
        resp = await client.invoke(addr, put, 5)
    assert resp.code == ResponseCode.SUCCESS
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert b"broker-a:4" in kv_path.read_bytes()
