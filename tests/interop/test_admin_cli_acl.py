"""⇄ `rocketpy admin` ACL subcommands print what `mqadmin` prints and change plain_acl.yml alike, signed with
ROCKETMQ_HOME/conf/tools.yml, against the Java 4.9.7 broker and rocketpy's with aclEnable=true (issue 9).
One ACL broker boot per target."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interop.harness.environment import TARGETS, InteropEnv, start_namesrv
from interop.harness.normalise import diff_paths
from tests.interop import acl_scenarios
from tests.interop import admin_cli_acl_scenarios as scenarios

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module", params=TARGETS)
def acl_cli_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, interop_build: Any
) -> Iterator[tuple[InteropEnv, Path]]:
    workdir = tmp_path_factory.mktemp(f"admin-cli-acl-{request.param}")
    home = acl_scenarios.acl_home(workdir)
    env = start_namesrv(interop_build, request.param, workdir)
    env.broker_kind = request.param
    try:
        env.start_broker(conf_extra={"aclEnable": "true"}, rocketmq_home=home)
        yield env, home
    finally:
        env.stop()


def test_rocketpy_admin_acl_commands_match_mqadmin(acl_cli_env: tuple[InteropEnv, Path], tmp_path: Path) -> None:
    env, home = acl_cli_env
    steps = scenarios.STEPS
    java_cli = scenarios.observe(env, home, "mqadmin", steps, scenarios.run_mqadmin(env, home, steps, "signed"))
    java_file = scenarios.acl_file_accounts(home, "mqadmin")
    scenarios.restore_white_addrs(env, home)
    raw = scenarios.run_rocketpy_admin(env, home, steps)
    py_cli = scenarios.observe(env, home, "rocketpy", steps, raw)
    py_file = scenarios.acl_file_accounts(home, "rocketpy")

    differences = diff_paths(java_cli, py_cli) + diff_paths(java_file, py_file)
    assert not differences, (
        f"rocketpy admin differs from mqadmin against the {env.kind} broker (left = mqadmin):\n"
        + "\n".join(differences)
    )
    failing = {label for (label, _), result in zip(steps, raw, strict=True) if result["exit"] != 0}
    assert failing == {"updateShortKey", "updateBadPerm", "deleteAgain", "whiteNoFile"}
    assert java_cli["updateBroker"]["stdout"] == (
        "create or update plain access config to <broker> success.\norg.apache.rocketmq.common.PlainAccessConfig@<id>"
    )
    assert [e.split("  DESC:")[0] for e in java_cli["deleteAgain"]["errors"]] == ["CODE: 210"]
    accounts = {a["accessKey"]: a for a in py_file["accounts"]}
    assert set(accounts) == {"cli<cli>User2"}  # User1 deleted, User3/short refused, User4: no such cluster
    assert accounts["cli<cli>User2"]["admin"] is True
    assert py_file["globalWhiteRemoteAddresses"] == ["10.10.103.*"]
    rows = java_cli["versionCluster"]["stdout"]
    assert rows[0][0] == "#Cluster Name" and rows[-1] == ["get cluster's plain access config version success."]
    assert java_cli["updateTopic"]["stdout"].startswith("create topic to <broker> success.")

    # Without conf/tools.yml neither CLI signs: the broker refuses both the same way.
    bare = tmp_path / "bare-home"
    (bare / "conf").mkdir(parents=True)
    for xml in (home / "conf").glob("logback_*.xml"):
        (bare / "conf" / xml.name).write_bytes(xml.read_bytes())
    unsigned = [scenarios.UNSIGNED]
    java_bare = scenarios.observe(env, bare, "mqadmin", unsigned, scenarios.run_mqadmin(env, bare, unsigned, "bare"))
    py_raw = scenarios.run_rocketpy_admin(env, bare, unsigned)
    py_bare = scenarios.observe(env, bare, "rocketpy", unsigned, py_raw)
    assert py_bare == java_bare
    assert java_bare["versionUnsigned"]["errors"][0].startswith("CODE: 1  DESC: org.apache.rocketmq.acl.common")
    assert py_raw[0]["exit"] == 1
