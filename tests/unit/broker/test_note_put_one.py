"""BrokerStats.note_put_one (the send fast path's counting) leaves every figure as note_put + manager.on_put do."""

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
