"""NameServer headers: Java field names on the wire, and decoding as lenient as decodeCommandCustomHeader."""

from __future__ import annotations

from rocketpy.protocol.namesrv_headers import (
    GetRouteInfoRequestHeader,
    QueryDataVersionResponseHeader,
    RegisterBrokerRequestHeader,
    RegisterBrokerResponseHeader,
    WipeWritePermOfBrokerResponseHeader,
    decode_request,
)


def test_register_header_uses_java_field_names() -> None:
    header = RegisterBrokerRequestHeader("b", "1.1.1.1:10911", "C", "1.1.1.1:10912", 0, True, 123)
    assert header.to_ext() == {
        "brokerName": "b",
        "brokerAddr": "1.1.1.1:10911",
        "clusterName": "C",
        "haServerAddr": "1.1.1.1:10912",
        "brokerId": "0",
        "compressed": "true",
        "bodyCrc32": "123",
    }
    assert decode_request(RegisterBrokerRequestHeader, header.to_ext()) == header


def test_decode_request_leaves_missing_and_unparsable_fields_at_their_default() -> None:
    decoded = decode_request(RegisterBrokerRequestHeader, {"brokerId": "x1", "compressed": "yes", "bodyCrc32": "?"})
    assert decoded == RegisterBrokerRequestHeader(compressed=False)  # Boolean.parseBoolean("yes") is false
    assert decode_request(GetRouteInfoRequestHeader, None) == GetRouteInfoRequestHeader()
    flags = decode_request(GetRouteInfoRequestHeader, {"topic": "T", "acceptStandardJsonOnly": "TRUE", "x": "y"})
    assert flags == GetRouteInfoRequestHeader("T", True)


def test_response_headers_always_carry_not_null_fields() -> None:
    assert WipeWritePermOfBrokerResponseHeader(0).to_ext() == {"wipeTopicCount": "0"}
    assert QueryDataVersionResponseHeader(False).to_ext() == {"changed": "false"}
    assert RegisterBrokerResponseHeader().to_ext() == {}
