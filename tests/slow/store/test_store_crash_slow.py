"""kill -9 mid-load, soak size: many kills in both flush modes, no acknowledged append lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.store.crash_harness import crash_test


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["SYNC_FLUSH", "ASYNC_FLUSH"])
def test_sigkill_soak(tmp_path: Path, mode: str) -> None:
    result = crash_test(tmp_path / "store", mode, kills=40, threads=4, seed=2024)
    assert result.lost == 0
    assert result.acked > 1000 and result.recovered >= result.acked
