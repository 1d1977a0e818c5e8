"""fastjson reader/writer: real fastjson samples, Java number formatting, hostile input, round trips."""

from __future__ import annotations

import contextlib
import enum
import math
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rocketpy.common import fastjson
from rocketpy.common.fastjson import FastJsonError, ObjectKey, dumps, java_double, loads

# -- samples as fastjson 1.2.69 writes them (PROTOCOL.md section 7 and RocketMQ 4.9 bodies) -------------------------

CONSUME_STATS = (
    b'{"consumeTps":0.0,"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:{"brokerOffset":10,'
    b'"consumerOffset":8,"lastTimestamp":1700000000000},{"brokerName":"b","queueId":1,"topic":"T"}:'
    b'{"brokerOffset":3,"consumerOffset":3,"lastTimestamp":0}}}'
)
CLUSTER_INFO = (
    b'{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"},'
    b'"brokerName":"broker-a","cluster":"DefaultCluster"}},"clusterAddrTable":{"DefaultCluster":["broker-a"]}}'
)


def test_object_keys_become_hashable_object_keys() -> None:
    doc = loads(CONSUME_STATS)
    assert doc["consumeTps"] == 0.0
    keys = list(doc["offsetTable"])
    assert all(isinstance(k, ObjectKey) for k in keys)
    first = ObjectKey((("brokerName", "b"), ("queueId", 0), ("topic", "T")))
    assert doc["offsetTable"][first] == {"brokerOffset": 10, "consumerOffset": 8, "lastTimestamp": 1700000000000}
    assert keys[1].get("queueId") == 1
    assert keys[1].to_dict() == {"brokerName": "b", "queueId": 1, "topic": "T"}


def test_object_keys_are_written_back_unquoted_byte_for_byte() -> None:
    assert dumps(loads(CONSUME_STATS)) == CONSUME_STATS


def test_unquoted_integer_keys_are_read_as_ints_and_written_unquoted() -> None:
    doc = loads(CLUSTER_INFO)
    assert doc["brokerAddrTable"]["broker-a"]["brokerAddrs"] == {0: "10.0.0.1:10911", 1: "10.0.0.2:10911"}
    assert dumps(doc) == CLUSTER_INFO


def test_quoted_key_forms() -> None:
    doc = {"brokerAddrs": {0: "a:1", 1: "b:1"}}
    assert dumps(doc, quote_non_string_keys=True) == b'{"brokerAddrs":{"0":"a:1","1":"b:1"}}'
    assert orjson.loads(dumps(doc, browser_compatible=True)) == {"brokerAddrs": {"0": "a:1", "1": "b:1"}}


def test_browser_compatible_object_key_is_its_json_text_as_a_string() -> None:
    key = ObjectKey.of({"brokerName": "b", "queueId": 0, "topic": "T"})
    out = dumps({key: 1}, quote_non_string_keys=True)
    assert out == b'{"{\\"brokerName\\":\\"b\\",\\"queueId\\":0,\\"topic\\":\\"T\\"}":1}'
    assert orjson.loads(out) == {'{"brokerName":"b","queueId":0,"topic":"T"}': 1}


def test_other_fastjson_leniencies() -> None:
    assert loads("{name:'x', 'y':\"z\"}") == {"name": "x", "y": "z"}
    assert loads('{"a":"\\x41\\u0042"}') == {"a": "AB"}
    assert loads('{-1:"neg", 2.5:"f"}') == {-1: "neg", 2.5: "f"}
    assert loads('{["a",1]:true}') == {("a", 1): True}
    assert loads('{"e":"\\ud83d\\ude00"}') == {"e": "\U0001f600"}
    assert loads(b'{0:"caf\xc3\xa9"}') == {0: "café"}
    assert loads(" \n{ 0 : [ 1 , 2 ] } \n") == {0: [1, 2]}


def test_numbers() -> None:
    assert loads("{0:1.0E-4}") == {0: 1e-4}
    assert loads("{0:12345678901234567890123}") == {0: 12345678901234567890123}
    assert loads("[-0, 1e2, 3]") == [0, 100.0, 3]


@pytest.mark.parametrize(
    ("value", "java"),
    [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (0.5, "0.5"),
        (1e-4, "1.0E-4"),
        (1.5e-5, "1.5E-5"),
        (0.001, "0.001"),
        (9999999.0, "9999999.0"),
        (1e7, "1.0E7"),
        (123456789.0, "1.23456789E8"),
        (-2.5e-10, "-2.5E-10"),
        (3.14, "3.14"),
        (1e21, "1.0E21"),
        (100.0, "100.0"),
    ],
)
def test_java_double(value: float, java: str) -> None:
    assert java_double(value) == java


# Double.toString on the JDK 17 the reference runs on, for random doubles (bit patterns given as float.hex()).
# Below 1e16 it agrees with the shortest repr; in [1e16, 1e19) JDK 17 sometimes prints one more digit (see
# java_double), which fastjson readers parse to the same double.
JDK17_DOUBLES = [
    ("0x1.c4dac57a4bba7p+52", "7.966701948025767E15"),
    ("0x1.1d985c5620d5cp-856", "2.3218522912133654E-258"),
    ("0x1.98edc98cfdc07p+22", "6699890.387686736"),
    ("0x1.1effe4c780116p-4", "0.07006825796998259"),
    ("0x1.c9ba926d1c002p-523", "6.511492402872039E-158"),
    ("0x1.27f5cf9b7de20p+49", "6.50823360510916E14"),
    ("-0x1.ed33a05cde783p+28", "-5.1715942980431384E8"),
    ("0x1.4a28daa6da5e8p+29", "6.923948368566256E8"),
    ("0x1.63906b14f69b6p-313", "8.32318099221614E-95"),
    ("0x1.743e89c9df6adp+44", "2.5580432825846676E13"),
    ("0x1.bda11aab6549bp-704", "2.0683157446483268E-212"),
    ("0x1.2b5e37673b256p+46", "8.228965828576934E13"),
    ("0x1.559f370d07b35p-45", "3.792765365773795E-14"),
    ("0x1.bc7cb219fd95bp-779", "5.460753421192114E-235"),
    ("0x1.294bdfad4bfcap-1006", "1.693456402811011E-303"),
    ("0x1.6d34823f66bfep-122", "2.6831034158937634E-37"),
    ("0x1.2b57f2ef375c6p-916", "2.1108331799154216E-276"),
    ("0x1.c1a4c4a73a369p-21", "8.375265182744446E-7"),
    ("0x1.d308c39c42006p+41", "4.011793528964003E12"),
    ("0x1.c2abb11a3e00dp+31", "3.7804995971211E9"),
    ("0x1.cd6539e1a487dp-51", "8.003934571550349E-16"),
    ("0x1.5c52caa6c6801p-215", "2.5840066304017835E-65"),
    ("0x1.eb22170133b08p+2", "7.673955680059187"),
    ("0x1.8344ff4219a74p+28", "4.06081524131263E8"),
    ("-0x1.b6aaf0f1c1e2bp+29", "-9.199529262196707E8"),
    ("0x1.d62da349614fcp-51", "8.156292877315129E-16"),
    ("0x1.a2f027022a1e0p+29", "8.78576864270565E8"),
    ("0x1.050862a2d18c3p-61", "4.422066877070458E-19"),
    ("-0x1.ddad88cb17291p+28", "-5.008815486931544E8"),
    ("0x1.227d779fa7edcp-29", "2.1135937026857275E-9"),
    ("0x1.00d36c810eb7fp-219", "1.1907751411864552E-66"),
    ("0x1.dbb58b190ebd4p-31", "8.653099097777659E-10"),
    ("0x1.b42802be36d7cp-21", "8.124044013307052E-7"),
    ("0x1.5cf4f28c17328p-3", "0.1703890751840842"),
    ("0x1.ac0c4096068fap-67", "1.1330332526537946E-20"),
    ("0x1.5e739c10c6f7fp+36", "9.407363508443553E10"),
    ("0x1.155987086a832p+3", "8.667178646504997"),
    ("0x1.78791a2212ee2p+5", "47.059131876185134"),
    ("0x1.ccdf453e766d0p+26", "1.2081486897597814E8"),
    ("0x1.34b719db7b780p+24", "2.0231961857352734E7"),
    ("0x1.585278d03f42cp-1003", "1.569059283245911E-302"),
    ("0x1.990604c0e29cep-1018", "5.688171998044278E-307"),
    ("0x1.a91deabf58a0dp-1015", "4.7295820957153796E-306"),
    ("-0x1.169ec3a1da3c0p+23", "-9129825.816118121"),
    ("-0x1.ff3374f1f8480p+22", "-8375517.23629868"),
    ("0x1.1142f377c5f80p+22", "4477116.866966128"),
]


@pytest.mark.parametrize(("bits", "java"), JDK17_DOUBLES)
def test_java_double_matches_jdk17(bits: str, java: str) -> None:
    value = float.fromhex(bits)
    assert java_double(value) == java
    assert float(java) == value


def test_writer_specials() -> None:
    class Model(enum.Enum):
        CLUSTERING = 1

    doc = {"m": Model.CLUSTERING, "none": None, "t": True, "l": [None, 1.0], "s": {"b", "a"}}
    assert dumps(doc) == b'{"m":"CLUSTERING","t":true,"l":[null,1.0],"s":["a","b"]}'
    assert dumps({"x": math.nan}) == b'{"x":null}'


def test_string_escapes_default_and_browser() -> None:
    text = 'a"\\/\x01\x02\n\té\u2028'
    assert dumps(text) == '"a\\"\\\\/\\u0001\\u0002\\n\\té\\u2028"'.encode()
    browser = dumps(text + "\U0001f600", browser_compatible=True)
    assert browser == b'"a\\"\\\\\\/\\u0001\\u0002\\n\\t\\u00E9\\u2028\\uD83D\\uDE00"'
    assert browser.isascii()
    assert orjson.loads(browser) == text + "\U0001f600"


def test_browser_compatible_quotes_longs_beyond_2_pow_53() -> None:
    assert (
        dumps([2**53 - 1, 2**53, -(2**53)], browser_compatible=True)
        == b'[9007199254740991,"9007199254740992","-9007199254740992"]'
    )
    assert dumps([2**53]) == b"[9007199254740992]"


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"{",
        b'{"a"',
        b'{"a":}',
        b'{"a":1,}x',
        b'{"a":1} x',
        b"[1,2",
        b'"abc',
        b'"\\q"',
        b'"\\u12"',
        b"{0 1}",
        b"@",
        b"\xff\xfe",
        b"{" * 10000,
        b"{{" * 5000,
        b"[" * 10000,
        b"nul",
        b"1e999",
    ],
)
def test_malformed_input_raises_fastjson_error(text: bytes) -> None:
    with pytest.raises(FastJsonError):
        loads(text)


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise_anything_else(data: bytes) -> None:
    with contextlib.suppress(FastJsonError):
        loads(data)


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_scalars = st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | _text
_scalars = _scalars | st.floats(allow_nan=False, allow_infinity=False)


def _frozen(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.dictionaries(_text, strategy.filter(lambda v: v is not None), max_size=3).map(ObjectKey.of)


_keys = _text | st.integers(-(2**31), 2**31) | _frozen(_scalars)
_json = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(_keys, children.filter(lambda v: v is not None), max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300)
@given(_json)
def test_round_trip_including_int_and_object_keys(value: Any) -> None:
    assert loads(dumps(value)) == value


@settings(max_examples=200)
@given(_json)
def test_tolerant_parser_agrees_with_orjson_on_standard_json(value: Any) -> None:
    text = dumps(value, browser_compatible=True).decode("ascii")
    assert fastjson._Parser(text).parse_document() == orjson.loads(text)
