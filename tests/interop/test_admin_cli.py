"""⇄ `rocketpy admin` prints what `mqadmin` prints, against the Java 4.9.7 NameServer + Broker and against rocketpy's
(issue 9). One server boot per target for the whole module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interop.harness.environment import TARGETS, InteropEnv, environment
from interop.harness.normalise import diff_paths
from tests.interop import admin_cli_scenarios as scenarios

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module", params=TARGETS)
def admin_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, interop_build: Any
) -> Iterator[InteropEnv]:
    target: str = request.param
    workdir: Path = tmp_path_factory.mktemp(f"admin-cli-{target}")
    with environment(interop_build, target, workdir, broker_kind=target) as env:
        consumed = scenarios.consume_some(env)
        assert consumed["consumed"]["complete"], consumed
        yield env


def test_rocketpy_admin_prints_what_mqadmin_prints(admin_env: InteropEnv) -> None:
    java_cli = scenarios.observe(admin_env, "mqadmin", scenarios.run_mqadmin(admin_env))
    raw, times = scenarios.run_rocketpy_admin(admin_env)
    py_cli = scenarios.observe(admin_env, "rocketpy", raw)

    differences = diff_paths(java_cli, py_cli)
    assert not differences, (
        f"rocketpy admin differs from mqadmin against the {admin_env.kind} server "
        "(left = mqadmin, right = rocketpy admin):\n" + "\n".join(differences)
    )
    # What a script sees besides stdout: failures exit non-zero, successes zero.
    failing = {label for label, obs in py_cli.items() if obs["errors"] and not obs["stdout"]}
    assert failing == {
        "updateTopicIllegal",
        "topicRouteMissing",
        "topicStatusMissing",
        "updateOrderConfGetMissing",
        "consumerProgressUnknown",
        "consumerConnectionOffline",
        "consumerConnectionOfflineBroker",
        "producerConnectionOffline",
    }
    for (label, _, _), result in zip(scenarios.STEPS, raw, strict=True):
        assert (result["exit"] != 0) == (label in failing), (label, result)
    assert java_cli["topicRouteMissing"]["errors"] == [
        "CODE: 17  DESC: No topic route info in name server for the topic: NoSuchAdminCliTopic"
    ]
    assert "AdmCli<cli>Topic1" in java_cli["topicList"]["stdout"]
    assert not any("AdmCli" in t for t in java_cli["topicListAfter"]["stdout"])
    # Start-up: mqadmin pays 1-3 s of JVM per command; rocketpy admin's median is far below that.
    median = sorted(times)[len(times) // 2]
    assert median < 1.5, f"median rocketpy admin time {median:.2f} s"
