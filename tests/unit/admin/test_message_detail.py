"""The message subcommands' printing (QueryMsgByIdSubCommand.printMsg, MessageExt.toString), message ids, trace
records and option checks, on records a Java 4.9.7 broker stored."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from rocketpy.admin import main
from rocketpy.admin.message_detail import (
    MessageDetail,
    java_bytes,
    java_map_string,
    message_ext_string,
    message_queue_set_order,
    render_detail,
)
from rocketpy.admin.message_query_commands import decode_offset_msg_id, parse_timestamp, tags_of
from rocketpy.admin.send_rt_commands import SendMsgStatus, _avg
from rocketpy.client.trace_data import TraceDecodeError, decode_trace_views
from rocketpy.protocol.message_record import decode_all

JAVA_RECORDS = Path(__file__).resolve().parents[1] / "store" / "data" / "java497_commitlog_head.bin"


def first_record():  # type: ignore[no-untyped-def]
    return decode_all(JAVA_RECORDS.read_bytes()[:621])[0]


def test_detail_table_has_mqadmin_rows_and_no_consumer_warning() -> None:
    msg = first_record()
    out = io.StringIO()
    render_detail(MessageDetail(msg, "/tmp/rocketmq/msgbodys/X", []), out)
    lines = out.getvalue().split("\n")
    assert lines[0] == f"{'OffsetID:':<20} {msg.offset_msg_id}"
    assert [line[:20].strip() for line in lines[1:15]] == [
        "Topic:", "Tags:", "Keys:", "Queue ID:", "Queue Offset:", "CommitLog Offset:", "Reconsume Times:",
        "Born Timestamp:", "Store Timestamp:", "Born Host:", "Store Host:", "System Flag:", "Properties:",
        "Message Body Path:",
    ]  # fmt: skip
    assert lines[11] == f"{'Store Host:':<20} 127.0.0.1:29911"
    assert out.getvalue().endswith("\n\n\nWARN: No Consumer")  # no newline after it, as mqadmin
    tracked = io.StringIO()
    render_detail(MessageDetail(msg, "p", ["MessageTrack [consumerGroup=g, trackType=NOT_ONLINE, x]"]), tracked)
    assert tracked.getvalue().endswith("\n\n\nMessageTrack [consumerGroup=g, trackType=NOT_ONLINE, x]")
    unique = io.StringIO()
    render_detail(MessageDetail(msg, "p", None), unique, with_offset_id=False)
    assert unique.getvalue().startswith("Topic:") and unique.getvalue().endswith("p\n")


def test_message_ext_to_string_as_java() -> None:
    msg = first_record()
    text = message_ext_string(msg, "broker-a")
    assert text.startswith("MessageExt [brokerName=broker-a, queueId=1, storeSize=214, queueOffset=0, sysFlag=0, ")
    assert f"bornHost=/{msg.born_host}, " in text and f"msgId={msg.offset_msg_id}, commitLogOffset=0, " in text
    assert text.endswith(f"body={java_bytes(msg.body)}, transactionId='null'}}]")
    assert java_bytes(b"\x00\x7f\x80\xff") == "[0, 127, -128, -1]" and java_bytes(b"") == "null"


def test_properties_print_in_java_hash_map_order() -> None:
    props = {"KEYS": "k", "UNIQ_KEY": "U", "CLUSTER": "c", "TAGS": "t", "WAIT": "true"}
    text = java_map_string(props)
    assert text.startswith("{") and text.endswith("}")
    assert sorted(text[1:-1].split(", ")) == sorted(f"{k}={v}" for k, v in props.items())
    assert java_map_string({}) == "{}"


def test_offset_message_ids_decode_to_store_address_and_offset() -> None:
    msg = decode_all(JAVA_RECORDS.read_bytes()[:621])[2]
    assert decode_offset_msg_id(msg.offset_msg_id) == ("127.0.0.1:29911", 435)
    with pytest.raises(ValueError):
        decode_offset_msg_id("0123")


def test_queue_set_order_is_a_permutation() -> None:
    queues = [("T", "broker-a", i) for i in range(16)]
    assert sorted(message_queue_set_order(queues)) == queues


def test_small_java_conversions() -> None:
    assert parse_timestamp("1700000000000") == 1700000000000
    assert parse_timestamp("2024-01-02#03:04:05:678") % 1000 == 678
    assert tags_of("*") == set() and tags_of("TagA || TagB") == {"TagA", "TagB"}
    assert _avg(10, 3) == "5.00" and _avg(0, 1) == "NaN"
    assert SendMsgStatus.body(128) == b"hello jodie" * 12 and SendMsgStatus.body(16) == b"hello jodie" * 2


def test_trace_records_decode_for_the_queried_message_only() -> None:
    pub = "\x01".join(["Pub", "1700000000000", "R", "PG", "T", "MID", "tg", "k", "h:1", "9", "3", "0", "OFF", "false"])
    sub = "\x01".join(["SubAfter", "req", "MID", "7", "true", "k", "0", "1700000000001", "CG"])
    other = "\x01".join(["SubAfter", "req", "OTHER", "7", "true", "k"])
    views = decode_trace_views("MID", f"{pub}\x02{sub}\x02{other}\x02".encode(), "127.0.0.1")
    assert [(v.msg_type, v.group_name, v.cost_time, v.status, v.client_host) for v in views] == [
        ("Pub", "PG", 3, "failed", "127.0.0.1"),
        ("SubAfter", "CG", 7, "success", "127.0.0.1"),
    ]
    with pytest.raises(TraceDecodeError):
        decode_trace_views("MID", b"Pub\x01x", None)


def test_the_message_subcommands_are_in_the_catalogue() -> None:
    for name in (
        "queryMsgById", "queryMsgByUniqueKey", "queryMsgByOffset", "queryMsgTraceById", "printMsg",
        "printMsgByQueue", "consumeMessage", "queryCq", "sendMsgStatus", "checkMsgSendRT", "clusterRT",
    ):  # fmt: skip
        assert name in main.IMPLEMENTED, name
    parsed = main.parse(["consumeMessage", "-n", "127.0.0.1:1", "-t", "T", "-i", "1"], io.StringIO(), io.StringIO())
    assert not isinstance(parsed, int)
