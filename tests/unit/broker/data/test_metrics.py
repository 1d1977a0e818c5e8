"""The Prometheus endpoint's collector, text format and HTTP answers (rocketpy.broker.metrics), over a real store."""

from __future__ import annotations

import pytest
import trio

from rocketpy.broker.metrics import BrokerMetrics, OffsetRates, Sample, answer, render, serve_metrics
from rocketpy.cli import UsageError, _metrics_port
from tests.unit.broker.data.conftest import DataPlane


def _metrics(plane: DataPlane) -> BrokerMetrics:
    return BrokerMetrics(plane.settings, plane.store, plane.controller, plane.stats, plane.clock)


def _value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and labels.items() <= dict(s.labels).items()]
    assert len(found) == 1, (name, labels, found)
    return found[0]


async def test_counters_and_lag_follow_sends_pulls_and_commits(plane: DataPlane) -> None:
    for i in range(5):
        assert (await plane.send_one("TopicTest", f"m{i}".encode())).code == 0
    records = await plane.pull_records("TopicTest", 0)
    assert len(records) == 5
    plane.controller.offsets.commit("10.0.0.8:50001", "G1", "TopicTest", 0, 2)

    samples = _metrics(plane).collect()
    topic = {"cluster": "DefaultCluster", "broker": "broker-a", "topic": "TopicTest"}
    assert _value(samples, "rocketmq_producer_offset", **topic) == 5
    assert _value(samples, "rocketmq_consumer_offset", **topic, group="G1") == 2
    assert _value(samples, "rocketmq_consumer_message_total", **topic, group="G1") == 5
    assert _value(samples, "rocketmq_group_diff", group="G1", topic="TopicTest") == 3
    assert _value(samples, "rocketmq_brokeruntime_msg_put_total_today_now") == 5
    assert _value(samples, "rocketmq_brokeruntime_msg_gettotal_today_now") == 5
    assert _value(samples, "rocketmq_brokeruntime_put_message_size_total") > 0
    assert 0 <= _value(samples, "rocketmq_brokeruntime_consumequeue_disk_ratio") <= 1
    assert {s.name for s in samples} >= {"rocketmq_broker_tps", "rocketmq_broker_qps", "rocketmq_producer_tps"}


async def test_producer_tps_is_the_offset_rate_over_the_minute(plane: DataPlane) -> None:
    metrics = _metrics(plane)
    assert metrics.sample_rates().get("TopicTest", 0.0) == 0.0
    for _ in range(10):
        await plane.send_one("TopicTest")
    plane.clock.now += 5000
    assert metrics.sample_rates()["TopicTest"] == pytest.approx(2.0)


def test_offset_rates_forget_samples_older_than_the_window() -> None:
    rates = OffsetRates(window_ms=60_000)
    assert rates.note(0, {"T": 0}) == {"T": 0.0}
    assert rates.note(30_000, {"T": 60}) == {"T": 2.0}
    assert rates.note(90_000, {"T": 120}) == {"T": 1.0}  # the 0 s sample has left the window: (120-60)/60 s


def test_text_format() -> None:
    text = render(
        [
            Sample("rocketmq_group_diff", (("group", 'g"1'), ("topic", "T")), 3.0),
            Sample("rocketmq_group_diff", (("group", "g2"), ("topic", "T")), 0.5),
            Sample("rocketmq_brokeruntime_put_tps10", (), 1.0),
        ]
    )
    assert text == (
        "# HELP rocketmq_group_diff Consumer lag: messages of a topic a group has not committed yet\n"
        "# TYPE rocketmq_group_diff gauge\n"
        'rocketmq_group_diff{group="g\\"1",topic="T"} 3\n'
        'rocketmq_group_diff{group="g2",topic="T"} 0.5\n'
        "# HELP rocketmq_brokeruntime_put_tps10 put_tps10\n"
        "# TYPE rocketmq_brokeruntime_put_tps10 gauge\n"
        "rocketmq_brokeruntime_put_tps10 1\n"
    )


def test_http_answers() -> None:
    ok = answer(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", lambda: "m 1\n")
    assert ok.startswith(b"HTTP/1.0 200 OK\r\n") and ok.endswith(b"\r\n\r\nm 1\n")
    assert b"text/plain; version=0.0.4" in ok
    assert answer(b"HEAD /metrics HTTP/1.1\r\n\r\n", lambda: "m 1\n").endswith(b"\r\n\r\n")
    assert answer(b"GET /other HTTP/1.1\r\n\r\n", lambda: "").startswith(b"HTTP/1.0 404")
    assert answer(b"POST /metrics HTTP/1.1\r\n\r\n", lambda: "").startswith(b"HTTP/1.0 405")
    assert answer(b"\x16\x03\x01garbage", lambda: "").startswith(b"HTTP/1.0 400")


async def test_served_over_tcp(plane: DataPlane) -> None:
    await plane.send_one("TopicTest")
    async with trio.open_nursery() as nursery:
        port = await nursery.start(serve_metrics, _metrics(plane), 0, "127.0.0.1")
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        await stream.send_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        data = b""
        async with stream:
            while chunk := await stream.receive_some(65536):
                data += chunk
        silent = await trio.open_tcp_stream("127.0.0.1", port)  # a client that never sends: closed, no crash
        await silent.aclose()
        nursery.cancel_scope.cancel()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200 OK")
    assert b'rocketmq_producer_offset{cluster="DefaultCluster",broker="broker-a",topic="TopicTest"} 1\n' in body


def test_metrics_port_option() -> None:
    assert _metrics_port({"listenPort": "1"}) == (None, {"listenPort": "1"})
    assert _metrics_port({"metricsPort": "9100", "listenPort": "1"}) == (9100, {"listenPort": "1"})
    with pytest.raises(UsageError):
        _metrics_port({"metricsPort": "x"})
    with pytest.raises(UsageError):
        _metrics_port({"metricsPort": "70000"})
