"""tools/bench_raw.py's pieces that are not sockets: the request frames, the reply reader (counts and opaques),
the percentiles and the async sender's lines."""

from __future__ import annotations

import pytest

from rocketpy.protocol.codes import CURRENT_VERSION, RequestCode, ResponseCode, SerializeType
from rocketpy.remoting.codec import FrameDecoder, encode
from rocketpy.remoting.command import RemotingCommand
from tools.bench_broker import TargetError
from tools.bench_raw import (
    Latency,
    Mark,
    RawResult,
    async_window,
    count_replies,
    latency_of,
    nearest_rank,
    parse_latency,
    parse_progress,
    ratio_row,
    reply_opaque,
    request_frame,
    route_frame,
    take_replies,
)


def test_route_frame_is_what_a_4_9_8_client_sends() -> None:
    (cmd,) = FrameDecoder().feed(route_frame("BenchSend", 42))
    assert (cmd.code, cmd.opaque, cmd.version, cmd.flag) == (RequestCode.GET_ROUTEINFO_BY_TOPIC, 42, CURRENT_VERSION, 0)
    assert cmd.serialize_type == SerializeType.JSON and cmd.body is None
    assert cmd.ext_fields == {"topic": "BenchSend"}  # a null acceptStandardJsonOnly is not sent


def _reply(code: int, body: bytes | None = None, opaque: int = 1) -> bytes:
    cmd = RemotingCommand.response(code, None if code == ResponseCode.SUCCESS else "busy", None, body)
    cmd.opaque = opaque
    return encode(cmd)


def test_count_replies_counts_complete_frames_and_failures() -> None:
    ok = _reply(ResponseCode.SUCCESS, b'{"code":1,"brokerDatas":[]}')
    busy = _reply(ResponseCode.SYSTEM_BUSY)
    buf = ok + busy + ok + ok[:10]
    assert count_replies(buf) == (3, 1, 2 * len(ok) + len(busy))
    assert count_replies(bytearray(buf[: len(ok) - 1])) == (0, 0, 0)
    assert count_replies(b"") == (0, 0, 0)


def test_a_body_saying_code_0_does_not_make_a_failure_a_success() -> None:
    assert count_replies(_reply(ResponseCode.TOPIC_NOT_EXIST, b'{"code":0,'))[:2] == (1, 1)


def test_the_send_frame_is_unchanged() -> None:
    (cmd,) = FrameDecoder().feed(request_frame("BenchSend", 3, 9, 16, 5))
    assert (cmd.code, cmd.opaque, len(cmd.body or b"")) == (RequestCode.SEND_MESSAGE_V2, 9, 16)
    assert cmd.ext_fields is not None and cmd.ext_fields["e"] == "3" and cmd.ext_fields["b"] == "BenchSend"


def test_progress_lines_of_the_async_sender() -> None:
    assert parse_progress("progress 1200 3 987654321\n") == (1200, 3)
    assert parse_progress("done 1200 3") is None
    assert parse_progress("progress x 3 1") is None
    assert parse_progress("") is None


def test_async_window_skips_the_warm_up() -> None:
    marks = [Mark(0, 0, 1.0, 0.0), Mark(500, 0, 1.5, 1.0), Mark(1500, 0, 1.6, 2.0), Mark(3500, 2, 1.8, 4.0)]
    result = RawResult("rocketpy")
    async_window(marks, 1, result)
    assert (result.replies, result.failed, result.tps) == (3000, 2, 1000.0)
    assert abs(result.cpu_us_per_msg - 0.3 * 1e6 / 3000) < 1e-6


def test_async_window_refuses_too_few_marks_or_no_success() -> None:
    with pytest.raises(TargetError, match="progress lines"):
        async_window([Mark(0, 0, None, 0.0)], 1, RawResult("java"))
    with pytest.raises(TargetError, match="SEND_OK"):
        async_window([Mark(0, 0, None, 0.0), Mark(0, 5, None, 1.0)], 0, RawResult("java"))


def _send_reply(opaque: int, serialize_type: SerializeType = SerializeType.JSON) -> bytes:
    """A SEND_MESSAGE_V2 reply as both brokers write it: extFields before the opaque in the sorted JSON header."""
    ext = {"msgId": "7F00000100002A9F0000000000000000", "queueId": "3", "queueOffset": "17", "opaque": "x"}
    cmd = RemotingCommand.response(ResponseCode.SUCCESS, None, ext)
    cmd.opaque = opaque
    cmd.serialize_type = serialize_type
    return encode(cmd)


def test_reply_opaque_reads_the_header_key_not_an_ext_field() -> None:
    frame = _send_reply(123456)
    assert b'"opaque":123456' in frame
    assert reply_opaque(frame, 0) == 123456
    assert reply_opaque(b"xx" + frame, 2) == 123456


def test_reply_opaque_of_java_s_fastjson_header() -> None:
    header = (
        b'{"code":0,"extFields":{"queueId":"1","queueOffset":"0"},"flag":1,"language":"JAVA","opaque":7,'
        b'"serializeTypeCurrentRPC":"JSON","version":397}'
    )
    frame = (4 + len(header)).to_bytes(4, "big") + len(header).to_bytes(4, "big") + header
    assert reply_opaque(frame, 0) == 7
    last = b'{"code":0,"opaque":9}'
    assert reply_opaque((4 + len(last)).to_bytes(4, "big") + len(last).to_bytes(4, "big") + last, 0) == 9


def test_reply_opaque_of_a_binary_header_and_of_a_header_without_one() -> None:
    assert reply_opaque(_send_reply(77, SerializeType.ROCKETMQ), 0) == 77
    bare = b'{"code":0,"flag":1}'
    assert reply_opaque((4 + len(bare)).to_bytes(4, "big") + len(bare).to_bytes(4, "big") + bare, 0) == -1


def test_take_replies_counts_like_count_replies_and_lists_the_opaques() -> None:
    busy = _reply(ResponseCode.SYSTEM_BUSY, opaque=5)
    buf = _send_reply(3) + busy + _send_reply(4096) + _send_reply(1)[:20]
    opaques: list[int] = []
    assert take_replies(buf, opaques) == count_replies(buf)
    assert opaques == [3, 5, 4096]
    more: list[int] = []
    assert take_replies(b"", more) == (0, 0, 0) and more == []


def test_nearest_rank_percentiles() -> None:
    values = list(range(1, 1001))
    assert [nearest_rank(values, q) for q in (500, 990, 999, 1000)] == [500, 990, 999, 1000]
    assert [nearest_rank([7], q) for q in (500, 999)] == [7, 7]
    assert nearest_rank([1, 2, 3], 500) == 2  # rank ceil(1.5) = 2
    assert nearest_rank(list(range(1, 11)), 999) == 10  # too few samples for p99.9: the maximum


def test_latency_of_sorts_and_converts_to_ms() -> None:
    samples = [(i % 100 + 1) * 1_000_000 for i in range(1000)]  # 1..100 ms, ten of each, shuffled by the modulo
    assert latency_of(samples) == Latency(50.0, 99.0, 100.0, 100.0, 1000)
    assert latency_of([]) is None


def test_latency_line_of_the_async_sender() -> None:
    assert parse_latency("latency 4000 0 1500000 9000000 12000000 30000000\n") == (
        Latency(1.5, 9.0, 12.0, 30.0, 4000),
        0,
    )
    assert parse_latency("latency 0 12 0 0 0 0") == (None, 12)
    assert parse_latency("progress 1 2 3") is None
    assert parse_latency("latency 1 0 1 2 3") is None
    assert parse_latency("latency 1 0 1 2 3 -4") is None


def test_ratio_row_needs_both_targets() -> None:
    java = RawResult("java", tps=1000.0, cpu_us_per_msg=10.0, latency=Latency(1.0, 2.0, 4.0, 8.0, 10))
    rp = RawResult("rocketpy", tps=500.0, cpu_us_per_msg=30.0, latency=Latency(2.0, 3.0, 4.0, 4.0, 10))
    row = ratio_row([java, rp])
    assert row is not None and row.split() == ["rp/java", "0.50", "3.00", "2.00", "1.50", "1.00", "0.50"]
    assert ratio_row([java]) is None
    assert ratio_row([java, RawResult("rocketpy", error="boot")]) is None
    no_latency = ratio_row([java, RawResult("rocketpy", tps=500.0, cpu_us_per_msg=30.0)])
    assert no_latency is not None and no_latency.split()[3:] == ["-"] * 4
