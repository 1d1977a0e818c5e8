"""The broker side of ACL: the hook's answer and log line, the refused start, the ACL admin codes' handlers."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
import trio
import yaml

from rocketpy.broker.acl_service import AclService, AclStartError, check_acl
from rocketpy.broker.config import load_settings
from rocketpy.broker.processors.admin_acl import java_split
from rocketpy.cli import main
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.remoting.command import RemotingCommand

ACL = "accounts:\n- accessKey: RocketMQ\n  secretKey: '12345678'\n  defaultTopicPerm: PUB\n"


def _home(tmp_path: Path, text: str = ACL, name: str = "plain_acl.yml") -> Path:
    (tmp_path / "conf").mkdir(exist_ok=True)
    (tmp_path / "conf" / name).write_text(text)
    return tmp_path


def test_hook_refuses_with_javas_answer_and_logs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("ROCKETMQ_HOME", str(_home(tmp_path)))
    service = AclService.load(load_settings(None, {"aclEnable": "true"}))
    cmd = RemotingCommand.request(RequestCode.GET_BROKER_CONFIG, {"AccessKey": "someone1", "Signature": "x"})
    with caplog.at_level(logging.WARNING), pytest.raises(RocketMQError) as err:
        service.hook("10.1.2.3:4567", cmd)
    assert err.value.code == ResponseCode.SYSTEM_ERROR
    assert err.value.remark == (
        "org.apache.rocketmq.acl.common.AclException: No acl config for someone1, "
        "org.apache.rocketmq.acl.plain.PlainPermissionManager.validate(PlainPermissionManager.java:668)"
    )
    assert "10.1.2.3:4567" in caplog.text and "accessKey=someone1" in caplog.text


def test_plain_file_option_names_another_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROCKETMQ_HOME", str(_home(tmp_path, ACL, "other.yml")))
    conf = tmp_path / "broker.conf"
    conf.write_text("aclEnable=true\nrocketmq.acl.plain.file=conf/other.yml\n")
    service = AclService.load(load_settings(str(conf)))
    assert service.manager.files == [str(tmp_path / "conf" / "other.yml")]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("accounts:\n- accessKey: short\n  secretKey: '12345678'\n", "length should longer than 6"),
        ("accounts: [{accessKey: RocketMQ, secretKey: '12345678', whiteRemoteAddress: 300.1.1.1}]\n", "Netaddress"),
        ("accounts: [{accessKey: RocketMQ, secretKey: '12345678', topicPerms: [a]}]\n", "Parse resource permission"),
        ("acounts: []\n", "unknown keys"),
        ("accounts: [\n", "expected"),
    ],
)
def test_an_acl_that_cannot_be_enforced_stops_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, why: str
) -> None:
    monkeypatch.setenv("ROCKETMQ_HOME", str(_home(tmp_path, text)))
    with pytest.raises(AclStartError, match=why):
        check_acl(load_settings(None, {"aclEnable": "true"}))
    check_acl(load_settings(None, {"aclEnable": "false"}))  # not enabled: the file is not read


def test_no_home_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROCKETMQ_HOME", raising=False)
    settings = load_settings(None, {"aclEnable": "true"})
    settings.broker.rocketmq_home = None
    with pytest.raises(AclStartError, match="ROCKETMQ_HOME"):
        check_acl(settings)


def test_cli_refuses_to_start_the_broker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROCKETMQ_HOME", str(_home(tmp_path, "accounts: [{accessKey: x}]\n")))
    assert main(["broker", "--aclEnable=true", f"--storePathRootDir={tmp_path / 'store'}"]) == 1
    assert "ACL cannot be enforced" in capsys.readouterr().err


def test_java_split_is_string_split() -> None:
    assert java_split(None) is None
    assert java_split("") == [""]
    assert java_split("a=PUB,b=SUB,") == ["a=PUB", "b=SUB"]
    assert java_split(",") == []


def test_default_file_is_created_empty(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROCKETMQ_HOME", str(tmp_path))
    service = AclService.load(load_settings(None, {"aclEnable": "true"}))
    assert (tmp_path / "conf" / "plain_acl.yml").read_text() == ""
    assert service.manager.update_access_config({"accessKey": "first001", "secretKey": "12345678"})
    data = yaml.safe_load((tmp_path / "conf" / "plain_acl.yml").read_text())
    assert data["accounts"] == [{"accessKey": "first001", "secretKey": "12345678", "admin": False}]


async def test_the_watcher_reloads_a_changed_file_and_survives_a_bad_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROCKETMQ_HOME", str(_home(tmp_path)))
    service = AclService.load(load_settings(None, {"aclEnable": "true"}))
    service.watch_interval = 0.02
    cmd = RemotingCommand.request(RequestCode.GET_BROKER_CONFIG, {"AccessKey": "laterKey1"})
    path = tmp_path / "conf" / "plain_acl.yml"

    async def refused() -> bool:
        try:
            service.hook("127.0.0.1:1", cmd)
        except RocketMQError as exc:
            return "No acl config" in (exc.remark or "")
        return False

    async with trio.open_nursery() as nursery:
        await nursery.start(service.watch)
        assert await refused()
        path.write_text(ACL + "- accessKey: laterKey1\n  secretKey: '12345678'\n  whiteRemoteAddress: 127.0.0.1\n")
        os.utime(path, ns=(1, 10**18))  # a new modification time even on a coarse clock
        with trio.fail_after(5):
            while await refused():
                await trio.sleep(0.01)
        path.write_text("accounts: [\n")  # broken: logged, the previous ACL stays
        os.utime(path, ns=(1, 2 * 10**18))
        await trio.sleep(0.2)
        service.hook("127.0.0.1:1", cmd)
        nursery.cancel_scope.cancel()
