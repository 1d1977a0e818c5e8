"""broker.conf loading (Java properties, typed like MixAll.properties2Object), GET/UPDATE_BROKER_CONFIG."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from rocketpy.broker.config import BrokerRole, ConfigError, FlushDiskType, load_settings
from rocketpy.broker.controller import BrokerController
from rocketpy.broker.persistence import MemoryConfigStore
from rocketpy.common import properties
from rocketpy.protocol.codes import RequestCode, ResponseCode

from .conftest import call

# The broker.conf shipped in rocketmq-all-4.9.x/conf, plus the usual additions and Java properties syntax quirks.
BROKER_CONF = """\
# Licensed to the Apache Software Foundation (ASF)
brokerClusterName = DefaultCluster
brokerName = broker-a
brokerId = 0
deleteWhen = 04
fileReservedTime = 48
brokerRole = ASYNC_MASTER
flushDiskType = SYNC_FLUSH
! another comment style
namesrvAddr=127.0.0.1:9876;127.0.0.2:9876
listenPort:10921
storePathRootDir /data/rocketmq/store
autoCreateTopicEnable=false
brokerIP1=10.1.2.3
mappedFileSizeCommitLog=10737418\\
24
someVendorKey=kept
"""


def write_conf(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broker.conf"
    path.write_text(text, encoding="utf-8")
    return path


def test_broker_conf_is_read_as_java_reads_it(tmp_path: Path) -> None:
    s = load_settings(write_conf(tmp_path, BROKER_CONF))
    assert (s.broker.broker_cluster_name, s.broker.broker_name, s.broker.broker_id) == ("DefaultCluster", "broker-a", 0)
    assert s.store.file_reserved_time == 48 and s.store.delete_when == "04"
    assert s.store.broker_role is BrokerRole.ASYNC_MASTER and s.store.flush_disk_type is FlushDiskType.SYNC_FLUSH
    assert s.namesrv_addrs() == ["127.0.0.1:9876", "127.0.0.2:9876"]
    assert s.netty.listen_port == 10921 and s.store.ha_listen_port == 10922  # BrokerStartup: listenPort + 1
    assert s.store.store_path_root_dir == "/data/rocketmq/store"
    assert s.store.commit_log_dir == "/data/rocketmq/store/commitlog"
    assert s.broker.auto_create_topic_enable is False
    assert s.store.mapped_file_size_commit_log == 1073741824
    assert s.broker_addr == "10.1.2.3:10921"
    assert s.config_path == str(tmp_path / "broker.conf")
    assert s.extra == {"someVendorKey": "kept"}


def test_defaults_match_java() -> None:
    s = load_settings(None)
    assert s.netty.listen_port == 10911
    assert s.broker.default_topic_queue_nums == 8
    assert s.broker.flush_consumer_offset_interval == 5000
    assert s.broker.register_name_server_period == 30000
    assert s.broker.register_broker_timeout_mills == 6000
    assert s.broker.notify_consumer_ids_changed_enable and not s.broker.enable_property_filter
    assert s.store.max_message_size == 4 * 1024 * 1024 and s.store.file_reserved_time == 72
    assert s.store.store_path_root_dir == str(Path.home() / "store")


def test_command_line_overrides_the_file(tmp_path: Path) -> None:
    s = load_settings(write_conf(tmp_path, BROKER_CONF), {"namesrvAddr": "10.0.0.1:9876", "brokerName": "b2"})
    assert s.namesrv_addrs() == ["10.0.0.1:9876"] and s.broker.broker_name == "b2"


@pytest.mark.parametrize(
    ("line", "key"),
    [("listenPort=ten", "listenPort"), ("brokerRole=BOSS", "brokerRole"), ("brokerId=1.5", "brokerId")],
)
def test_bad_value_names_key_and_file(tmp_path: Path, line: str, key: str) -> None:
    path = write_conf(tmp_path, line + "\n")
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert key in str(info.value) and str(path) in str(info.value)


def test_startup_rules(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Slave's brokerId must be > 0"):
        load_settings(write_conf(tmp_path, "brokerRole=SLAVE\nbrokerId=0\n"))
    assert load_settings(write_conf(tmp_path, "brokerRole=SYNC_MASTER\nbrokerId=3\n")).broker.broker_id == 0
    with pytest.raises(ConfigError, match="illegal"):
        load_settings(write_conf(tmp_path, "namesrvAddr=nohostport\n"))


async def test_get_broker_config_renders_properties_and_version(controller: BrokerController) -> None:
    reply = await call(controller, RequestCode.GET_BROKER_CONFIG)
    assert reply.code == ResponseCode.SUCCESS
    props = properties.loads((reply.body or b"").decode())
    assert props["brokerName"] == "broker-a" and props["listenPort"] == "10911"
    assert props["brokerRole"] == "ASYNC_MASTER" and props["autoCreateTopicEnable"] == "true"
    version = orjson.loads((reply.ext_fields or {})["version"])
    assert version == {"counter": 0, "timestamp": controller.clock_ms()}
    # Keys of all four Java config objects are there, as getBrokerConfig / exportConfigs print them.
    for key, value in {
        "commercialEnable": "true",
        "serverChannelMaxIdleTimeSeconds": "120",
        "clientWorkerThreads": "4",
        "useTLS": "false",
        "haSendHeartbeatInterval": "5000",
        "checkCRCOnRecover": "true",
        "brokerIP1": "127.0.0.1",
    }.items():
        assert props[key] == value, key
    assert "dLegerGroup" not in props  # null fields are left out


async def test_update_broker_config_applies_persists_and_bumps_version(
    controller: BrokerController, files: MemoryConfigStore
) -> None:
    before = orjson.loads((await call(controller, RequestCode.GET_BROKER_CONFIG)).ext_fields["version"])  # type: ignore[index]
    body = b"fileReservedTime=24\nautoCreateTopicEnable=false\n"
    assert (await call(controller, RequestCode.UPDATE_BROKER_CONFIG, body=body)).code == ResponseCode.SUCCESS
    reply = await call(controller, RequestCode.GET_BROKER_CONFIG)
    props = properties.loads((reply.body or b"").decode())
    assert props["fileReservedTime"] == "24" and props["autoCreateTopicEnable"] == "false"
    assert orjson.loads((reply.ext_fields or {})["version"])["counter"] == before["counter"] + 1
    controller.persist_all()
    saved = properties.loads(files.files[controller.settings.config_path or ""])
    assert saved["fileReservedTime"] == "24"


@pytest.mark.parametrize(
    "body",
    [
        b"rocketmqHome=-c $@|sh . echo aGk=|base64 -d|sh -i;\nfilterServerNums=1\n",  # the CVE-2023-33246 exploit
        b"filterServerNums=1\n",
        b"configBlackList=\n",
        b"brokerConfigPath=/tmp/x\n",
        b"storePathRootDir=/tmp\n",
        b"storePathCommitLog=/tmp\n",
        b"namesrvAddr=6.6.6.6:9876\n",
        b"listenPort=1\n",
        b"brokerIP1=6.6.6.6\n",
        b"aclEnable=false\n",
        b"haMasterAddress=6.6.6.6:10912\n",
        b"someUnknownKey=1\n",
        b"fileReservedTime=1\nrocketmqHome=/tmp\n",  # one bad key refuses the whole request
    ],
)
async def test_update_broker_config_refuses_without_applying_anything(
    controller: BrokerController, files: MemoryConfigStore, body: bytes
) -> None:
    before = controller.settings.format_properties()
    reply = await call(controller, RequestCode.UPDATE_BROKER_CONFIG, body=body)
    assert reply.code == ResponseCode.NO_PERMISSION
    assert controller.settings.format_properties() == before
    controller.persist_all()
    assert controller.settings.config_path not in files.files


async def test_update_broker_config_bad_value_is_a_system_error(controller: BrokerController) -> None:
    reply = await call(controller, RequestCode.UPDATE_BROKER_CONFIG, body=b"fileReservedTime=soon\ndeleteWhen=01\n")
    assert reply.code == ResponseCode.SYSTEM_ERROR and "fileReservedTime" in (reply.remark or "")
    assert controller.settings.store.delete_when == "04"


async def test_broker_permission_change_reregisters(controller: BrokerController) -> None:
    asked: list[bool] = []
    controller.registration.request_register = lambda: asked.append(True)  # type: ignore[method-assign]
    counter = controller.topics.data_version.counter
    assert (await call(controller, RequestCode.UPDATE_BROKER_CONFIG, body=b"brokerPermission=4\n")).code == 0
    assert asked and controller.topics.data_version.counter == counter + 1
    assert controller.settings.broker.broker_permission == 4


async def test_persisted_config_cannot_inject_keys(controller: BrokerController, files: MemoryConfigStore) -> None:
    newline = b"deleteWhen=04\\nrocketmqHome=/evil\n"  # Properties unescapes \\n inside the value
    assert (await call(controller, RequestCode.UPDATE_BROKER_CONFIG, body=newline)).code == ResponseCode.SYSTEM_ERROR
    tricky = b"deleteWhen=04 #x\\=1:2!\n"
    assert (await call(controller, RequestCode.UPDATE_BROKER_CONFIG, body=tricky)).code == 0
    controller.persist_all()
    saved = properties.loads(files.files[controller.settings.config_path or ""])
    assert saved["deleteWhen"] == "04 #x=1:2!"
    assert saved.get("rocketmqHome") != "/evil"
