"""The failover scenario (issue 10): two broker groups, broker-a and broker-b, each a SYNC_MASTER and a SLAVE
(slaveReadEnable=true), one NameServer, all four brokers of one implementation.

The Java 4.9.8 driver (`Failover.java`, scenario "failover") streams messages to a topic with queues on both
groups and consumes them with a push consumer; this side watches its progress through files in a control
directory, lets it stream once both slaves copied the topic's config, kills broker-a's master (kill -9,
`ServerProcess.stop()`) mid-stream, lets the producer go on (broker-b alone can acknowledge now) and the consumer
drain broker-a's acknowledged messages from its slave, then restarts the master with the same command, store and
port (`processes.restart`) and waits until it acknowledges sends again (its slave reconnected) before phase 2.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from interop.harness import processes
from interop.harness.environment import InteropEnv
from rocketpy.store.config_files import loads_tolerant
from tests.interop import broker_scenarios as bs
from tests.interop import ha_scenarios as ha

KILL_AT = 300  # acknowledged messages before broker-a's master is killed
AFTER = 300  # messages the producer sends after the kill
PHASE2 = 100  # messages sent once the master is back
PROBE_TOPIC = "InteropFailoverProbe"
TOPIC = "InteropFailoverTopic"
CONF = {
    "brokerRole": "SYNC_MASTER",
    "slaveReadEnable": "true",
    "haSendHeartbeatInterval": "1000",
    # the loaded 2-core machine: keep a Java SYNC_MASTER's queued sends from [TIMEOUT_CLEAN_QUEUE] (see ha_scenarios)
    "waitTimeMillsInSendQueue": "10000",
}
ROLES = {  # role -> (brokerName, brokerId)
    "broker-a": ("broker-a", 0),
    "broker-a-s": ("broker-a", 1),
    "broker-b": ("broker-b", 0),
    "broker-b-s": ("broker-b", 1),
}


def _start(env: InteropEnv, kind: str, role: str) -> processes.ServerProcess:
    name, broker_id = ROLES[role]
    conf = {**CONF, "brokerId": str(broker_id), **({"brokerRole": "SLAVE"} if broker_id else {})}
    workdir = env.workdir / role
    if kind == "java":
        return processes.start_java_broker(env.build, workdir, env.namesrv.addr, "DefaultCluster", name,
                                           broker_id=broker_id, conf_extra=conf)  # fmt: skip
    return processes.start_rocketpy_broker(workdir, env.namesrv.addr, "DefaultCluster", name, conf_extra=conf)


def _wait_file(path: Path, timeout: float, driver: Any) -> str:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if driver.done():
            driver.result()  # the driver's failure, if it failed
            raise AssertionError(f"the driver ended before writing {path.name}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} not written within {timeout} s")
        time.sleep(0.05)
    return path.read_text()


def _wait_acks(master: str, timeout: float) -> bool:
    """A SYNC_MASTER acknowledges a send (code 0) only once its slave is connected."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ha._send(master, "", PROBE_TOPIC)["code"] == 0:
                return True
        except (OSError, AssertionError):
            pass
        time.sleep(0.3)
    return False


def _has_topic(addr: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if TOPIC in loads_tolerant(ha._body(ha._call(addr, 21)).decode())["topicConfigTable"]:
            return True
        time.sleep(0.3)
    return False


def failover(env: InteropEnv, kind: str) -> dict[str, Any]:
    """The whole scenario on brokers of `kind`; the driver's observations plus the harness's own, and times."""
    with ThreadPoolExecutor(4) as pool:  # four broker boots at once (a JVM boot is the slow part)
        started = {role: pool.submit(_start, env, kind, role) for role in ROLES}
        for role, future in started.items():
            server = future.result()
            env.brokers[role] = server
            env.servers.append(server)
    out: dict[str, Any] = {}
    out["groupsAck"] = [_wait_acks(env.brokers[r].addr, 60) for r in ("broker-a", "broker-b")]
    control = env.workdir / "failover-control"
    control.mkdir()
    args = {"control": str(control), "after": str(AFTER), "phase2": str(PHASE2), "topic": TOPIC}
    times: dict[str, int] = {}
    with ThreadPoolExecutor(1) as pool:
        driver = pool.submit(bs._run, env, "failover", args, 300.0)
        _wait_file(control / "ready", 120, driver)
        # a slave serves pulls of a topic it knows: SlaveSynchronize copies the masters' topics every 10 s
        began = time.monotonic()
        out["slavesHaveTopic"] = [_has_topic(env.brokers[r].addr, 30) for r in ("broker-a-s", "broker-b-s")]
        times["topicSyncMs"] = int((time.monotonic() - began) * 1000)
        (control / "go").touch()
        deadline = time.monotonic() + 120
        while int(_wait_file(control / "acked", 120, driver) or 0) < KILL_AT:
            assert time.monotonic() < deadline, "the producer did not reach the kill mark"
            time.sleep(0.01)
        master = env.brokers["broker-a"]
        assert isinstance(master, processes.ServerProcess)
        master.stop()  # SIGKILL
        (control / "killed").touch()
        began = time.monotonic()
        _wait_file(control / "drained", 150, driver)
        times["drainMs"] = int((time.monotonic() - began) * 1000)
        began = time.monotonic()
        processes.restart(master)
        out["restartedMasterAcks"] = _wait_acks(master.addr, 90)
        times["restartMs"] = int((time.monotonic() - began) * 1000)
        (control / "restarted").touch()
        observed: dict[str, Any] = driver.result()
    out.update(observed)
    out["timesMs"] = times
    return out
