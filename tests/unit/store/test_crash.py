"""kill -9 mid-load (CI size): every acknowledged append survives, in order, uncorrupted."""

from __future__ import annotations

from pathlib import Path

import pytest

from .crash_harness import crash_test


@pytest.mark.parametrize("mode", ["SYNC_FLUSH", "ASYNC_FLUSH"])
def test_sigkill_loses_no_acknowledged_append(tmp_path: Path, mode: str) -> None:
    result = crash_test(tmp_path / "store", mode, kills=8, threads=3, seed=7)
    assert result.acked > 100
    assert result.lost == 0
    assert result.recovered >= result.acked
