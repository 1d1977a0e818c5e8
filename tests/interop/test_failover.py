"""⇄ Failover of a broker group (issue 10): two groups of SYNC_MASTER + SLAVE, kill -9 of broker-a's master while
a Java producer streams, the producer goes on with broker-b, a consumer drains broker-a's acknowledged messages
from its slave (committing its offsets there), the master restarts and takes sends again, and the offsets
committed to the slave survive its return. See failover_scenarios.py.

Compared with the Java brokers: the deterministic outcome (no acknowledged message lost, only broker-b acks while
broker-a's master is dead, everything acknowledged received, broker-a acks again after the restart, broker-a's
committed offsets at its queues' max on the slave while the master is dead and on both after the return, the
code and remark of each write the slave refuses). The counts (acknowledged, received, duplicates before and after
the return, resends, offsets) differ from run to run: they are printed, and rocketpy's duplicates must be no worse
than Java's of the same session plus DUPLICATE_SLACK.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from interop.harness.environment import TARGETS, InteropEnv, environment
from tests.interop import failover_scenarios as fo
from tests.interop.conftest import JavaBaseline

pytestmark = pytest.mark.interop

DUPLICATE_SLACK = 10
_JAVA_COUNTS: dict[str, Any] = {}


def _split(obs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    report = {"counts": obs["counts"], "timesMs": obs["timesMs"]}
    return {k: v for k, v in obs.items() if k not in report}, report


@pytest.mark.parametrize("kind", TARGETS)
def test_failover_two_groups_kill_master(kind: str, tmp_path: Path, interop_build: Any, baseline: JavaBaseline) -> None:
    with environment(interop_build, kind, tmp_path / "env", with_broker=False) as env:
        kept, report = _split(fo.failover(env, kind))
    print(f"\nfailover {kind}: {report}")
    if kind == "java":
        _JAVA_COUNTS.update(report["counts"])

    def reference(java_env: InteropEnv) -> dict[str, Any]:
        java_kept, java_report = _split(fo.failover(java_env, "java"))
        print(f"\nfailover java (baseline): {java_report}")
        _JAVA_COUNTS.update(java_report["counts"])
        return java_kept

    baseline.check("failover", env, kept, reference, with_broker=False, kind=kind)

    assert kept["groupsAck"] == [True, True] and kept["slavesHaveTopic"] == [True, True]
    assert kept["ackedBeforeKillPositive"] is True
    assert kept["ackedAfterKillOn"] == ["broker-b"]
    assert kept["phase1ReceivedWhileMasterDown"] is True
    assert kept["restartedMasterAcks"] is True and kept["routeBack"] is True
    assert kept["phase2AckedOn"] == ["broker-a", "broker-b"]
    assert (kept["allReceived"], kept["lost"], kept["unacked"]) == (True, 0, 0)
    counts = report["counts"]
    assert counts["acked"] >= fo.KILL_AT + fo.AFTER + fo.PHASE2
    assert kept["offsetsCommittedToSlaveWhileMasterDead"] == [True] * 4, counts["offsets"]
    assert kept["offsetsAfterReturn"] == {"master": [True] * 4, "slave": [True] * 4}, counts["offsets"]
    assert kept["slaveRefuses"]["send"]["code"] == 14  # SERVICE_NOT_AVAILABLE: "messages are put to the slave"
    assert kept["slaveRefuses"]["endTransaction"]["code"] == 11  # SLAVE_NOT_AVAILABLE
    if kind != "java":
        for key in ("duplicates", "duplicatesAfterRestart"):
            assert counts[key] <= _JAVA_COUNTS[key] + DUPLICATE_SLACK, (key, counts, _JAVA_COUNTS)
