"""A disk made slow for the loop-blocking tests: every fsync, fdatasync and posix_fallocate sleeps `delay` seconds
while `enabled`, counting the slowed calls and those made on the event loop's thread (which must stay 0)."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass
class SlowDisk:
    delay: float
    enabled: bool
    slowed: int = 0
    on_loop: int = 0


def install_slow_disk(monkeypatch: pytest.MonkeyPatch, delay: float, enabled: bool) -> SlowDisk:
    """Patch the sync calls for the test; the calling thread is taken as the event loop's."""
    disk = SlowDisk(delay, enabled)
    loop_thread = threading.get_ident()

    def slowed(real: Any) -> Any:
        def call(*args: Any) -> Any:
            result = real(*args)
            if disk.enabled:
                disk.slowed += 1
                disk.on_loop += threading.get_ident() == loop_thread
                time.sleep(disk.delay)
            return result

        return call

    for name in ("fsync", "fdatasync", "posix_fallocate"):
        monkeypatch.setattr(os, name, slowed(getattr(os, name)))
    return disk
