"""KV config persistence: Java's file format, .bak, and crash safety."""

from __future__ import annotations

import json
from pathlib import Path

from rocketpy.common.files import write_atomically as write_file_atomically
from rocketpy.namesrv.kvconfig import KVConfigManager


def test_persist_writes_javas_format_and_load_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "namesrv" / "kvConfig.json"
    kv = KVConfigManager(path)
    kv.put("ORDER_TOPIC_CONFIG", "T", "broker-a:4")
    kv.put("ns", "k", "v")
    kv.persist()
    assert json.loads(path.read_bytes()) == {
        "configTable": {"ORDER_TOPIC_CONFIG": {"T": "broker-a:4"}, "ns": {"k": "v"}}
    }
    again = KVConfigManager(path)
    again.load()
    assert again.get("ns", "k") == "v"
    assert again.get_kv_list_by_namespace("ORDER_TOPIC_CONFIG") is not None


def test_load_a_file_written_by_java(tmp_path: Path) -> None:
    path = tmp_path / "kvConfig.json"
    path.write_text('{"configTable":{"ORDER_TOPIC_CONFIG":{"TopicA":"broker-a:8;broker-b:8"}}}')
    kv = KVConfigManager(path)
    kv.load()
    assert kv.get("ORDER_TOPIC_CONFIG", "TopicA") == "broker-a:8;broker-b:8"


def test_previous_version_kept_as_bak(tmp_path: Path) -> None:
    path = tmp_path / "kvConfig.json"
    kv = KVConfigManager(path)
    kv.put("ns", "k", "1")
    kv.persist()
    kv.put("ns", "k", "2")
    kv.persist()
    assert json.loads(path.read_bytes())["configTable"]["ns"]["k"] == "2"
    assert json.loads((tmp_path / "kvConfig.json.bak").read_bytes())["configTable"]["ns"]["k"] == "1"
    assert not (tmp_path / "kvConfig.json.tmp").exists()


def test_stale_tmp_from_a_crash_is_ignored_and_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "kvConfig.json"
    kv = KVConfigManager(path)
    kv.put("ns", "k", "good")
    kv.persist()
    (tmp_path / "kvConfig.json.tmp").write_bytes(b'{"configTable":{"ns":{"k":"half-writ')  # died mid-write
    loaded = KVConfigManager(path)
    loaded.load()
    assert loaded.get("ns", "k") == "good"
    loaded.put("ns", "k2", "v2")
    loaded.persist()
    reread = KVConfigManager(path)
    reread.load()
    assert reread.config_table == {"ns": {"k": "good", "k2": "v2"}}


def test_corrupt_or_missing_main_file_falls_back_to_bak(tmp_path: Path) -> None:
    path = tmp_path / "kvConfig.json"
    (tmp_path / "kvConfig.json.bak").write_text('{"configTable":{"ns":{"k":"from-bak"}}}')
    kv = KVConfigManager(path)
    kv.load()  # main file missing (Java's non-atomic string2File can leave that)
    assert kv.get("ns", "k") == "from-bak"
    path.write_text("{garbage")
    kv2 = KVConfigManager(path)
    kv2.load()
    assert kv2.get("ns", "k") == "from-bak"


def test_nothing_on_disk_is_an_empty_table(tmp_path: Path) -> None:
    kv = KVConfigManager(tmp_path / "none" / "kvConfig.json")
    kv.load()
    assert kv.config_table == {}
    assert kv.get_kv_list_by_namespace("ns") is None


def test_emptied_namespace_still_exists_like_java(tmp_path: Path) -> None:
    kv = KVConfigManager(tmp_path / "kv.json")
    kv.put("ns", "k", "v")
    kv.delete("ns", "k")
    kv.delete("other", "k")
    table = kv.get_kv_list_by_namespace("ns")
    assert table is not None and table.table == {}
    assert kv.get_kv_list_by_namespace("other") is None


def test_write_file_atomically_creates_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "f.txt"
    write_file_atomically(target, b"x")
    assert target.read_bytes() == b"x"
    assert not (target.parent / "f.txt.bak").exists()
