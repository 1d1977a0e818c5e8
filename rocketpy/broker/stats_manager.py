"""BrokerStatsManager (store.stats) over StatsItemSet / StatsItem (common.stats), 4.9.8: the per-topic and
per-group figures VIEW_BROKER_STATS_DATA (315) serves to mqadmin statsAll and the dashboard's collector.

Each item counts a value and a number of calls. Java samples every item of a set every 10 s (the minute list,
7 samples), every 10 min (the hour list, 7) and every hour (the day list, 25), the ticks counted from the set's
creation at broker start; an item's first sample also inserts a zero sample one period earlier. A window's
figures are last - first of its list: sum, tps = sum * 1000 / elapsed ms, avgpt = sum / calls. Here the samples
are taken lazily: before every add and every read the ticks passed since the last one are filled in with the
current totals, which are exactly the totals Java's sampler would have seen (nothing was added in between).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

ClockMs = Callable[[], int]

TOPIC_PUT_NUMS = "TOPIC_PUT_NUMS"
TOPIC_PUT_SIZE = "TOPIC_PUT_SIZE"
GROUP_GET_NUMS = "GROUP_GET_NUMS"
GROUP_GET_SIZE = "GROUP_GET_SIZE"
GROUP_GET_LATENCY = "GROUP_GET_LATENCY"
SNDBCK_PUT_NUMS = "SNDBCK_PUT_NUMS"
BROKER_PUT_NUMS = "BROKER_PUT_NUMS"
BROKER_GET_NUMS = "BROKER_GET_NUMS"
GROUP_GET_FROM_DISK_NUMS = "GROUP_GET_FROM_DISK_NUMS"
GROUP_GET_FROM_DISK_SIZE = "GROUP_GET_FROM_DISK_SIZE"
BROKER_GET_FROM_DISK_NUMS = "BROKER_GET_FROM_DISK_NUMS"
BROKER_GET_FROM_DISK_SIZE = "BROKER_GET_FROM_DISK_SIZE"
COMMERCIAL = ("COMMERCIAL_SEND_TIMES", "COMMERCIAL_RCV_TIMES", "COMMERCIAL_SEND_SIZE", "COMMERCIAL_RCV_SIZE",
              "COMMERCIAL_RCV_EPOLLS", "COMMERCIAL_SNDBCK_TIMES", "COMMERCIAL_PERM_FAILURES")  # fmt: skip
SET_NAMES = (TOPIC_PUT_NUMS, TOPIC_PUT_SIZE, GROUP_GET_NUMS, GROUP_GET_SIZE, GROUP_GET_LATENCY, SNDBCK_PUT_NUMS,
             BROKER_PUT_NUMS, BROKER_GET_NUMS, GROUP_GET_FROM_DISK_NUMS, GROUP_GET_FROM_DISK_SIZE,
             BROKER_GET_FROM_DISK_NUMS, BROKER_GET_FROM_DISK_SIZE, *COMMERCIAL)  # fmt: skip

SCHEDULE_TOPIC = "SCHEDULE_TOPIC_XXXX"
MINUTE, HOUR, DAY = 0, 1, 2
# (tick period ms, samples kept) of csListMinute, csListHour, csListDay
WINDOWS = ((10_000, 7), (600_000, 7), (3_600_000, 25))


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    sum: int = 0
    tps: float = 0.0
    avgpt: float = 0.0
    times: int = 0


class StatsItem:
    def __init__(self, origin_ms: int, now_ms: int) -> None:
        self.origin_ms = origin_ms
        self.value = 0
        self.times = 0
        # (timestamp, times, value) samples per window, and the index of the last tick taken
        self.lists: tuple[deque[tuple[int, int, int]], ...] = tuple(deque() for _ in WINDOWS)
        self.ticks = [(now_ms - origin_ms) // period for period, _ in WINDOWS]
        # The next minute-list tick: the longer periods are multiples of it, so no window ticks before then and an
        # add on the send path skips catch_up (the same samples, taken by the first add or read at or after it).
        self.next_tick_ms = origin_ms + (self.ticks[MINUTE] + 1) * WINDOWS[MINUTE][0]

    def catch_up(self, now_ms: int) -> None:
        for window, (period, keep) in enumerate(WINDOWS):
            current = (now_ms - self.origin_ms) // period
            last = self.ticks[window]
            if current <= last:
                continue
            samples = self.lists[window]
            for tick in range(max(last + 1, current - keep), current + 1):
                at = self.origin_ms + tick * period
                if not samples:
                    samples.append((at - period, 0, 0))
                samples.append((at, self.times, self.value))
                if len(samples) > keep:
                    samples.popleft()
            self.ticks[window] = current
        self.next_tick_ms = self.origin_ms + (self.ticks[MINUTE] + 1) * WINDOWS[MINUTE][0]

    def add(self, now_ms: int, value: int, times: int) -> None:
        if now_ms >= self.next_tick_ms:
            self.catch_up(now_ms)
        self.value += value
        self.times += times

    def snapshot(self, now_ms: int, window: int) -> StatsSnapshot:
        """computeStatsData over one window's samples."""
        self.catch_up(now_ms)
        samples = self.lists[window]
        if not samples:
            return StatsSnapshot()
        (t0, times0, v0), (t1, times1, v1) = samples[0], samples[-1]
        total = v1 - v0
        tps = total * 1000.0 / (t1 - t0)
        calls = times1 - times0
        return StatsSnapshot(total, tps, total / calls if calls > 0 else 0.0, calls)


class BrokerStatsManager:
    """The sets Java creates (queue-level ones only with enableQueueStat, which rocketpy does not offer)."""

    def __init__(self, clock_ms: ClockMs, cluster_name: str = "DefaultCluster") -> None:
        self.clock_ms = clock_ms
        self.cluster_name = cluster_name
        self.origin_ms = clock_ms()
        self.sets: dict[str, dict[str, StatsItem]] = {name: {} for name in SET_NAMES}
        self._put_items: dict[str, tuple[StatsItem, StatsItem, StatsItem]] = {}  # on_put_one's, per topic
        self._put_items_cluster = cluster_name
        self._get_items: dict[tuple[str, str], tuple[StatsItem, StatsItem, StatsItem]] = {}  # on_get's, per pair
        self._get_items_cluster = cluster_name
        self._latency_items: dict[tuple[str, str], StatsItem] = {}  # on_get's GROUP_GET_LATENCY items, per pair

    def _add(self, name: str, key: str, value: int, times: int, now: int | None = None) -> None:
        if now is None:
            now = self.clock_ms()
        self.item(name, key, now).add(now, value, times)

    def item(self, name: str, key: str, now: int) -> StatsItem:
        """The item of `key` in set `name`, created at `now` on first use (items are never removed, so a caller
        may keep it)."""
        items = self.sets[name]
        item = items.get(key)
        if item is None:
            item = items[key] = StatsItem(self.origin_ms, now)
        return item

    def get_stats_item(self, name: str, key: str) -> StatsItem | None:
        items = self.sets.get(name)
        return None if items is None else items.get(key)

    def snapshot(self, name: str, key: str, window: int) -> StatsSnapshot:
        item = self.get_stats_item(name, key)
        return StatsSnapshot() if item is None else item.snapshot(self.clock_ms(), window)

    # -- what the processors count (SendMessageProcessor, PullMessageProcessor, consumerSendMsgBack) ------------

    def on_put(self, topic: str, messages: int, wrote_bytes: int, now: int | None = None) -> None:
        """handlePutMessageResult on success: incTopicPutNums(num, 1), incTopicPutSize, incBrokerPutNums."""
        if now is None:
            now = self.clock_ms()  # once for the three: Java's three calls read it within microseconds
        self._add(TOPIC_PUT_NUMS, topic, messages, 1, now)
        self._add(TOPIC_PUT_SIZE, topic, wrote_bytes, 1, now)
        self._add(BROKER_PUT_NUMS, self.cluster_name, messages, 0, now)

    def _topic_put_items(self, topic: str, now: int) -> tuple[StatsItem, StatsItem, StatsItem]:
        """The topic's three put items, kept (items are never removed; the cache starts afresh if the cluster
        name, the broker item's key, changes)."""
        if self._put_items_cluster is not self.cluster_name:
            self._put_items, self._put_items_cluster = {}, self.cluster_name
        items = self._put_items.get(topic)
        if items is None:
            items = self._put_items[topic] = (self.item(TOPIC_PUT_NUMS, topic, now),
                                              self.item(TOPIC_PUT_SIZE, topic, now),
                                              self.item(BROKER_PUT_NUMS, self.cluster_name, now))  # fmt: skip
        return items

    def on_put_one(self, topic: str, wrote_bytes: int, now: int) -> None:
        """`on_put` of one record through the topic's kept items (the send fast path)."""
        items = self._put_items.get(topic)
        if items is None or self._put_items_cluster is not self.cluster_name:
            items = self._topic_put_items(topic, now)
        nums, size, broker = items
        nums.add(now, 1, 1)
        size.add(now, wrote_bytes, 1)
        broker.add(now, 1, 0)

    def on_put_many(self, topic: str, count: int, wrote_bytes: int, now: int) -> None:
        """`count` calls of `on_put_one` at `now` whose sizes sum to `wrote_bytes` (the native send path's batch):
        each item catches up once, then takes the sums."""
        nums, size, broker = self._topic_put_items(topic, now)
        nums.add(now, count, count)
        size.add(now, wrote_bytes, count)
        broker.add(now, count, 0)

    def on_get(self, group: str, topic: str, messages: int, size: int, now: int | None = None,
               latency_ms: int | None = None) -> None:  # fmt: skip
        """A FOUND pull: incGroupGetNums, incGroupGetSize, incBrokerGetNums, and with `latency_ms` incGroupGetLatency
        (transferMsgByHeap, without enableQueueStat: key topic@group) at the same instant, through the pair's kept
        items (as `_topic_put_items` keeps a topic's)."""
        if now is None:
            now = self.clock_ms()
        items = self._get_items.get((group, topic))
        if items is None or self._get_items_cluster is not self.cluster_name:
            if self._get_items_cluster is not self.cluster_name:
                self._get_items, self._get_items_cluster = {}, self.cluster_name
            key = f"{topic}@{group}"
            items = self._get_items[(group, topic)] = (self.item(GROUP_GET_NUMS, key, now),
                                                       self.item(GROUP_GET_SIZE, key, now),
                                                       self.item(BROKER_GET_NUMS, self.cluster_name, now))  # fmt: skip
        nums, total, broker = items
        nums.add(now, messages, 1)
        total.add(now, size, 1)
        broker.add(now, messages, 0)
        if latency_ms is not None:
            latency = self._latency_items.get((group, topic))
            if latency is None:  # made on first use only, as Java's set gets it (not with transferMsgByHeap=false)
                latency = self._latency_items[(group, topic)] = self.item(GROUP_GET_LATENCY, f"{topic}@{group}", now)
            latency.add(now, latency_ms, 1)

    def on_send_back_put(self, group: str, back_topic: str, stored_topic: str, wrote_bytes: int) -> None:
        """consumerSendMsgBack after PUT_OK: a copy delayed into SCHEDULE_TOPIC_XXXX counts as a put there, and
        incSendBackNums counts under the message's (first) topic."""
        if stored_topic == SCHEDULE_TOPIC:
            self._add(TOPIC_PUT_NUMS, stored_topic, 1, 1)
            self._add(TOPIC_PUT_SIZE, stored_topic, wrote_bytes, 1)
        self._add(SNDBCK_PUT_NUMS, f"{back_topic}@{group}", 1, 1)

    def tps_group_get_nums(self, group: str, topic: str) -> float:
        """tpsGroupGetNums: the minute window's TPS of GROUP_GET_NUMS topic@group."""
        return self.snapshot(GROUP_GET_NUMS, f"{topic}@{group}", MINUTE).tps
