"""The wall clock in Java's unit (System.currentTimeMillis), injected wherever tests substitute a fake one."""

from __future__ import annotations

import time


def wall_clock_ms() -> int:
    return int(time.time() * 1000)
