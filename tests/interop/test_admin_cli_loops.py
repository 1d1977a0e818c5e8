"""mqadmin subcommands that never return, compared on their first round: clusterRT (CLusterSendMsgRTCommand loops
`while (true)`, sleeping -i seconds between rounds) and startMonitoring (MonitorService's rounds, the first 20 s
after start, reported only through the client log file).

mqadmin's clusterRT runs in the driver's "mqadmin-first-lines" scenario (LoopingMqadmin.java: MQAdminStartup.main0
in a daemon thread, stdout read until the wanted lines, then System.exit); `rocketpy admin clusterRT` runs as its
own process whose stdout is read until the same number of lines, then it is terminated. RTs and times are masked.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from interop.harness.build import DRIVER_MAIN, REFERENCE_DIR
from interop.harness.driver import DRIVER_JVM_OPTS, run_driver
from interop.harness.environment import TARGETS, InteropEnv, environment

pytestmark = pytest.mark.interop

# one cluster of one broker: the table form prints its header and one row, the tlog form one row
CLUSTER_RT = {
    "table": (["clusterRT", "-a", "5", "-s", "16", "-i", "1"], 2),
    "tlog": (["clusterRT", "-a", "5", "-s", "16", "-i", "1", "-p", "true", "-m", "room1"], 1),
}
_TABLE_ROW = re.compile(r"^(.{24}  .{24}  )(\S+) *(  \S.*)$")
_TLOG_ROW = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(\|.*\|)(\d+|NaN|Infinity)$")
# ClientLogger's file (user.home/logs/rocketmqlogs), where DefaultMonitorListener writes mqadmin's report
CLIENT_LOG = "logs/rocketmqlogs/rocketmq_client.log"
MONITOR_ONE_ROUND = ("--rounds", "1", "--delay", "0")
_DELAY = re.compile(r"undoneMsgsDelayTimeMills=-?\d+")


@pytest.fixture(scope="module", params=TARGETS)
def loop_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, interop_build: Any
) -> Iterator[InteropEnv]:
    target: str = request.param
    workdir: Path = tmp_path_factory.mktemp(f"admin-loops-{target}")
    with environment(interop_build, target, workdir, broker_kind=target) as env:
        yield env


def _mask(stdout: str) -> list[str]:
    """The RT column (padded to mqadmin's 8) and the tlog time/RT replaced; rows must have one of the two shapes."""
    lines = []
    for line in stdout.splitlines():
        table, tlog = _TABLE_ROW.match(line), _TLOG_ROW.match(line)
        if line.startswith("#Cluster Name"):
            lines.append(line)
        elif table is not None:
            lines.append(f"{table[1]}{'<rt>':<8}{table[3]}")
        elif tlog is not None:
            lines.append(f"<time>{tlog[2]}<rt>")
        else:
            lines.append(f"<unexpected> {line}")
    return lines


def _mqadmin_first_lines(env: InteropEnv, name: str, argv: list[str], lines: int) -> dict[str, Any]:
    args = {"argv": " ".join([*argv, "-n", env.namesrv.addr]), "lines": str(lines), "timeout-ms": "60000"}
    observed: dict[str, Any] = run_driver(env.build, "mqadmin-first-lines", args, env.driver_home(name)).observations
    return observed


def _rocketpy_first_lines(env: InteropEnv, argv: list[str], lines: int, timeout: float = 60.0) -> dict[str, Any]:
    """Reads `rocketpy admin ...`'s stdout until `lines` lines, then terminates it (it would print again forever)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "rocketpy", "admin", *argv, "-n", env.namesrv.addr],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    got: list[str] = []
    watchdog = threading.Timer(timeout, proc.kill)  # a silent process must not block readline forever
    watchdog.start()
    try:
        while len(got) < lines:
            line = proc.stdout.readline()
            if not line:
                break
            got.append(line)
        still_running = proc.poll() is None
    finally:
        watchdog.cancel()
        proc.terminate()
        try:
            _, stderr = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, stderr = proc.communicate()
    return {"stdout": "".join(got), "complete": len(got) == lines, "stillRunning": still_running, "stderr": stderr}


def test_cluster_rt_first_round_is_what_mqadmin_prints(loop_env: InteropEnv) -> None:
    env = loop_env
    with ThreadPoolExecutor(max_workers=len(CLUSTER_RT)) as pool:
        java = {
            form: pool.submit(_mqadmin_first_lines, env, f"cluster-rt-{form}", argv, lines)
            for form, (argv, lines) in CLUSTER_RT.items()
        }
        mqadmin = {form: future.result() for form, future in java.items()}
    rocketpy = {form: _rocketpy_first_lines(env, argv, lines) for form, (argv, lines) in CLUSTER_RT.items()}
    for form in CLUSTER_RT:
        expected, actual = mqadmin[form], rocketpy[form]
        # both still loop after their first round: the rows of a later round would follow
        assert expected["complete"] and expected["stillRunning"], expected
        assert actual["complete"] and actual["stillRunning"], actual
        assert _mask(actual["stdout"]) == _mask(expected["stdout"]), (form, expected["stdout"], actual["stdout"])
        assert not any(line.startswith("<unexpected>") for line in _mask(expected["stdout"])), expected["stdout"]
    # every send of the round succeeded on both sides (successCount 5, failCount 0)
    assert _mask(mqadmin["table"]["stdout"])[1].split()[-2:] == ["5", "0"], mqadmin["table"]["stdout"]


def _monitor_lines(text: str) -> list[str]:
    """The "[MONITOR] ..." report lines of the first round (log prefixes dropped), delays masked."""
    lines = []
    for line in text.splitlines():
        if "[MONITOR]" in line:
            lines.append(_DELAY.sub("undoneMsgsDelayTimeMills=<ms>", line[line.index("[MONITOR]") :].rstrip()))
            if line.endswith("endRound"):
                break
    return lines


def test_start_monitoring_round_is_what_mqadmin_logs(loop_env: InteropEnv) -> None:
    """mqadmin's startMonitoring runs until its first round is in its log, and stays online (its own push consumer
    __MONITOR_CONSUMER is then the one online group) while `rocketpy admin startMonitoring --rounds 1` runs its
    round: both report that group alike."""
    env = loop_env
    home = env.driver_home("monitor")
    home.mkdir(parents=True, exist_ok=True)
    log, stop = home / CLIENT_LOG, home / "stop"
    args = {
        "argv": f"startMonitoring -n {env.namesrv.addr}",
        "lines": "0",
        "log-file": CLIENT_LOG,
        "until": "endRound",
        "stop-file": str(stop),
        "timeout-ms": "90000",
    }
    props = [f"-Duser.home={home}", f"-Drocketmq.home.dir={REFERENCE_DIR}"]
    argv = ["mqadmin-first-lines"] + [word for key, value in args.items() for word in (f"--{key}", value)]
    driver_stderr = (home / "driver.stderr").open("w")  # kept for a failure's diagnosis
    java = subprocess.Popen(
        [env.build.java, *DRIVER_JVM_OPTS, *props, "-cp", env.build.driver_classpath, DRIVER_MAIN, *argv],
        stdout=subprocess.PIPE,
        stderr=driver_stderr,
        text=True,
        cwd=home,
    )
    try:
        deadline = time.monotonic() + 90
        while not (log.exists() and "endRound" in log.read_text(errors="replace")):
            assert java.poll() is None and time.monotonic() < deadline, "mqadmin startMonitoring logged no round"
            time.sleep(0.3)
        ours = subprocess.run(
            [sys.executable, "-m", "rocketpy", "admin", "startMonitoring", "-n", env.namesrv.addr, *MONITOR_ONE_ROUND],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        stop.touch()
        try:
            stdout, _ = java.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            java.kill()
            stdout, _ = java.communicate()
        driver_stderr.close()
    assert stdout.strip(), f"the driver printed nothing; see {home / 'driver.stderr'}"
    observed = json.loads(stdout.strip().splitlines()[-1])["observations"]
    assert observed["complete"], observed
    expected = _monitor_lines(observed["log"])
    assert ours.returncode == 0, ours.stderr
    assert expected[0].endswith("beginRound") and expected[-1].endswith("endRound"), expected
    assert any("consumerGroup=__MONITOR_CONSUMER" in line for line in expected), expected
    assert _monitor_lines(ours.stdout) == expected, (expected, ours.stdout)
