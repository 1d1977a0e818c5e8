"""BrokerStats.note_get (one clock reading, the group/topic pair's kept items) leaves every figure as the
per-figure calls do: the day roll, getFound/getMiss/getTransferred, GROUP_GET_NUMS/SIZE and BROKER_GET_NUMS."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from rocketpy.broker.stats import BrokerStats
from rocketpy.broker.stats_manager import BROKER_GET_NUMS, GROUP_GET_LATENCY, GROUP_GET_NUMS, GROUP_GET_SIZE
from tests.unit.broker.test_note_put_one import Clock


def figures(stats: BrokerStats) -> dict[str, Any]:
    m = stats.manager
    items = {(name, key): (item.value, item.times, [list(x) for x in item.lists], list(item.ticks))
             for name in (GROUP_GET_NUMS, GROUP_GET_SIZE, BROKER_GET_NUMS, GROUP_GET_LATENCY)
             for key, item in m.sets[name].items()}  # fmt: skip
    counters = (stats.get_found, stats.get_miss, stats.get_transferred)
    return {
        "counters": [(c.total, list(c._snapshots), [c.tps(w) for w in (10, 60, 600)]) for c in counters],
        "max": stats.get_entire_time_max,
        "day": (stats.get_total_today_morning, stats.get_total_yesterday_morning),
        "items": items,
    }


def note_get_by_parts(
    stats: BrokerStats, group: str, topic: str, found: int, elapsed: int, size: int, latency: bool
) -> None:
    """The figures one by one, each reading the clock (the general path's order)."""
    stats._roll_day()
    stats.get_entire_time_max = max(stats.get_entire_time_max, elapsed)
    if found:
        stats.get_found.add()
        stats.get_transferred.add(found)
        key = f"{topic}@{group}"
        stats.manager._add(GROUP_GET_NUMS, key, found, 1)
        stats.manager._add(GROUP_GET_SIZE, key, size, 1)
        stats.manager._add(BROKER_GET_NUMS, stats.manager.cluster_name, found, 0)
        if latency:
            stats.manager._add(GROUP_GET_LATENCY, key, elapsed, 1)  # incGroupGetLatency
    else:
        stats.get_miss.add()


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0, 0, 1, 999, 1000, 10_000, 61_000, 700_000, 86_400_000]),
                          st.sampled_from(["g1", "g2"]), st.sampled_from(["A", "B"]), st.integers(0, 32),
                          st.integers(0, 3000), st.sampled_from(["get", "get", "latency", "rename"])),
                min_size=1, max_size=40))  # fmt: skip
def test_note_get_equals_the_figures_one_by_one(gets: list[tuple[int, str, str, int, int, str]]) -> None:
    clock = Clock()
    fast, parts = BrokerStats(clock), BrokerStats(clock)
    for gap, group, topic, found, elapsed, kind in gets:
        clock.now += gap  # within a second, across the 1 s / 10 s / minute / 10 min ticks, a day later
        if kind == "rename":  # a renamed cluster: the kept items start afresh
            fast.manager.cluster_name = parts.manager.cluster_name = f"Cluster{gap}"
        latency = kind == "latency"  # transferMsgByHeap: the time of a FOUND get in GROUP_GET_LATENCY too
        fast.note_get(group, topic, found, elapsed, found * 200, latency)
        note_get_by_parts(parts, group, topic, found, elapsed, found * 200, latency)
        assert figures(fast) == figures(parts)
