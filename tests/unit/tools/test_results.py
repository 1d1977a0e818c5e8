"""Parsing of the official benchmark tools' output, the summaries, ratios and the rendered table."""

from __future__ import annotations

import pytest

from tools.bench.results import (
    ConsumerWindow,
    ProducerWindow,
    TargetResult,
    combine_rounds,
    parse_consumer_line,
    parse_consumer_output,
    parse_proc_status,
    parse_producer_line,
    parse_producer_output,
    ratio,
    render_markdown,
    render_text,
    send_failure_reasons,
    summarise_consume,
    summarise_send,
    table_rows,
)

# Captured from rocketmq-example 4.7.0 against the Java 4.9.7 reference (tools/bench_broker.py --keep).
PRODUCER_OUT_470 = """\
topic BenchSend threadCount 64 messageSize 128 keyEnable false
Send TPS: 1781 Max RT: 2923 Average RT:  32.325 Send Failed: 2 Response Failed: 22
Send TPS: 7713 Max RT: 2923 Average RT:   8.300 Send Failed: 2 Response Failed: 22
"""
CONSUMER_OUT_470 = """\
topic: BenchMixed, group: benchmark_consumer_44, suffix: true, filterType: null, expression: null
Consumer Started.
TPS: 1211 FAIL: 0 AVG(B2C) RT:  31.395 AVG(S2C) RT:  16.448 MAX(B2C) RT: 331 MAX(S2C) RT: 302
TPS: 7083 FAIL: 0 AVG(B2C) RT:  11.080 AVG(S2C) RT:   6.721 MAX(B2C) RT: 284 MAX(S2C) RT: 263
"""
# The 4.9.x wording of the same lines (example/.../benchmark/Producer.java and Consumer.java of 4.9.8).
PRODUCER_LINE_49 = (
    "Current Time: 2026-11-22 03:36:27,510 Send TPS: 5120 Max RT(ms): 190 Average RT(ms):  12.500 "
    "Send Failed: 0 Response Failed: 1"
)
CONSUMER_LINE_49 = (
    "Current Time: 2026-11-22 03:36:27,510 TPS: 4000 FAIL: 3 AVG(B2C) RT(ms):   2.250 AVG(S2C) RT(ms):   1.125 "
    "MAX(B2C) RT(ms): 40 MAX(S2C) RT(ms): 30"
)


def test_producer_lines_of_470_parse_with_every_field() -> None:
    windows = parse_producer_output(PRODUCER_OUT_470)
    assert windows == [ProducerWindow(1781, 2923, 32.325, 2, 22), ProducerWindow(7713, 2923, 8.3, 2, 22)]


def test_consumer_lines_of_470_parse_with_every_field() -> None:
    windows = parse_consumer_output(CONSUMER_OUT_470)
    assert windows == [
        ConsumerWindow(1211, 0, 31.395, 16.448, 331, 302),
        ConsumerWindow(7083, 0, 11.08, 6.721, 284, 263),
    ]


def test_49x_wording_is_accepted() -> None:
    assert parse_producer_line(PRODUCER_LINE_49) == ProducerWindow(5120, 190, 12.5, 0, 1)
    assert parse_consumer_line(CONSUMER_LINE_49) == ConsumerWindow(4000, 3, 2.25, 1.125, 40, 30)


def test_a_comma_decimal_separator_from_a_non_english_jvm_locale_parses() -> None:
    line = "Send TPS: 10 Max RT: 5 Average RT:   3,250 Send Failed: 0 Response Failed: 0"
    window = parse_producer_line(line)
    assert window is not None and window.avg_rt_ms == pytest.approx(3.25)


@pytest.mark.parametrize(
    "line",
    [
        "topic BenchSend threadCount 64 messageSize 128 keyEnable false",
        "Consumer Started.",
        "[log] WARN  RocketmqClient - Send TPS: lost",
        "Send TPS: abc Max RT: 1 Average RT: 1.0 Send Failed: 0 Response Failed: 0",
        "",
    ],
)
def test_other_lines_are_not_statistics(line: str) -> None:
    assert parse_producer_line(line) is None
    assert parse_consumer_line(line) is None


def test_a_producer_line_is_never_taken_for_a_consumer_line() -> None:
    assert parse_consumer_output(PRODUCER_OUT_470) == []
    assert parse_producer_output(CONSUMER_OUT_470) == []


def test_send_summary_drops_the_warm_up_window_and_keeps_failures_since_start() -> None:
    summary = summarise_send(parse_producer_output(PRODUCER_OUT_470))
    assert summary is not None
    assert summary.tps == 7713
    assert summary.avg_rt_ms == pytest.approx(8.3)
    assert summary.max_rt_ms == 2923
    assert summary.failed == 24
    assert summary.windows == 1


def test_send_summary_weights_average_rt_by_tps() -> None:
    windows = [ProducerWindow(1, 9, 99.0, 0, 0), ProducerWindow(100, 5, 2.0, 0, 0), ProducerWindow(300, 7, 6.0, 0, 0)]
    summary = summarise_send(windows)
    assert summary is not None
    assert summary.tps == 200
    assert summary.avg_rt_ms == pytest.approx((100 * 2.0 + 300 * 6.0) / 400)
    assert summary.max_rt_ms == 7  # the tool's own running maximum, taken from its last line


def test_a_single_window_is_kept_and_zero_tps_does_not_divide_by_zero() -> None:
    summary = summarise_send([ProducerWindow(0, 3000, 0.0, 5, 0)])
    assert summary is not None and summary.tps == 0 and summary.windows == 1 and summary.failed == 5


def test_consume_summary_takes_the_worst_latency_of_any_window() -> None:
    summary = summarise_consume(parse_consumer_output(CONSUMER_OUT_470))
    assert summary is not None
    assert (summary.tps, summary.avg_b2c_ms, summary.max_b2c_ms, summary.failed) == (7083, 11.08, 331, 0)


def test_no_lines_no_summary() -> None:
    assert summarise_send([]) is None
    assert summarise_consume([]) is None


def test_proc_status_fields_in_kb() -> None:
    text = "Name:\tjava\nVmHWM:\t  481216 kB\nVmRSS:\t  475000 kB\nThreads:\t77\nVmFlags: x\n"
    assert parse_proc_status(text) == {"VmHWM": 481216, "VmRSS": 475000}


@pytest.mark.parametrize(
    ("num", "den", "expected"),
    [(2.0, 4.0, 0.5), (3.0, 1.5, 2.0), (None, 1.0, None), (1.0, None, None), (1.0, 0.0, None), (0.0, 2.0, 0.0)],
)
def test_ratio(num: float | None, den: float | None, expected: float | None) -> None:
    assert ratio(num, den) == expected


def _result(target: str, ready: float, tps: int, rss_kb: int) -> TargetResult:
    r = TargetResult(target=target, ready_s=ready, peak_rss_kb=rss_kb, peak_hwm_kb=rss_kb)
    r.send = summarise_send([ProducerWindow(tps, 50, 4.0, 0, 0)])
    return r


def test_table_has_a_ratio_column_computed_rocketpy_over_java() -> None:
    header, rows = table_rows([_result("java", 10.0, 8000, 400 * 1024), _result("rocketpy", 0.5, 2000, 40 * 1024)])
    assert header == ["metric", "java", "rocketpy", "rocketpy/java"]
    by_metric = {row[0]: row[1:] for row in rows}
    assert by_metric["launch to ready (s)"] == ["10.00", "0.50", "0.05"]
    assert by_metric["send TPS (producer alone)"] == ["8,000", "2,000", "0.25"]
    assert by_metric["peak RSS, sampled sum (MB)"] == ["400", "40.00", "0.10"]
    assert by_metric["consume TPS (with producer)"] == ["n/a", "n/a", "n/a"]


def test_a_failed_target_shows_n_a_and_no_ratio_without_both_targets() -> None:
    failed = TargetResult(target="rocketpy", error="did not start")
    header, rows = table_rows([failed])
    assert header == ["metric", "rocketpy"]
    assert all(row[1] == "n/a" for row in rows)


def test_renderings_carry_every_metric() -> None:
    results = [_result("java", 10.0, 8000, 1024), _result("rocketpy", 1.0, 4000, 1024)]
    text, markdown = render_text(results), render_markdown(results)
    for name in results[0].metrics():
        assert name in text
        assert f"| {name} |" in markdown
    assert markdown.splitlines()[1] == "|---|---:|---:|---:|"


def test_rounds_combine_to_medians_maxima_and_sums() -> None:
    rounds = []
    for tps, rt, max_rt, failed, ready, rss in [
        (100, 4.0, 50, 1, 3.0, 500),
        (300, 2.0, 90, 0, 9.0, 400),
        (200, 3.0, 70, 2, 4.0, 450),
    ]:
        r = TargetResult(target="java", ready_s=ready, peak_rss_kb=rss, peak_hwm_kb=rss + 1, notes=[f"n{tps}"])
        r.send = summarise_send([ProducerWindow(tps, max_rt, rt, failed, 0)])
        rounds.append(r)
    combined = combine_rounds(rounds)
    assert combined.send is not None
    assert (combined.send.tps, combined.send.avg_rt_ms, combined.send.max_rt_ms) == (200, 3.0, 90)
    assert (combined.send.failed, combined.send.windows) == (3, 3)
    assert combined.ready_s == 4.0
    assert (combined.peak_rss_kb, combined.peak_hwm_kb) == (500, 501)
    assert combined.consume is None and combined.error is None
    assert combined.notes == ["round 1: n100", "round 2: n300", "round 3: n200"]


def test_a_failed_round_keeps_its_error_and_the_other_rounds_figures() -> None:
    ok = TargetResult(target="rocketpy", ready_s=0.5)
    ok.send = summarise_send([ProducerWindow(1000, 10, 1.0, 0, 0)])
    failed = TargetResult(target="rocketpy", error="broker crashed")
    combined = combine_rounds([ok, failed])
    assert combined.ready_s == 0.5
    assert combined.send is not None and combined.send.tps == 1000
    assert combined.error == "round 2: broker crashed"


def test_a_single_round_is_returned_as_is() -> None:
    only = TargetResult(target="java", ready_s=1.0)
    assert combine_rounds([only]) is only


def test_send_failure_reasons_group_alike_broker_refusals() -> None:
    log = """\
2026-11-22 03:36:27,510 ERROR RocketmqClient - [BENCHMARK_PRODUCER] Send Exception
org.apache.rocketmq.client.exception.MQBrokerException: CODE: 2  DESC: [TIMEOUT_CLEAN_QUEUE]broker busy, start flow \
control for a while, period in queue: 209ms, size of queue: 7 BROKER: 127.0.0.1:22734
For more information, please visit the url, http://rocketmq.apache.org/docs/faq/
\tat org.apache.rocketmq.client.impl.MQClientAPIImpl.processSendResponse(MQClientAPIImpl.java:648)
2026-11-22 03:36:27,511 ERROR RocketmqClient - [BENCHMARK_PRODUCER] Send Exception
org.apache.rocketmq.client.exception.MQBrokerException: CODE: 2  DESC: [TIMEOUT_CLEAN_QUEUE]broker busy, start flow \
control for a while, period in queue: 201ms, size of queue: 4 BROKER: 127.0.0.1:22734
2026-11-22 03:36:28,000 INFO RocketmqClient - something else
2026-11-22 03:36:29,000 ERROR RocketmqClient - [BENCHMARK_PRODUCER] Send Exception
org.apache.rocketmq.remoting.exception.RemotingTooMuchRequestException
"""
    assert send_failure_reasons(log) == {
        "MQBrokerException: CODE: N  DESC: [TIMEOUT_CLEAN_QUEUE]broker busy, start flow control for a while, "
        "period in queue: Nms, size of queue: N": 2,
        "RemotingTooMuchRequestException": 1,
    }
    assert send_failure_reasons("no failures here\n") == {}


def test_cpu_per_message_over_the_steady_windows() -> None:
    from tools.bench.results import cpu_per_message_us

    # marks at the 1st, 2nd and 3rd statistics lines; windows of 1000, 2000 and 4000 msg/s (10 s each)
    marks = [(1, 5.0), (2, 6.0), (3, 9.0)]
    # windows 2 and 3 lie between the first and last mark: 60,000 messages for 4 s of server CPU
    assert cpu_per_message_us(marks, [1000, 2000, 4000]) == 4.0 * 1e6 / 60_000
    assert cpu_per_message_us(marks[:1], [1000]) is None  # one mark: no interval
    assert cpu_per_message_us([(1, 1.0), (2, 2.0)], [5, 0]) is None  # nothing sent between them
