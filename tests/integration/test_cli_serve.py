"""`rocketpy serve` as the README runs it: both boot lines, a message sent and read back over the wire, a clean
stop on SIGTERM, and the message still there after a restart on the same store."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import orjson
import trio

from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.message_headers import SendMessageRequestHeaderV2
from rocketpy.remoting.client import RemotingClient
from rocketpy.remoting.command import RemotingCommand
from rocketpy.store.format import decode_records

NAMESRV_BOOT = "The Name Server boot success. serializeType=JSON"


def _free_port(gap: int = 0) -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if gap == 0 or all(_is_free(port + d) for d in (-2, 1)):
            return port


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _start(tmp: Path, ns_port: int, port: int) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "rocketpy", "serve", f"--namesrv-port={ns_port}", f"--listenPort={port}",
            f"--storePathRootDir={tmp / 'store'}", "--mappedFileSizeCommitLog=1048576",
        ],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=dict(os.environ, HOME=str(tmp)),
    )  # fmt: skip
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 30
    while len(lines) < 2 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line.strip())
    return proc, lines


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=20)
    finally:
        assert proc.stdout is not None
        proc.stdout.close()


def _send_request(topic: str, body: bytes) -> RemotingCommand:
    header = SendMessageRequestHeaderV2(
        a="pg", b=topic, c="TBW102", d=4, e=0, f=0, g=int(time.time() * 1000), h=0, i="KEYS\x01k1\x02TAGS\x01TagA"
    )
    return RemotingCommand.request(RequestCode.SEND_MESSAGE_V2, header.to_ext(), body)


async def test_serve_send_restart_read(tmp_path: Path) -> None:
    ns_port, port = _free_port(), _free_port(gap=1)
    proc, lines = _start(tmp_path, ns_port, port)
    try:
        assert lines[0] == NAMESRV_BOOT
        assert lines[1].startswith("The broker[") and f"127.0.0.1:{port}] boot success" in lines[1]
        assert lines[1].endswith(f"name server is 127.0.0.1:{ns_port}")
        addr = f"127.0.0.1:{port}"
        async with RemotingClient() as client:
            resp = await client.invoke(addr, _send_request("ServeTopic", b"hello"), 10)
            assert resp.code == ResponseCode.SUCCESS, resp.remark
            assert resp.ext_fields is not None and resp.ext_fields["queueOffset"] == "0"
            route = await client.invoke(
                f"127.0.0.1:{ns_port}",
                RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, {"topic": "ServeTopic"}),
                10,
            )
            assert route.code == ResponseCode.SUCCESS  # auto-created and registered with the embedded NameServer
            vip = await client.invoke(f"127.0.0.1:{port - 2}", _send_request("ServeTopic", b"again"), 10)
            assert vip.code == ResponseCode.SUCCESS  # the VIP port serves sends too
    finally:
        assert _stop(proc) == 0
    assert not (tmp_path / "store" / "abort").exists()  # a clean shutdown removes the abort file

    proc, lines = _start(tmp_path, ns_port, port)
    try:
        assert len(lines) == 2
        addr = f"127.0.0.1:{port}"
        async with RemotingClient() as client:
            ext = {"topic": "ServeTopic", "queueId": "0"}
            resp = await client.invoke(
                f"127.0.0.1:{port}", RemotingCommand.request(RequestCode.GET_MAX_OFFSET, ext), 10
            )
            assert resp.code == ResponseCode.SUCCESS and resp.ext_fields == {"offset": "2"}
            pull_ext = {
                "consumerGroup": "cg", "topic": "ServeTopic", "queueId": "0", "queueOffset": "0",
                "maxMsgNums": "32", "sysFlag": "4", "commitOffset": "0", "suspendTimeoutMillis": "0",
                "subscription": "*", "subVersion": "0", "expressionType": "TAG",
            }  # fmt: skip
            with trio.fail_after(10):
                pulled = await client.invoke(
                    f"127.0.0.1:{port}", RemotingCommand.request(RequestCode.PULL_MESSAGE, pull_ext), 10
                )
            assert pulled.code == ResponseCode.SUCCESS, pulled.remark
            bodies = [bytes(m.body) for m in decode_records(pulled.body or b"")]
            assert bodies == [b"hello", b"again"]
            # a push consumer's everyday pull (the fast paths' shape, its subscription from a heartbeat): served
            # on the main port, refused on the VIP port as Java's fastRemotingServer refuses every pull
            beat = {"clientID": "10.0.0.8@1", "producerDataSet": [], "consumerDataSet": [{
                "consumeFromWhere": "CONSUME_FROM_LAST_OFFSET", "consumeType": "CONSUME_PASSIVELY", "groupName": "cg",
                "messageModel": "CLUSTERING", "unitMode": False, "subscriptionDataSet": [{
                    "classFilterMode": False, "codeSet": [], "expressionType": "TAG", "subString": "*",
                    "subVersion": 1, "tagsSet": [], "topic": "ServeTopic"}]}]}  # fmt: skip
            hb = await client.invoke(
                addr, RemotingCommand.request(RequestCode.HEART_BEAT, None, orjson.dumps(beat)), 10
            )
            assert hb.code == ResponseCode.SUCCESS, hb.remark
            fast_ext = {**pull_ext, "sysFlag": "0", "queueOffset": "1", "subVersion": "1"}
            for target, code in ((f"127.0.0.1:{port - 2}", ResponseCode.REQUEST_CODE_NOT_SUPPORTED),
                                 (addr, ResponseCode.SUCCESS)):  # fmt: skip
                with trio.fail_after(10):
                    got = await client.invoke(target, RemotingCommand.request(RequestCode.PULL_MESSAGE, fast_ext), 10)
                assert got.code == code, (target, got.remark)
            assert [bytes(m.body) for m in decode_records(got.body or b"")] == [b"again"]
    finally:
        assert _stop(proc) == 0
