"""The broker's traffic counters and the GET_BROKER_RUNTIME_INFO (28) table built from them.

Mirrors store.StoreStatsService (put/get totals, the 10 s / 60 s / 600 s TPS triples, put latency buckets),
store.stats.BrokerStats (totals recorded at every local midnight) and the part of broker.BrokerStatsManager that
GET_CONSUME_STATS reads (tpsGroupGetNums: a group's pulled messages per second over the last minute).

Java samples every counter once a second in a thread. Here a `RateCounter` snapshots lazily, on the first use
after a second has passed, so no background task is needed: a total that did not change in a quiet stretch has
the same value at both ends of it, and the rate over any window is still exact.

Wiring: one `BrokerStats(clock_ms)` per broker, shared by the send, pull and offsets/stats processors.
`runtime_info(stats, store, settings)` renders every key of AdminBrokerProcessor.prepareRuntimeInfo +
DefaultMessageStore.getRuntimeInfo with Java's values for a young broker: the put/get TPS triples leave a window
empty ("N  ") until it has enough one-second samples (mqadmin clusterList splits them and copes), getTotalTps is
always three numbers (the dashboard splits it), putMessageDistributeTime is "null" for the first minute and
earliestMessageTimeStamp -1 until 2 x maxMessageSize of the first log file is written.
"""

from __future__ import annotations

import bisect
import os
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from rocketpy.broker.stats_manager import BrokerStatsManager
from rocketpy.common.fastjson import java_double
from rocketpy.protocol.codes import CURRENT_VERSION, VERSION_DESC

if TYPE_CHECKING:
    from rocketpy.broker.config import BrokerSettings
    from rocketpy.store.message_store import MessageStore

ClockMs = Callable[[], int]
TPS_WINDOWS = (10, 60, 600)  # seconds: StoreStatsService.getPutTps(10), (60), (600)
INT_MAX = 2**31 - 1
# BrokerConfig defaults the config object does not carry (send/pull/query/endTransaction queue capacities).
QUEUE_CAPACITY = {"send": 10000, "pull": 100000, "query": 20000, "endTransaction": 100000}


class RateCounter:
    """A growing total and its (time, total) snapshots, at least `interval_ms` apart (CallSnapshot lists)."""

    def __init__(self, clock_ms: ClockMs, interval_ms: int = 1000, max_records: int = 601) -> None:
        self.clock_ms = clock_ms
        self.interval_ms = interval_ms
        self.total = 0
        self.created_ms = clock_ms()
        self._last_add_ms = self.created_ms
        self._snapshots: deque[tuple[int, int]] = deque([(self.created_ms, 0)], maxlen=max_records)

    def _close_burst(self, now: int) -> None:
        """Adds made after the last snapshot were all in by the first one-second tick after it (or by the last
        add), where Java's sampler would have recorded the total. Without this point a quiet stretch would spread
        a burst's tail over itself, and a 10 s window would decay slowly instead of reading 0."""
        last_ms, last_total = self._snapshots[-1]
        if now - last_ms >= self.interval_ms and self.total != last_total and self._last_add_ms < now:
            self._snapshots.append((max(self._last_add_ms, last_ms + self.interval_ms), self.total))

    def _snapshot(self, now: int) -> None:
        self._close_burst(now)
        if now - self._snapshots[-1][0] >= self.interval_ms:
            self._snapshots.append((now, self.total))

    def add(self, n: int = 1, now: int | None = None) -> None:
        if now is None:
            now = self.clock_ms()
        if now - self._snapshots[-1][0] >= self.interval_ms:  # else _snapshot has nothing to do (the put path)
            self._snapshot(now)  # the total just before: a sample at a tick holds the adds made before it
        self.total += n
        self._last_add_ms = now

    def tps(self, window_s: int) -> float:
        """CallSnapshot.getTPS between the newest snapshot and the newest one `window_s` seconds older (the
        oldest, while the counter is younger than the window)."""
        self._snapshot(self.clock_ms())
        end = self._snapshots[-1]
        start = end[0] - window_s * 1000
        begin = self._snapshots[0]
        snaps = self._snapshots
        for i in range(len(snaps) - 1, -1, -1):
            if snaps[i][0] <= start:
                begin = snaps[i]
                if i + 1 < len(snaps) and snaps[i + 1][1] == begin[1]:
                    begin = (start, begin[1])  # the total held still up to the next snapshot: it had it at `start`
                break
        elapsed = end[0] - begin[0]
        return 0.0 if elapsed <= 0 else (end[1] - begin[1]) * 1000.0 / elapsed

    def has_window(self, window_s: int) -> bool:
        """StoreStatsService samples once a second, starting a second after boot, and answers a window only once
        it holds more than `window_s` samples (`list.size() > time`)."""
        return self.clock_ms() - self.created_ms >= (window_s + 1) * 1000

    def tps_or_zero(self, window_s: int) -> float:
        return self.tps(window_s) if self.has_window(window_s) else 0.0

    def tps_triple(self) -> str:
        """getPutTps() and friends: "" for a window with too few samples, so a young broker says "N  "."""
        return " ".join(java_double(self.tps(w)) if self.has_window(w) else "" for w in TPS_WINDOWS)


def _latency_buckets() -> list[int]:
    """StoreStatsService.PUT_MESSAGE_ENTIRE_TIME_BUCKETS: (step, count) pairs, then Long.MAX_VALUE."""
    bounds, at = [], 0
    for step, count in ((1, 20), (2, 15), (5, 10), (10, 10), (50, 6), (100, 5), (1000, 9)):
        for _ in range(count):
            at += step
            bounds.append(at)
    bounds.append(2**63 - 1)
    return bounds


_BUCKETS = _latency_buckets()
_DISTRIBUTION_DESC = ("[<=0ms]", "[0~10ms]", "[10~50ms]", "[50~100ms]", "[100~200ms]", "[200~500ms]",
                      "[500ms~1s]", "[1~2s]", "[2~3s]", "[3~4s]", "[4~5s]", "[5~10s]", "[10s~]")  # fmt: skip
_DISTRIBUTION_BOUNDS = (0, 10, 50, 100, 200, 500, 1000, 2000, 3000, 4000, 5000, 10000)


class PutLatency:
    """Put latencies of the current minute and of the last full one (buckets are swapped every minute)."""

    def __init__(self, clock_ms: ClockMs) -> None:
        self.clock_ms = clock_ms
        self.minute_start = clock_ms()
        self.current = [0] * len(_BUCKETS)
        self.last = [0] * len(_BUCKETS)
        self.distribution = [0] * len(_DISTRIBUTION_DESC)
        self.last_distribution: list[int] | None = None  # Java: null until the first per-minute printTps

    def _rotate(self, now: int | None = None) -> None:
        if now is None:
            now = self.clock_ms()
        if now - self.minute_start >= 60_000:
            self.minute_start = now
            self.last, self.current = self.current, [0] * len(_BUCKETS)
            self.last_distribution, self.distribution = self.distribution, [0] * len(_DISTRIBUTION_DESC)

    def add(self, ms: int, now: int | None = None, times: int = 1) -> None:
        """`times` puts that took `ms` each (a batch of the native send path: `times` at 0 ms)."""
        if now is None or now - self.minute_start >= 60_000:
            self._rotate(now)
        if ms <= 0:  # the usual put: the first bucket of both
            self.current[0] += times
            self.distribution[0] += times
            return
        self.current[bisect.bisect_left(_BUCKETS, ms)] += times
        index = 0 if ms <= 0 else bisect.bisect_right(_DISTRIBUTION_BOUNDS, ms - 1)
        self.distribution[min(index, len(_DISTRIBUTION_DESC) - 1)] += times

    def percentile(self, px: float) -> float:
        """findPutMessageEntireTimePX over the last full minute, interpolated inside the bucket."""
        self._rotate()
        total = sum(self.last)
        index = int(total * px)
        passed = 0
        for i, count in enumerate(self.last):
            if index <= passed + count:
                low = _BUCKETS[i - 1] if i else 0
                return low + (0.0 if count == 0 else (_BUCKETS[i] - low) * (index - passed) / count)
            passed += count
        return 0.0

    def distribution_text(self) -> str:
        """putMessageDistributeTimeToString over the last full minute; String.valueOf(null) before the first."""
        self._rotate()
        if self.last_distribution is None:
            return "null"
        return "".join(f"{d}:{n} " for d, n in zip(_DISTRIBUTION_DESC, self.last_distribution, strict=True))


def next_morning_ms(now_ms: int) -> int:
    """UtilAll.computeNextMorningTimeMillis: the next local midnight."""
    t = time.localtime(now_ms / 1000)
    return int(time.mktime((t.tm_year, t.tm_mon, t.tm_mday + 1, 0, 0, 0, 0, 0, -1)) * 1000)


class BrokerStats:
    """Every counter the data plane keeps; the processors call the `note_*` methods."""

    def __init__(self, clock_ms: ClockMs) -> None:
        self.clock_ms = clock_ms
        self.boot_ms = clock_ms()
        self.put_times = RateCounter(clock_ms)
        self.put_size_total = 0
        self.put_failed_times = 0
        self.put_entire_time_max = 0
        self.get_entire_time_max = 0
        self.latency = PutLatency(clock_ms)
        self.get_found = RateCounter(clock_ms)
        self.get_miss = RateCounter(clock_ms)
        self.get_transferred = RateCounter(clock_ms)
        self.manager = BrokerStatsManager(clock_ms)  # per topic / group figures (VIEW_BROKER_STATS_DATA)
        self.in_flight = {"send": 0, "pull": 0, "query": 0, "endTransaction": 0}
        self.put_total_yesterday_morning = self.put_total_today_morning = 0
        self.get_total_yesterday_morning = self.get_total_today_morning = 0
        self._next_morning = next_morning_ms(self.boot_ms)

    def note_put(self, messages: int, wrote_bytes: int, elapsed_ms: int, now: int | None = None) -> None:
        """A successful append of `messages` records (a batch counts each), as CommitLog counts them."""
        if now is None:
            now = self.clock_ms()  # once for the three clocked counters (a put's figures share one instant)
        if now >= self._next_morning:
            self._roll_day(now)
        self.put_times.add(messages, now)
        self.put_size_total += wrote_bytes
        self.put_entire_time_max = max(self.put_entire_time_max, elapsed_ms)
        self.latency.add(elapsed_ms, now)

    def note_put_one(self, topic: str, wrote_bytes: int, elapsed_ms: int) -> None:
        """`note_put` of one record plus the manager's `on_put` of its topic, with one clock read (the send fast
        path's figures)."""
        now = self.clock_ms()
        self.note_put(1, wrote_bytes, elapsed_ms, now)
        self.manager.on_put_one(topic, wrote_bytes, now)

    def note_put_many(self, topic: str, count: int, wrote_bytes: int) -> None:
        """`count` calls of `note_put_one(topic, size_i, 0)` at one clock reading, the sizes summing to
        `wrote_bytes`: the figures the native send path hands back per batch (its appends take microseconds,
        so each counts 0 ms). Every figure is exactly the per-message sequence's: the day roll and the
        counters' snapshots are taken once, at the first message, as that sequence takes them; the latency
        buckets get `count` 0 ms puts; putMessageEntireTimeMax, a per-message maximum, is left as max(it, 0)
        leaves it."""
        if count <= 0:
            return  # no message, no clock read: nothing a per-message sequence would have recorded
        now = self.clock_ms()
        if now >= self._next_morning:
            self._roll_day(now)
        self.put_times.add(count, now)
        self.put_size_total += wrote_bytes
        self.latency.add(0, now, count)
        self.manager.on_put_many(topic, count, wrote_bytes, now)

    def note_put_failed(self) -> None:
        self.put_failed_times += 1

    def note_get(
        self, group: str, topic: str, found: int, elapsed_ms: int, size: int = 0, latency: bool = False
    ) -> None:
        """One getMessage call: FOUND with `found` records (`size` bytes), or a miss when `found` is 0; `latency`:
        a FOUND one also counts its time in GROUP_GET_LATENCY (transferMsgByHeap's incGroupGetLatency)."""
        now = self.clock_ms()  # once for every figure of the call (Java reads it within microseconds)
        if now >= self._next_morning:
            self._roll_day(now)
        if elapsed_ms > self.get_entire_time_max:
            self.get_entire_time_max = elapsed_ms
        if found:
            self.get_found.add(1, now)
            self.get_transferred.add(found, now)
            self.manager.on_get(group, topic, found, size, now, elapsed_ms if latency else None)
        else:
            self.get_miss.add(1, now)

    def tps_group_get_nums(self, group: str, topic: str) -> float:
        """BrokerStatsManager.tpsGroupGetNums: the minute window's messages per second."""
        return self.manager.tps_group_get_nums(group, topic)

    def _roll_day(self, now: int | None = None) -> None:
        """BrokerStats.record, run by Java at every local midnight."""
        if now is None:
            now = self.clock_ms()
        while now >= self._next_morning:
            self.put_total_yesterday_morning = self.put_total_today_morning
            self.get_total_yesterday_morning = self.get_total_today_morning
            self.put_total_today_morning = self.put_times.total
            self.get_total_today_morning = self.get_transferred.total
            self._next_morning = next_morning_ms(self._next_morning + 1000)

    def runtime_text(self) -> str:
        """StoreStatsService.getFormatRuntime."""
        ms = max(0, self.clock_ms() - self.boot_ms)
        days, ms = divmod(ms, 86_400_000)
        hours, ms = divmod(ms, 3_600_000)
        minutes, ms = divmod(ms, 60_000)
        return f"[ {days:,} days, {hours} hours, {minutes} minutes, {ms // 1000} seconds ]"

    def store_runtime_info(self) -> dict[str, str]:
        """StoreStatsService.getRuntimeInfo."""
        self._roll_day()
        total_times = self.put_times.total or 1
        # getGetTotalTps adds found and miss, each 0 while its window is still short: always three numbers.
        get_total = [java_double(self.get_found.tps_or_zero(w) + self.get_miss.tps_or_zero(w)) for w in TPS_WINDOWS]
        return {
            "bootTimestamp": str(self.boot_ms),
            "runtime": self.runtime_text(),
            "putMessageEntireTimeMax": str(self.put_entire_time_max),
            "putMessageTimesTotal": str(total_times),
            "putMessageFailedTimes": str(self.put_failed_times),
            "putMessageSizeTotal": str(self.put_size_total),
            "putMessageDistributeTime": self.latency.distribution_text(),
            "putMessageAverageSize": java_double(self.put_size_total / total_times),
            "dispatchMaxBuffer": "0",
            "getMessageEntireTimeMax": str(self.get_entire_time_max),
            "putTps": self.put_times.tps_triple(),
            "getFoundTps": self.get_found.tps_triple(),
            "getMissTps": self.get_miss.tps_triple(),
            "getTotalTps": " ".join(get_total),
            "getTransferedTps": self.get_transferred.tps_triple(),
            "putLatency99": f"{self.latency.percentile(0.99):.2f}",
            "putLatency999": f"{self.latency.percentile(0.999):.2f}",
        }


def earliest_message_time(store: MessageStore, max_message_size: int) -> int:
    """DefaultMessageStore.getEarliestMessageTime: the store time at the log's min offset, read through
    getMessage(minOffset, 2 * maxMessageSize), which is null (-1) until that much of the first file is written."""
    data = store.commitlog.get_data(store.commitlog.min_offset)
    if data is None or len(data) < 2 * max_message_size:
        return -1
    return store.get_earliest_message_time()


def disk_used_ratio(path: str) -> float:
    """UtilAll.getDiskPartitionSpaceUsedPercent: used / (used + usable), rounded up to 1/100; -1 on error."""
    try:
        st = os.statvfs(path)
    except OSError:
        return -1.0
    total = st.f_blocks * st.f_frsize
    if total <= 0:
        return -1.0
    used = total - st.f_bfree * st.f_frsize
    entire = used + st.f_bavail * st.f_frsize
    if entire <= 0:
        return -1.0
    return (used * 100 // entire + (1 if used * 100 % entire else 0)) / 100.0


def human_bytes(count: int) -> str:
    """MixAll.humanReadableByteCount(bytes, false)."""
    if count < 1024:
        return f"{count} B"
    exp = 0
    value = float(count)
    while value >= 1024 and exp < 6:
        value /= 1024
        exp += 1
    return f"{count / 1024**exp:.1f} {'KMGTPE'[exp - 1]}iB"


def _store_paths(store: MessageStore) -> tuple[str, str, str]:
    cfg = store.config
    return str(cfg.store_path_root_dir), str(cfg.commitlog_dir), str(cfg.consume_queue_dir)


def runtime_info(
    stats: BrokerStats, store: MessageStore, settings: BrokerSettings, schedule_stats: dict[str, str] | None = None
) -> dict[str, str]:
    """AdminBrokerProcessor.prepareRuntimeInfo over DefaultMessageStore.getRuntimeInfo: every key, as strings;
    `schedule_stats` are ScheduleMessageService.buildRunningStats' keys."""
    info = stats.store_runtime_info()
    root, commitlog, consume_queue = _store_paths(store)
    ratio = disk_used_ratio(commitlog) if os.path.exists(commitlog) else -1.0
    info[f"commitLogDiskRatio_{commitlog}"] = java_double(ratio)
    info["commitLogDiskRatio"] = java_double(ratio)
    info["consumeQueueDiskRatio"] = java_double(disk_used_ratio(consume_queue))
    info.update(schedule_stats or {})
    info["commitLogMinOffset"] = str(store.min_phy_offset)
    info["commitLogMaxOffset"] = str(store.max_phy_offset)
    info["brokerVersionDesc"] = VERSION_DESC
    info["brokerVersion"] = str(CURRENT_VERSION)
    info["msgPutTotalYesterdayMorning"] = str(stats.put_total_yesterday_morning)
    info["msgPutTotalTodayMorning"] = str(stats.put_total_today_morning)
    info["msgPutTotalTodayNow"] = str(stats.put_times.total)
    info["msgGetTotalYesterdayMorning"] = str(stats.get_total_yesterday_morning)
    info["msgGetTotalTodayMorning"] = str(stats.get_total_today_morning)
    info["msgGetTotalTodayNow"] = str(stats.get_transferred.total)
    for pool in ("send", "pull", "query"):
        info[f"{pool}ThreadPoolQueueSize"] = str(stats.in_flight[pool])
        info[f"{pool}ThreadPoolQueueCapacity"] = str(QUEUE_CAPACITY[pool])
        info[f"{pool}ThreadPoolQueueHeadWaitTimeMills"] = "0"
    info["EndTransactionQueueSize"] = str(stats.in_flight["endTransaction"])
    info["EndTransactionThreadPoolQueueCapacity"] = str(QUEUE_CAPACITY["endTransaction"])
    info["dispatchBehindBytes"] = "0"  # dispatch happens inside put_message
    info["pageCacheLockTimeMills"] = "0"
    info["earliestMessageTimeStamp"] = str(earliest_message_time(store, settings.store.max_message_size))
    info["startAcceptSendRequestTimeStamp"] = str(settings.broker.start_accept_send_request_time_stamp)
    info["remainTransientStoreBufferNumbs"] = str(INT_MAX)  # transientStorePoolEnable=false
    info["remainHowManyDataToFlush"] = human_bytes(max(0, store.commitlog.dirty_bytes()))
    if os.path.exists(root):
        st = os.statvfs(root)
        total, free = human_bytes(st.f_blocks * st.f_frsize), human_bytes(st.f_bavail * st.f_frsize)
        info["commitLogDirCapacity"] = f"Total : {total}, Free : {free}."
    return info
