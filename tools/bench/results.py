"""Pure parts of the side-by-side benchmark: parse what the official benchmark tools print, summarise it, compute
the rocketpy/Java ratios and render the table. No processes, no clock: tests/unit/tools exercises all of it.

The lines parsed are those of org.apache.rocketmq.example.benchmark.Producer / Consumer from rocketmq-example 4.7.0
(the newest 4.x on Maven Central); the 4.9.x wording ("Current Time: ... RT(ms)") is accepted too. Both tools print
one line every 10 seconds computed over a sliding window of the last ten one-second snapshots, so every figure
here is a per-window figure; "Max RT" is the exception: it is the maximum since the tool started.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from typing import TypeVar

_NUM = r"(\d+(?:[.,]\d+)?)"
_RT = r"RT(?:\(ms\))?:\s*"

PRODUCER_LINE = re.compile(
    rf"Send TPS:\s*(\d+)\s+Max {_RT}(\d+)\s+Average {_RT}{_NUM}\s+Send Failed:\s*(\d+)\s+Response Failed:\s*(\d+)"
)
CONSUMER_LINE = re.compile(
    rf"(?<!Send )TPS:\s*(\d+)\s+FAIL:\s*(\d+)\s+AVG\(B2C\) {_RT}{_NUM}\s+AVG\(S2C\) {_RT}{_NUM}\s+"
    rf"MAX\(B2C\) {_RT}(\d+)\s+MAX\(S2C\) {_RT}(\d+)"
)


T = TypeVar("T")


def _float(text: str) -> float:
    # Java's %7.3f follows the JVM locale; a comma decimal separator must not break the parse.
    return float(text.replace(",", "."))


@dataclass(frozen=True)
class ProducerWindow:
    """One "Send TPS" line: TPS and average RT over its window, max RT and failure counts since start."""

    tps: int
    max_rt_ms: int
    avg_rt_ms: float
    send_failed: int
    response_failed: int


@dataclass(frozen=True)
class ConsumerWindow:
    """One consumer "TPS ... FAIL" line. B2C is born-to-consume latency, S2C store-to-consume."""

    tps: int
    failed: int
    avg_b2c_ms: float
    avg_s2c_ms: float
    max_b2c_ms: int
    max_s2c_ms: int


def parse_producer_line(line: str) -> ProducerWindow | None:
    """The statistics carried by a benchmark Producer output line, or None for any other line."""
    m = PRODUCER_LINE.search(line)
    if m is None:
        return None
    return ProducerWindow(int(m[1]), int(m[2]), _float(m[3]), int(m[4]), int(m[5]))


def parse_consumer_line(line: str) -> ConsumerWindow | None:
    """The statistics carried by a benchmark Consumer output line, or None for any other line."""
    m = CONSUMER_LINE.search(line)
    if m is None:
        return None
    return ConsumerWindow(int(m[1]), int(m[2]), _float(m[3]), _float(m[4]), int(m[5]), int(m[6]))


def parse_producer_output(text: str) -> list[ProducerWindow]:
    return [w for w in map(parse_producer_line, text.splitlines()) if w is not None]


def parse_consumer_output(text: str) -> list[ConsumerWindow]:
    return [w for w in map(parse_consumer_line, text.splitlines()) if w is not None]


def steady_windows(windows: list[T]) -> list[T]:
    """Drop the first window (client start-up and JIT warm-up on both sides) when there is a later one."""
    return windows[1:] if len(windows) > 1 else list(windows)


@dataclass(frozen=True)
class SendSummary:
    tps: float
    avg_rt_ms: float
    max_rt_ms: int
    failed: int
    windows: int


@dataclass(frozen=True)
class ConsumeSummary:
    tps: float
    avg_b2c_ms: float
    max_b2c_ms: int
    failed: int
    windows: int


def _weighted_mean(values: list[float], weights: list[int]) -> float:
    total = sum(weights)
    if total == 0:
        return sum(values) / len(values)
    return sum(v * w for v, w in zip(values, weights, strict=True)) / total


def summarise_send(windows: list[ProducerWindow]) -> SendSummary | None:
    """Mean TPS of the steady windows, their message-weighted average RT, max RT and failures since start."""
    if not windows:
        return None
    kept = steady_windows(windows)
    last = windows[-1]
    return SendSummary(
        tps=sum(w.tps for w in kept) / len(kept),
        avg_rt_ms=_weighted_mean([w.avg_rt_ms for w in kept], [w.tps for w in kept]),
        max_rt_ms=last.max_rt_ms,
        failed=last.send_failed + last.response_failed,
        windows=len(kept),
    )


def summarise_consume(windows: list[ConsumerWindow]) -> ConsumeSummary | None:
    """Mean TPS and message-weighted born-to-consume latency of the steady windows, worst latency of any window."""
    if not windows:
        return None
    kept = steady_windows(windows)
    return ConsumeSummary(
        tps=sum(w.tps for w in kept) / len(kept),
        avg_b2c_ms=_weighted_mean([w.avg_b2c_ms for w in kept], [w.tps for w in kept]),
        max_b2c_ms=max(w.max_b2c_ms for w in windows),
        failed=sum(w.failed for w in windows),
        windows=len(kept),
    )


def parse_proc_status(text: str) -> dict[str, int]:
    """The kB-valued fields of /proc/PID/status (VmRSS, VmHWM, ...), in kB."""
    result: dict[str, int] = {}
    for line in text.splitlines():
        key, sep, rest = line.partition(":")
        parts = rest.split()
        if sep and len(parts) == 2 and parts[1] == "kB" and parts[0].isdigit():
            result[key.strip()] = int(parts[0])
    return result


_SEND_EXCEPTION = re.compile(r"\[BENCHMARK_PRODUCER\] Send Exception\s*\n\s*([\w.$]+)(?::[ \t]*([^\n]*))?")


def send_failure_reasons(client_log: str) -> dict[str, int]:
    """Why sends failed, from the client log the benchmark Producer writes ("[BENCHMARK_PRODUCER] Send Exception"
    then the exception line): exception class and message, numbers replaced by N so that alike reasons add up."""
    reasons: dict[str, int] = {}
    for m in _SEND_EXCEPTION.finditer(client_log):
        message = re.sub(r"\d+", "N", (m[2] or "").split(" BROKER: ")[0].strip())[:120]
        key = m[1].rsplit(".", 1)[-1] + (f": {message}" if message else "")
        reasons[key] = reasons.get(key, 0) + 1
    return reasons


@dataclass
class TargetResult:
    """Everything measured for one target; a metric is None when it could not be measured."""

    target: str
    ready_s: float | None = None
    send: SendSummary | None = None
    mixed_send: SendSummary | None = None
    consume: ConsumeSummary | None = None
    peak_rss_kb: int | None = None
    peak_hwm_kb: int | None = None
    send_cpu_us: float | None = None  # server CPU (utime + stime) per sent message, producer alone
    mixed_cpu_us: float | None = None  # server CPU per message sent and consumed, producer and consumer together
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    def metrics(self) -> dict[str, float | None]:
        """The table's rows for this target, in display order."""
        send, mixed, consume = self.send, self.mixed_send, self.consume
        return {
            "launch to ready (s)": self.ready_s,
            "send TPS (producer alone)": send.tps if send else None,
            "send avg RT (ms)": send.avg_rt_ms if send else None,
            "send max RT (ms)": float(send.max_rt_ms) if send else None,
            "send TPS (with consumer)": mixed.tps if mixed else None,
            "consume TPS (with producer)": consume.tps if consume else None,
            "consume avg born-to-consume RT (ms)": consume.avg_b2c_ms if consume else None,
            "server CPU us per message (producer alone)": self.send_cpu_us,
            "server CPU us per message (with consumer)": self.mixed_cpu_us,
            "peak RSS, sampled sum (MB)": self.peak_rss_kb / 1024 if self.peak_rss_kb is not None else None,
            "peak RSS, sum of VmHWM (MB)": self.peak_hwm_kb / 1024 if self.peak_hwm_kb is not None else None,
        }


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _combine_send(items: list[SendSummary | None]) -> SendSummary | None:
    got = [s for s in items if s is not None]
    if not got:
        return None
    return SendSummary(
        tps=statistics.median(s.tps for s in got),
        avg_rt_ms=statistics.median(s.avg_rt_ms for s in got),
        max_rt_ms=max(s.max_rt_ms for s in got),
        failed=sum(s.failed for s in got),
        windows=sum(s.windows for s in got),
    )


def _combine_consume(items: list[ConsumeSummary | None]) -> ConsumeSummary | None:
    got = [s for s in items if s is not None]
    if not got:
        return None
    return ConsumeSummary(
        tps=statistics.median(s.tps for s in got),
        avg_b2c_ms=statistics.median(s.avg_b2c_ms for s in got),
        max_b2c_ms=max(s.max_b2c_ms for s in got),
        failed=sum(s.failed for s in got),
        windows=sum(s.windows for s in got),
    )


def _max_or_none(values: list[int | None]) -> int | None:
    got = [v for v in values if v is not None]
    return max(got) if got else None


def combine_rounds(rounds: list[TargetResult]) -> TargetResult:
    """One target's rounds as one result: medians of rates, latencies and start times; maxima of the maxima and
    of peak memory; failures summed; every error and note kept, prefixed with its round when there are several."""
    if len(rounds) == 1:
        return rounds[0]
    errors = [f"round {i}: {r.error}" for i, r in enumerate(rounds, 1) if r.error]
    return TargetResult(
        target=rounds[0].target,
        ready_s=_median([r.ready_s for r in rounds if r.ready_s is not None]),
        send=_combine_send([r.send for r in rounds]),
        mixed_send=_combine_send([r.mixed_send for r in rounds]),
        consume=_combine_consume([r.consume for r in rounds]),
        peak_rss_kb=_max_or_none([r.peak_rss_kb for r in rounds]),
        peak_hwm_kb=_max_or_none([r.peak_hwm_kb for r in rounds]),
        send_cpu_us=_median([r.send_cpu_us for r in rounds if r.send_cpu_us is not None]),
        mixed_cpu_us=_median([r.mixed_cpu_us for r in rounds if r.mixed_cpu_us is not None]),
        error="\n".join(errors) or None,
        notes=[f"round {i}: {n}" for i, r in enumerate(rounds, 1) for n in r.notes],
    )


def cpu_per_message_us(marks: list[tuple[int, float]], per_window: list[int], window_s: float = 10.0) -> float | None:
    """Server CPU microseconds per message over the steady windows.

    `marks` are (statistics lines seen, server CPU seconds) taken as each new line of the reference client appeared;
    `per_window` the messages per second the client printed for each window. The CPU between the first and the last
    mark, over the messages of the windows between them (the first window, start-up and JIT warm-up, is left out).
    """
    if len(marks) < 2:
        return None
    (first_n, first_cpu), (last_n, last_cpu) = marks[0], marks[-1]
    messages = sum(per_window[first_n:last_n]) * window_s
    if messages <= 0:
        return None
    return (last_cpu - first_cpu) * 1e6 / messages


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator/denominator, or None when either is missing or the denominator is zero."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def _fmt(value: float | None) -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}"


def table_rows(results: list[TargetResult]) -> tuple[list[str], list[list[str]]]:
    """Header and rows: one column per target, plus "rocketpy/Java" when both were run."""
    by_name = {r.target: r for r in results}
    header = ["metric", *(r.target for r in results)]
    with_ratio = "java" in by_name and "rocketpy" in by_name
    if with_ratio:
        header.append("rocketpy/java")
    rows: list[list[str]] = []
    names = list(results[0].metrics()) if results else []
    for name in names:
        row = [name, *(_fmt(r.metrics()[name]) for r in results)]
        if with_ratio:
            q = ratio(by_name["rocketpy"].metrics()[name], by_name["java"].metrics()[name])
            row.append("n/a" if q is None else f"{q:.2f}")
        rows.append(row)
    return header, rows


def render_text(results: list[TargetResult]) -> str:
    """A fixed-width table for the terminal."""
    header, rows = table_rows(results)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_markdown(results: list[TargetResult]) -> str:
    """The same table as GitHub markdown."""
    header, rows = table_rows(results)
    out = ["| " + " | ".join(header) + " |", "|" + "|".join(["---", *["---:"] * (len(header) - 1)]) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)
