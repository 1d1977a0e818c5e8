"""Optional Prometheus text endpoint (`--metricsPort=N`): the figures rocketmq-exporter publishes, read in-process.

The names and labels are rocketmq-exporter's (RMQMetricsCollector), so its Grafana dashboards work unchanged:
broker rates (rocketmq_broker_tps/qps), per-topic offsets and put rates (rocketmq_producer_offset/tps), per group
and topic consumption (rocketmq_consumer_offset/tps, rocketmq_group_diff: the lag) and the broker runtime table
(rocketmq_brokeruntime_*, AdminBrokerProcessor.prepareRuntimeInfo: disk ratios, totals). The exporter asks the broker
over the wire; here the collector reads the broker's own tables, in the event loop, between two requests.

The HTTP side is a minimal HTTP/1.0 responder on trio (no dependency): GET /metrics, one response per connection.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import trio

from rocketpy.broker.stats import runtime_info
from rocketpy.broker.stats_manager import GROUP_GET_NUMS

log = logging.getLogger("RocketmqBroker")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
RATE_WINDOW_MS = 60_000  # the exporter's tps figures are per-minute rates (BrokerStatsManager statsMinute)
SAMPLE_INTERVAL_S = 10.0
MAX_REQUEST_BYTES = 8192
REQUEST_TIMEOUT_S = 5.0

# name -> (type, help): every family the collector can emit, in output order
FAMILIES: dict[str, tuple[str, str]] = {
    "rocketmq_broker_tps": ("gauge", "Messages put per second on the broker (last 10 s)"),
    "rocketmq_broker_qps": ("gauge", "Messages transferred to consumers per second (last 10 s)"),
    "rocketmq_producer_tps": ("gauge", "Messages put per second into a topic (last minute)"),
    "rocketmq_producer_offset": ("gauge", "Messages stored in a topic: sum of its queues' max offsets"),
    "rocketmq_consumer_tps": ("gauge", "Messages pulled per second by a group from a topic (last minute)"),
    "rocketmq_consumer_offset": ("gauge", "Sum of a group's committed offsets on a topic"),
    "rocketmq_consumer_message_total": ("counter", "Messages pulled by a group from a topic since the broker started"),
    "rocketmq_group_diff": ("gauge", "Consumer lag: messages of a topic a group has not committed yet"),
    "rocketmq_group_count": ("gauge", "Online consumer clients of a group"),
}

# prepareRuntimeInfo key -> exporter metric suffix (rocketmq_brokeruntime_<suffix>); triples get tps10/60/600
RUNTIME_KEYS: dict[str, str] = {
    "msgPutTotalTodayNow": "msg_put_total_today_now",
    "msgGetTotalTodayNow": "msg_gettotal_today_now",
    "msgPutTotalTodayMorning": "msg_puttotal_todaymorning",
    "msgGetTotalTodayMorning": "msg_gettotal_todaymorning",
    "msgPutTotalYesterdayMorning": "msg_puttotal_yesterdaymorning",
    "msgGetTotalYesterdayMorning": "msg_gettotal_yesterdaymorning",
    "commitLogDiskRatio": "commitlog_disk_ratio",
    "consumeQueueDiskRatio": "consumequeue_disk_ratio",
    "commitLogMaxOffset": "commitlog_maxoffset",
    "commitLogMinOffset": "commitlog_minoffset",
    "putMessageSizeTotal": "put_message_size_total",
    "putMessageTimesTotal": "putmessage_times_total",
    "putMessageAverageSize": "put_message_average_size",
    "putMessageEntireTimeMax": "putmessage_entire_time_max",
    "getMessageEntireTimeMax": "getmessage_entire_time_max",
    "putLatency99": "put_latency_99",
    "putLatency999": "put_latency_999",
    "earliestMessageTimeStamp": "earliest_message_timestamp",
    "dispatchBehindBytes": "dispatch_behind_bytes",
    "dispatchMaxBuffer": "dispatch_maxbuffer",
    "pageCacheLockTimeMills": "pagecache_lock_time_mills",
    "remainTransientStoreBufferNumbs": "remain_transientstore_buffer_numbs",
    "startAcceptSendRequestTimeStamp": "start_accept_sendrequest_time",
    "sendThreadPoolQueueSize": "send_threadpool_queue_size",
    "sendThreadPoolQueueCapacity": "send_threadpoolqueue_capacity",
    "pullThreadPoolQueueSize": "pull_threadpoolqueue_size",
    "pullThreadPoolQueueCapacity": "pull_threadpoolqueue_capacity",
    "queryThreadPoolQueueSize": "query_threadpoolqueue_size",
    "queryThreadPoolQueueCapacity": "query_threadpool_queue_capacity",
}
RUNTIME_TRIPLES: dict[str, str] = {
    "putTps": "put_tps",
    "getFoundTps": "getfound_tps",
    "getMissTps": "getmiss_tps",
    "getTotalTps": "gettotal_tps",
    "getTransferedTps": "gettransfered_tps",
}


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: float


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if value == int(value) and abs(value) < 2**53 else repr(value)


def render(samples: Iterable[Sample]) -> str:
    """The Prometheus text exposition format 0.0.4: HELP and TYPE once per family, then its samples."""
    by_name: dict[str, list[Sample]] = {}
    for sample in samples:
        by_name.setdefault(sample.name, []).append(sample)
    lines: list[str] = []
    for name, group in by_name.items():
        kind, text = FAMILIES.get(name, ("gauge", name.removeprefix("rocketmq_brokeruntime_")))
        lines.append(f"# HELP {name} {text}")
        lines.append(f"# TYPE {name} {kind}")
        for s in group:
            labels = ",".join(f'{k}="{_escape(v)}"' for k, v in s.labels)
            lines.append(f"{name}{{{labels}}} {_number(s.value)}" if labels else f"{name} {_number(s.value)}")
    return "\n".join(lines) + "\n"


def _to_float(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


@dataclass
class OffsetRates:
    """Per-topic put rates from the stored offsets: (time, {topic: offset}) samples over the last minute."""

    window_ms: int = RATE_WINDOW_MS
    history: deque[tuple[int, dict[str, int]]] = field(default_factory=deque)

    def note(self, now_ms: int, offsets: dict[str, int]) -> dict[str, float]:
        """Record `offsets` taken at `now_ms`; return each topic's messages per second since the oldest sample of
        the window (0 until a second sample exists)."""
        while self.history and now_ms - self.history[0][0] > self.window_ms:
            self.history.popleft()
        rates: dict[str, float] = {}
        oldest = self.history[0] if self.history else None
        for topic, offset in offsets.items():
            if oldest is None or now_ms <= oldest[0]:
                rates[topic] = 0.0
            else:
                rates[topic] = max(0, offset - oldest[1].get(topic, 0)) * 1000.0 / (now_ms - oldest[0])
        self.history.append((now_ms, dict(offsets)))
        return rates


class BrokerMetrics:
    """Collects the samples of one broker from its settings, store, controller and data-plane stats."""

    def __init__(self, settings: Any, store: Any, controller: Any, stats: Any, clock_ms: Callable[[], int]) -> None:
        self.settings = settings
        self.store = store
        self.controller = controller
        self.stats = stats
        self.clock_ms = clock_ms
        self.rates = OffsetRates()

    def topic_offsets(self) -> dict[str, int]:
        offsets: dict[str, int] = {}
        for name, config in list(self.controller.topics.table.items()):
            queues = max(config.read_queue_nums, config.write_queue_nums)
            offsets[name] = sum(max(0, self.store.get_max_offset_in_queue(name, q)) for q in range(queues))
        return offsets

    def sample_rates(self) -> dict[str, float]:
        return self.rates.note(self.clock_ms(), self.topic_offsets())

    def collect(self) -> list[Sample]:
        broker = self.settings.broker
        cluster, name = broker.broker_cluster_name, broker.broker_name
        addr = self.settings.broker_addr
        out: list[Sample] = []
        base = (("cluster", cluster), ("brokerIP", addr), ("broker", name))
        out.append(Sample("rocketmq_broker_tps", base, self.stats.put_times.tps_or_zero(10)))
        out.append(Sample("rocketmq_broker_qps", base, self.stats.get_transferred.tps_or_zero(10)))
        offsets = self.topic_offsets()
        rates = self.rates.note(self.clock_ms(), offsets)
        for topic in sorted(offsets):
            labels = (("cluster", cluster), ("broker", name), ("topic", topic))
            out.append(Sample("rocketmq_producer_tps", labels, rates.get(topic, 0.0)))
            out.append(Sample("rocketmq_producer_offset", labels, float(offsets[topic])))
        out.extend(self._consumer_samples(cluster, name))
        out.extend(self._runtime_samples(cluster, addr, name))
        return out

    def _consumer_samples(self, cluster: str, name: str) -> list[Sample]:
        out: list[Sample] = []
        consumers = self.controller.consumers
        for key, queues in sorted(self.controller.offsets.table.items()):
            topic, sep, group = key.partition("@")
            if not sep:
                continue
            committed = diff = 0
            for queue_id, offset in list(queues.items()):
                max_offset = self.store.get_max_offset_in_queue(topic, queue_id)
                committed += max(0, offset)
                diff += max(0, max_offset - max(0, offset))
            info = consumers.get(group)
            online = len(info.channels) if info is not None else 0
            model = info.message_model.value if info is not None and info.message_model is not None else ""
            labels = (("cluster", cluster), ("broker", name), ("topic", topic), ("group", group))
            # BrokerStatsManager's GROUP_GET_NUMS topic@group: the minute window's TPS and the running total
            item = self.stats.manager.get_stats_item(GROUP_GET_NUMS, f"{topic}@{group}")
            tps = self.stats.tps_group_get_nums(group, topic)
            out.append(Sample("rocketmq_consumer_tps", labels, tps))
            out.append(Sample("rocketmq_consumer_offset", labels, float(committed)))
            out.append(Sample("rocketmq_consumer_message_total", labels, 0.0 if item is None else float(item.value)))
            diff_labels = (
                ("group", group),
                ("topic", topic),
                ("countOfOnlineConsumers", str(online)),
                ("msgModel", model),
            )
            out.append(Sample("rocketmq_group_diff", diff_labels, float(diff)))
        for group, info in sorted(consumers.groups.items()):
            out.append(Sample("rocketmq_group_count", (("group", group),), float(len(info.channels))))
        return out

    def _runtime_samples(self, cluster: str, addr: str, name: str) -> list[Sample]:
        info = runtime_info(self.stats, self.store, self.settings)
        labels = (
            ("cluster", cluster),
            ("brokerIP", addr),
            ("brokerHost", name),
            ("des", ""),
            ("boottime", info.get("bootTimestamp", "")),
            ("broker_version", info.get("brokerVersion", "")),
        )
        out: list[Sample] = []
        for key, suffix in RUNTIME_KEYS.items():
            value = _to_float(info.get(key, ""))
            if value is not None:
                out.append(Sample(f"rocketmq_brokeruntime_{suffix}", labels, value))
        for key, suffix in RUNTIME_TRIPLES.items():
            parts = info.get(key, "").split()
            for window, text in zip(("10", "60", "600"), parts, strict=False):
                value = _to_float(text)
                if value is not None:
                    out.append(Sample(f"rocketmq_brokeruntime_{suffix}{window}", labels, value))
        return out


def _response(status: str, body: str, content_type: str = "text/plain; charset=utf-8") -> bytes:
    data = body.encode()
    head = (
        f"HTTP/1.0 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("ascii") + data


def answer(request: bytes, metrics_text: Callable[[], str]) -> bytes:
    """The response to one raw HTTP request head (pure, for unit tests)."""
    line = request.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split()
    if len(parts) < 2 or not parts[0].isalpha():
        return _response("400 Bad Request", "bad request\n")
    method, target = parts[0], parts[1].split("?", 1)[0]
    if method not in ("GET", "HEAD"):
        return _response("405 Method Not Allowed", "only GET\n")
    if target not in ("/metrics", "/"):
        return _response("404 Not Found", "try /metrics\n")
    response = _response("200 OK", metrics_text(), CONTENT_TYPE)
    if method == "HEAD":
        return response.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    return response


async def _handle(metrics: BrokerMetrics, stream: trio.SocketStream) -> None:
    async with stream:
        data = b""
        with trio.move_on_after(REQUEST_TIMEOUT_S):
            while b"\r\n\r\n" not in data and b"\n\n" not in data and len(data) < MAX_REQUEST_BYTES:
                chunk = await stream.receive_some(4096)
                if not chunk:
                    break
                data += chunk
        if not data:
            return
        try:
            await stream.send_all(answer(data, lambda: render(metrics.collect())))
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        except Exception:  # never let a scrape take the broker down
            log.exception("metrics scrape failed")


async def _sample_loop(metrics: BrokerMetrics) -> None:
    while True:
        await trio.sleep(SAMPLE_INTERVAL_S)
        metrics.sample_rates()


async def serve_metrics(
    metrics: BrokerMetrics,
    port: int,
    host: str = "0.0.0.0",
    *,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve GET /metrics on `port` (0: any free port) until cancelled; reports the bound port."""
    listeners = await trio.open_tcp_listeners(port, host=host)
    bound = listeners[0].socket.getsockname()[1]
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_sample_loop, metrics)
        await nursery.start(partial(trio.serve_listeners, partial(_handle, metrics), listeners))
        log.info("metrics endpoint on port %d", bound)
        task_status.started(bound)
