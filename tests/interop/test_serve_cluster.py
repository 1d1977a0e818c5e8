"""⇄ Two brokers in one cluster: `rocketpy serve --brokers 2` against the Java reference's NameServer + broker-a +
broker-b (issue 12).

A topic created on every master of the cluster (what `mqadmin updateTopic -c` does) is routed over both brokers;
the official 4.9.8 producer spreads its sends over the queues of both and a push consumer reads every message back
from both. Then, against rocketpy only, the official benchmark Producer and Consumer (rocketmq-example, what
tools/bench_broker.py runs) work against the 2-broker cluster: statistics lines, sends and consumption on it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interop.harness.build import REFERENCE_DIR
from interop.harness.driver import run_driver
from interop.harness.environment import InteropEnv, _Alias, start_namesrv
from interop.harness.ports import free_broker_port, free_port
from interop.harness.processes import BROKER_BOOT, ROCKETPY_BOOT, _rocketpy_env, _spawn, _wait_or_stop, broker_conf
from tests.interop.conftest import JavaBaseline

pytestmark = pytest.mark.interop

TOPIC, COUNT = "InteropSpreadTopic", 80
# A loaded 2-core machine keeps a Java send in its queue past the default 200 ms (TIMEOUT_CLEAN_QUEUE): the same
# generous bound on both targets.
CONF = {"waitTimeMillsInSendQueue": "10000"}
BENCH_TOPIC = "BenchSpread"


def _bound(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _cluster_port() -> int:
    """A listenPort P with broker-b's ports (P+8 .. P+11) free too."""
    while True:
        port = free_broker_port()
        if not any(_bound(port + d) for d in (8, 9, 10, 11)):
            return port


def start_serve_cluster(build: Any, workdir: Path, brokers: int = 2) -> InteropEnv:
    """`rocketpy serve --brokers N -c broker.conf` with the broker.conf the Java brokers get."""
    ns_port, port = free_port(), _cluster_port()
    workdir.mkdir(parents=True, exist_ok=True)
    conf = broker_conf(workdir, port, "DefaultCluster", "broker-a", extra=CONF)
    cmd = [
        sys.executable, "-m", "rocketpy", "serve", f"--brokers={brokers}", "-c", str(conf),
        f"--namesrv-port={ns_port}", f"--listenPort={port}", f"--storePathRootDir={workdir / 'store'}",
    ]  # fmt: skip
    server = _spawn("rocketpy-serve-cluster", cmd, workdir, f"127.0.0.1:{port}", env=_rocketpy_env(workdir))
    _wait_or_stop(server, ROCKETPY_BOOT)
    for i in range(brokers):
        _wait_or_stop(server, f"{BROKER_BOOT}broker-{chr(ord('a') + i)},")
    namesrv = _Alias(name="rocketpy-serve-namesrv", addr=f"127.0.0.1:{ns_port}", target=server)
    return InteropEnv(
        build=build, kind="rocketpy", workdir=workdir, namesrv=namesrv, brokers={"broker": server},
        servers=[server], broker_kind="rocketpy",
    )  # fmt: skip


def _start_java_brokers(env: InteropEnv) -> None:
    for name in ("broker-a", "broker-b"):
        env.start_broker(broker_name=name, role=name, conf_extra=CONF)


@pytest.fixture
def cluster_env(broker_target: str, tmp_path: Path, interop_build: Any) -> Iterator[InteropEnv]:
    if broker_target == "java":
        env = start_namesrv(interop_build, "java", tmp_path / "java")
        try:
            _start_java_brokers(env)
        except BaseException:
            env.stop()
            raise
    else:
        env = start_serve_cluster(interop_build, tmp_path / "rocketpy")
    try:
        yield env
    finally:
        if broker_target == "rocketpy":
            # SIGTERM: the supervisor stops its broker children; the harness's SIGKILL alone left them orphaned
            # (found running long after the test, across full runs)
            for server in env.servers:
                server.stop(grace=30)
        env.stop()


def spread(env: InteropEnv) -> dict[str, Any]:
    run = run_driver(
        env.build,
        "cluster-spread",
        {"namesrv": env.namesrv.addr, "topic": TOPIC, "count": str(COUNT)},
        env.driver_home("cluster-spread"),
        timeout=180.0,
    )
    observed: dict[str, Any] = env.normaliser()(run.observations)
    return observed


def _java_spread(env: InteropEnv) -> dict[str, Any]:
    _start_java_brokers(env)
    return spread(env)


def test_topic_spread_over_two_brokers(cluster_env: InteropEnv, baseline: JavaBaseline) -> None:
    obs = spread(cluster_env)
    baseline.check("cluster-spread", cluster_env, obs, _java_spread, with_broker=False)

    assert obs["route"] == ["broker-a r4 w4", "broker-b r4 w4"]
    assert obs["sendStatuses"] == {"SEND_OK": COUNT}
    assert obs["sentPerBroker"] == {"broker-a": COUNT // 2, "broker-b": COUNT // 2}
    assert (obs["complete"], obs["received"], obs["duplicates"]) == (True, COUNT, 0)
    assert obs["receivedPerBroker"] == {"broker-a": COUNT // 2, "broker-b": COUNT // 2}
    if cluster_env.kind == "rocketpy":
        _benchmark_clients_work(cluster_env)


def _benchmark_clients_work(env: InteropEnv) -> None:
    """The benchmark Producer and Consumer together for one 10 s statistics window on a cluster topic."""
    from tools.bench.procs import bench_classpath
    from tools.bench.results import parse_consumer_output, parse_producer_output

    cp = bench_classpath()
    home = env.workdir / "bench"
    home.mkdir(parents=True, exist_ok=True)
    java = [
        "java", "-Xmx512m", f"-Duser.home={home}", f"-Drocketmq.home.dir={REFERENCE_DIR}",
        f"-Dlogback.configurationFile={REFERENCE_DIR / 'conf' / 'logback_tools.xml'}", "-cp", cp,
    ]  # fmt: skip
    ns = env.namesrv.addr
    admin = subprocess.run(
        [*java, "org.apache.rocketmq.tools.command.MQAdminStartup", "updateTopic", "-n", ns, "-c", "DefaultCluster",
         "-t", BENCH_TOPIC, "-r", "4", "-w", "4"],
        capture_output=True, text=True, timeout=120, cwd=home,
    )  # fmt: skip
    assert admin.returncode == 0 and admin.stdout.count("success") == 2, admin.stdout + admin.stderr
    logs = {name: home / f"{name}.out" for name in ("consumer", "producer")}
    args = {
        "consumer": ["org.apache.rocketmq.example.benchmark.Consumer", "-n", ns, "-t", BENCH_TOPIC, "-g", "bench_c"],
        "producer": ["org.apache.rocketmq.example.benchmark.Producer", "-n", ns, "-t", BENCH_TOPIC, "-w", "8"],
    }
    procs = {}
    try:
        for name in ("consumer", "producer"):
            with logs[name].open("wb") as out:
                procs[name] = subprocess.Popen(
                    [*java, *args[name]], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=home
                )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if parse_consumer_output(logs["consumer"].read_text(errors="replace")) and parse_producer_output(
                logs["producer"].read_text(errors="replace")
            ):
                break
            assert all(p.poll() is None for p in procs.values()), "a benchmark client exited"
            time.sleep(0.5)
    finally:
        for p in procs.values():
            p.kill()
            p.wait(10)
    sent = parse_producer_output(logs["producer"].read_text(errors="replace"))
    consumed = parse_consumer_output(logs["consumer"].read_text(errors="replace"))
    assert sent and consumed, logs["producer"].read_text(errors="replace")[-2000:]
    assert sent[-1].tps > 0 and sent[-1].send_failed == 0 and sent[-1].response_failed == 0
    assert consumed[-1].tps > 0 and consumed[-1].failed == 0
