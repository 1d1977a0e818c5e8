"""One interop environment: a NameServer under test (Java reference or rocketpy), optionally a Java broker
registered with it, a work directory, and the normaliser that knows their addresses and paths.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from interop.harness import docker_reference, processes
from interop.harness.build import REFERENCE_DIR, JavaBuild
from interop.harness.normalise import Normaliser

TARGETS = ("java", "rocketpy")
DEFAULT_CLUSTER = "DefaultCluster"
DEFAULT_BROKER = "broker-a"


class Server(Protocol):
    """What the harness needs of a running server, local process or container."""

    name: str
    addr: str
    extra: dict[str, str]

    def output(self, limit: int = 6000) -> str: ...

    def stop(self, grace: float = 0.0) -> None: ...


def reference_mode() -> str:
    """ "maven" (default: the Maven Central jars) or "docker" (ROCKETPY_INTEROP_REFERENCE=docker)."""
    mode = os.environ.get("ROCKETPY_INTEROP_REFERENCE", "maven").strip().lower() or "maven"
    if mode not in ("maven", "docker"):
        raise ValueError(f"ROCKETPY_INTEROP_REFERENCE must be 'maven' or 'docker', not {mode!r}")
    return mode


@dataclass
class InteropEnv:
    """Servers of one scenario run; `kind` names the NameServer implementation under test."""

    build: JavaBuild
    kind: str
    workdir: Path
    namesrv: Server
    brokers: dict[str, Server] = field(default_factory=dict)
    servers: list[Server] = field(default_factory=list)
    broker_kind: str = "java"

    @property
    def broker(self) -> Server | None:
        """The first broker started (role "broker"), if any."""
        return self.brokers.get("broker")

    @property
    def namesrv_home(self) -> Path:
        return self.workdir / "namesrv"

    def driver_home(self, name: str) -> Path:
        return self.workdir / f"driver-{name}"

    def normaliser(self) -> Normaliser:
        n = Normaliser()
        n.add_addr(self.namesrv.addr, "namesrv")
        for role, broker in self.brokers.items():
            n.add_broker(broker.addr, role)
        n.add_path(str(self.workdir), "workdir")
        n.add_path(str(REFERENCE_DIR), "rocketmq-home")
        return n

    def start_broker(
        self,
        cluster: str = DEFAULT_CLUSTER,
        broker_name: str = DEFAULT_BROKER,
        role: str = "broker",
        broker_id: int = 0,
        conf_extra: Mapping[str, str | None] | None = None,
        jvm_props: list[str] | None = None,
        store_root: str | None = None,
        port: int | None = None,
        rocketmq_home: Path | None = None,
    ) -> Server:
        """A broker of kind `self.broker_kind` (default the Java 4.9.7 reference) registered with this environment's
        NameServer; `role` names it in observations.

        `conf_extra` adds broker.conf settings; `jvm_props` JVM options (e.g. -Drocketmq.serialize.type=ROCKETMQ);
        `store_root` opens an existing store directory instead of a new one under the role's work directory;
        `port` is the listenPort (default: a free one); `rocketmq_home` replaces interop/reference as the broker's
        ROCKETMQ_HOME (-Drocketmq.home.dir), e.g. a copy with its own conf/plain_acl.yml.
        """
        workdir = self.workdir / role
        broker: Server
        if self.broker_kind == "rocketpy":
            if broker_id or jvm_props:
                raise NotImplementedError("rocketpy brokers are started as masters without JVM options")
            broker = processes.start_rocketpy_broker(
                workdir,
                self.namesrv.addr,
                cluster,
                broker_name,
                conf_extra=conf_extra,
                store_root=store_root,
                port=port,
                rocketmq_home=rocketmq_home,
            )
        elif reference_mode() == "docker":
            if broker_id or conf_extra or jvm_props or rocketmq_home:
                raise NotImplementedError("docker reference mode starts default master brokers only")
            broker = docker_reference.start_broker(workdir, self.namesrv.addr, cluster, broker_name)
        else:
            broker = processes.start_java_broker(
                self.build,
                workdir,
                self.namesrv.addr,
                cluster,
                broker_name,
                jvm_props=jvm_props,
                broker_id=broker_id,
                conf_extra=conf_extra,
                store_root=store_root,
                port=port,
                rocketmq_home=rocketmq_home,
            )
        self.brokers[role] = broker
        self.servers.append(broker)
        return broker

    def stop_broker(self, role: str, grace: float = 0.0) -> None:
        """Stop one broker now (grace > 0: SIGTERM first, so a Java broker unregisters itself)."""
        broker = self.brokers[role]
        broker.stop(grace)
        self.servers.remove(broker)

    def restart_broker(self, role: str = "broker") -> None:
        """Graceful stop and restart of one broker with the same command, config file, port and store."""
        broker = self.brokers[role]
        if not isinstance(broker, processes.ServerProcess):
            raise NotImplementedError("only local broker processes can be restarted")
        processes.restart(broker)

    def stop(self) -> None:
        """Brokers first (so the NameServer sees them go), then the NameServer; kills, state is throwaway."""
        for server in reversed(self.servers):
            server.stop()
        self.servers.clear()


def start_namesrv(build: JavaBuild, kind: str, workdir: Path) -> InteropEnv:
    """Start the NameServer `kind` ("java" or "rocketpy") with its home in `workdir/namesrv`."""
    home = workdir / "namesrv"
    namesrv: Server
    if kind == "java" and reference_mode() == "docker":
        namesrv = docker_reference.start_namesrv(workdir)
    elif kind == "java":
        namesrv = processes.start_java_namesrv(build, home)
    elif kind == "rocketpy":
        namesrv = processes.start_rocketpy_namesrv(home)
    else:
        raise ValueError(f"unknown NameServer target {kind!r}")
    return InteropEnv(build=build, kind=kind, workdir=workdir, namesrv=namesrv, servers=[namesrv])


def start_serve(build: JavaBuild, workdir: Path) -> InteropEnv:
    """`rocketpy serve`: NameServer and broker in one process (the quickstart's single command)."""
    server, ns_addr = processes.start_rocketpy_serve(workdir)
    namesrv = _Alias(name="rocketpy-serve-namesrv", addr=ns_addr, target=server)
    return InteropEnv(
        build=build,
        kind="rocketpy",
        workdir=workdir,
        namesrv=namesrv,
        brokers={"broker": server},
        servers=[server],
        broker_kind="rocketpy",
    )


@dataclass
class _Alias:
    """The NameServer half of a `rocketpy serve` process: its own address, the process's output and lifetime."""

    name: str
    addr: str
    target: processes.ServerProcess
    extra: dict[str, str] = field(default_factory=dict)

    def output(self, limit: int = 6000) -> str:
        return self.target.output(limit)

    def stop(self, grace: float = 0.0) -> None:
        self.target.stop(grace)


@contextmanager
def environment(
    build: JavaBuild, kind: str, workdir: Path, with_broker: bool = True, broker_kind: str = "java"
) -> Iterator[InteropEnv]:
    """NameServer `kind` plus (by default) a broker of `broker_kind`, stopped on exit whatever happens."""
    env = start_namesrv(build, kind, workdir)
    env.broker_kind = broker_kind
    try:
        if with_broker:
            env.start_broker()
        yield env
    finally:
        env.stop()
