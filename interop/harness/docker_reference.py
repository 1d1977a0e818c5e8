"""Optional reference mode: the official servers from a Docker image instead of Maven jars.

Selected with ROCKETPY_INTEROP_REFERENCE=docker (image: ROCKETPY_INTEROP_DOCKER_IMAGE, default
apache/rocketmq:4.9.7). Never required: the default and the CI mode run the Maven Central jars. The containers use
the host network so that the ports and the broker's registered 127.0.0.1 address mean the same inside and out; the
test's work directory is mounted at /interop for the config files and the store. The driver still runs locally.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interop.harness.ports import free_broker_port, free_port
from interop.harness.processes import BOOT_TIMEOUT_S, BROKER_BOOT, NAMESRV_BOOT, ServerStartError, broker_conf

DEFAULT_IMAGE = "apache/rocketmq:4.9.7"
MOUNT = "/interop"
JAVA_OPTS = "-Xms128m -Xmx256m -Xmn64m -XX:MaxDirectMemorySize=256m"


def image() -> str:
    return os.environ.get("ROCKETPY_INTEROP_DOCKER_IMAGE", DEFAULT_IMAGE)


@dataclass
class DockerServer:
    """A reference server in a container; same surface as processes.ServerProcess (addr, extra, output, stop)."""

    name: str
    container: Any
    addr: str
    extra: dict[str, str] = field(default_factory=dict)

    def output(self, limit: int = 6000) -> str:
        logs: bytes = self.container.logs()
        return logs.decode(errors="replace")[-limit:]

    def wait_for(self, marker: str, timeout: float = BOOT_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if marker in self.output(limit=1 << 20):
                return
            self.container.reload()
            if self.container.status == "exited":
                raise ServerStartError(f"{self.name} container exited; output:\n{self.output()}")
            time.sleep(0.2)
        raise ServerStartError(f"{self.name} did not print {marker!r} within {timeout}s; output:\n{self.output()}")

    def stop(self, grace: float = 0.0) -> None:
        # An already removed container leaves nothing to clean.
        with contextlib.suppress(Exception):
            self.container.remove(force=True)


def _client() -> Any:
    try:
        import docker  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError as exc:
        raise ServerStartError(
            "ROCKETPY_INTEROP_REFERENCE=docker needs the docker SDK: pip install 'rocketpy[interop]'"
        ) from exc
    return docker.from_env()


def _run(name: str, workdir: Path, command: list[str], addr: str, marker: str) -> DockerServer:
    workdir.mkdir(parents=True, exist_ok=True)
    workdir.chmod(0o777)  # the image runs as its own "rocketmq" user
    container = _client().containers.run(
        image(),
        command=command,
        detach=True,
        network_mode="host",
        volumes={str(workdir): {"bind": MOUNT, "mode": "rw"}},
        environment={"JAVA_OPT_EXT": f"{JAVA_OPTS} -Duser.home={MOUNT}"},
    )
    server = DockerServer(name=name, container=container, addr=addr)
    try:
        server.wait_for(marker)
    except BaseException:
        server.stop()
        raise
    return server


def start_namesrv(workdir: Path) -> DockerServer:
    port = free_port()
    props = workdir / "namesrv" / "namesrv.properties"
    props.parent.mkdir(parents=True, exist_ok=True)
    props.write_text(f"listenPort={port}\n")
    command = ["sh", "mqnamesrv", "-c", f"{MOUNT}/namesrv/namesrv.properties"]
    return _run("docker-namesrv", workdir, command, f"127.0.0.1:{port}", NAMESRV_BOOT)


def start_broker(workdir: Path, namesrv_addr: str, cluster: str, broker_name: str) -> DockerServer:
    port = free_broker_port()
    broker_conf(workdir, port, cluster, broker_name, store_root=f"{MOUNT}/store")
    command = ["sh", "mqbroker", "-n", namesrv_addr, "-c", f"{MOUNT}/broker.conf"]
    server = _run("docker-broker", workdir, command, f"127.0.0.1:{port}", BROKER_BOOT)
    server.extra.update(cluster=cluster, broker_name=broker_name)
    return server
