"""What `rocketpy serve` loads before it is ready (issue 12: launch to ready).

A default `serve` is run in a subprocess up to its ready line, where the modules it has imported are listed; code
that only some configurations or requests need must not be among them: TLS key material (cryptography, only made
on the first TLS connection), the ACL (yaml, only with aclEnable), the SQL92 grammar (only on the first SQL92
subscription), the HA client (slaves only), the admin command line and the metrics endpoint. No timing is
asserted: the module list is what keeps the launch short.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Patches the boot-line printer: at the ready line, print the loaded modules and stop the server as SIGTERM does.
PROBE = """
import gc, os, signal, sys
gc.disable()  # as `python -m rocketpy` (rocketpy/__main__.py) starts
import rocketpy.cli as cli

printed = cli._boot_line

def boot_line(text):
    printed(text)
    if text.startswith("rocketpy serve ready"):
        print("MODULES " + " ".join(sorted(sys.modules)), flush=True)
        print(f"GC {gc.isenabled()}", flush=True)
        os.kill(os.getpid(), signal.SIGTERM)

cli._boot_line = boot_line
sys.exit(cli.main(sys.argv[1:]))
"""

NOT_ON_THE_SERVE_PATH = [
    "cryptography",
    "yaml",
    "rocketpy.admin",
    "rocketpy.client.admin",
    "rocketpy.broker.acl",
    "rocketpy.broker.acl_service",
    "rocketpy.broker.processors.admin_acl",
    "rocketpy.broker.metrics",
    "rocketpy.broker.ha.slave",
    "rocketpy.broker.ha.slave_sync",
    "rocketpy.filter.parser",
    "rocketpy.filter.expressions",
    "rocketpy.serve_cluster",
]


def _serve(tmp_path: Path, *options: str) -> list[str]:
    env = {**os.environ, "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    env.pop("ROCKETMQ_HOME", None)
    argv = ["serve", "--namesrv-port=0", "--listenPort=0", f"--storePathRootDir={tmp_path / 'store'}", *options]
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert "MODULES " in done.stdout, f"no ready line (exit {done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.splitlines()


def _serve_modules(tmp_path: Path, *options: str) -> set[str]:
    lines = [line for line in _serve(tmp_path, *options) if line.startswith("MODULES ")]
    return set(lines[0].split()[1:])


def _loaded(modules: set[str], name: str) -> bool:
    return name in modules or any(m.startswith(name + ".") for m in modules)


def test_default_serve_loads_only_what_it_serves_with(tmp_path: Path) -> None:
    modules = _serve_modules(tmp_path)
    assert "rocketpy.broker.startup" in modules and "rocketpy.namesrv.controller" in modules  # the probe works
    assert [name for name in NOT_ON_THE_SERVE_PATH if _loaded(modules, name)] == []


def test_the_server_runs_with_the_garbage_collector_on(tmp_path: Path) -> None:
    """The collector is paused while the modules load (issue 12), never in the running server."""
    assert "GC True" in _serve(tmp_path)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        pytest.param(("--aclEnable=true",), "rocketpy.broker.acl_service", id="aclEnable"),
        pytest.param(("--metricsPort=0",), "rocketpy.broker.metrics", id="metricsPort"),
    ],
)
def test_an_option_loads_its_code(tmp_path: Path, options: tuple[str, ...], expected: str) -> None:
    """The lazily loaded parts are still there when configured (the probe would see a missing import)."""
    if "--aclEnable=true" in options:  # an empty ACL file under rocketmqHome: the broker starts enforcing it
        (tmp_path / "conf").mkdir()
        (tmp_path / "conf" / "plain_acl.yml").write_text("accounts: []\n")
        options = (*options, f"--rocketmqHome={tmp_path}")
    assert expected in _serve_modules(tmp_path, *options)
