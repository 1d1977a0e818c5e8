"""BrokerStatsManager's lazily taken samples equal those of Java's sampler, which runs at every tick."""

from __future__ import annotations

from collections import deque

from hypothesis import given, settings
from hypothesis import strategies as st

from rocketpy.broker.stats_manager import DAY, HOUR, MINUTE, WINDOWS, BrokerStatsManager, StatsItem, StatsSnapshot


class EagerItem:
    """StatsItem as Java runs it: samplingInSeconds / InMinutes / InHour at every tick of the set's schedule."""

    def __init__(self) -> None:
        self.value = self.times = 0
        self.lists: list[deque[tuple[int, int, int]]] = [deque() for _ in WINDOWS]

    def tick(self, at: int, window: int) -> None:
        period, keep = WINDOWS[window]
        samples = self.lists[window]
        if not samples:
            samples.append((at - period, 0, 0))
        samples.append((at, self.times, self.value))
        if len(samples) > keep:
            samples.popleft()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4_000_000), st.integers(1, 50)), min_size=1, max_size=25))
def test_lazy_samples_equal_the_eager_sampler(steps: list[tuple[int, int]]) -> None:
    origin, now = 1_000_000, 1_000_000
    created = origin + 3_000
    lazy = StatsItem(origin, created)
    eager = EagerItem()
    clock = created
    for gap, value in steps:
        target = clock + gap
        for window, (period, _) in enumerate(WINDOWS):  # Java's ticks passed on the way, after creation
            first = (clock - origin) // period + 1
            for k in range(first, (target - origin) // period + 1):
                eager.tick(origin + k * period, window)
        clock = target
        lazy.add(clock, value, 1)
        eager.value += value
        eager.times += 1
    now = clock
    for window in (MINUTE, HOUR, DAY):
        lazy.snapshot(now, window)
        assert list(lazy.lists[window]) == list(eager.lists[window])


def test_unknown_items_read_as_zero() -> None:
    manager = BrokerStatsManager(lambda: 0)
    assert manager.snapshot("TOPIC_PUT_NUMS", "T", MINUTE) == StatsSnapshot()
    assert manager.get_stats_item("NO_SUCH_SET", "T") is None
    assert manager.tps_group_get_nums("G", "T") == 0.0
