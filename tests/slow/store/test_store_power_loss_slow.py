"""Simulated power loss, soak size: 40 runs x 10 crash images each."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.store.test_power_loss import power_loss_run


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(100, 140))
def test_power_loss_soak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    power_loss_run(tmp_path, monkeypatch, seed, images=10)
