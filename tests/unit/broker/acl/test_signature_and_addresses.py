"""Golden vectors computed with the real 4.9.8 AclClientRPCHook and RemoteAddressStrategyFactory."""

from __future__ import annotations

import pytest

from rocketpy.broker.acl.addresses import address_strategy, expand_ip
from rocketpy.broker.acl.errors import AclError
from rocketpy.protocol.acl_signature import calc_signature, request_content, sign_request

SEND_V2 = "b=TopicA;a=GroupA;c=TBW102;d=4;e=0;f=0;g=1700000000000;h=0;i=KEYSk1;j=0;k=false;m=false"
SIGNATURES = [
    ("RocketMQ", "12345678", SEND_V2, "hello", "akI69mworrkep0A1wDf34r7OBAY="),
    ("rocketmq2", "12345678", "topic=%RETRY%g;group=g", "", "S7OE26usjvjOh7oPCDiUzdsdeDM="),
    # non-ASCII keys and values; a supplementary character sorts by its UTF-16 surrogates, before U+FF5A
    (
        "ak_unicode",
        "sk\u00e9\u4e2d\u6587xx",
        "z\u00e9=\u4e2d;a\U0001f600=x;\uff5a=y;Z=1",
        "b\u00e9",
        "lxkd4QcK9LvjjqNJ7VGC3XIYuts=",
    ),
]


def _ext(text: str) -> dict[str, str]:
    return dict(kv.split("=", 1) for kv in text.split(";"))


@pytest.mark.parametrize(("ak", "sk", "fields", "body", "expected"), SIGNATURES)
def test_signature_matches_the_java_client_hook(ak: str, sk: str, fields: str, body: str, expected: str) -> None:
    ext = _ext(fields)
    sign_request(ext, body.encode() or None, ak, sk)
    assert ext["Signature"] == expected
    assert ext["AccessKey"] == ak
    # the broker recomputes the same bytes from what arrived (Signature left out)
    assert calc_signature(request_content(ext, body.encode() or None), sk) == expected


def test_broker_leaves_out_unique_key_query_the_client_signed() -> None:
    ext = {"topic": "t", "_UNIQUE_KEY_QUERY": "true", "AccessKey": "RocketMQ"}
    assert request_content(ext, None, broker_side=False) == b"RocketMQtrue" + b"t"
    assert request_content(ext, None) == b"RocketMQt"


ADDRS = [
    "192.168.1.1",
    "192.168.1.255",
    "192.168.5.7",
    "192.168.11.1",
    "192.169.1.1",
    "127.0.0.1",
    "10.0.0.1",
    "10.10.0.100",
    "10.10.0.101",
    "1050::5:600:300c:1",
    "1050::5:600:300c:201",
    "::1",
    "0:0:0:0:0:0:0:1",
]
PATTERNS = [
    ("192.168.1.*", "1100000000000"),
    ("192.168.1-10.*", "1110000000000"),
    ("192.*.*.*", "1111100000000"),
    ("192.168.1.{1,2,3}", "1000000000000"),
    ("127.0.0.1,10.0.0.1", "0000011000000"),
    ("10.0.0.1", "0000001000000"),
    ("*", "1111111111111"),
    ("", "0000000000000"),
    ("1050:0000:0000:0000:0005:0600:300c:*", "0000000001100"),
    ("1050::0005:0600:300c:1-200", "0000000001000"),
    ("::1", "0000000000011"),
    ("10.10.0.1-100", "0000000100000"),
]


@pytest.mark.parametrize(("pattern", "expected"), PATTERNS)
def test_address_patterns_match_as_java(pattern: str, expected: str) -> None:
    strategy = address_strategy(pattern)
    assert "".join("1" if strategy.match(a) else "0" for a in ADDRS) == expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("192.168.1", "Netaddress examine Exception netaddress is 192.168.1"),
        ("256.1.1.1", "Netaddress examine Exception netaddress is 256.1.1.1"),
        ("abc", "Netaddress examine Exception netaddress is abc"),
        ("192.168.-1.*", "RangeRemoteAddressStrategy netaddress examine scope Exception value -1 "),
        ("1.2.3.{4", "Netaddress examine Exception netaddress is 1.2.3.{4"),
    ],
)
def test_bad_patterns_are_refused_as_java(pattern: str, message: str) -> None:
    with pytest.raises(AclError) as err:
        address_strategy(pattern)
    assert err.value.message == message


def test_expand_ip() -> None:
    assert expand_ip("1050::5:600:300c:1", 8) == "1050:0000:0000:0000:0005:0600:300C:0001"
    assert expand_ip("127.0.0.1", 8) == "127.0.0.1"
