"""docs/benchmarks.md generation and the tool's command line."""

from __future__ import annotations

import pytest

from tools.bench.report import render_doc
from tools.bench.results import ProducerWindow, TargetResult, summarise_send
from tools.bench_broker import parse_args


def test_the_document_records_command_date_machine_table_and_problems() -> None:
    java = TargetResult(target="java", ready_s=12.0)
    java.send = summarise_send([ProducerWindow(7000, 100, 8.0, 0, 0)])
    rocketpy = TargetResult(target="rocketpy", error="`rocketpy serve` did not start a broker\nlast output: ...")
    doc = render_doc(
        [java, rocketpy],
        "python tools/bench_broker.py --seconds 20",
        {"cores": "2", "java": "openjdk 17"},
        {"flushDiskType": "ASYNC_FLUSH"},
        now="2026-11-22 03:40 UTC",
    )
    assert "python tools/bench_broker.py --seconds 20\n" in doc
    assert "Date: 2026-11-22 03:40 UTC" in doc
    assert "- cores: 2" in doc and "- java: openjdk 17" in doc
    assert "- flushDiskType: `ASYNC_FLUSH`" in doc
    assert "| send TPS (producer alone) | 7,000 | n/a | n/a |" in doc
    assert "- rocketpy: `rocketpy serve` did not start a broker last output: ..." in doc


def test_defaults_and_windows() -> None:
    s = parse_args([])
    assert (s.seconds, s.size, s.threads, s.targets, s.flush) == (20, 128, 64, ("java", "rocketpy"), "ASYNC_FLUSH")
    assert s.windows == 2
    assert parse_args(["--seconds", "5"]).windows == 1
    assert parse_args(["--seconds", "21", "--targets", "rocketpy"]).windows == 3


@pytest.mark.parametrize(
    "argv",
    [
        ["--targets", "kafka"],
        ["--targets", ""],
        ["--seconds", "0"],
        ["--flush", "NEVER"],
        ["--size", "-1"],
        ["--rounds", "0"],
    ],
)
def test_bad_arguments_are_refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse_args(argv)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err
