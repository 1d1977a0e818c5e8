"""`rocketpy serve --brokers 2`: one NameServer, two broker processes in one cluster.  A topic created on every
master (what `mqadmin updateTopic -c` does) is routed over both; messages sent to queues of both brokers are read
back from each; SIGTERM stops everything cleanly; a broker that dies makes the supervisor exit non-zero."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import trio

from rocketpy.protocol.broker_headers import CreateTopicRequestHeader
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.remoting.client import RemotingClient
from rocketpy.remoting.command import RemotingCommand
from rocketpy.store.format import decode_records

from .test_cli_serve import NAMESRV_BOOT, _free_port, _is_free, _send_request


def _base_port() -> int:
    """A listenPort P with P-2..P+1 and P+8..P+11 free (broker-a and broker-b)."""
    while True:
        port = _free_port(gap=1)
        if all(_is_free(port + d) for d in (8, 9, 10, 11)):
            return port


def _start(tmp: Path, ns_port: int, port: int, session: bool = False) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "rocketpy", "serve", "--brokers", "2", f"--namesrv-port={ns_port}",
            f"--listenPort={port}", f"--storePathRootDir={tmp / 'store'}", "--mappedFileSizeCommitLog=1048576",
        ],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, HOME=str(tmp)),
        start_new_session=session,
    )  # fmt: skip
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while len(lines) < 3 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
    return proc, lines


def _pull(topic: str, queue_id: int) -> RemotingCommand:
    ext = {
        "consumerGroup": "cg", "topic": topic, "queueId": str(queue_id), "queueOffset": "0", "maxMsgNums": "32",
        "sysFlag": "4", "commitOffset": "0", "suspendTimeoutMillis": "0", "subscription": "*", "subVersion": "0",
        "expressionType": "TAG",
    }  # fmt: skip
    return RemotingCommand.request(RequestCode.PULL_MESSAGE, ext)


def _create_topic(topic: str) -> RemotingCommand:
    header = CreateTopicRequestHeader(topic, "TBW102", 4, 4, 6, "SINGLE_TAG")
    return RemotingCommand.request(RequestCode.UPDATE_AND_CREATE_TOPIC, header.to_ext())


async def test_two_brokers_serve_one_topic_and_stop_cleanly(tmp_path: Path) -> None:
    ns_port, port = _free_port(), _base_port()
    ns, addrs = f"127.0.0.1:{ns_port}", {"broker-a": f"127.0.0.1:{port}", "broker-b": f"127.0.0.1:{port + 10}"}
    proc, lines = _start(tmp_path, ns_port, port)
    try:
        assert lines[0] == NAMESRV_BOOT
        assert sorted(lines[1:]) == [
            f"The broker[{name}, {addr}] boot success. serializeType=JSON and name server is {ns}"
            for name, addr in sorted(addrs.items())
        ]
        async with RemotingClient() as client:
            for addr in addrs.values():  # updateTopic -c: the topic on every master of the cluster
                resp = await client.invoke(addr, _create_topic("SpreadTopic"), 10)
                assert resp.code == ResponseCode.SUCCESS, resp.remark
            with trio.fail_after(20):
                while True:  # the brokers register the new topic with the NameServer at once
                    route = await client.invoke(
                        ns, RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, {"topic": "SpreadTopic"}), 10
                    )
                    if route.code == ResponseCode.SUCCESS and len(json.loads(route.body or b"{}")["queueDatas"]) == 2:
                        break
                    await trio.sleep(0.2)
            data = json.loads(route.body or b"{}")
            assert sorted((q["brokerName"], q["writeQueueNums"]) for q in data["queueDatas"]) == [
                ("broker-a", 4),
                ("broker-b", 4),
            ]
            assert {b["brokerName"]: b["brokerAddrs"]["0"] for b in data["brokerDatas"]} == addrs
            assert {b["cluster"] for b in data["brokerDatas"]} == {"DefaultCluster"}
            for name, addr in addrs.items():
                for queue_id in range(4):
                    req = _send_request("SpreadTopic", f"{name}-{queue_id}".encode())
                    assert req.ext_fields is not None
                    req.ext_fields["e"] = str(queue_id)
                    resp = await client.invoke(addr, req, 10)
                    assert resp.code == ResponseCode.SUCCESS, resp.remark
            for name, addr in addrs.items():
                for queue_id in range(4):
                    pulled = await client.invoke(addr, _pull("SpreadTopic", queue_id), 10)
                    assert pulled.code == ResponseCode.SUCCESS, pulled.remark
                    bodies = [bytes(m.body) for m in decode_records(pulled.body or b"")]
                    assert bodies == [f"{name}-{queue_id}".encode()]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()
    for name in addrs:  # every broker closed its store (a clean shutdown removes the abort file)
        assert (tmp_path / "store" / name / "commitlog").is_dir()
        assert not (tmp_path / "store" / name / "abort").exists()


def test_a_broker_that_dies_stops_the_supervisor_with_status_1(tmp_path: Path) -> None:
    ns_port, port = _free_port(), _base_port()
    proc, lines = _start(tmp_path, ns_port, port)
    assert proc.stderr is not None
    try:
        assert len(lines) == 3
        tasks = Path(f"/proc/{proc.pid}/task").iterdir()  # the children were spawned from worker threads
        children = [int(p) for t in tasks for p in (t / "children").read_text().split()]
        assert len(children) == 2
        os.kill(children[1], signal.SIGKILL)
        assert proc.wait(timeout=60) == 1
        assert "exited with status -9" in proc.stderr.read()
        for child in children:  # the other broker was stopped too
            assert not Path(f"/proc/{child}").exists() or "zombie" in Path(f"/proc/{child}/status").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
        proc.stderr.close()


def test_ctrl_c_on_the_process_group_stops_everything_cleanly(tmp_path: Path) -> None:
    """A terminal's Ctrl-C sends SIGINT to the supervisor and to both brokers at once: still a clean stop, 0."""
    proc, lines = _start(tmp_path, _free_port(), _base_port(), session=True)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        assert len(lines) == 3
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    for name in ("broker-a", "broker-b"):
        assert not (tmp_path / "store" / name / "abort").exists()


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["--namesrv-port=0"], "--brokers needs fixed ports"),
        (["--listenPort=0"], "--brokers needs fixed ports"),
        (["--metricsPort=9100"], "--metricsPort serves one broker"),
    ],
)
def test_options_that_mean_one_broker_are_refused_with_brokers(options: list[str], said: str) -> None:
    """N children cannot share one free port or one metrics port: a clear usage error, nothing started."""
    done = subprocess.run(
        [sys.executable, "-m", "rocketpy", "serve", "--brokers", "2", *options],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and said in done.stderr, (done.returncode, done.stderr)


def test_brokers_stop_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    """SIGKILL leaves nobody to stop the brokers: each notices its supervisor is gone and stops cleanly itself."""
    proc, lines = _start(tmp_path, _free_port(), _base_port())
    assert proc.stdout is not None and proc.stderr is not None
    children: list[int] = []
    try:
        assert len(lines) == 3
        tasks = Path(f"/proc/{proc.pid}/task").iterdir()  # the children were spawned from worker threads
        children = [int(p) for t in tasks for p in (t / "children").read_text().split()]
        assert len(children) == 2
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 30
        while any(_running(c) for c in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(_running(c) for c in children)
    finally:
        for child in children:
            if _running(child):
                os.kill(child, signal.SIGKILL)
        proc.stdout.close()
        proc.stderr.close()
    for name in ("broker-a", "broker-b"):  # stopped as on SIGTERM: stores closed, no abort file
        assert not (tmp_path / "store" / name / "abort").exists()


def _running(pid: int) -> bool:
    """Alive and not a zombie (an orphan is reaped by whoever adopted it, which may take a moment)."""
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
