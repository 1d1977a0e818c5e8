"""BrokerStats.note_put_one (the send fast path's counting) leaves every figure as note_put + manager.on_put do;
note_put_many (the native send path's batch) as note_put_one per message at one clock reading."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rocketpy.broker.stats import BrokerStats
from rocketpy.broker.stats_manager import BROKER_PUT_NUMS, TOPIC_PUT_NUMS, TOPIC_PUT_SIZE


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000_000

    def __call__(self) -> int:
        return self.now


def figures(stats: BrokerStats) -> dict[str, Any]:
    m = stats.manager
    names = (TOPIC_PUT_NUMS, TOPIC_PUT_SIZE, BROKER_PUT_NUMS)
    items = {(name, key): (item.value, item.times, [list(x) for x in item.lists], list(item.ticks))
             for name in names for key, item in m.sets[name].items()}  # fmt: skip
    return {
        "total": stats.put_times.total,
        "snapshots": list(stats.put_times._snapshots),
        "tps": [stats.put_times.tps(w) for w in (10, 60, 600)],
        "size": stats.put_size_total,
        "max": stats.put_entire_time_max,
        "latency": (stats.latency.current, stats.latency.last, stats.latency.distribution),
        "last_distribution": stats.latency.last_distribution,
        "day": (stats.put_total_today_morning, stats.put_total_yesterday_morning),
        "items": items,
    }


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 90_000), st.sampled_from(["A", "B"]), st.integers(1, 500),
                          st.sampled_from([0, 0, 0, 1, 7, 120, 3000])), min_size=1, max_size=40))  # fmt: skip
def test_note_put_one_equals_note_put_and_on_put(puts: list[tuple[int, str, int, int]]) -> None:
    clock = Clock()
    one, two = BrokerStats(clock), BrokerStats(clock)
    for gap, topic, size, elapsed in puts:
        clock.now += gap if gap < 80_000 else 86_400_000  # now and then a day later (the midnight roll)
        one.note_put_one(topic, size, elapsed)
        two.note_put(1, size, elapsed)
        two.manager.on_put(topic, 1, size)
    assert figures(one) == figures(two)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0, 0, 1, 999, 1000, 9_999, 10_000, 61_000, 700_000, 3_600_000, 86_400_000]),
                          st.sampled_from(["A", "B", "C"]), st.lists(st.integers(1, 500), max_size=12),
                          st.sampled_from(["batch", "batch", "batch", "one", "rename"])),
                min_size=1, max_size=30))  # fmt: skip
def test_note_put_many_equals_note_put_one_per_message(batches: list[tuple[int, str, list[int], str]]) -> None:
    """A batch (maybe empty) against its messages one by one at the same clock reading; now and then a message
    counted the usual way on both, or a renamed cluster (the manager's item cache starts afresh)."""
    clock = Clock()
    many, ones = BrokerStats(clock), BrokerStats(clock)
    for gap, topic, sizes, kind in batches:
        clock.now += gap  # within a second, across the 1 s / 10 s / minute / 10 min / hour ticks, a day later
        if kind == "rename":
            many.manager.cluster_name = ones.manager.cluster_name = f"Cluster{gap}"
        if kind == "one":
            many.note_put_one(topic, sizes[0] if sizes else 1, 0)
            ones.note_put_one(topic, sizes[0] if sizes else 1, 0)
            continue
        many.note_put_many(topic, len(sizes), sum(sizes))
        for size in sizes:
            ones.note_put_one(topic, size, 0)
        assert figures(many) == figures(ones)
    assert figures(many) == figures(ones)
