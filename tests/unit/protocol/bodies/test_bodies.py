"""NameServer bodies against bytes produced by the Java classes themselves (golden_bodies.py)."""

from __future__ import annotations

import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rocketpy.common import fastjson
from rocketpy.protocol.bodies import (
    BodyError,
    BrokerData,
    ClusterInfo,
    DataVersion,
    KVTable,
    QueueData,
    RegisterBrokerBody,
    TopicConfig,
    TopicConfigSerializeWrapper,
    TopicFilterType,
    TopicList,
    TopicRouteData,
    body_crc32,
)

from .golden_bodies import golden

DV = DataVersion(timestamp=1700000000123, counter=42)
TOPIC = TopicConfig("TopicTest", read_queue_nums=8, write_queue_nums=4, perm=6, topic_sys_flag=2, order=True)
WRAPPER = TopicConfigSerializeWrapper({"TopicTest": TOPIC}, DV)
QUEUE = QueueData("broker-a", 4, 4, 6, 0)
BROKER = BrokerData("DefaultCluster", "broker-a", {1: "10.0.0.2:10911", 0: "10.0.0.1:10911"})


def test_data_version_matches_java() -> None:
    assert DV.to_json() == golden("data_version")
    assert DataVersion.from_json(golden("data_version")) == DV


def test_topic_config_wrapper_matches_java() -> None:
    assert WRAPPER.to_json() == golden("topic_config_wrapper")
    assert TopicConfigSerializeWrapper.from_json(golden("topic_config_wrapper")) == WRAPPER


def test_register_body_plain_and_crc_match_java() -> None:
    body = RegisterBrokerBody(WRAPPER, [])
    assert body.encode() == golden("register_body_plain")
    assert body_crc32(golden("register_body_plain")) == int(golden("register_body_plain_crc"))
    assert RegisterBrokerBody.decode(golden("register_body_plain"), compressed=False) == body


def test_register_body_compressed_from_java_decodes() -> None:
    data = golden("register_body_compressed")
    assert body_crc32(data) == int(golden("register_body_compressed_crc"))
    decoded = RegisterBrokerBody.decode(data, compressed=True)
    # The compressed form carries no topicSysFlag and no order flag (TopicConfig.encode).
    expected = TopicConfig("TopicTest", read_queue_nums=8, write_queue_nums=4, perm=6)
    assert decoded.topic_config_serialize_wrapper == TopicConfigSerializeWrapper({"TopicTest": expected}, DV)
    assert decoded.filter_server_list == []


def test_register_body_compressed_payload_is_javas() -> None:
    ours = zlib.decompress(RegisterBrokerBody(WRAPPER, []).encode(compress=True))
    assert ours == zlib.decompress(golden("register_body_compressed"))


def test_crc32_clears_the_sign_bit_like_utilall() -> None:
    data = b"\x00" * 3 + b"x"
    assert body_crc32(data) == zlib.crc32(data) & 0x7FFFFFFF
    assert body_crc32(None) == 0 and body_crc32(b"") == 0
    assert all(body_crc32(bytes([i])) < 2**31 for i in range(256))


def test_route_plain_standard_and_order_conf_match_java() -> None:
    route = TopicRouteData([QUEUE], [BROKER], {})
    assert route.to_json() == golden("route_plain")
    assert route.to_json(standard_json=True) == golden("route_standard")
    route.order_topic_conf = "broker-a:4"
    assert route.to_json() == golden("route_plain_order")
    for name in ("route_plain", "route_standard"):
        decoded = TopicRouteData.from_json(golden(name))
        assert decoded.broker_datas[0].broker_addrs == {0: "10.0.0.1:10911", 1: "10.0.0.2:10911"}
        assert decoded.queue_datas == [QUEUE]


def test_cluster_info_is_always_unquoted_like_java() -> None:
    info = ClusterInfo({"broker-a": BROKER}, {"DefaultCluster": {"broker-a"}})
    assert info.to_json() == golden("cluster_info")
    assert ClusterInfo.from_json(golden("cluster_info")) == info
    assert info.all_addrs_of_cluster("DefaultCluster") == ["10.0.0.2:10911", "10.0.0.1:10911"]


def test_topic_list_and_kv_table_match_java() -> None:
    assert TopicList({"TopicTest"}).to_json() == golden("topic_list")
    assert TopicList({"TopicTest"}, "10.0.0.1:10911").to_json() == golden("topic_list_addr")
    assert TopicList.from_json(golden("topic_list_addr")) == TopicList({"TopicTest"}, "10.0.0.1:10911")
    assert KVTable({"TopicTest": "broker-a:4"}).to_json() == golden("kv_table")
    assert KVTable.from_json(golden("kv_table")) == KVTable({"TopicTest": "broker-a:4"})


def test_fastjson_writer_matches_java_on_doubles_strings_and_object_keys() -> None:
    assert fastjson.dumps([0.0, 1.0, 1e-4, 0.001, 1e7, 123456789.0, 3.14, 9999999.0]) == golden("doubles")
    text = {"s": 'a"\\/\x01\n\t\u00e9\u2028\x7f'}
    assert fastjson.dumps(text) == golden("string_default")
    assert fastjson.dumps(text, browser_compatible=True) == golden("string_browser")
    stats = fastjson.loads(golden("consume_stats"))
    assert stats["consumeTps"] == 1e-4
    assert fastjson.dumps(stats) == golden("consume_stats")


def test_topic_config_line_form() -> None:
    assert TOPIC.encode_line() == "TopicTest 8 4 6 SINGLE_TAG"
    assert TopicConfig.decode_line("T 1 2 6 MULTI_TAG ") == TopicConfig("T", 1, 2, 6, TopicFilterType.MULTI_TAG)
    for bad in ("T 1 2 6", "T 1 2 6 X", "T a 2 6 SINGLE_TAG", "T 1 2 6 SINGLE_TAG extra"):
        with pytest.raises(BodyError):
            TopicConfig.decode_line(bad)


def _compressed(*chunks: bytes) -> bytes:
    return zlib.compress(b"".join(chunks), 9)


@pytest.mark.parametrize(
    "data",
    [
        b"not zlib",
        _compressed(struct.pack(">i", 100), b"{}"),  # length beyond the data
        _compressed(struct.pack(">i", 2), b"{}", struct.pack(">i", 1)),  # topic entry missing
        _compressed(struct.pack(">i", 2), b"{}", struct.pack(">i", 1), struct.pack(">i", 3), b"bad"),
        _compressed(struct.pack(">i", -1)),
    ],
)
def test_bad_compressed_bodies_raise_body_error(data: bytes) -> None:
    with pytest.raises(BodyError):
        RegisterBrokerBody.decode(data, compressed=True)


@pytest.mark.parametrize(
    "data",
    [
        b"[1,2]",
        b'{"topicConfigSerializeWrapper":[]}',
        b'{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":5}}}',
        b'{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"perm":"x"}}}}',
        b'{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"topicFilterType":"NOPE"}}}}',
        b'{"topicConfigSerializeWrapper":{"dataVersion":{"counter":true}}}',
        b"{",
    ],
)
def test_bad_plain_bodies_raise_body_error(data: bytes) -> None:
    with pytest.raises(BodyError):
        RegisterBrokerBody.decode(data, compressed=False)


def test_fastjson_coercions_on_read() -> None:
    body = b'{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"perm":"6","order":1}}}}'
    config = RegisterBrokerBody.decode(body, compressed=False).topic_config_serialize_wrapper.topic_config_table["T"]
    assert config.perm == 6 and config.order is True and config.read_queue_nums == 16


_names = st.text(st.characters(min_codepoint=33, max_codepoint=0x2FFF), min_size=1, max_size=12)
_topic = st.builds(
    TopicConfig,
    topic_name=_names,
    read_queue_nums=st.integers(0, 1024),
    write_queue_nums=st.integers(0, 1024),
    perm=st.integers(0, 15),
    topic_filter_type=st.sampled_from(TopicFilterType),
)
_wrapper = st.builds(
    lambda topics, ts, counter: TopicConfigSerializeWrapper(
        {t.topic_name: t for t in topics}, DataVersion(ts, counter)
    ),
    st.lists(_topic, max_size=8),
    st.integers(0, 2**62),
    st.integers(0, 2**62),
)


@settings(max_examples=150)
@given(_wrapper, st.lists(_names, max_size=3), st.booleans())
def test_register_body_round_trip(wrapper: TopicConfigSerializeWrapper, servers: list[str], compress: bool) -> None:
    body = RegisterBrokerBody(wrapper, servers)
    assert RegisterBrokerBody.decode(body.encode(compress), compressed=compress) == body


@settings(max_examples=150)
@given(
    st.lists(st.builds(QueueData, _names, st.integers(0, 64), st.integers(0, 64), st.integers(0, 15)), max_size=4),
    st.dictionaries(st.integers(0, 2**40), _names, max_size=3),
    st.booleans(),
    st.none() | _names,
)
def test_route_round_trip(queues: list[QueueData], addrs: dict[int, str], standard: bool, conf: str | None) -> None:
    route = TopicRouteData(queues, [BrokerData("C", "b", addrs)], {"a:1": ["f:1"]}, conf)
    assert TopicRouteData.from_json(route.to_json(standard_json=standard)) == route
