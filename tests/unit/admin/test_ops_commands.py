"""The operations subcommands of `rocketpy admin` (issue 9): offsets, stats, consumerStatus, startMonitoring.

Their output is compared with mqadmin's in tests/interop/test_admin_cli.py; here: the pure formatting helpers, the
progress indication rule (stderr, only on a terminal) and startMonitoring's bounded run against `rocketpy serve`.
"""

from __future__ import annotations

import datetime
import io
import signal
import subprocess
import sys
import time

import pytest

from rocketpy.admin.consumer_status import analyze_process_queue, analyze_subscription, format_running_info
from rocketpy.admin.offset_commands import Progress, mq_hash_order, parse_timestamp
from rocketpy.admin.stats_commands import BrokerConsumeStats, compute_24hour_sum
from rocketpy.protocol.errors import RocketMQError
from rocketpy.testing import RocketpyServer

NOW = 1_700_000_000_000
FAST = ("--delay", "0", "--interval", "0.3")


def admin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rocketpy", "admin", *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_timestamps_as_reset_offset_by_time_reads_them() -> None:
    assert parse_timestamp("now") == -1
    assert parse_timestamp("1234") == 1234
    local = datetime.datetime(2024, 1, 2, 3, 4, 5, 678000)
    assert parse_timestamp("2024-01-02#03:04:05:678") == int(local.timestamp() * 1000)
    with pytest.raises(RocketMQError):
        parse_timestamp("yesterday")


def test_message_queues_in_java_hash_map_order() -> None:
    queues = [("InteropRestartTopic", "broker-a", q) for q in range(4)]
    assert sorted(mq_hash_order(queues)) == queues
    assert mq_hash_order(queues) == mq_hash_order(list(reversed(queues)))  # no collisions: order is by bucket


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal() -> None:
    quiet = io.StringIO()
    progress = Progress("resetOffsetByTime", 3, quiet)
    for _ in range(3):
        progress.step()
    assert quiet.getvalue() == ""
    tty = _Tty()
    progress = Progress("resetOffsetByTime", 2, tty)
    progress.step()
    progress.step()
    assert tty.getvalue() == "\rresetOffsetByTime: 1/2 queues\rresetOffsetByTime: 2/2 queues\n"


def test_broker_consume_stats_layout_and_level() -> None:
    out = io.StringIO()
    BrokerConsumeStats().render(([], 7), out)
    lines = out.getvalue().split("\n")
    assert lines[0].startswith("#Topic" + " " * 58 + "  #Group")
    assert lines[1:] == ["", "Diff Total: 7", ""]
    assert compute_24hour_sum({"statsDay": {"sum": 0}, "statsHour": {"sum": 5}, "statsMinute": {"sum": 1}}) == 5


def _running_info(push: bool = True, cached: int = 0, last_consume: int = NOW) -> dict[str, object]:
    from rocketpy.common.fastjson import ObjectKey

    mq = ObjectKey.of({"brokerName": "broker-a", "queueId": 1, "topic": "T"})
    return {
        "properties": {
            "consumerGroup": "g",
            "PROP_CONSUME_TYPE": "CONSUME_PASSIVELY" if push else "CONSUME_ACTIVELY",
            "PROP_CONSUMER_START_TIMESTAMP": str(NOW),
        },
        "subscriptionSet": [{"topic": "T", "subString": "*", "classFilterMode": False, "tagsSet": [], "codeSet": []}],
        "mqTable": {mq: {"commitOffset": 10, "cachedMsgCount": cached, "lastConsumeTimestamp": last_consume}},
        "statusTable": {"T": {"pullRT": 1.5, "pullTPS": 0.0, "consumeRT": 0.0, "consumeFailedMsgs": 0}},
    }


def test_running_info_text_and_analysis() -> None:
    text = format_running_info(_running_info())
    assert text.startswith("#Consumer Properties#\nconsumerGroup" + " " * 27 + ": g\n")
    assert "\n\n#Consumer Subscription#\n001 Topic: T" in text
    assert "ClassFilter: false    SubExpression: *\n" in text
    assert "\nT" + " " * 31 + "  broker-a" + " " * 24 + "  1     10" in text
    assert "ProcessQueueInfo [commitOffset=10, cachedMsgMinOffset=0" in text
    assert "           1.50" in text
    table = {"c1": _running_info(), "c2": _running_info()}
    assert analyze_subscription(table, NOW + 1000)
    table["c2"]["subscriptionSet"] = []
    assert analyze_subscription(table, NOW + 1000)  # started less than 2 minutes ago: not judged yet
    assert not analyze_subscription(table, NOW + 3 * 60 * 1000)
    blocked = analyze_process_queue("c1", _running_info(cached=3, last_consume=NOW), NOW + 61_000)
    assert blocked == (
        "c1 MessageQueue [topic=T, brokerName=broker-a, queueId=1] can't consume for a while, maybe blocked, 61000ms\n"
    )
    assert analyze_process_queue("c1", _running_info(push=False, cached=3), NOW + 61_000) == ""


def test_start_monitoring_runs_bounded_rounds(rocketpy_server: RocketpyServer) -> None:
    ns = rocketpy_server.namesrv_addr
    assert admin("updateSubGroup", "-n", ns, "-b", rocketpy_server.broker_addr, "-g", "MonGroup").returncode == 0
    result = admin("startMonitoring", "-n", ns, "--rounds", "2", "--delay", "0", "--interval", "0.2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert (
        lines
        == [
            "[MONITOR] =========================================beginRound",
            "[MONITOR] =========================================endRound",
        ]
        * 2
    )
    assert "reportDeleteMsgsEvent" in result.stderr
    refused = admin("startMonitoring", "-n", ns, "--rounds", "0")
    assert refused.returncode == 1 and refused.stdout == ""


def test_start_monitoring_stops_on_sigint(rocketpy_server: RocketpyServer) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "rocketpy", "admin", "startMonitoring", "-n", rocketpy_server.namesrv_addr, *FAST],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # Ctrl-C's default action even when the test run itself has SIGINT ignored (started in the background)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(2.5)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"startMonitoring did not stop on SIGINT; stderr: {err[-2000:]}") from None
    assert proc.returncode == 130, err
    rounds = out.count("beginRound")
    assert rounds >= 1 and out.count("endRound") >= rounds - 1
    assert "Traceback" not in err
