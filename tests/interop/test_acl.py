"""ACL as 4.9.8's PlainAccessValidator (issue 8), against the Java reference and rocketpy (⇄).

One broker per target with aclEnable=true and a private ROCKETMQ_HOME (conf/plain_acl.yml, conf/tools.yml), shared
by the module's tests: the request matrix first (it changes no ACL state), then mqadmin's ACL commands and hot
reload, which rewrite the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interop.harness.environment import TARGETS, InteropEnv, start_namesrv
from interop.harness.normalise import diff_paths
from tests.interop import acl_scenarios

pytestmark = pytest.mark.interop

ACL_CONF = {"aclEnable": "true"}
_JAVA: dict[str, Any] = {}

NO_KEY = "org.apache.rocketmq.acl.common.AclException: No accessKey is configured, "
AT = "org.apache.rocketmq.acl.plain.PlainPermissionManager"


def _start(build: Any, kind: str, workdir: Path) -> tuple[InteropEnv, Path]:
    home = acl_scenarios.acl_home(workdir)
    env = start_namesrv(build, kind, workdir)
    env.broker_kind = kind
    try:
        env.start_broker(conf_extra=ACL_CONF, rocketmq_home=home)
    except BaseException:
        env.stop()
        raise
    return env, home


@pytest.fixture(scope="module", params=TARGETS)
def acl_env(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, interop_build: Any
) -> Iterator[tuple[InteropEnv, Path]]:
    env, home = _start(interop_build, request.param, tmp_path_factory.mktemp(f"acl-{request.param}"))
    try:
        yield env, home
    finally:
        env.stop()


def _compare(name: str, env: InteropEnv, observed: Any, scenario: Any, build: Any, tmp: pytest.TempPathFactory) -> None:
    """Record the Java observations, or compare rocketpy's with them (running Java on demand, e.g. -k rocketpy)."""
    dump = os.environ.get("ROCKETPY_INTEROP_DUMP")
    if dump:
        Path(dump).mkdir(parents=True, exist_ok=True)
        (Path(dump) / f"acl-{name}-{env.kind}.json").write_text(json.dumps(observed, indent=1))
    if env.kind == "java":
        _JAVA[name] = observed
        return
    if name not in _JAVA:
        java_env, java_home = _start(build, "java", tmp.mktemp(f"acl-baseline-{name}"))
        try:
            if name == "admin":
                acl_scenarios.matrix(java_env, java_home)
            _JAVA[name] = scenario(java_env, java_home)
        finally:
            java_env.stop()
    expected = acl_scenarios.as_4_9_8(_JAVA[name])
    differences = diff_paths(expected, observed)
    assert not differences, "rocketpy differs from the Java reference (left = Java):\n" + "\n".join(differences)


def _results(observed: list[Any]) -> dict[str, Any]:
    return {step["name"]: step.get("result", step.get("error")) for step in observed}


def test_acl_matrix(
    acl_env: tuple[InteropEnv, Path], interop_build: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    env, home = acl_env
    observed = acl_scenarios.matrix(env, home)
    _compare("matrix", env, observed, acl_scenarios.matrix, interop_build, tmp_path_factory)
    r = _results(observed["JSON"])
    binary = _results(observed["ROCKETMQ"])
    # the same answers in both header formats, but for the empty field and the ACL file's version, which the
    # JSON run bumped (a non-admin may rewrite the global white addresses: 53 is no admin code in 4.9.8)
    same = [k for k in r if k != "right send with an empty field" and "acl versions" not in k]
    assert [binary[k] for k in same] == [r[k] for k in same]
    assert r["right white addrs without a file"]["code"] == 0
    assert r["right send with an empty field"]["code"] == 0
    assert "Check signature failed" in binary["right send with an empty field"]["remark"]
    assert r["right send aclTopicPub"]["code"] == 0
    assert r["right send aclTopicSub"]["remark"] == (
        "org.apache.rocketmq.acl.common.AclException: No default permission for topic:aclTopicSub, "
        f"{AT}.checkPerm(PlainPermissionManager.java:{610 if env.kind == 'java' else 611})"
    )
    assert r["none GET_BROKER_CONFIG"]["code"] == 1
    assert r["none GET_BROKER_CONFIG"]["remark"].startswith(NO_KEY)
    assert "Check signature failed for accessKey=RocketMQ" in r["wrong send aclTopicPub"]["remark"]
    assert "No acl config for nobodyKey" in r["unknown send aclTopicPub"]["remark"]
    assert "Need admin permission for request code=17" in r["right UPDATE_AND_CREATE_TOPIC"]["remark"]
    assert r["admin creates aclTopicPub"]["code"] == 0
    assert "No default permission for group:aclGroupDeny" in r["right send to %RETRY%aclGroupDeny"]["remark"]
    assert r["white user, bad secret, denied topic"]["code"] == 0
    assert r["producer with credentials"]["sendStatus"] == "SEND_OK"
    assert r["producer without credentials"]["cause"]["responseCode"] == 1
    assert r["conf/acl user send"]["code"] == 0
    assert r["duplicate key, team secret"]["code"] == 0
    assert "Check signature failed for accessKey=dupUser01" in r["duplicate key, plain secret"]["remark"]


def test_acl_admin_commands_and_hot_reload(
    acl_env: tuple[InteropEnv, Path], interop_build: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    env, home = acl_env
    observed = acl_scenarios.admin_and_reload(env, home)
    _compare("admin", env, observed, acl_scenarios.admin_and_reload, interop_build, tmp_path_factory)
    accounts = {a["accessKey"]: a for a in observed["file after update"]["accounts"]}
    assert accounts["newUser01"]["topicPerms"] == ["aclTopicPub=SUB", "newTopic=PUB"]
    assert "newUser01" not in {a["accessKey"] for a in observed["file after delete"]["accounts"]}
    reload = _results(observed["reload"])
    assert reload["hot user (poll)"]["reached"] is True
    assert reload["no key from a white address (poll)"]["reached"] is True
    assert observed["file after white addrs"]["globalWhiteRemoteAddresses"] == ["10.10.103.*", "127.0.0.1"]
    later = _results(observed["new file"])
    assert later["user of a new file (poll)"]["reached"] is True
