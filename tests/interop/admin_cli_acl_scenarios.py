"""⇄ `rocketpy admin` ACL subcommands against `mqadmin` (issue 9): the same command lines through both CLIs on one
broker with aclEnable=true, both signing with ROCKETMQ_HOME/conf/tools.yml (the admin account of acl_scenarios).

Each CLI works on its own accounts (access keys starting `cliMq` / `cliPy`), so both phases start from the same
state; the phases' effects on plain_acl.yml are compared account by account.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from interop.harness.driver import run_driver
from interop.harness.environment import DEFAULT_CLUSTER, InteropEnv
from tests.interop.admin_cli_scenarios import _errors

PREFIX = {"mqadmin": "cliMq", "rocketpy": "cliPy"}
# (label, argv template): {br} broker, {A} the CLI's access key prefix, {home} the broker's ROCKETMQ_HOME
STEPS: list[tuple[str, str]] = [
    (
        "updateBroker",
        "updateAclConfig -b {br} -a {A}User1 -s secret123 -t aclTopicPub=SUB,newTopic=PUB,, -g aclGroupDeny=SUB "
        "-i DENY -u SUB -m false",
    ),
    ("updateCluster", f"updateAclConfig -c {DEFAULT_CLUSTER} -a {{A}}User2 -s secret456 -w 192.168.0.* -m TRUE"),
    ("updateShortKey", "updateAclConfig -b {br} -a short -s 12345678"),
    ("updateBadPerm", "updateAclConfig -b {br} -a {A}User3 -s 12345678 -t aclTopicDeny=ALL"),
    ("updateNoCluster", "updateAclConfig -c NoSuchCluster -a {A}User4 -s 12345678"),
    ("versionBroker", "clusterAclConfigVersion -b {br}"),
    ("versionCluster", f"clusterAclConfigVersion -c {DEFAULT_CLUSTER}"),
    ("versionNoCluster", "clusterAclConfigVersion -c NoSuchCluster"),
    ("deleteBroker", "deleteAclConfig -b {br} -a {A}User1"),
    ("deleteAgain", "deleteAclConfig -b {br} -a {A}User1"),
    ("deleteNoCluster", "deleteAclConfig -c NoSuchCluster -a {A}User2"),
    ("whiteBroker", "updateGlobalWhiteAddr -b {br} -g 10.10.103.*,192.168.1.*"),
    ("whiteCluster", f"updateGlobalWhiteAddr -c {DEFAULT_CLUSTER} -g 10.10.103.* -p {{home}}/conf/plain_acl.yml"),
    ("whiteNoFile", "updateGlobalWhiteAddr -b {br} -g 10.10.104.* -p {home}/conf/no_such_acl.yml"),
    # any subcommand is signed: admin-only codes pass with tools.yml's admin account
    ("updateTopic", "updateTopic -b {br} -t {A}Topic -r 2 -w 2"),
    ("deleteTopic", f"deleteTopic -c {DEFAULT_CLUSTER} -t {{A}}Topic"),
]
# the same request without tools.yml: refused by the broker's ACL check
UNSIGNED = ("versionUnsigned", "clusterAclConfigVersion -b {br}")

_IDENTITY = re.compile(r"(PlainAccessConfig)@[0-9a-f]+")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


def _argv(template: str, env: InteropEnv, home: Path, cli: str) -> list[str]:
    assert env.broker is not None
    argv = template.format(br=env.broker.addr, A=PREFIX[cli], home=home).split(" ")
    return [*argv, "-n", env.namesrv.addr]


def run_mqadmin(env: InteropEnv, home: Path, steps: list[tuple[str, str]], label: str) -> list[dict[str, Any]]:
    """All steps in one driver JVM (MQAdminStartup.main0 with rocketmq.home.dir = `home`)."""
    drv = env.driver_home(f"acl-cli-{label}")
    drv.mkdir(parents=True, exist_ok=True)
    acl_steps = [{"name": n, "op": "mqadmin", "argv": _argv(t, env, home, "mqadmin")} for n, t in steps]
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=drv, delete=False) as f:
        json.dump(acl_steps, f)
    run = run_driver(env.build, "acl", {"namesrv": env.namesrv.addr, "steps": f.name}, drv, rocketmq_home=home)
    out = []
    for step in run.observations:
        result = step.get("result") or {}
        out.append({"stdout": result.get("stdout", ""), "errors": _errors(result.get("errors", []))})
    return out


def run_rocketpy_admin(env: InteropEnv, home: Path, steps: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Each step as its own `python -m rocketpy admin` process with ROCKETMQ_HOME = `home`."""
    environ = {**os.environ, "ROCKETMQ_HOME": str(home)}
    out = []
    for _, template in steps:
        proc = subprocess.run(
            [sys.executable, "-m", "rocketpy", "admin", *_argv(template, env, home, "rocketpy")],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env=environ,
        )
        out.append({"stdout": proc.stdout, "errors": _errors(proc.stderr.splitlines()), "exit": proc.returncode})
    return out


def _version_rows(stdout: str) -> list[Any]:
    """clusterAclConfigVersion's table: the counters and update times depend on when the file watcher last
    reloaded (and on the other CLI's changes before): kept as shapes."""
    rows = []
    for line in stdout.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) == 6 and not cells[0].startswith("#"):
            cells[4] = "<counter>" if cells[4].isdigit() else cells[4]
            cells[5] = _TIME.sub("<time>", cells[5])
        rows.append(cells)
    return rows


def observe(env: InteropEnv, home: Path, cli: str, steps: list[tuple[str, str]], raw: list[Any]) -> dict[str, Any]:
    normalise = env.normaliser()
    normalise.add_path(str(home), "acl-home")
    out = {}
    for (label, _), result in zip(steps, raw, strict=True):
        stdout = _IDENTITY.sub(r"\1@<id>", normalise(result["stdout"])).replace(PREFIX[cli], "cli<cli>")
        errors = [normalise(e).replace(PREFIX[cli], "cli<cli>") for e in result["errors"]]
        shaped: Any = _version_rows(stdout) if label.startswith("version") else stdout
        out[label] = {"stdout": shaped, "errors": errors}
    return out


def acl_file_accounts(home: Path, cli: str) -> dict[str, Any]:
    """What a phase left in plain_acl.yml: its own accounts (prefix normalised) and the global white addresses."""
    data = yaml.safe_load((home / "conf" / "plain_acl.yml").read_text())
    accounts = [
        {**a, "accessKey": a["accessKey"].replace(PREFIX[cli], "cli<cli>")}
        for a in data.get("accounts") or []
        if str(a.get("accessKey", "")).startswith(PREFIX[cli])
    ]
    return {"accounts": accounts, "globalWhiteRemoteAddresses": data.get("globalWhiteRemoteAddresses")}


def restore_white_addrs(env: InteropEnv, home: Path) -> None:
    """Put the global white address list back as acl_scenarios wrote it, so the next phase starts the same."""
    run_rocketpy_admin(env, home, [("restore", "updateGlobalWhiteAddr -b {br} -g 10.10.103.*")])
