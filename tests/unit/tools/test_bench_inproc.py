"""tools/bench_inproc.py and tools/bench_pull_inproc.py over their shared set-up (tools/bench/inproc.py), in short
runs: each serves its warm-up and a few measured requests and ends on a SUCCESS reply (a run raises SystemExit
otherwise)."""

from __future__ import annotations

import pytest

from rocketpy.broker.processors import send_fast
from tools import bench_inproc, bench_pull_inproc


@pytest.mark.parametrize("general_only", [False, True])
async def test_send_bench_ends_on_success(general_only: bool) -> None:
    assert await bench_inproc.run(64, general_only) >= 0.0


@pytest.mark.skipif(not send_fast.NATIVE, reason="the C extension rocketpy.broker._sendpath is not built")
async def test_send_bench_through_the_c_path() -> None:
    assert await bench_inproc.run(64, native=True) >= 0.0


@pytest.mark.parametrize("general_only", [False, True])
async def test_pull_bench_ends_on_success(general_only: bool) -> None:
    assert await bench_pull_inproc.run(16, 4, general_only) >= 0.0
