"""One interop environment: a NameServer under test (Java reference or rocketpy), optionally a Java broker
registered with it, a work directory, and the normaliser that knows their addresses and paths.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
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
        conf_extra: dict[str, str] | None = None,
        jvm_props: list[str] | None = None,
    ) -> Server:
        """A Java 4.9.7 broker registered with this environment's NameServer; `role` names it in observations.

        `conf_extra` adds broker.conf settings; `jvm_props` JVM options (e.g. -Drocketmq.serialize.type=ROCKETMQ).
        """
        workdir = self.workdir / role
        broker: Server
        if reference_mode() == "docker":
            if broker_id or conf_extra or jvm_props:
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
            )
        self.brokers[role] = broker
        self.servers.append(broker)
        return broker

    def stop_broker(self, role: str, grace: float = 0.0) -> None:
        """Stop one broker now (grace > 0: SIGTERM first, so a Java broker unregisters itself)."""
        broker = self.brokers[role]
        broker.stop(grace)
        self.servers.remove(broker)

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


@contextmanager
def environment(build: JavaBuild, kind: str, workdir: Path, with_broker: bool = True) -> Iterator[InteropEnv]:
    """NameServer `kind` plus (by default) a Java broker, stopped on exit whatever happens."""
    env = start_namesrv(build, kind, workdir)
    try:
        if with_broker:
            env.start_broker()
        yield env
    finally:
        env.stop()
