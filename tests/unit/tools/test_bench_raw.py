"""tools/bench_raw.py's pieces that are not sockets: the route request frame and the reply counter."""

from __future__ import annotations

import pytest

from rocketpy.protocol.codes import CURRENT_VERSION, RequestCode, ResponseCode, SerializeType
from rocketpy.remoting.codec import FrameDecoder, encode
from rocketpy.remoting.command import RemotingCommand
from tools.bench_broker import TargetError
from tools.bench_raw import Mark, RawResult, async_window, count_replies, parse_progress, request_frame, route_frame


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
