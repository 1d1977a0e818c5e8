"""⇄ The broker admin codes behind mqadmin's consumer and store commands and the dashboard's consumer pages (issue 9):
brokerConsumeStats, consumerStatus, consumerProgress -s true, resetOffsetByTime with a running
consumer (re-delivery observed), skipAccumulatedMessage, queryCq, cleanExpiredCQ, deleteExpiredCommitLog,
cleanUnusedTopic, getBrokerConfig, statsAll, and through the admin API consumer running info,
consumeMessageDirectly, queryConsumeTimeSpan, queryCorrectionOffset, fetchConsumeStatsInBroker, cloneGroupOffset,
getConsumeStatus and viewBrokerStatsData; against the Java 4.9.7 reference and rocketpy, outputs compared after
normalising addresses, times, ids and rates."""

from __future__ import annotations

import re
from typing import Any

import pytest

from interop.harness.environment import InteropEnv
from tests.interop import broker_scenarios as bs
from tests.interop.conftest import JavaBaseline

pytestmark = pytest.mark.interop

_MILLIS = re.compile(r"\b\d{13}\b")
_PHYSIC = re.compile(r"physicOffset=\d+")
_RETRY = "%RETRY%"


def _scrub(value: Any) -> Any:
    """Wall-clock millis (consumerStatus names its files after them) and commit-log positions (queryCq: the
    records before ours differ in size between runs) are not comparable; retry-topic rows appear with time."""
    if isinstance(value, str):
        return _PHYSIC.sub("physicOffset=<phys>", _MILLIS.sub("<ms>", value))
    if isinstance(value, list):
        if value and isinstance(value[0], str) and value[0].startswith(_RETRY):
            return None
        return [v for v in (_scrub(v) for v in value) if v is not None]
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    return value


def admin_codes(env: InteropEnv) -> dict[str, Any]:
    broker = env.broker
    assert broker is not None
    observed = bs._run(env, "admin-codes", {"broker": broker.addr}, timeout=300.0)
    shaped: dict[str, Any] = _scrub(bs._shape_mqadmin(observed))
    return shaped


def test_admin_codes(broker_env: InteropEnv, baseline: JavaBaseline) -> None:
    obs = admin_codes(broker_env)
    baseline.check("admin_codes", broker_env, obs, admin_codes)

    assert obs["sends"] == {"SEND_OK": 6} and obs["consumed"] is True
    assert obs["runningInfo"]["queues"] == [f"InteropAdminCodes/broker-a/{q}" for q in range(2)]
    assert obs["runningInfoUnknownClient"]["responseCode"] == 1
    assert obs["consumeDirectly"]["consumeResult"] == "CR_SUCCESS"
    assert obs["timeSpanUnknownTopic"]["responseCode"] == 17
    assert obs["bitMapLength"] == "bitMapLengthConsumeQueueExt = 112"
    assert obs["redelivered"] is True
    assert obs["statsConsumed"] is True
    assert obs["statsTopicPut"] == {"minuteSum": 4, "minuteAvgpt": 1.0, "minuteTpsPositive": True, "hourSum": 0,
                                    "daySum": 0}  # fmt: skip
    assert obs["statsGroupGet"]["minuteSum"] == 4 and obs["statsUnknown"]["responseCode"] == 1
    [stats_row] = obs["statsAll"]["stdout"][1:]
    assert stats_row[:3] + stats_row[-2:] == ["InteropStatsTopic", "interop_stats_consumer", "0", "4", "4"]
    assert obs["countsAfterReset"] == {f"codes-{i}": 3 if i == 1 else 2 for i in range(6)}
    texts = ("brokerConsumeStats", "consumerStatus", "consumerProgress", "resetOffsetByTime", "skipAccumulated")
    texts += ("cleanExpiredCQ", "deleteExpiredCommitLog", "cleanUnusedTopic", "queryCq")
    for label in texts:
        assert obs[label]["errors"] == [], (label, obs[label]["errors"])
