"""Config files: crash-safe replace with .bak, fallback on a damaged file, Java's unquoted-key shapes."""

from __future__ import annotations

from pathlib import Path

from rocketpy.store.config_files import (
    dumps_consumer_offsets,
    dumps_delay_offsets,
    dumps_json,
    loads_consumer_offsets,
    loads_delay_offsets,
    loads_tolerant,
    read_config_file,
    write_config_file,
)


def test_write_keeps_previous_as_bak_and_no_tmp(tmp_path: Path) -> None:
    p = tmp_path / "config" / "topics.json"
    write_config_file(p, '{"v":1}')
    write_config_file(p, '{"v":2}')
    assert p.read_text() == '{"v":2}'
    assert (tmp_path / "config" / "topics.json.bak").read_text() == '{"v":1}'
    assert not (tmp_path / "config" / "topics.json.tmp").exists()


def test_read_falls_back_to_bak(tmp_path: Path) -> None:
    p = tmp_path / "consumerOffset.json"
    write_config_file(p, dumps_consumer_offsets({"T@G": {0: 1}}))
    write_config_file(p, dumps_consumer_offsets({"T@G": {0: 2}}))
    p.write_text('{"offsetTable":{"T@G":{0:')  # torn by a crash of a non-rocketpy writer
    assert read_config_file(p, loads_consumer_offsets) == {"T@G": {0: 1}}
    p.unlink()
    assert read_config_file(p, loads_consumer_offsets) == {"T@G": {0: 1}}
    assert read_config_file(tmp_path / "missing.json", loads_consumer_offsets) is None


def test_consumer_offsets_java_shape() -> None:
    text = dumps_consumer_offsets({"TopicTest@g1": {0: 250, 1: 7}, "%RETRY%g1@g1": {0: 0}})
    assert '"TopicTest@g1":{0:250,1:7\n\t\t}' in text
    assert loads_consumer_offsets(text) == {"TopicTest@g1": {0: 250, 1: 7}, "%RETRY%g1@g1": {0: 0}}
    # exactly what a Java 4.9.7 broker wrote for an empty table
    assert loads_consumer_offsets('{\n\t"offsetTable":{}\n}') == {}
    assert loads_consumer_offsets('{"offsetTable":{"T@G":{0:12,1:7}}}') == {"T@G": {0: 12, 1: 7}}


def test_same_text_as_java_broker_wrote() -> None:
    """consumerOffset.json written by the Java 4.9.7 broker at shutdown (one group, two queues)."""
    java = '{\n\t"offsetTable":{\n\t\t"RTopic@g1":{0:2,1:1\n\t\t}\n\t}\n}'
    assert dumps_consumer_offsets({"RTopic@g1": {0: 2, 1: 1}}) == java
    assert loads_consumer_offsets(java) == {"RTopic@g1": {0: 2, 1: 1}}
    assert dumps_consumer_offsets({}) == '{\n\t"offsetTable":{}\n}'  # byte for byte a Java empty file
    assert dumps_delay_offsets({}) == '{\n\t"offsetTable":{}\n}'


def test_delay_offsets_java_shape() -> None:
    text = dumps_delay_offsets({1: 100, 3: 5})
    assert '"offsetTable":{1:100,3:5' in text
    assert loads_delay_offsets(text) == {1: 100, 3: 5}


def test_topics_json_written_byte_for_byte_like_java() -> None:
    """A topics.json the Java 4.9.7 broker wrote (1.8 KB): parse, write back, same text."""
    java = (Path(__file__).parent / "data" / "java497_topics.json").read_text()
    data = loads_tolerant(java)
    assert data["topicConfigTable"]["JTopic"]["readQueueNums"] == 4
    assert dumps_json(data) == java
    assert dumps_json({"filterDataByTopic": {}}) == '{\n\t"filterDataByTopic":{}\n}'  # consumerFilter.json


def test_tolerant_loads_standard_json() -> None:
    assert loads_tolerant('{"a":[1,2],"b":{"c":"{0:1}"}}') == {"a": [1, 2], "b": {"c": "{0:1}"}}
