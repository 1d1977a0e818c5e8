"""The failover scenario (issue 10): two broker groups, broker-a and broker-b, each a SYNC_MASTER and a SLAVE
(slaveReadEnable=true), one NameServer, all four brokers of one implementation.

The Java 4.9.8 driver (`Failover.java`, scenario "failover") streams messages to a topic with queues on both
groups and consumes them with a push consumer; this side watches its progress through files in a control
directory, lets it stream once both slaves copied the topic's config, kills broker-a's master (kill -9,
`ServerProcess.stop()`) mid-stream, lets the producer go on (broker-b alone can acknowledge now) and the consumer
drain broker-a's acknowledged messages from its slave, then restarts the master with the same command, store and
port (`processes.restart`) and waits until it acknowledges sends again (its slave reconnected) before phase 2.

Consumer offsets across the failover (ConsumerManageProcessor, RemoteBrokerOffsetStore, SlaveSynchronize): while
the master is dead the consumer commits broker-a's offsets to the slave (UPDATE_CONSUMER_OFFSET is accepted there;
updateConsumeOffsetToBroker asks findBrokerAddressInSubscribe for the master, then for any address of the group);
once the master is back the client commits to it again, and the slave's next SlaveSynchronize copies the master's
table over its own. Observed: broker-a's committed offsets reach its queues' max offsets on the slave while the
master is dead, and on the master and the slave after the return (nothing consumed is delivered again: the driver
counts duplicates before and after the return). The writes a slave refuses (SEND_MESSAGE, V2, to an unknown
topic, CONSUMER_SEND_MSG_BACK, END_TRANSACTION) are compared by code and remark.
"""

from __future__ import annotations

import re
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
GROUP = "interop_failover_group"
OFFSET_WAIT = 20.0  # s: the client persists every second, the slave copies the master's offsets every 10 s
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


def _queue_offsets(addr: str, group: str = GROUP) -> list[tuple[int, int]]:
    """(committed, max) of broker-a's four queues on `addr`; committed -1 for QUERY_NOT_FOUND."""
    out = []
    for q in range(4):
        queue = {"topic": TOPIC, "queueId": str(q)}
        frame = ha._call(addr, 14, {"consumerGroup": group, **queue})
        committed = int(frame.header()["extFields"]["offset"]) if frame.header()["code"] == 0 else -1
        out.append((committed, int(ha._call(addr, 30, queue).header()["extFields"]["offset"])))
    return out


def _offsets_at_max(addrs: dict[str, str], timeout: float) -> tuple[dict[str, list[bool]], dict[str, Any]]:
    """Waits until every queue's committed offset equals its max offset on each of `addrs`; per queue, whether it
    did, and the (committed, max) pairs last seen."""
    deadline = time.monotonic() + timeout
    while True:
        seen = {name: _queue_offsets(addr) for name, addr in addrs.items()}
        at_max = {name: [c == m for c, m in pairs] for name, pairs in seen.items()}
        if all(all(v) for v in at_max.values()) or time.monotonic() > deadline:
            return at_max, seen
        time.sleep(0.3)


def _answer(frame: Any) -> dict[str, Any]:
    header = frame.header()
    remark = header.get("remark")
    return {"code": header["code"], "remark": re.sub(r"\[CL:[^]]*\]", "[CL: ...]", remark) if remark else remark}


def _slave_refusals(slave: str) -> dict[str, Any]:
    """The writes a slave refuses, as a client (or a confused admin) would send them to it."""
    v2 = {
        "a": "interop_failover_producer", "b": TOPIC, "c": "TBW102", "d": "4", "e": "0", "f": "0",
        "g": "1700000000000", "h": "0", "i": "", "j": "0", "k": "false", "m": "false",
    }  # fmt: skip
    back = {
        "offset": "0", "group": GROUP, "delayLevel": "0", "originMsgId": "", "originTopic": TOPIC,
        "unitMode": "false", "maxReconsumeTimes": "16",
    }  # fmt: skip
    end = {
        "producerGroup": "interop_failover_producer", "tranStateTableOffset": "0", "commitLogOffset": "0",
        "commitOrRollback": "8", "fromTransactionCheck": "false", "msgId": "0" * 32,
    }  # fmt: skip
    return {
        "send": ha._send(slave, "", TOPIC),
        "sendV2": _answer(ha._call(slave, 310, v2, b"ha")),
        "sendUnknownTopic": ha._send(slave, "", "InteropFailoverUnknown"),
        "sendBack": _answer(ha._call(slave, 36, back)),
        "endTransaction": _answer(ha._call(slave, 37, end)),
    }


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
    counts: dict[str, Any] = {}
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
        slave = env.brokers["broker-a-s"].addr
        began = time.monotonic()
        at_max, seen = _offsets_at_max({"slave": slave}, OFFSET_WAIT)
        out["offsetsCommittedToSlaveWhileMasterDead"] = at_max["slave"]
        times["slaveOffsetsMs"] = int((time.monotonic() - began) * 1000)
        counts["slaveWhileMasterDead"] = seen["slave"]
        out["slaveRefuses"] = _slave_refusals(slave)
        began = time.monotonic()
        processes.restart(master)
        out["restartedMasterAcks"] = _wait_acks(master.addr, 90)
        times["restartMs"] = int((time.monotonic() - began) * 1000)
        # what the master reloaded from its consumerOffset.json (persisted every 5 s before the kill), or already
        # got from the client: timing, reported only
        counts["masterAtReturn"] = _queue_offsets(master.addr)
        (control / "restarted").touch()
        _wait_file(control / "quiet", 240, driver)
        began = time.monotonic()
        at_max, seen = _offsets_at_max({"master": master.addr, "slave": slave}, OFFSET_WAIT)
        out["offsetsAfterReturn"] = at_max
        times["returnOffsetsMs"] = int((time.monotonic() - began) * 1000)
        counts["afterReturn"] = seen
        (control / "checked").touch()
        observed: dict[str, Any] = driver.result()
    out.update(observed)
    out["counts"] = {**observed["counts"], "offsets": counts}
    out["timesMs"] = times
    return out
