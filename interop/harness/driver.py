"""Run the Java driver (rocketpy.interop.Driver) and return the JSON observations it prints on its last line."""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from interop.harness.build import DRIVER_MAIN, REFERENCE_DIR, JavaBuild

DRIVER_JVM_OPTS = ["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]


class DriverError(AssertionError):
    """The driver could not run its scenario (as opposed to a scenario that observed a failure)."""


@dataclass(frozen=True)
class DriverRun:
    """What one driver invocation printed: the parsed JSON plus stderr for failure reports."""

    result: dict[str, Any]
    stderr: str

    @property
    def observations(self) -> Any:
        return self.result["observations"]


def run_driver(
    build: JavaBuild,
    scenario: str,
    args: dict[str, str],
    home: Path,
    serialize_type: str | None = None,
    timeout: float = 180.0,
    jvm_props: list[str] | None = None,
    rocketmq_home: Path | None = None,
) -> DriverRun:
    """`java -cp <driver cp> rocketpy.interop.Driver <scenario> --k v ...` with user.home=`home`.

    serialize_type "ROCKETMQ" makes the 4.9.8 client encode headers in the binary format
    (-Drocketmq.serialize.type=ROCKETMQ); the default is the client's default, JSON. `jvm_props` adds system
    properties (e.g. -Dtls.enable=true). `rocketmq_home` replaces interop/reference as rocketmq.home.dir (mqadmin
    reads its ACL credentials from <home>/conf/tools.yml).
    """
    home.mkdir(parents=True, exist_ok=True)
    props = [f"-Duser.home={home}", f"-Drocketmq.home.dir={rocketmq_home or REFERENCE_DIR}"]
    if serialize_type is not None:
        props.append(f"-Drocketmq.serialize.type={serialize_type}")
    props += jvm_props or []
    argv = [scenario]
    for key, value in args.items():
        argv += [f"--{key}", value]
    cmd = [build.java, *DRIVER_JVM_OPTS, *props, "-cp", build.driver_classpath, DRIVER_MAIN, *argv]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, cwd=home)
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if not lines:
        raise DriverError(f"driver {argv} printed nothing (exit {proc.returncode}); stderr:\n{proc.stderr[-6000:]}")
    try:
        result = json.loads(lines[-1])
    except json.JSONDecodeError as exc:
        raise DriverError(f"driver {argv} last line is not JSON ({exc}): {lines[-1][:500]!r}") from exc
    if proc.returncode != 0 or "driverError" in result:
        raise DriverError(
            f"driver {argv} failed (exit {proc.returncode}): {result.get('driverError')}\n"
            f"stderr:\n{proc.stderr[-6000:]}"
        )
    return DriverRun(result=result, stderr=proc.stderr)


def run_admin_steps(
    build: JavaBuild,
    namesrv: str,
    steps: list[dict[str, Any]],
    home: Path,
    serialize_type: str | None = None,
) -> list[Any]:
    """The "admin" scenario: mqadmin commands and DefaultMQAdminExt calls, one observation per step."""
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=home, delete=False) as f:
        json.dump(steps, f)
    run = run_driver(build, "admin", {"namesrv": namesrv, "steps": f.name}, home, serialize_type)
    observed: list[Any] = run.observations
    if len(observed) != len(steps):
        raise DriverError(f"admin scenario returned {len(observed)} observations for {len(steps)} steps")
    return observed
