"""`rocketpy serve --metricsPort=0` (issue 9): after the official quickstart Producer and Consumer ran against it,
a Prometheus scrape shows the messages put, the group's consumption, and the lag once more messages arrive.

rocketpy only: the Java broker has no such endpoint (operators run rocketmq-exporter beside it).
"""

from __future__ import annotations

import re
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from interop.harness import processes
from interop.harness.driver import run_driver
from interop.harness.raw_client import RawConnection

pytestmark = pytest.mark.interop

GROUP = "please_rename_unique_group_name_4"  # the quickstart consumer's group
SEND_MESSAGE_V2 = 310


def _scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([a-z_0-9]+)(?:\{(.*)\})? (\S+)", line)
        assert match, line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        samples[(match.group(1), labels)] = float(match.group(3))
    return samples


def _value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    found = [v for (n, ls), v in samples.items() if n == name and frozenset(labels.items()) <= ls]
    assert len(found) == 1, (name, labels, found)
    return found[0]


def _send_raw(broker: str, count: int) -> None:
    """SEND_MESSAGE_V2 as DefaultMQProducerImpl fills it, `count` times to TopicTest queue 0."""
    conn = RawConnection(broker)
    try:
        for i in range(count):
            ext = {
                "a": "metrics_producer", "b": "TopicTest", "c": "TBW102", "d": "4", "e": "0", "f": "0",
                "g": str(int(time.time() * 1000)), "h": "0", "i": "TAGS\x01TagA\x02WAIT\x01true\x02", "j": "0",
                "k": "false", "m": "false", "n": "broker-a",
            }  # fmt: skip
            frame = conn.call(SEND_MESSAGE_V2, ext, f"late {i}".encode())
            assert frame is not None and frame.header()["code"] == 0, frame and frame.header()
    finally:
        conn.close()


def test_scrape_after_quickstart(tmp_path: Path, interop_build: Any) -> None:
    server, namesrv = processes.start_rocketpy_serve(tmp_path / "serve", ["--metricsPort=0", "--brokerName=broker-a"])
    try:
        server.wait_for("Prometheus metrics on")
        match = re.search(r"Prometheus metrics on http://0\.0\.0\.0:(\d+)/metrics", server.output())
        assert match, server.output()
        port = int(match.group(1))
        quickstart = run_driver(interop_build, "quickstart", {"namesrv": namesrv}, tmp_path / "driver").observations
        assert quickstart["sendStatuses"] == {"SEND_OK": 1000}, quickstart

        topic = {"cluster": "DefaultCluster", "broker": "broker-a", "topic": "TopicTest"}
        samples = _scrape(port)
        assert _value(samples, "rocketmq_producer_offset", **topic) == 1000
        assert _value(samples, "rocketmq_consumer_message_total", **topic, group=GROUP) >= 1000
        assert _value(samples, "rocketmq_consumer_offset", **topic, group=GROUP) == 1000
        assert _value(samples, "rocketmq_group_diff", group=GROUP, topic="TopicTest") == 0
        assert _value(samples, "rocketmq_brokeruntime_msg_put_total_today_now") == 1000
        assert _value(samples, "rocketmq_brokeruntime_msg_gettotal_today_now") >= 1000
        assert _value(samples, "rocketmq_producer_tps", **topic) >= 0
        assert 0 < _value(samples, "rocketmq_brokeruntime_commitlog_disk_ratio") <= 1

        _send_raw(server.addr, 7)  # nobody consumes these: the lag
        samples = _scrape(port)
        assert _value(samples, "rocketmq_producer_offset", **topic) == 1007
        assert _value(samples, "rocketmq_group_diff", group=GROUP, topic="TopicTest") == 7
        assert _value(samples, "rocketmq_producer_tps", **topic) > 0  # 7 more since the first scrape
    finally:
        server.stop()
