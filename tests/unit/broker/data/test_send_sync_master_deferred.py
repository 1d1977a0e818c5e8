"""SYNC_MASTER sends in the read loop: the put is appended at once and its answer waits for the slave's
acknowledgement (a callback, no task), with the same answers as the waiting path (test_send_sync_master.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import RequestContext
from rocketpy.store.config import PutMessageStatus

from .conftest import DataPlane, send_v2_ext

Done = Callable[[PutMessageStatus], None]


@dataclass
class Recorder:
    """The part of a Connection a deferred answer uses."""

    remote_addr: str = "10.0.0.9:50000"
    answers: list[RemotingCommand] = field(default_factory=list)

    def send_response_nowait(self, request: RemotingCommand, response: RemotingCommand) -> None:
        self.answers.append(response)


def _deferred(plane: DataPlane, immediate: PutMessageStatus | None = None) -> list[tuple[int, Done]]:
    submitted: list[tuple[int, Done]] = []

    async def wait(next_offset: int) -> PutMessageStatus:
        raise AssertionError("the read-loop path never awaits the replica")

    def submit(next_offset: int, done: Done) -> PutMessageStatus | None:
        if immediate is None:
            submitted.append((next_offset, done))
        return immediate

    plane.send.replica, plane.send.replica_submit = wait, submit
    return submitted


async def _send(plane: DataPlane, conn: Recorder) -> RemotingCommand | None:
    request = RemotingCommand.request(RequestCode.SEND_MESSAGE_V2, send_v2_ext("TopicTest", queue_id=1), b"hello")
    ctx = RequestContext(conn, None, request)  # type: ignore[arg-type]
    handler = plane.send.handlers()[RequestCode.SEND_MESSAGE_V2]
    assert handler == plane.send.send_message_replicated
    return await handler(ctx, request)


async def test_the_answer_waits_for_the_acknowledgement(plane: DataPlane) -> None:
    submitted = _deferred(plane)
    conn = Recorder()
    assert await _send(plane, conn) is None
    assert await _send(plane, conn) is None
    assert [offset for offset, _ in submitted][-1] == plane.store.max_phy_offset  # appended before the wait
    assert conn.answers == []
    for _, done in submitted:
        done(PutMessageStatus.PUT_OK)
    assert [a.code for a in conn.answers] == [ResponseCode.SUCCESS] * 2
    assert [(a.ext_fields or {})["queueOffset"] for a in conn.answers] == ["0", "1"]
    assert (conn.answers[0].ext_fields or {})["queueId"] == "1"


async def test_a_timeout_is_answered_with_javas_code_and_the_stored_position(plane: DataPlane) -> None:
    submitted = _deferred(plane)
    conn = Recorder()
    assert await _send(plane, conn) is None
    submitted[0][1](PutMessageStatus.FLUSH_SLAVE_TIMEOUT)
    (answer,) = conn.answers
    assert (answer.code, answer.remark) == (ResponseCode.FLUSH_SLAVE_TIMEOUT, None)
    ext = answer.ext_fields or {}
    assert (ext["queueId"], ext["queueOffset"]) == ("1", "0")  # stored all the same, as Java
    assert ext["msgId"]


async def test_no_slave_is_answered_at_once(plane: DataPlane) -> None:
    _deferred(plane, PutMessageStatus.SLAVE_NOT_AVAILABLE)
    conn = Recorder()
    answer = await _send(plane, conn)
    assert answer is not None and (answer.code, answer.remark) == (ResponseCode.SLAVE_NOT_AVAILABLE, None)
    assert conn.answers == []
