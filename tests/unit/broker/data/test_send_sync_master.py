"""SYNC_MASTER sends: one replica wait per put (a batch waits once, for its last record's end), and the
FLUSH_SLAVE_TIMEOUT / SLAVE_NOT_AVAILABLE answers of SendMessageProcessor as Java's CommitLog reports them."""

from __future__ import annotations

from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.store.config import PutMessageStatus

from .conftest import DataPlane, send_v2_ext
from .test_send import golden, golden_text


def _replica(plane: DataPlane, answer: PutMessageStatus) -> list[int]:
    waited: list[int] = []

    async def wait(next_offset: int) -> PutMessageStatus:
        waited.append(next_offset)
        return answer

    plane.send.replica = wait
    return waited


async def test_a_batch_waits_once_for_its_end(plane: DataPlane) -> None:
    waited = _replica(plane, PutMessageStatus.PUT_OK)
    ext = send_v2_ext("TopicTest", queue_id=0, properties=golden_text("batch_header_properties"), batch=True)
    reply = await plane.call(RequestCode.SEND_BATCH_MESSAGE, ext, golden("batch_body"))
    assert reply.code == ResponseCode.SUCCESS
    assert waited == [plane.store.max_phy_offset]


async def test_replica_failures_are_answered_with_javas_codes(plane: DataPlane) -> None:
    _replica(plane, PutMessageStatus.FLUSH_SLAVE_TIMEOUT)
    reply = await plane.send_one()
    assert (reply.code, reply.remark) == (ResponseCode.FLUSH_SLAVE_TIMEOUT, None)
    assert (reply.ext_fields or {})["queueOffset"] == "0"  # stored all the same, as Java
    _replica(plane, PutMessageStatus.SLAVE_NOT_AVAILABLE)
    reply = await plane.send_one()
    assert (reply.code, reply.remark) == (ResponseCode.SLAVE_NOT_AVAILABLE, None)


async def test_an_async_master_does_not_wait(plane: DataPlane) -> None:
    assert plane.send.replica is None
    assert (await plane.send_one()).code == ResponseCode.SUCCESS
