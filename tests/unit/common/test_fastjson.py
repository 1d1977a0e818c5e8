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
