"""SEND_REPLY_MESSAGE(_V2) as ReplyMessageProcessor answers it: push to the requester by client id, then store."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from rocketpy.broker.client_manager import ClientChannelInfo
from rocketpy.broker.processors.send_support import parse_properties, properties_string
from rocketpy.protocol.codes import LanguageCode, RequestCode, ResponseCode
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import ConnectionClosedError, RemotingTimeoutError
from tests.unit.broker.conftest import FakeConnection
from tests.unit.broker.data.conftest import BORN_TS, DataPlane, PlaneFactory, send_v2_ext

REPLY_V2 = RequestCode.SEND_REPLY_MESSAGE_V2
REPLY_TOPIC = "DefaultCluster_REPLY_TOPIC"
REQUESTER = "10.0.0.7@requester"


@dataclass(eq=False)
class Requester(FakeConnection):
    """A requesting producer's channel: records pushes and answers them with `answer`."""

    answer: int | None = ResponseCode.SUCCESS
    pushes: list[RemotingCommand] = field(default_factory=list)

    async def invoke(self, cmd: RemotingCommand, timeout: float) -> RemotingCommand:
        self.pushes.append(cmd)
        if self.answer is None:
            raise ConnectionClosedError(self.remote_addr)
        if self.answer < 0:
            raise RemotingTimeoutError(f"wait response on {self.remote_addr} timeout {timeout * 1000:.0f}ms")
        return RemotingCommand.response(self.answer)


def reply_props(reply_to: str | None = REQUESTER) -> str:
    """MessageUtil.createReplyMessage + send: MSG_TYPE, CORRELATION_ID, REPLY_TO_CLIENT, TTL, UNIQ_KEY."""
    props = {"MSG_TYPE": "reply", "CORRELATION_ID": "corr-1"}
    if reply_to is not None:
        props["REPLY_TO_CLIENT"] = reply_to
    props.update({"TTL": "3000", "UNIQ_KEY": "7F0000010B6418B4AAC27A3E6B2C0001"})
    return properties_string(props)


def with_requester(plane: DataPlane, answer: int | None = ResponseCode.SUCCESS) -> Requester:
    channel = Requester("10.0.0.7:40000", answer=answer)
    info = ClientChannelInfo(channel, REQUESTER, LanguageCode.JAVA, 409)
    plane.controller.producers.register("RequestGroup", info, plane.clock())
    return channel


async def send_reply(plane: DataPlane, props: str, code: int = REPLY_V2, body: bytes = b"pong") -> RemotingCommand:
    ext = send_v2_ext(REPLY_TOPIC, queue_id=0, properties=props, group="ReplyGroup", flag=5)
    if code == RequestCode.SEND_REPLY_MESSAGE:  # the long field names
        names = ["producerGroup", "topic", "defaultTopic", "defaultTopicQueueNums", "queueId", "sysFlag"]
        names += ["bornTimestamp", "flag", "properties", "reconsumeTimes", "unitMode", "batch", "bname"]
        ext = dict(zip(names, [ext[k] for k in "abcdefghijkmn"], strict=True))
    return await plane.call(code, ext, body)


async def test_reply_is_pushed_to_the_requester_and_stored(plane: DataPlane) -> None:
    requester = with_requester(plane)
    reply = await send_reply(plane, reply_props())
    assert (reply.code, reply.remark) == (ResponseCode.SUCCESS, None)
    ext = reply.ext_fields or {}
    assert ext["MSG_REGION"] == "DefaultRegion" and ext["TRACE_ON"] == "true"
    assert (ext["queueId"], ext["queueOffset"]) == ("0", "0") and len(ext["msgId"]) == 32
    [push] = requester.pushes
    assert push.code == RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT and push.body == b"pong"
    h = push.ext_fields or {}
    assert h["producerGroup"] == "ReplyGroup" and h["topic"] == REPLY_TOPIC and h["flag"] == "5"
    assert h["bornHost"] == "10.0.0.9:50000" and h["storeHost"].endswith(f":{plane.settings.netty.listen_port}")
    assert h["bornTimestamp"] == str(BORN_TS) and h["storeTimestamp"] == str(plane.clock())
    pushed = parse_properties(h["properties"])
    assert pushed == {**parse_properties(reply_props()), "PUSH_REPLY_TIME": str(plane.clock())}
    [record] = await plane.pull_records(REPLY_TOPIC, 0)
    assert record.properties == reply_props()  # as sent: no CLUSTER, no PUSH_REPLY_TIME
    assert record.body == b"pong" and record.sys_flag == 0


async def test_v1_header_is_accepted(plane: DataPlane) -> None:
    requester = with_requester(plane)
    reply = await send_reply(plane, reply_props(), code=RequestCode.SEND_REPLY_MESSAGE)
    assert reply.code == ResponseCode.SUCCESS and len(requester.pushes) == 1


async def test_requester_gone_is_system_error_and_the_reply_is_still_stored(plane: DataPlane) -> None:
    reply = await send_reply(plane, reply_props())
    assert (reply.code, reply.remark) == (
        ResponseCode.SYSTEM_ERROR,
        f"push reply message fail, channel of <{REQUESTER}> not found.",
    )
    assert (reply.ext_fields or {})["queueOffset"] == "0"
    assert len(await plane.pull_records(REPLY_TOPIC, 0)) == 1


async def test_missing_reply_to_client(plane: DataPlane) -> None:
    reply = await send_reply(plane, reply_props(reply_to=None))
    assert (reply.code, reply.remark) == (
        ResponseCode.SYSTEM_ERROR,
        "reply message properties[REPLY_TO_CLIENT] is null",
    )


async def test_push_refused_or_broken(plane: DataPlane) -> None:
    requester = with_requester(plane, answer=ResponseCode.SYSTEM_ERROR)
    reply = await send_reply(plane, reply_props())
    assert (reply.code, reply.remark) == (ResponseCode.SYSTEM_ERROR, f"push reply message to {REQUESTER}fail.")
    for broken in (None, -1):  # the channel closed; no answer within Broker2Client.callClient's 10 s
        requester.answer = broken
        reply = await send_reply(plane, reply_props())
        assert (reply.code, reply.remark) == (ResponseCode.SYSTEM_ERROR, f"push reply message to {REQUESTER}fail.")
    assert [p.code for p in requester.pushes] == [RequestCode.PUSH_REPLY_MESSAGE_TO_CLIENT] * 3


async def test_store_disabled_answers_msg_id_zero(make_plane: PlaneFactory) -> None:
    plane = make_plane(store_reply_message_enable=False)
    with_requester(plane)
    reply = await send_reply(plane, reply_props())
    ext = reply.ext_fields or {}
    assert (reply.code, ext["msgId"], ext["queueId"], ext["queueOffset"]) == (ResponseCode.SUCCESS, "0", "0", "0")
    assert plane.store.get_max_offset_in_queue(REPLY_TOPIC, 0) == 0
    reply = await send_reply(plane, reply_props(reply_to="nobody"))
    assert reply.code == ResponseCode.SYSTEM_ERROR and "msgId" not in (reply.ext_fields or {})


async def test_send_checks_apply(plane: DataPlane) -> None:
    ext = send_v2_ext("SCHEDULE_TOPIC_XXXX", properties=reply_props())
    reply = await plane.call(REPLY_V2, ext, b"x")
    assert reply.code == ResponseCode.NO_PERMISSION
    reply = await plane.call(REPLY_V2, {"a": "G"}, b"x")
    assert reply.code == ResponseCode.SYSTEM_ERROR


@pytest.mark.parametrize(
    ("field", "value"),
    [("e", "abc"), ("e", "7"), ("g", "soon"), ("f", "2147483648"), ("d", "-1"), ("i", "\x01\x02\x02\x01=\x02"),
     ("i", "REPLY_TO_CLIENT\x01"), ("j", "-5"), ("b", "bad topic")],
)  # fmt: skip
async def test_odd_reply_headers_get_clear_answers(plane: DataPlane, field: str, value: str) -> None:
    with_requester(plane)
    ext = send_v2_ext(REPLY_TOPIC, properties=reply_props())
    ext[field] = value
    reply = await plane.call(REPLY_V2, ext, b"x")
    assert reply.code in (ResponseCode.SUCCESS, ResponseCode.SYSTEM_ERROR), (reply.code, reply.remark)
    if reply.code == ResponseCode.SYSTEM_ERROR:
        assert reply.remark
