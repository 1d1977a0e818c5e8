"""PlainPermissionManager / PlainAccessValidator.parse: the 4.9.8 decisions and remarks, the file rewrites."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from rocketpy.broker.acl.errors import AclError
from rocketpy.broker.acl.manager import PlainPermissionManager
from rocketpy.broker.acl.resource import parse_request
from rocketpy.protocol.acl_signature import sign_request
from rocketpy.protocol.codes import RequestCode
from rocketpy.remoting.command import RemotingCommand

ACL = """\
globalWhiteRemoteAddresses:
- 10.10.103.*
accounts:
- accessKey: RocketMQ
  secretKey: 12345678
  whiteRemoteAddress:
  admin: false
  defaultTopicPerm: DENY
  defaultGroupPerm: SUB
  topicPerms:
  - topicA=DENY
  - topicB=PUB|SUB
  - topicC=SUB
  groupPerms:
  - groupA=DENY
  - groupB=PUB|SUB
- accessKey: rocketmq2
  secretKey: 12345678
  whiteRemoteAddress: 192.168.1.*
  admin: true
"""


@pytest.fixture
def manager(tmp_path: Path) -> PlainPermissionManager:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "plain_acl.yml").write_text(ACL)
    m = PlainPermissionManager(str(tmp_path), clock_ms=lambda: 1_700_000_000_000)
    m.load()
    return m


def _send(topic: str, ak: str | None = "RocketMQ", sk: str = "12345678", group: str = "g") -> RemotingCommand:
    ext = {"a": group, "b": topic, "c": "TBW102", "d": "4", "e": "0"}
    if ak is not None:
        sign_request(ext, b"body", ak, sk)
    return RemotingCommand.request(RequestCode.SEND_MESSAGE_V2, ext, b"body")


def _check(m: PlainPermissionManager, cmd: RemotingCommand, addr: str = "127.0.0.1:5555") -> str:
    try:
        m.validate(parse_request(cmd, addr))
    except AclError as exc:
        return exc.simple_desc()
    return "ok"


def test_the_acl_matrix(manager: PlainPermissionManager) -> None:
    at = "org.apache.rocketmq.acl.plain.PlainPermissionManager"
    assert _check(manager, _send("topicB")) == "ok"
    assert _check(manager, _send("topicA")) == (
        f"org.apache.rocketmq.acl.common.AclException: No default permission for topic:topicA, "
        f"{at}.checkPerm(PlainPermissionManager.java:611)"
    )
    assert "No default permission for topic:topicC" in _check(manager, _send("topicC"))
    assert "No default permission for topic:other, " in _check(manager, _send("other"))
    assert "Check signature failed for accessKey=RocketMQ, " in _check(manager, _send("topicB", sk="wrong-secret"))
    assert "No acl config for nobody12, " in _check(manager, _send("topicB", ak="nobody12"))
    assert _check(manager, _send("topicB", ak=None)).startswith(
        "org.apache.rocketmq.acl.common.AclException: No accessKey is configured, "
    )
    # global white address: anything goes, even without a key
    assert _check(manager, _send("topicA", ak=None), "10.10.103.7:1") == "ok"
    # an account's white address skips the signature and the permissions
    assert _check(manager, _send("topicA", ak="rocketmq2", sk="bad-secret"), "192.168.1.9:1") == "ok"


def test_retry_topics_are_checked_through_their_group(manager: PlainPermissionManager) -> None:
    assert _check(manager, _send("%RETRY%groupB", group="groupB")) == "ok"
    assert "No default permission for group:groupA" in _check(manager, _send("%RETRY%groupA", group="groupA"))
    pull = {"consumerGroup": "groupA", "topic": "topicC", "queueId": "0", "queueOffset": "0"}
    sign_request(pull, None, "RocketMQ", "12345678")
    assert "group:groupA" in _check(manager, RemotingCommand.request(RequestCode.PULL_MESSAGE, pull))


def test_admin_codes_need_an_admin(manager: PlainPermissionManager) -> None:
    ext = {"topic": "x"}
    sign_request(ext, None, "RocketMQ", "12345678")
    remark = _check(manager, RemotingCommand.request(RequestCode.DELETE_TOPIC_IN_BROKER, ext))
    assert "Need admin permission for request code=215, but accessKey=RocketMQ is not, " in remark
    ext = {}
    sign_request(ext, None, "RocketMQ", "12345678")
    assert _check(manager, RemotingCommand.request(RequestCode.GET_BROKER_CONFIG, ext)) == "ok"


def test_a_malformed_heartbeat_is_refused_at_parse(manager: PlainPermissionManager) -> None:
    cmd = RemotingCommand.request(RequestCode.HEART_BEAT, {"AccessKey": "RocketMQ"}, b"{not json")
    assert "PlainAccessValidator.parse(PlainAccessValidator.java:134)" in _check(manager, cmd)


def test_admin_rewrites_keep_javas_shape(manager: PlainPermissionManager, tmp_path: Path) -> None:
    path = tmp_path / "conf" / "plain_acl.yml"
    config = {"accessKey": "newuser1", "secretKey": "secret12", "admin": False, "topicPerms": ["t1=PUB"]}
    assert manager.update_access_config(config)
    data = yaml.safe_load(path.read_text())
    assert data["accounts"][-1] == {
        "accessKey": "newuser1",
        "secretKey": "secret12",
        "admin": False,
        "topicPerms": ["t1=PUB"],
    }
    assert data["dataVersion"] == [{"counter": 1, "timestamp": 1_700_000_000_000}]
    assert _check(manager, _send("t1", ak="newuser1", sk="secret12")) == "ok"
    with pytest.raises(AclError, match="Parse resource permission error"):
        manager.update_access_config({**config, "topicPerms": ["t1=ALL"]})
    assert manager.delete_access_config("newuser1")
    assert [a["accessKey"] for a in yaml.safe_load(path.read_text())["accounts"]] == ["RocketMQ", "rocketmq2"]
    assert "No acl config for newuser1" in _check(manager, _send("t1", ak="newuser1", sk="secret12"))
    assert not manager.delete_access_config("newuser1")
    assert manager.update_global_white_addrs(["1.2.3.4", "5.6.7.*"], str(path))
    data = yaml.safe_load(path.read_text())
    assert data["globalWhiteRemoteAddresses"] == ["1.2.3.4", "5.6.7.*"]
    assert data["dataVersion"][0]["counter"] == 3
    assert not manager.update_global_white_addrs(["1.2.3.4"], "/etc/passwd")


def test_reloading_one_file_as_java_does(manager: PlainPermissionManager, tmp_path: Path) -> None:
    path = tmp_path / "conf" / "plain_acl.yml"
    path.write_text(
        ACL.replace(
            "- accessKey: rocketmq2\n  secretKey: 12345678\n  whiteRemoteAddress: 192.168.1.*\n  admin: true\n", ""
        )
    )
    manager.load_file(str(path))
    assert "No PlainAccessResource for accessKey=rocketmq2" in _check(manager, _send("t", ak="rocketmq2"))
    path.write_text("accounts: [{accessKey: short, secretKey: 12345678}]\n")
    with pytest.raises(AclError, match="cannot be null and length should longer than 6"):
        manager.load_file(str(path))
    assert _check(manager, _send("topicB")) == "ok"  # the failed reload changed nothing


def test_unknown_keys_and_acl_dir(tmp_path: Path) -> None:
    (tmp_path / "conf" / "acl").mkdir(parents=True)
    (tmp_path / "conf" / "acl" / "more.yml").write_text(
        "accounts:\n- accessKey: dirUser1\n  secretKey: 12345678\n  defaultTopicPerm: PUB\n"
    )
    m = PlainPermissionManager(str(tmp_path))
    m.load()
    assert os.path.exists(tmp_path / "conf" / "plain_acl.yml")  # created empty, as assureAclConfigFilesExist
    assert _check(m, _send("any", ak="dirUser1")) == "ok"
    (tmp_path / "conf" / "acl" / "more.yml").write_text(
        "accounts:\n- accessKey: dirUser1\n  secretKey: 12345678\n  topicPerm: [a=PUB]\n"
    )
    with pytest.raises(AclError, match="unknown keys"):
        m.load()


def test_rewrites_keep_the_files_permission_bits(manager: PlainPermissionManager, tmp_path: Path) -> None:
    path = tmp_path / "conf" / "plain_acl.yml"
    path.chmod(0o600)
    assert manager.update_global_white_addrs(["1.2.3.4"], str(path))
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["plain_acl.yml"]  # no temp or backup file left
