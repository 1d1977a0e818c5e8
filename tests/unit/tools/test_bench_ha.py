"""tools/bench_ha.py's tables: TPS and RT per target and role, SYNC/ASYNC and rocketpy/Java ratios."""

from __future__ import annotations

from tools.bench.results import SendSummary
from tools.bench_ha import Result, render


def _result(target: str, role: str, tps: float, rt: float) -> Result:
    summary = SendSummary(tps=tps, avg_rt_ms=rt, max_rt_ms=90, failed=0, windows=1)
    return Result(target, role, summary, load="1.5", master_cpu_us=120.0, slave_cpu_us=30.25)


RESULTS = [
    _result("java", "SYNC_MASTER", 4000, 16.0),
    _result("rocketpy", "SYNC_MASTER", 1000, 64.0),
    _result("java", "ASYNC_MASTER", 8000, 8.0),
    _result("rocketpy", "ASYNC_MASTER", 2000, 32.0),
]


def test_markdown_has_rows_and_ratios() -> None:
    text = render(RESULTS, markdown=True)
    assert "| rocketpy | SYNC_MASTER | 1000 | 64.00 | 90 | 0 | 120.0 | 30.2 | 1.5 |" in text
    assert "| java SYNC/ASYNC | 0.50 | 2.00 |" in text
    assert "| rocketpy SYNC/ASYNC | 0.50 | 2.00 |" in text
    assert "| SYNC_MASTER rocketpy/Java | 0.25 | 4.00 |" in text


def test_a_failed_run_leaves_dashes_and_no_ratio() -> None:
    text = render([Result("rocketpy", "SYNC_MASTER", None, error="boom"), RESULTS[0]], markdown=False)
    assert "rocketpy  SYNC_MASTER  -" in text
    assert "rocketpy/Java" not in text
