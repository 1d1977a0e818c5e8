"""NamesrvConfig/NettyServerConfig defaults, properties loading and the guarded runtime update."""

from __future__ import annotations

from pathlib import Path

import pytest

from rocketpy.common import properties
from rocketpy.namesrv.config import ConfigUpdateRefused, NamesrvSettings, load_settings


def test_java_defaults_rendered_as_getallconfigsformatstring() -> None:
    settings = NamesrvSettings()
    settings.namesrv.rocketmq_home = None
    rendered = properties.loads(settings.format_properties())
    assert "rocketmqHome" not in rendered  # null fields are skipped
    assert rendered["listenPort"] == "9876"
    assert rendered["productEnvName"] == "center"
    assert rendered["clusterTest"] == "false"
    assert rendered["orderMessageEnable"] == "false"
    assert rendered["serverWorkerThreads"] == "8"
    assert rendered["serverChannelMaxIdleTimeSeconds"] == "120"
    assert rendered["serverSocketBacklog"] == "1024"
    assert rendered["serverPooledByteBufAllocatorEnable"] == "true"
    assert rendered["configBlackList"] == "configBlackList;configStorePath;kvConfigPath"
    assert rendered["kvConfigPath"].endswith("namesrv/kvConfig.json")
    assert rendered["configStorePath"].endswith("namesrv/namesrv.properties")
    assert len(rendered) == 20
    assert all(line.count("=") >= 1 for line in settings.format_properties().splitlines())


def test_load_settings_from_file_and_overrides(tmp_path: Path) -> None:
    conf = tmp_path / "namesrv.conf"
    conf.write_text("listenPort = 9877\norderMessageEnable=true\nserverWorkerThreads=notanumber\ncustomKey=x\n")
    settings = load_settings(conf, {"listenPort": "9999", "unknownOverride": "y"})
    assert settings.netty.listen_port == 9999
    assert settings.namesrv.order_message_enable is True
    assert settings.netty.server_worker_threads == 8  # Java swallows the parse error
    assert settings.namesrv.config_store_path == str(conf)  # NamesrvStartup: the -c file becomes configStorePath
    assert dict(settings.items())["customKey"] == "x"  # unknown file keys are echoed back, as Java does
    assert "unknownOverride" not in dict(settings.items())


@pytest.mark.parametrize(
    "key",
    [
        "configStorePath",
        "kvConfigPath",
        "rocketmqHome",
        "configBlackList",
        "listenPort",
        "someDir",
        "aclFile",
        "namesrvAddr",
        "startCommand",
        "storePathRootDir",
    ],
)
def test_dangerous_keys_refused_and_nothing_applied(key: str) -> None:
    settings = NamesrvSettings()
    before = settings.format_properties()
    with pytest.raises(ConfigUpdateRefused) as info:
        settings.update_at_runtime({"orderMessageEnable": "true", key: "/tmp/evil"})
    assert info.value.code == 16
    assert settings.format_properties() == before


def test_configured_black_list_is_honoured() -> None:
    settings = NamesrvSettings()
    settings.namesrv.config_black_list = "productEnvName;orderMessageEnable"
    with pytest.raises(ConfigUpdateRefused) as info:
        settings.update_at_runtime({"orderMessageEnable": "true"})
    assert (info.value.code, info.value.remark) == (16, "Can not update config in black list.")


def test_unknown_keys_refused() -> None:
    settings = NamesrvSettings()
    with pytest.raises(ConfigUpdateRefused) as info:
        settings.update_at_runtime({"noSuchKey": "1"})
    assert info.value.code == 16


def test_bad_values_refused_with_nothing_applied() -> None:
    settings = NamesrvSettings()
    with pytest.raises(ConfigUpdateRefused) as info:
        settings.update_at_runtime({"orderMessageEnable": "true", "serverWorkerThreads": "lots"})
    assert info.value.code == 1
    assert settings.namesrv.order_message_enable is False
    with pytest.raises(ConfigUpdateRefused):
        settings.update_at_runtime({"productEnvName": "a\nkvConfigPath=/etc/passwd"})
    assert settings.namesrv.product_env_name == "center"


def test_allowed_keys_applied_with_java_parsing() -> None:
    settings = NamesrvSettings()
    settings.update_at_runtime({"orderMessageEnable": "TRUE", "serverWorkerThreads": "16", "productEnvName": "x y"})
    assert settings.namesrv.order_message_enable is True
    assert settings.netty.server_worker_threads == 16
    assert settings.namesrv.product_env_name == "x y"


def test_persisted_form_escapes_so_values_cannot_inject_keys() -> None:
    settings = NamesrvSettings()
    settings.extra["weird"] = "a\nkvConfigPath=/etc/passwd"
    text = settings.format_properties_for_file()
    parsed = properties.loads(text)
    assert parsed["weird"] == "a\nkvConfigPath=/etc/passwd"
    assert parsed["kvConfigPath"] == settings.namesrv.kv_config_path
