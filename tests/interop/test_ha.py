"""⇄ Master/slave replication with the 4.x HA protocol (issue 10).

Each layout boots a NameServer (of the master's kind), a master and a slave (brokerId=1, brokerRole=SLAVE) with
slaveReadEnable=true and a 1 s haSendHeartbeatInterval. Java master + Java slave is the reference; rocketpy +
rocketpy and both mixed pairs (a Java slave replicating from a rocketpy SYNC_MASTER and the other way round, so
that every acknowledgement crosses implementations) must observe what Java/Java of the same role observes.
ROCKETPY_INTEROP_HA_BULK sets how many messages are sent (default 50,000, as the acceptance asks; 5,000 for a
quicker local run).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from interop.harness.environment import InteropEnv, environment
from tests.interop import ha_scenarios as ha
from tests.interop.conftest import JavaBaseline

pytestmark = pytest.mark.interop

LAYOUTS = [
    ("java", "java", "SYNC_MASTER"),
    ("rocketpy", "rocketpy", "SYNC_MASTER"),
    ("java", "java", "ASYNC_MASTER"),
    ("rocketpy", "rocketpy", "ASYNC_MASTER"),
    ("java", "rocketpy", "SYNC_MASTER"),
    ("rocketpy", "java", "SYNC_MASTER"),
]


def _split(obs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, int]]:
    times = {k: v for k, v in obs.items() if k.endswith("Ms")}
    return {k: v for k, v in obs.items() if k not in times}, times


@pytest.mark.parametrize(("master", "slave", "role"), LAYOUTS, ids=["-".join(x) for x in LAYOUTS])
def test_master_slave_replication(
    master: str, slave: str, role: str, tmp_path: Path, interop_build: Any, baseline: JavaBaseline
) -> None:
    with environment(interop_build, master, tmp_path / "env", with_broker=False) as env:
        obs = ha.replication(env, master, slave, role)
    kept, times = _split(obs)
    print(f"\n{master}->{slave} {role} measured: {times}")

    def reference(java_env: InteropEnv) -> dict[str, Any]:
        return _split(ha.replication(java_env, "java", "java", role))[0]

    kind = "java" if master == slave == "java" else f"{master}-master-{slave}-slave"
    baseline.check(f"ha_{role}", env, kept, reference, with_broker=False, kind=kind)

    assert kept["written"]["sends"] == {"SEND_OK": ha.BULK}
    assert kept["caughtUp"] is True
    assert kept["clusterInfo"] == {"0": "<broker>", "1": "<broker-slave>"}
    assert kept["commitLog"] == {"identical": True, "lengthsEqual": True}
    assert kept["byQueueOffset"]["served"] == ha.BULK and kept["byQueueOffset"]["mismatches"] == []
    assert kept["byKey"]["mismatches"] == [] and kept["byKey"]["found"] == kept["byKey"]["asked"]
    assert kept["metadata"]["group"] is True and kept["metadata"]["offsets"] == {q: q + 1 for q in range(4)}
    assert kept["metadata"]["delayOffsets"] == '{"offsetTable":{1:1}}'
    assert times["metadataMs"] <= ha.SYNC_BOUND_S * 1000
    expected_code = 11 if role == "SYNC_MASTER" else 0  # SLAVE_NOT_AVAILABLE / SUCCESS
    assert kept["sendWithoutSlave"]["code"] == expected_code
