"""Issue 8: fair service under flooding clients, against a real `rocketpy serve`.

On the NameServer port and on the broker port, flooders pipeline 200,000 small requests each (an inline code with a
cheap or a large answer, and a code served in a task of its own) and never read a reply, while another client makes
request/response health checks every 10 ms. The health checks' latency stays small (the Java servers, which buffer
1.2 M requests of such a flooder, stop answering everyone instead), the flooders are pushed back (they cannot send
everything), and the server's memory stays bounded. Measured latencies are printed (`pytest -s`).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from serve_process import Serve, start_serve

from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.remoting.codec import FrameDecoder, encode
from rocketpy.remoting.command import RemotingCommand

pytestmark = pytest.mark.slow

REQUESTS = 200_000
CHECK_SECONDS = 8.0
P99_BOUND_S = 0.25
MAX_BOUND_S = 1.0
RSS_BOUND_KIB = 400 * 1024


class Flooder:
    """Pipelines `REQUESTS` copies of one request from a thread with blocking sends; never reads a reply."""

    def __init__(self, port: int, cmd: RemotingCommand) -> None:
        frames = []
        for i in range(REQUESTS):
            cmd.opaque = i
            frames.append(encode(cmd))
        self.data = b"".join(frames)
        self.sent = 0
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.settimeout(2 * CHECK_SECONDS)
        self.thread = threading.Thread(target=self._send, daemon=True)
        self.thread.start()

    def _send(self) -> None:
        view = memoryview(self.data)
        with contextlib.suppress(OSError):
            while self.sent < len(view):
                self.sent += self.sock.send(view[self.sent : self.sent + 65536])

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.thread.join()
        self.sock.close()


def _health_checks(port: int, request: RemotingCommand, seconds: float) -> list[float]:
    latencies = []
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(30)
        decoder = FrameDecoder()
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            request.opaque += 1
            start = time.perf_counter()
            sock.sendall(encode(request))
            got: list[RemotingCommand] = []
            while not got:
                data = sock.recv(65536)
                assert data, "the server closed the health-check connection"
                got = decoder.feed(data)
            latencies.append(time.perf_counter() - start)
            assert got[0].code == ResponseCode.SUCCESS and got[0].opaque == request.opaque
            time.sleep(0.01)
    return latencies


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    server = start_serve(tmp_path_factory.mktemp("flood"))
    try:
        yield server
    finally:
        assert server.stop() == 0
        assert "Traceback" not in server.log_text()


def _pull_held() -> RemotingCommand:
    ext = {
        "consumerGroup": "FloodGroup", "topic": "TBW102", "queueId": "0", "queueOffset": "0", "maxMsgNums": "32",
        "sysFlag": "2", "commitOffset": "0", "suspendTimeoutMillis": "20000", "subscription": "*",
        "subVersion": "0", "expressionType": "TAG",
    }  # fmt: skip
    return RemotingCommand.request(RequestCode.PULL_MESSAGE, ext)


FLOODS = {
    "namesrv": (
        lambda s: s.namesrv_port,
        RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, {"topic": "TBW102"}),
        [
            lambda: RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, {"topic": "TBW102"}),
            lambda: RemotingCommand.request(RequestCode.GET_BROKER_CLUSTER_INFO),
            lambda: RemotingCommand.request(
                RequestCode.PUT_KV_CONFIG, {"namespace": "flood", "key": "k", "value": "v"}
            ),  # a task per request (it writes the kv file)
        ],
    ),
    "broker": (
        lambda s: s.broker_port,
        RemotingCommand.request(RequestCode.GET_MAX_OFFSET, {"topic": "TBW102", "queueId": "0"}),
        [
            lambda: RemotingCommand.request(RequestCode.GET_BROKER_RUNTIME_INFO),
            lambda: RemotingCommand.request(RequestCode.GET_ALL_TOPIC_CONFIG),  # a large answer
            _pull_held,  # a task per request, held by long polling
        ],
    ),
}


@pytest.mark.parametrize("target", list(FLOODS))
def test_flooders_do_not_delay_health_checks(serve: Serve, target: str) -> None:
    port_of, check, floods = FLOODS[target]
    port = port_of(serve)
    baseline = _health_checks(port, check, 1.0)
    flooders = [Flooder(port, make()) for make in floods]
    try:
        time.sleep(0.5)
        latencies = sorted(_health_checks(port, check, CHECK_SECONDS))
        rss = serve.rss_kib()
        pushed_back = [f.sent < len(f.data) for f in flooders]
    finally:
        for flooder in flooders:
            flooder.close()
    p50, p99, worst = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)], latencies[-1]
    print(
        f"\n{target}: {len(latencies)} health checks under {len(floods)} flooders of {REQUESTS} requests:"
        f" p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max {worst * 1000:.1f} ms"
        f" (unloaded max {max(baseline) * 1000:.1f} ms); RSS {rss // 1024} MiB;"
        f" flooders sent {[round(f.sent / len(f.data), 3) for f in flooders]} of their bytes"
    )
    assert p99 < P99_BOUND_S and worst < MAX_BOUND_S, (p99, worst)
    assert all(pushed_back)
    assert rss < RSS_BOUND_KIB
    assert serve.proc.poll() is None
    assert _health_checks(port, check, 0.2)  # still served once the flooders are gone
