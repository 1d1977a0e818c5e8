"""Broker interop scenarios (issue 4) and store-directory compatibility (issue 3).

Each function runs the Java driver (official 4.9.8 clients) against an InteropEnv whose NameServer and broker are
of one kind (the Java 4.9.7 reference or rocketpy) and returns normalised observations; the test compares the
rocketpy run's with the Java run's as a whole, so only deterministic values are kept.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from interop.harness import mqadmin_output
from interop.harness.driver import run_driver
from interop.harness.environment import InteropEnv

# 100,000 messages is the acceptance figure; ROCKETPY_INTEROP_BULK scales it for local runs.
BULK = int(os.environ.get("ROCKETPY_INTEROP_BULK", "100000"))
CONSUMER_COUNT = 48
STORE_COUNT = 60


def _run(env: InteropEnv, scenario: str, args: dict[str, str], timeout: float = 300.0) -> Any:
    run = run_driver(
        env.build,
        scenario,
        {"namesrv": env.namesrv.addr, **args},
        env.driver_home(scenario),
        timeout=timeout,
    )
    return env.normaliser()(run.observations)


def send_receive(env: InteropEnv) -> dict[str, Any]:
    """Every send mode with keys/tags/properties, compressed bodies, then BULK small messages; one push consumer."""
    observed: dict[str, Any] = _run(env, "send-receive", {"bulk": str(BULK)}, timeout=900.0)
    return observed


def ordered(env: InteropEnv) -> dict[str, Any]:
    observed: dict[str, Any] = _run(env, "ordered", {"topic": "InteropOrderedTopic", "count": "20"})
    return observed


def clustering(env: InteropEnv) -> dict[str, Any]:
    observed: dict[str, Any] = _run(env, "clustering", {"topic": "InteropClusteringTopic", "count": "60"})
    return observed


def broadcasting(env: InteropEnv) -> dict[str, Any]:
    observed: dict[str, Any] = _run(env, "broadcasting", {"topic": "InteropBroadcastTopic", "count": "40"})
    return observed


def tag_filter(env: InteropEnv) -> dict[str, Any]:
    observed: dict[str, Any] = _run(env, "tag-filter", {"topic": "InteropTagTopic", "count": "50"})
    return observed


def lite_pull(env: InteropEnv) -> dict[str, Any]:
    observed: dict[str, Any] = _run(env, "lite-pull", {"count": "40"})
    return observed


def _shape_mqadmin(value: Any) -> Any:
    """mqadmin text results (dicts with argv/stdout/errors): stdout reduced to its comparable shape."""
    if isinstance(value, dict) and set(value) == {"argv", "stdout", "errors"}:
        command = value["argv"][0]
        shaped = dict(value)
        # An offset message id encodes the broker's address and the record's position: an id.
        shaped["argv"] = [mqadmin_output.HEX_ID.sub("<msgid>", arg) for arg in value["argv"]]
        if command == "clusterList":
            shaped["stdout"] = mqadmin_output.cluster_list(value["stdout"])
        elif command == "brokerStatus":
            shaped["stdout"] = mqadmin_output.broker_status(value["stdout"])
        elif command == "consumerProgress":
            # The retry topic's row appears once its offset is recorded, which depends on time alone (see
            # LitePull.consumeStats in the driver).
            rows = mqadmin_output.text_shape(value["stdout"])
            shaped["stdout"] = [row for row in rows if not row[0].startswith("%RETRY%")]
        else:
            shaped["stdout"] = mqadmin_output.text_shape(value["stdout"])
        return shaped
    if isinstance(value, dict):
        return {k: _shape_mqadmin(v) for k, v in value.items()}
    return value


def broker_admin(env: InteropEnv) -> dict[str, Any]:
    """Auto-create, updateTopic -c/-b, topicStatus, consumerProgress, consumer/producerConnection, brokerStatus,
    clusterList, queryMsgById and queryMsgByKey: mqadmin text (shape) and the admin API results."""
    broker = env.broker
    assert broker is not None
    run = run_driver(
        env.build,
        "broker-admin",
        {"namesrv": env.namesrv.addr, "broker": broker.addr},
        env.driver_home("broker-admin"),
        timeout=300.0,
    )
    observed: dict[str, Any] = _shape_mqadmin(env.normaliser()(run.observations))
    for status in (observed.get("brokerStatus"), (observed.get("brokerStatusText") or {}).get("stdout")):
        if isinstance(status, dict):
            _tps_windows(status)
    return observed


TPS_TRIPLES = ("putTps", "getFoundTps", "getMissTps", "getTransferedTps")
_TPS_SHAPE = re.compile(r"(N|)( (N|)){2}|N?( N){0,2}")  # the API's "N N " or mqadmin's stripped "N N"


_BYTES_SHAPE = re.compile(r"N (B|[KMGTPE]iB)")


def _tps_windows(status: dict[str, Any]) -> None:
    """Shapes that depend on time alone. StoreStatsService leaves a TPS window empty until it holds more samples
    than its length (10, 60, 600 s), so how many of the three are filled depends only on the broker's age when
    brokerStatus runs (a Java broker boots slower, so the scenario reaches it later): keep that they are windows of
    numbers, not how many. remainHowManyDataToFlush is what the flush thread has not reached yet, printed by
    humanReadableByteCount ("N B" below 1 KiB, "N KiB" above): keep that it is a byte count, not its unit."""
    for key in TPS_TRIPLES:
        value = status.get(key)
        if isinstance(value, str) and _TPS_SHAPE.fullmatch(value):
            status[key] = "<tps windows>"
    value = status.get("remainHowManyDataToFlush")
    if isinstance(value, str) and _BYTES_SHAPE.fullmatch(value):
        status["remainHowManyDataToFlush"] = "<bytes>"


# The reference servers are 4.9.7, the pinned behaviour 4.9.8 (interop/README.md): a broker reports its version
# (brokerVersion / brokerVersionDesc in GET_BROKER_RUNTIME_INFO, the version column of clusterList).
VERSION_4_9_7, VERSION_4_9_8 = "V4_9_7", "V4_9_8"


def broker_admin_as_4_9_8(java_4_9_7: dict[str, Any]) -> dict[str, Any]:
    """The broker_admin observations of a 4.9.8 broker, derived from the 4.9.7 reference's: only the version."""
    text = json.dumps(java_4_9_7)
    assert VERSION_4_9_7 in text, "4.9.7 version not observed: revisit broker_admin_as_4_9_8"
    out: dict[str, Any] = json.loads(text.replace(VERSION_4_9_7, VERSION_4_9_8))
    return out


def offsets_restart(env: InteropEnv) -> dict[str, Any]:
    """A group consumes and commits, the broker restarts gracefully (same config and store), the group resumes."""
    before = _run(env, "offsets-before", {"count": "40"})
    env.restart_broker()
    after = _run(env, "offsets-after", {"count": "40"})
    return {"before": before, "after": after}


def quickstart(env: InteropEnv) -> dict[str, Any]:
    observed: dict[str, Any] = _run(env, "quickstart", {})
    return observed


def store_write(env: InteropEnv) -> dict[str, Any]:
    """Messages and committed offsets written through `env`'s broker; the manifest stays in its work dir."""
    manifest = env.workdir / "store-manifest.json"
    observed: dict[str, Any] = _run(env, "store-write", {"manifest": str(manifest), "count": str(STORE_COUNT)})
    return observed


def store_read(env: InteropEnv, manifest_path: str) -> dict[str, Any]:
    observed: dict[str, Any] = _run(env, "store-read", {"manifest": manifest_path, "count": str(STORE_COUNT)})
    return observed


def manifest(env: InteropEnv) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = json.loads((env.workdir / "store-manifest.json").read_text())
    return entries
