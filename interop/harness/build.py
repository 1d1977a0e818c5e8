"""Resolve the reference server classpath and build the Java driver with Maven, cached under interop/.work/.

The cache key is a hash of the pom (and, for the driver, its sources), so a rerun with nothing changed costs no
Maven call at all. The two classpaths are kept apart on purpose: the servers are the official 4.9.7 jars (the newest
4.x servers on Maven Central) while the driver uses the 4.9.8 client, tools and acl jars.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

INTEROP_DIR = Path(__file__).resolve().parent.parent
REFERENCE_DIR = INTEROP_DIR / "reference"
DRIVER_DIR = INTEROP_DIR / "driver"
WORK_DIR = INTEROP_DIR / ".work"
DRIVER_MAIN = "rocketpy.interop.Driver"


class InteropSetupError(RuntimeError):
    """The Java side of the harness cannot be prepared (missing java/mvn, Maven failure)."""


@dataclass(frozen=True)
class JavaBuild:
    """Everything needed to launch the reference servers and the driver."""

    java: str
    reference_classpath: str
    driver_classpath: str


def require_tool(name: str) -> str:
    """Absolute path of `name` on PATH, or a clear InteropSetupError: interop tests must never skip."""
    path = shutil.which(name)
    if path is None:
        raise InteropSetupError(
            f"`{name}` is not on PATH: the interop suite needs a JDK (17) and Maven with access to Maven "
            "Central to run the official RocketMQ reference. Install them or deselect with -m 'not interop'."
        )
    return path


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(str(path.relative_to(INTEROP_DIR)).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()[:16]


def _run_maven(args: list[str], cwd: Path) -> None:
    mvn = require_tool("mvn")
    proc = subprocess.run([mvn, "-q", "-B", *args], cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        raise InteropSetupError(
            f"mvn {' '.join(args)} failed in {cwd} (exit {proc.returncode}):\n{proc.stdout[-4000:]}\n"
            f"{proc.stderr[-4000:]}"
        )


def _classpath_ok(cp_file: Path) -> bool:
    if not cp_file.is_file():
        return False
    entries = [e for e in cp_file.read_text().strip().split(os.pathsep) if e]
    return bool(entries) and all(Path(e).exists() for e in entries)


def reference_classpath() -> str:
    """Classpath of rocketmq-namesrv and rocketmq-broker 4.9.7, resolved once per pom version."""
    pom = REFERENCE_DIR / "pom.xml"
    out_dir = WORK_DIR / f"reference-{_digest([pom])}"
    cp_file = out_dir / "classpath.txt"
    if not _classpath_ok(cp_file):
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = out_dir / "classpath.txt.tmp"
        _run_maven(["dependency:build-classpath", f"-Dmdep.outputFile={tmp}"], REFERENCE_DIR)
        tmp.replace(cp_file)
    return cp_file.read_text().strip()


def driver_classpath() -> str:
    """Classpath of the packaged driver jar plus its 4.9.8 client dependencies, rebuilt when a source changes."""
    sources = [DRIVER_DIR / "pom.xml", *(p for p in (DRIVER_DIR / "src").rglob("*") if p.is_file())]
    out_dir = WORK_DIR / f"driver-{_digest(sources)}"
    jar = out_dir / "interop-driver.jar"
    cp_file = out_dir / "classpath.txt"
    if not (jar.is_file() and _classpath_ok(cp_file)):
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = out_dir / "classpath.txt.tmp"
        _run_maven(["package", "dependency:build-classpath", f"-Dmdep.outputFile={tmp}"], DRIVER_DIR)
        shutil.copyfile(DRIVER_DIR / "target" / "interop-driver.jar", jar)
        tmp.replace(cp_file)
    return os.pathsep.join([str(jar), cp_file.read_text().strip()])


def prepare() -> JavaBuild:
    """Check the tools and produce both classpaths (cached); raises InteropSetupError with the reason."""
    java = require_tool("java")
    require_tool("mvn")
    return JavaBuild(java=java, reference_classpath=reference_classpath(), driver_classpath=driver_classpath())
