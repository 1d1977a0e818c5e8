"""Issue 8: at least 100,000 hostile frames (fuzz_frames.FrameFuzzer, seeded) on each port of a real `rocketpy serve`
(NameServer, broker, broker VIP), over many connections, pipelined.

Afterwards: the process is alive, its log has no traceback, its anonymous memory did not grow beyond a bound
between the end of the first third and the end of the run, and real clients are served (a route query, a send and a
pull round trip). Each connection sends a batch of well-framed mutated requests, then a sentinel request whose answer
shows that the server answered the whole batch, then often one frame that is not one (the server closes). The
first connection of each port also sends three frames near the 16 MiB limit.
"""

from __future__ import annotations

import os
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import trio
from fuzz_frames import BROKER, NAMESRV, FrameFuzzer
from serve_process import Serve, start_serve

from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.remoting.client import RemotingClient
from rocketpy.remoting.codec import FrameDecoder, encode
from rocketpy.remoting.command import RemotingCommand
from rocketpy.store.format import decode_records
from tests.integration.test_cli_serve import _send_request

pytestmark = pytest.mark.slow

SEED = int(os.environ.get("ROCKETPY_FUZZ_SEED", "20261129"))
FRAMES_PER_PORT = 100_000
BATCH = 2_000  # frames per connection
PARALLEL = 4  # connections in flight per port
RSS_GROWTH_BOUND_KIB = 48 * 1024
SENTINEL_OPAQUE = 2**31 - 7


def _rss_anon_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split("RssAnon:", 1)[1].split()[0])


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    server = start_serve(tmp_path_factory.mktemp("fuzz"))
    try:
        yield server
    finally:
        server.stop()


async def _connection(port: int, payload: bytes, fatal: bytes | None) -> str:
    """Send one batch and its sentinel: "answered" once the sentinel's answer arrived (every request before it was
    read), else why not."""
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    sentinel = RemotingCommand.request(RequestCode.GET_BROKER_CLUSTER_INFO)  # inline on both servers
    sentinel.opaque = SENTINEL_OPAQUE
    decoder = FrameDecoder()
    answered = False
    outcome = "timeout"
    async with stream:

        async def send() -> None:
            await stream.send_all(payload + encode(sentinel))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(send)
            with trio.move_on_after(60):
                while not answered:
                    data = await stream.receive_some(65536)
                    if not data:
                        outcome = "closed by the server"
                        break
                    answered = any(c.opaque == SENTINEL_OPAQUE and c.is_response for c in decoder.feed(data))
            nursery.cancel_scope.cancel()
        if fatal is not None:
            try:
                await stream.send_all(fatal)
                with trio.move_on_after(2):
                    while await stream.receive_some(65536):
                        pass
            except trio.BrokenResourceError:
                pass
    return "answered" if answered else outcome


async def _fuzz_port(port: int, fuzzer: FrameFuzzer, on_third: list[int], pid: int) -> list[str]:
    batches = FRAMES_PER_PORT // BATCH
    outcomes = []
    limiter = trio.CapacityLimiter(PARALLEL)

    async def one(i: int) -> None:
        async with limiter:
            payload = b"".join(fuzzer.frame() for _ in range(BATCH))
            if i == 0:
                payload = fuzzer.huge() + payload
            fatal = fuzzer.fatal() if i % 3 else None
            started = time.monotonic()
            outcome = await _connection(port, payload, fatal)
            if outcome != "answered":
                outcomes.append(f"batch {i}: {outcome} after {time.monotonic() - started:.1f} s")
            if i == batches // 3:
                on_third.append(_rss_anon_kib(pid))

    async with trio.open_nursery() as nursery:
        for i in range(batches):
            nursery.start_soon(one, i)
            await trio.sleep(0)
    return outcomes


def _log_summary(log: str) -> str:
    """The server's WARNING and ERROR lines, counted by their text with numbers and addresses blanked."""
    counts: Counter[str] = Counter()
    for line in log.splitlines():
        level = line[24:].split(" ", 1)[0]
        if level in ("WARNING", "ERROR"):
            counts[re.sub(r"\d+", "N", line[24:])[:160]] += 1
    return "\n".join(f"{n:7d} {text}" for text, n in counts.most_common(40))


async def _real_clients_work(serve: Serve) -> None:
    async with RemotingClient() as client:
        addr = f"127.0.0.1:{serve.broker_port}"
        sent = await client.invoke(addr, _send_request("FuzzAfter", b"after the fuzz"), 10)
        assert sent.code == ResponseCode.SUCCESS, sent.remark
        offset = sent.ext_fields["queueOffset"] if sent.ext_fields else None
        queue = sent.ext_fields["queueId"] if sent.ext_fields else None
        pull_ext = {
            "consumerGroup": "FuzzAfterGroup", "topic": "FuzzAfter", "queueId": str(queue), "queueOffset": str(offset),
            "maxMsgNums": "1", "sysFlag": "4", "commitOffset": "0", "suspendTimeoutMillis": "0",
            "subscription": "*", "subVersion": "0", "expressionType": "TAG",
        }  # fmt: skip
        pulled = await client.invoke(addr, RemotingCommand.request(RequestCode.PULL_MESSAGE, pull_ext), 10)
        assert pulled.code == ResponseCode.SUCCESS, pulled.remark
        assert [bytes(m.body) for m in decode_records(pulled.body or b"")] == [b"after the fuzz"]
        route = await client.invoke(
            f"127.0.0.1:{serve.namesrv_port}",
            RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, {"topic": "FuzzAfter"}),
            10,
        )
        assert route.code == ResponseCode.SUCCESS, route.remark
        vip = await client.invoke(f"127.0.0.1:{serve.vip_port}", RemotingCommand.request(RequestCode.GET_MAX_OFFSET,
                                  {"topic": "FuzzAfter", "queueId": str(queue)}), 10)  # fmt: skip
        assert vip.code == ResponseCode.SUCCESS


async def test_fuzzed_frames_on_every_port(serve: Serve) -> None:
    started = time.monotonic()
    ports = {"namesrv": (serve.namesrv_port, NAMESRV), "broker": (serve.broker_port, BROKER),
             "vip": (serve.vip_port, BROKER)}  # fmt: skip
    thirds: list[int] = []
    failures: dict[str, list[str]] = {}

    async def run(name: str, port: int, templates: dict[int, tuple[dict[str, str], str | None]]) -> None:
        failures[name] = await _fuzz_port(port, FrameFuzzer(SEED + port % 7, templates), thirds, serve.proc.pid)

    async with trio.open_nursery() as nursery:
        for name, (port, templates) in ports.items():
            nursery.start_soon(run, name, port, templates)
    end_rss = _rss_anon_kib(serve.proc.pid)
    elapsed = time.monotonic() - started
    print(f"\nfuzz: {FRAMES_PER_PORT} frames per port in {elapsed:.0f} s; unanswered batches {failures};"
          f" RssAnon after a third {thirds} KiB, at the end {end_rss} KiB")  # fmt: skip

    log = serve.log_text()
    print(_log_summary(log))
    assert serve.proc.poll() is None, "the server died"
    assert "Traceback" not in log, log[log.index("Traceback") - 2000 : log.index("Traceback") + 3000]
    assert not any(failures.values()), failures  # every batch fully answered
    assert end_rss - max(thirds) < RSS_GROWTH_BOUND_KIB
    await _real_clients_work(serve)
    assert serve.proc.poll() is None
    assert "Traceback" not in serve.log_text()
