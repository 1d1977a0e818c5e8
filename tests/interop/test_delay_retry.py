"""Delayed delivery, retry backoff and dead letters (issue 7), differential: the same Java 4.9.8 clients against
the Java 4.9.7 reference and rocketpy, with messageDelayLevel=1s 2s 3s 4s; one broker per target shared by the
scenarios of this module (the restart scenario last). Times are bounded here, the rest compared as a whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interop.harness.environment import TARGETS, InteropEnv, environment
from interop.harness.normalise import diff_paths
from tests.interop import delay_scenarios as ds
from tests.interop.conftest import JavaBaseline

pytestmark = pytest.mark.interop

MEASURED: dict[str, dict[str, int]] = {}  # kept for the report: -s prints them


@pytest.fixture(scope="module", params=TARGETS)
def delay_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, interop_build: Any
) -> Iterator[InteropEnv]:
    kind: str = request.param
    workdir = tmp_path_factory.mktemp(f"delay-{kind}")
    with environment(interop_build, kind, workdir, with_broker=False, broker_kind=kind) as env:
        env.start_broker(conf_extra=ds.CONF)
        yield env


def _compare(name: str, env: InteropEnv, observed: Any, scenario: Any, baseline: JavaBaseline) -> dict[str, int]:
    kept, times = ds.split_times(observed)
    MEASURED[f"{name}-{env.kind}"] = times
    print(f"\n{name} [{env.kind}] measured: {times}")

    def reference(java_env: InteropEnv) -> Any:
        return ds.split_times(ds.with_delay_broker(scenario)(java_env))[0]

    baseline.check(f"delay_{name}", env, kept, reference, with_broker=False)
    return times


def test_delay_levels_are_honoured(delay_env: InteropEnv, baseline: JavaBaseline) -> None:
    obs = ds.delay_levels(delay_env)
    times = _compare("levels", delay_env, obs, ds.delay_levels, baseline)
    assert obs["complete"] is True
    assert obs["delayOffsetBefore"] == {"code": 0, "remark": None, "body": '{"offsetTable":{}}'}
    assert obs["delayOffsetAfter"] == {"code": 0, "remark": None, "body": '{"offsetTable":{1:1,2:1,3:1,4:2}}'}
    assert obs["runtimeScheduleStats"] == {
        f"scheduleMessageOffset_{n}": f"{c},{c}" for n, c in ((1, 1), (2, 1), (3, 1), (4, 2))
    }
    for level in (1, 2, 3, 4, 9):
        body = f"level-{level}"
        got = obs["received"][body]
        effective = min(level, 4)
        assert got["count"] == 1
        assert got["topic"] == "InteropDelayTopic" and got["reconsumeTimes"] == 0
        props = got["properties"]
        assert (props["DELAY"], props["REAL_TOPIC"], props["REAL_QID"]) == (
            str(effective),
            "InteropDelayTopic",
            str(got["queueId"]),
        )
        expected = ds.LEVEL_MS[effective]
        broker_delay = times[f"$.received.{body}.brokerDelayMs"]
        arrival = times[f"$.received.{body}.arrivalMs"]
        assert expected <= broker_delay <= expected + 1000, (body, broker_delay)  # not before, at most 1 s late
        assert expected <= arrival <= expected + 1500, (body, arrival)


def test_retries_follow_the_levels_then_the_dead_letter_queue(delay_env: InteropEnv, baseline: JavaBaseline) -> None:
    obs = ds.retry(delay_env)
    times = _compare("retry", delay_env, obs, ds.retry, baseline)
    assert obs["complete"] is True and obs["reachedDlq"] is True
    # retries (levels 3, 4, 4), dead letters (3, 4), the orderly DLQ send (DELAY 5, clamped to 4)
    assert obs["delayOffsetDelta"] == {"3": 2, "4": 4}
    assert obs["delayOffsetFileMatches"] is True
    assert obs["delayOffsetFileLayout"] == '{\n\t"offsetTable":{<entries>\n\t}\n}'
    retried = obs["retried"]
    assert [d["reconsumeTimes"] for d in retried] == [0, 1, 2, 3]
    assert all(d["msgIdKept"] and d["topic"] == "InteropRetryTopic" for d in retried)
    assert [d["originIsFirstOffsetMsgId"] for d in retried] == [None, True, True, True]
    assert [d["properties"].get("RETRY_TOPIC") for d in retried] == [None] + ["InteropRetryTopic"] * 3
    # RECONSUME_LATER with delay level 0: 3 + reconsumeTimes = levels 3, 4, 5 (clamped to 4)
    for i, level in enumerate((3, 4, 4), start=1):
        interval = times[f"$.retried[{i}].intervalMs"]
        assert ds.LEVEL_MS[level] <= interval <= ds.LEVEL_MS[level] + 1500, (i, interval)
    assert [d["reconsumeTimes"] for d in obs["dead"]] == [0, 1, 2]
    for i, level in enumerate((3, 4), start=1):
        interval = times[f"$.dead[{i}].intervalMs"]
        assert ds.LEVEL_MS[level] <= interval <= ds.LEVEL_MS[level] + 1500, (i, interval)
    dlq = obs["dlq"]
    assert dlq["routePerms"] == 6 and dlq["offsets"] == {"broker-a/0": "0..1"}
    [dead] = dlq["byKey"]
    assert dead["topic"] == "%DLQ%interop_dlq_consumer" and dead["reconsumeTimes"] == 3
    assert dead["msgIdKept"] and dead["originIsFirstOffsetMsgId"]
    # orderly: local retries (reconsumeTimes 0, 1, 2), then the client sends it to %RETRY%, the broker to %DLQ%
    assert [d["reconsumeTimes"] for d in obs["orderly"]] == [0, 1, 2]
    [orderly_dead] = obs["orderlyDlq"]["byKey"]
    assert orderly_dead["topic"] == "%DLQ%interop_orderly_consumer"


def test_pending_delayed_messages_survive_kill_and_restart(delay_env: InteropEnv, baseline: JavaBaseline) -> None:
    obs = ds.pending_across_restarts(delay_env)
    _compare("restarts", delay_env, obs, ds.pending_across_restarts, baseline)
    assert obs["sendKill"] == {"status": "SEND_OK"} and obs["sendGraceful"] == {"status": "SEND_OK"}
    assert obs["receive"]["complete"] is True
    assert obs["receive"]["counts"] == {"pending-graceful": 1, "pending-kill": 1}


def test_pending_delays_and_retries_move_between_brokers(tmp_path: Path, interop_build: Any) -> None:
    """Java writes / rocketpy reads, then rocketpy writes / Java reads. Differential without a third run: the two
    writers (Java, rocketpy) and the two readers (rocketpy, Java) are compared with each other."""
    runs = {
        (writer, reader): ds.store_compat(interop_build, writer, reader, tmp_path / f"{writer}-{reader}")
        for writer, reader in (("java", "rocketpy"), ("rocketpy", "java"))
    }
    for obs in runs.values():
        assert obs["written"]["retry"]["counts"] == {"compat-retry@0": 1}
        assert obs["read"]["delayed"]["counts"] == {"compat-delayed": 1}
        assert obs["read"]["retry"]["counts"] == {"compat-retry": 1}
        assert obs["read"]["retry"]["messages"]["compat-retry"]["reconsumeTimes"] == 1
    java_first, rocketpy_first = (ds.split_times(runs[k])[0] for k in (("java", "rocketpy"), ("rocketpy", "java")))
    differences = diff_paths(java_first, rocketpy_first)
    assert not differences, "left = Java writes / rocketpy reads, right = rocketpy writes / Java reads:\n" + "\n".join(
        differences
    )
