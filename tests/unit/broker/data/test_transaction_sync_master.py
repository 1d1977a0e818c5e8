"""END_TRANSACTION on a SYNC_MASTER: the committed message waits for a slave as DefaultMessageStore.putMessage makes
EndTransactionProcessor.sendFinalMessage wait (WAIT comes from the half message), every outcome of the wait is
SUCCESS, the op record is written after the wait and never waits itself; a rollback writes no message, so it does
not wait; under SYNC_FLUSH the committed message is flushed first. HAService.wire gives the transaction processor
the master's wait."""

from __future__ import annotations

from pathlib import Path

import pytest

from rocketpy.broker.config import BrokerRole
from rocketpy.broker.ha.service import HAService
from rocketpy.broker.processors.transaction import TransactionProcessor
from rocketpy.protocol.codes import ResponseCode
from rocketpy.store.config import FlushDiskType, PutMessageStatus

from .conftest import DataPlane, PlaneFactory
from .test_transactions import COMMIT, END, OP, ROLLBACK, Tx


class Replica:
    """A stand-in for HAMaster.wait_replica: records each wait, with the op queue's length at that moment."""

    def __init__(self, tx: Tx, answer: PutMessageStatus) -> None:
        self.tx = tx
        self.answer = answer
        self.waits: list[tuple[int, int]] = []
        processor(tx.plane).replica = self.wait

    async def wait(self, next_offset: int) -> PutMessageStatus:
        self.waits.append((next_offset, len(self.tx.queue(OP))))
        return self.answer


def processor(plane: DataPlane) -> TransactionProcessor:
    owner = getattr(plane.table[END], "__self__", None)
    assert isinstance(owner, TransactionProcessor)
    return owner


@pytest.fixture
def tx(make_plane: PlaneFactory) -> Tx:
    return Tx(make_plane())


async def test_a_commit_waits_for_the_slave_before_the_op_record(tx: Tx) -> None:
    replica = Replica(tx, PutMessageStatus.PUT_OK)
    half = await tx.half(b"committed")
    reply = await tx.end(half, COMMIT)
    assert reply is not None and (reply.code, reply.remark) == (ResponseCode.SUCCESS, None)
    [msg] = tx.queue("TopicTest", 1)
    # one wait, for the committed message's end, before the op record is written
    assert replica.waits == [(msg.phys_offset + msg.total_size, 0)]
    assert len(tx.queue(OP)) == 1


@pytest.mark.parametrize("answer", [PutMessageStatus.FLUSH_SLAVE_TIMEOUT, PutMessageStatus.SLAVE_NOT_AVAILABLE])
async def test_a_failed_wait_is_still_success_as_send_final_message_maps_it(tx: Tx, answer: PutMessageStatus) -> None:
    replica = Replica(tx, answer)
    half = await tx.half()
    reply = await tx.end(half, COMMIT)
    assert reply is not None and (reply.code, reply.remark) == (ResponseCode.SUCCESS, None)
    assert len(replica.waits) == 1
    assert len(tx.queue("TopicTest", 1)) == 1 and len(tx.queue(OP)) == 1


async def test_a_rollback_does_not_wait(tx: Tx) -> None:
    replica = Replica(tx, PutMessageStatus.PUT_OK)
    half = await tx.half()
    reply = await tx.end(half, ROLLBACK)
    assert reply is not None and reply.code == ResponseCode.SUCCESS
    assert replica.waits == [] and len(tx.queue(OP)) == 1


async def test_a_half_message_sent_with_wait_false_does_not_wait(tx: Tx) -> None:
    replica = Replica(tx, PutMessageStatus.FLUSH_SLAVE_TIMEOUT)
    half = await tx.half(wait="false")
    reply = await tx.end(half, COMMIT)
    assert reply is not None and reply.code == ResponseCode.SUCCESS
    assert replica.waits == [] and len(tx.queue("TopicTest", 1)) == 1


@pytest.mark.parametrize(("role", "waits"), [(BrokerRole.SYNC_MASTER, True), (BrokerRole.ASYNC_MASTER, False)])
def test_ha_service_wires_the_commit_wait_on_a_sync_master(
    make_plane: PlaneFactory, tmp_path: Path, role: BrokerRole, waits: bool
) -> None:
    plane = make_plane(tweak=lambda s: setattr(s.store, "broker_role", role))
    transaction = processor(plane)
    ha = HAService(plane.settings, plane.store, plane.controller, tmp_path / "delayOffset.json")
    ha.wire(plane.send, transaction)
    assert (transaction.replica is not None, plane.send.replica is not None) == (waits, waits)


async def test_under_sync_flush_a_commit_is_flushed_before_its_answer(make_plane: PlaneFactory) -> None:
    tx = Tx(make_plane(flush=FlushDiskType.SYNC_FLUSH))
    half = await tx.half(b"flushed")
    reply = await tx.end(half, COMMIT)
    assert reply is not None and (reply.code, reply.remark) == (ResponseCode.SUCCESS, None)
    [msg] = tx.queue("TopicTest", 1)
    assert tx.plane.store.commitlog.flushed_where >= msg.phys_offset + msg.total_size
