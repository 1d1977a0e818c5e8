"""Start and stop the servers under test as subprocesses: Java reference NameServer/Broker and rocketpy NameServer.

Readiness is the boot line each server prints on stdout. All output goes to a log file in the test's directory so
that a failure report can quote it and a chatty server never blocks on a full pipe.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from interop.harness.build import REFERENCE_DIR, JavaBuild
from interop.harness.ports import free_broker_port, free_port

BOOT_TIMEOUT_S = 90.0  # generous: a loaded 2-core machine can take 30 s+ to boot a broker
NAMESRV_BOOT = "The Name Server boot success"
BROKER_BOOT = "The broker["

# Small and quick JVMs: the CI machine has 2 cores. C1 only speeds up start-up, serial GC keeps threads down.
SERVER_JVM_OPTS = [
    "-Xms128m",
    "-Xmx256m",
    "-XX:MaxDirectMemorySize=256m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    # MappedFile.clean reflects into jdk.internal.ref.Cleaner; without this a 4.9.7 broker's shutdown hook dies
    # before it sends UNREGISTER_BROKER, and unmapping deleted store files fails.
    "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
]


class ServerStartError(RuntimeError):
    """A server exited or did not print its boot line in time; the message quotes its output."""


@dataclass
class ServerProcess:
    """A running server subprocess whose combined output is appended to `log_path`."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    addr: str
    extra: dict[str, str] = field(default_factory=dict)
    cmd: list[str] = field(default_factory=list)
    env: dict[str, str] | None = None

    def output(self, limit: int = 6000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return text[-limit:]

    def wait_for(self, marker: str, timeout: float = BOOT_TIMEOUT_S) -> None:
        """Block until `marker` appears in the output; raise ServerStartError if the process dies or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker in self.output(limit=1 << 20):
                return
            if self.proc.poll() is not None:
                raise ServerStartError(
                    f"{self.name} exited with code {self.proc.returncode} before printing {marker!r}; "
                    f"output:\n{self.output()}"
                )
            time.sleep(0.05)
        raise ServerStartError(f"{self.name} did not print {marker!r} within {timeout}s; output:\n{self.output()}")

    def stop(self, grace: float = 0.0) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds (0 = kill at once: every test's state is throwaway)."""
        if self.proc.poll() is None:
            if grace > 0:
                self.proc.terminate()
                try:
                    self.proc.wait(grace)
                    return
                except subprocess.TimeoutExpired:
                    pass
            self.proc.kill()
            self.proc.wait(10)


def _spawn(name: str, cmd: list[str], workdir: Path, addr: str, env: dict[str, str] | None = None) -> ServerProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{name}.out"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir, env=env
        )
    return ServerProcess(name=name, proc=proc, log_path=log_path, addr=addr, cmd=cmd, env=env)


def restart(server: ServerProcess, marker: str = BROKER_BOOT, grace: float = 60.0) -> None:
    """Stop `server` gracefully (SIGTERM, so it flushes and persists) and start the same command again.

    Same command line, same config file, same port and store: what an operator's restart does. The output log is
    appended to; readiness is the `marker` printed once more after the restart.
    """
    server.stop(grace)
    before = server.log_path.read_text(errors="replace").count(marker) if server.log_path.exists() else 0
    with server.log_path.open("ab") as log:
        server.proc = subprocess.Popen(
            server.cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=server.log_path.parent,
            env=server.env,
        )
    deadline = time.monotonic() + BOOT_TIMEOUT_S
    while server.output(limit=1 << 22).count(marker) <= before:
        if server.proc.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise ServerStartError(
                f"{server.name} did not restart (exit {server.proc.returncode}); output:\n{server.output()}"
            )
        time.sleep(0.05)


def start_java_namesrv(build: JavaBuild, workdir: Path, jvm_props: list[str] | None = None) -> ServerProcess:
    """Official 4.9.7 NamesrvStartup on a free port; user.home is `workdir` so kvConfig.json lands there.

    `jvm_props`: extra JVM options (e.g. -Dtls.server.mode=enforcing)."""
    port = free_port()
    # The -c file becomes the NameServer's configStorePath; putting it at the default location
    # (~/namesrv/namesrv.properties) keeps getNamesrvConfig comparable with a server started without -c.
    props = workdir / "namesrv" / "namesrv.properties"
    props.parent.mkdir(parents=True, exist_ok=True)
    props.write_text(f"listenPort={port}\n")
    cmd = [
        build.java,
        *SERVER_JVM_OPTS,
        *(jvm_props or []),
        f"-Duser.home={workdir}",
        f"-Drocketmq.home.dir={REFERENCE_DIR}",
        "-cp",
        build.reference_classpath,
        "org.apache.rocketmq.namesrv.NamesrvStartup",
        "-c",
        str(props),
    ]
    server = _spawn("java-namesrv", cmd, workdir, f"127.0.0.1:{port}")
    _wait_or_stop(server, NAMESRV_BOOT)
    return server


def broker_conf(
    workdir: Path,
    port: int,
    cluster: str,
    broker_name: str,
    store_root: str | None = None,
    extra: Mapping[str, str | None] | None = None,
) -> Path:
    """A small broker.conf: tiny commit log / consume queue / index files, loopback address, store in workdir.

    `store_root` is the store directory as the broker sees it (differs from workdir/store inside a container).
    An `extra` value of None leaves that key out (the broker's default applies).
    """
    store = Path(store_root) if store_root else workdir / "store"
    settings: dict[str, str | None] = {
        "brokerClusterName": cluster,
        "brokerName": broker_name,
        "brokerId": "0",
        "brokerIP1": "127.0.0.1",
        "brokerIP2": "127.0.0.1",  # the HA address (haServerAddr); defaults to the host's first non-loopback IP
        "listenPort": str(port),
        "storePathRootDir": str(store),
        "storePathCommitLog": str(store / "commitlog"),
        "mappedFileSizeCommitLog": str(16 * 1024 * 1024),
        "mappedFileSizeConsumeQueue": str(20 * 30000),
        "maxHashSlotNum": "10000",
        "maxIndexNum": "40000",
        "autoCreateTopicEnable": "true",
        "flushDiskType": "ASYNC_FLUSH",
        "diskMaxUsedSpaceRatio": "95",
        **(extra or {}),
    }
    conf = workdir / "broker.conf"
    workdir.mkdir(parents=True, exist_ok=True)
    conf.write_text("".join(f"{k}={v}\n" for k, v in settings.items() if v is not None))
    return conf


def start_java_broker(
    build: JavaBuild,
    workdir: Path,
    namesrv_addr: str,
    cluster: str = "DefaultCluster",
    broker_name: str = "broker-a",
    jvm_props: list[str] | None = None,
    broker_id: int = 0,
    conf_extra: Mapping[str, str | None] | None = None,
    store_root: str | None = None,
    port: int | None = None,
    rocketmq_home: Path | None = None,
) -> ServerProcess:
    """Official 4.9.7 BrokerStartup registered with `namesrv_addr`; ready once it printed its boot line.

    broker_id > 0 starts a SLAVE of the master with the same broker name. `store_root` opens an existing store
    (default: a new one in workdir/store); `port` a given listenPort (default: a free one).
    """
    port = port or free_broker_port()
    roles = {"brokerId": str(broker_id), "brokerRole": "SLAVE"} if broker_id else {}
    conf = broker_conf(workdir, port, cluster, broker_name, store_root, extra={**roles, **(conf_extra or {})})
    cmd = [
        build.java,
        *SERVER_JVM_OPTS,
        *(jvm_props or []),
        f"-Duser.home={workdir}",
        f"-Drocketmq.home.dir={rocketmq_home or REFERENCE_DIR}",
        "-cp",
        build.reference_classpath,
        "org.apache.rocketmq.broker.BrokerStartup",
        "-n",
        namesrv_addr,
        "-c",
        str(conf),
    ]
    server = _spawn("java-broker", cmd, workdir, f"127.0.0.1:{port}")
    server.extra.update(cluster=cluster, broker_name=broker_name, conf=str(conf))
    _wait_or_stop(server, BROKER_BOOT)
    return server


ROCKETPY_BOOT = "The Name Server boot success. serializeType=JSON"


def start_rocketpy_namesrv(workdir: Path, args: list[str] | None = None) -> ServerProcess:
    """`python -m rocketpy namesrv --listenPort=P` with HOME=workdir (its kvConfig.json goes there); `args` are
    extra arguments (e.g. the -Dtls.* ones the Java reference gets as JVM options)."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    # ROCKETMQ_HOME matches what the Java reference gets through -Drocketmq.home.dir (its rocketmqHome config).
    cmd = [sys.executable, "-m", "rocketpy", "namesrv", f"--listenPort={port}", *(args or [])]
    server = _spawn("rocketpy-namesrv", cmd, workdir, f"127.0.0.1:{port}", env=_rocketpy_env(workdir))
    _wait_or_stop(server, ROCKETPY_BOOT)
    return server


def _wait_or_stop(server: ServerProcess, marker: str) -> None:
    try:
        server.wait_for(marker)
    except BaseException:
        server.stop()
        raise


def _rocketpy_env(workdir: Path) -> dict[str, str]:
    return {**os.environ, "HOME": str(workdir), "ROCKETMQ_HOME": str(REFERENCE_DIR), "PYTHONUNBUFFERED": "1"}


def start_rocketpy_broker(
    workdir: Path,
    namesrv_addr: str,
    cluster: str = "DefaultCluster",
    broker_name: str = "broker-a",
    conf_extra: Mapping[str, str | None] | None = None,
    store_root: str | None = None,
    port: int | None = None,
    args: list[str] | None = None,
    rocketmq_home: Path | None = None,
) -> ServerProcess:
    """`python -m rocketpy broker -n NAMESRV -c broker.conf`: the very broker.conf the Java broker gets; `args`
    are extra arguments (e.g. -Dtls.* ones)."""
    port = port or free_broker_port()
    conf = broker_conf(workdir, port, cluster, broker_name, store_root, extra=conf_extra)
    cmd = [sys.executable, "-m", "rocketpy", "broker", "-n", namesrv_addr, "-c", str(conf), *(args or [])]
    env = _rocketpy_env(workdir)
    if rocketmq_home is not None:  # e.g. a copy holding conf/plain_acl.yml
        env["ROCKETMQ_HOME"] = str(rocketmq_home)
    server = _spawn("rocketpy-broker", cmd, workdir, f"127.0.0.1:{port}", env=env)
    server.extra.update(cluster=cluster, broker_name=broker_name, conf=str(conf))
    _wait_or_stop(server, BROKER_BOOT)
    return server


def start_rocketpy_serve(workdir: Path, args: list[str] | None = None) -> tuple[ServerProcess, str]:
    """`python -m rocketpy serve --namesrv-port=P --listenPort=Q --storePathRootDir=D --brokerIP1=127.0.0.1`.

    One process runs both; returns it (its addr is the broker's) and the NameServer address. Ready once both
    boot lines are printed. `args` are extra arguments (e.g. --brokerName=broker-a, --metricsPort=0).
    """
    ns_port, port = free_port(), free_broker_port()
    workdir.mkdir(parents=True, exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "rocketpy",
        "serve",
        f"--namesrv-port={ns_port}",
        f"--listenPort={port}",
        f"--storePathRootDir={workdir / 'store'}",
        "--brokerIP1=127.0.0.1",
        *(args or []),
    ]
    server = _spawn("rocketpy-serve", cmd, workdir, f"127.0.0.1:{port}", env=_rocketpy_env(workdir))
    _wait_or_stop(server, ROCKETPY_BOOT)
    _wait_or_stop(server, BROKER_BOOT)
    return server, f"127.0.0.1:{ns_port}"
