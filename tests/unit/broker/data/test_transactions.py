"""Transactional messages over a real store: half messages, END_TRANSACTION, the check pass and its service,
RESUME_CHECK_HALF_MESSAGE (broker.transaction and EndTransactionProcessor of 4.9.8)."""

from __future__ import annotations

import time

import pytest
import trio
import trio.testing

from rocketpy.broker.client_manager import ClientChannelInfo
from rocketpy.broker.config import BrokerRole
from rocketpy.broker.processors.transaction import UNSET_REMARK
from rocketpy.broker.transaction.bridge import TransactionalMessageBridge
from rocketpy.broker.transaction.check import CheckPass
from rocketpy.broker.transaction.messages import CID_SYS_RMQ_TRANS
from rocketpy.broker.transaction.service import TransactionalMessageCheckService
from rocketpy.protocol.codes import LanguageCode, RequestCode, ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import RequestContext
from rocketpy.store.format import StoredMessage, decode_message_id, decode_record, parse_properties
from tests.unit.broker.conftest import FakeConnection
from tests.unit.broker.data.conftest import PRODUCER, DataPlane, PlaneFactory, client_properties, send_v2_ext

HALF, OP, MAX_TIME = "RMQ_SYS_TRANS_HALF_TOPIC", "RMQ_SYS_TRANS_OP_HALF_TOPIC", "TRANS_CHECK_MAX_TIME_TOPIC"
END = RequestCode.END_TRANSACTION
COMMIT, ROLLBACK, UNKNOWN = 8, 12, 0


def wall_ms() -> int:
    return int(time.time() * 1000)


class Tx:
    """A data plane, a producer of group PG and a check service, on the wall clock: the check compares its clock
    with store timestamps (a put-back is stored after the pass began), so ages come from old born timestamps."""

    def __init__(self, plane: DataPlane, producer: FakeConnection = PRODUCER) -> None:
        self.plane = plane
        self.producer = producer
        plane.controller.producers.register(
            "PG", ClientChannelInfo(producer, "client-1", LanguageCode.JAVA, 409), wall_ms()
        )
        c = plane.controller
        self.bridge = TransactionalMessageBridge(plane.store, c.topics, c.offsets, plane.send.store_host, wall_ms)
        self.service = TransactionalMessageCheckService(plane.settings, self.bridge, c.producers, wall_ms)

    async def half(
        self,
        body: bytes = b"tx",
        queue_id: int = 1,
        uniq: str = "AC110001000018B4AAC27A3E6B2C0001",
        age: int = 0,
        wait: str = "true",
    ) -> StoredMessage:
        ext = send_v2_ext("TopicTest", queue_id=queue_id, sys_flag=0x4,
                          properties=client_properties(TRAN_MSG="true", PGROUP="PG", uniq=uniq, WAIT=wait))  # fmt: skip
        ext["g"] = str(wall_ms() - age)
        reply = await self.plane.call(RequestCode.SEND_MESSAGE_V2, ext, body)
        assert reply.code == ResponseCode.SUCCESS, reply.remark
        stored = self.plane.store.look_message_by_offset(decode_message_id(reply.ext_fields["msgId"])[1])
        assert stored is not None and str(stored.queue_offset) == reply.ext_fields["queueOffset"]
        return stored

    async def end(self, half: StoredMessage, kind: int, *, group: str = "PG", check: bool = False,
                  queue_offset: int | None = None) -> RemotingCommand | None:  # fmt: skip
        ext = {
            "producerGroup": group,
            "tranStateTableOffset": str(half.queue_offset if queue_offset is None else queue_offset),
            "commitLogOffset": str(half.phys_offset),
            "commitOrRollback": str(kind),
            "fromTransactionCheck": "true" if check else "false",
            "msgId": parse_properties(half.properties)["UNIQ_KEY"],
        }
        request = RemotingCommand.request(END, ext)
        handler = self.plane.table[END]
        try:
            return await handler(RequestContext(self.producer, None, request), request)  # type: ignore[arg-type]
        except RocketMQError as exc:  # what the remoting connection answers
            return RemotingCommand.response(exc.code, exc.remark)

    async def check_pass(self) -> CheckPass:
        """A pass that begins after the last put-back's millisecond (a pass skips what was stored after it began)."""
        await trio.sleep(0.002)
        return await self.service.check_once()

    def queue(self, topic: str, queue_id: int = 0) -> list[StoredMessage]:
        got = self.plane.store.get_message(topic, queue_id, 0, 64)
        return [decode_record(b) for b in got.buffers]

    def checks(self) -> list[RemotingCommand]:
        return [c for c in self.producer.oneway if c.code == RequestCode.CHECK_TRANSACTION_STATE]


@pytest.fixture
def tx(make_plane: PlaneFactory) -> Tx:
    return Tx(make_plane(), FakeConnection("10.0.0.9:50100"))


async def test_half_message_goes_to_the_half_topic_with_its_real_destination(tx: Tx) -> None:
    half = await tx.half()
    assert (half.topic, half.queue_id, half.queue_offset, half.sys_flag & 0xC) == (HALF, 0, 0, 0)
    props = parse_properties(half.properties)
    assert (props["REAL_TOPIC"], props["REAL_QID"], props["TRAN_MSG"], props["PGROUP"]) == (
        "TopicTest",
        "1",
        "true",
        "PG",
    )
    assert props["WAIT"] == "true" and props["CLUSTER"] == "DefaultCluster"  # rendered from the whole map
    assert tx.queue("TopicTest", 1) == []


async def test_commit_stores_the_message_in_its_real_topic_and_writes_an_op_record(tx: Tx) -> None:
    half = await tx.half(b"committed")
    reply = await tx.end(half, COMMIT)
    assert reply is not None and (reply.code, reply.remark) == (ResponseCode.SUCCESS, None)
    [msg] = tx.queue("TopicTest", 1)
    assert (msg.body, msg.sys_flag & 0xC, msg.prepared_tx_offset) == (b"committed", 0x8, half.phys_offset)
    assert msg.properties == half.properties  # REAL_* and TRAN_MSG stay in the stored string, as in Java
    assert (msg.born_timestamp, msg.born_host) == (half.born_timestamp, half.born_host)
    [op] = tx.queue(OP)
    assert (op.body, parse_properties(op.properties)) == (b"0", {"TAGS": "d", "WAIT": "true"})


async def test_rollback_writes_only_the_op_record(tx: Tx) -> None:
    half = await tx.half()
    reply = await tx.end(half, ROLLBACK)
    assert reply is not None and reply.code == ResponseCode.SUCCESS
    assert tx.queue("TopicTest", 1) == [] and [m.body for m in tx.queue(OP)] == [b"0"]


async def test_end_transaction_refusals(tx: Tx) -> None:
    half = await tx.half()
    assert await tx.end(half, UNKNOWN) is None  # pending: no reply at all
    wrong = await tx.end(half, COMMIT, group="OTHER")
    assert wrong is not None and (wrong.code, wrong.remark) == (ResponseCode.SYSTEM_ERROR, "The producer group wrong")
    offset = await tx.end(half, COMMIT, queue_offset=5)
    assert offset is not None and offset.remark == "The transaction state table offset wrong"
    tx.plane.settings.store.broker_role = BrokerRole.SLAVE
    slave = await tx.end(half, COMMIT)
    assert slave is not None and (slave.code, slave.remark) == (ResponseCode.SLAVE_NOT_AVAILABLE, UNSET_REMARK)
    assert tx.queue("TopicTest", 1) == [] and tx.queue(OP) == []


async def test_reject_transaction_message_keeps_the_refusal(make_plane: PlaneFactory) -> None:
    plane = make_plane(reject_transaction_message=True)
    reply = await plane.send_one(properties=client_properties(TRAN_MSG="true", PGROUP="PG"), sys_flag=0x4)
    assert (reply.code, reply.remark) == (
        ResponseCode.NO_PERMISSION,
        "the broker[127.0.0.1] sending transaction message is forbidden",
    )


async def test_check_pass_asks_the_producer_then_a_check_back_commit_delivers(tx: Tx) -> None:
    fresh = await tx.half(b"fresh", queue_id=2)
    assert (await tx.check_pass()).to_check == []  # younger than transactionTimeOut (6 s)
    await tx.end(fresh, ROLLBACK)
    committed, rolled = await tx.half(b"a", age=6_500), await tx.half(b"b", age=6_500)
    pending = await tx.half(b"c", age=6_500)
    await tx.end(committed, COMMIT)
    await tx.end(rolled, ROLLBACK)
    await tx.check_pass()
    [check] = tx.checks()
    ext = check.ext_fields or {}
    assert (
        ext["tranStateTableOffset"] == "4"
        and ext["msgId"] == ext["transactionId"] == "AC110001000018B4AAC27A3E6B2C0001"
    )
    body = decode_record(check.body or b"")
    assert (body.topic, body.queue_id, body.body, body.queue_offset) == ("TopicTest", 1, b"c", 4)
    assert parse_properties(body.properties)["TRANSACTION_CHECK_TIMES"] == "1"
    assert int(ext["commitLogOffset"]) == body.phys_offset > pending.phys_offset
    offsets = tx.plane.controller.offsets
    assert offsets.query(CID_SYS_RMQ_TRANS, HALF, 0) == 4 and offsets.query(CID_SYS_RMQ_TRANS, OP, 0) == 3
    copy = tx.plane.store.look_message_by_offset(body.phys_offset)
    assert copy is not None
    reply = await tx.end(copy, COMMIT, check=True)
    assert reply is not None and reply.code == ResponseCode.SUCCESS
    assert [m.body for m in tx.queue("TopicTest", 1)] == [b"a", b"c"]
    await tx.check_pass()  # the op record of the copy resolves it: no more checks
    assert len(tx.checks()) == 1 and offsets.query(CID_SYS_RMQ_TRANS, HALF, 0) == 5


async def test_message_checked_transaction_check_max_times_is_discarded(tx: Tx) -> None:
    tx.plane.settings.broker.transaction_check_max = 2
    await tx.half(b"never", age=6_500)
    for _ in range(4):
        await tx.check_pass()
    assert len(tx.checks()) == 2
    [gone] = tx.queue(MAX_TIME)
    assert gone.body == b"never" and parse_properties(gone.properties)["TRANSACTION_CHECK_TIMES"] == "2"
    assert tx.plane.controller.topics.select(MAX_TIME) is not None
    assert tx.queue("TopicTest", 1) == []
    # RESUME_CHECK_HALF_MESSAGE puts it back with the count reset, and it is checked again
    reply = await tx.plane.call(RequestCode.RESUME_CHECK_HALF_MESSAGE, {"msgId": gone.msg_id})
    assert reply.code == ResponseCode.SUCCESS
    await tx.check_pass()
    assert len(tx.checks()) == 3
    assert parse_properties(decode_record(tx.checks()[-1].body or b"").properties)["TRANSACTION_CHECK_TIMES"] == "1"


async def test_resume_check_half_message_with_a_bad_id(tx: Tx) -> None:
    reply = await tx.plane.call(RequestCode.RESUME_CHECK_HALF_MESSAGE, {"msgId": "nonsense"})
    assert (reply.code, reply.remark) == (
        ResponseCode.SYSTEM_ERROR,
        "Exception was thrown when putting message back to RMQ_SYS_TRANS_HALF_TOPIC.",
    )


async def test_immunity_time_delays_the_first_check(tx: Tx) -> None:
    props = client_properties(TRAN_MSG="true", PGROUP="PG", CHECK_IMMUNITY_TIME_IN_SECONDS="1")
    ext = send_v2_ext("TopicTest", queue_id=0, sys_flag=0x4, properties=props)
    ext["g"] = str(wall_ms() - 700)  # older than transactionTimeOut would not matter: the immunity is 1 s
    assert (await tx.plane.call(RequestCode.SEND_MESSAGE_V2, ext, b"immune")).code == ResponseCode.SUCCESS
    await tx.check_pass()  # immune: put back with TRAN_PREPARED_QUEUE_OFFSET, not checked
    assert tx.checks() == []
    [_, again] = tx.queue(HALF)
    assert parse_properties(again.properties)["TRAN_PREPARED_QUEUE_OFFSET"] == "0"
    await trio.sleep(0.4)
    await tx.check_pass()
    assert len(tx.checks()) == 1


async def test_no_live_producer_still_counts_the_check(tx: Tx) -> None:
    tx.plane.controller.producers.channel_closed(tx.producer)
    await tx.half(age=6_500)
    result = await tx.check_pass()
    assert len(result.to_check) == 1 and tx.checks() == []


async def test_check_service_runs_every_transaction_check_interval(
    tx: Tx, autojump_clock: trio.testing.MockClock
) -> None:
    await tx.half(age=6_500)
    # The mock clock jumps 59 s in no wall time, and a pass skips what was stored in or after its first
    # millisecond (store_timestamp >= start, as Java's check does): let a real millisecond go by first.
    time.sleep(0.002)
    tx.plane.settings.broker.transaction_check_interval = 60_000
    async with trio.open_nursery() as nursery:
        await nursery.start(tx.service.run)
        await trio.sleep(59)
        assert tx.checks() == []
        await trio.sleep(2)
        assert len(tx.checks()) == 1
        nursery.cancel_scope.cancel()


@pytest.mark.parametrize(
    "changes",
    [
        {"commitOrRollback": "3"},
        {"commitOrRollback": "x"},
        {"commitLogOffset": "-1"},
        {"commitLogOffset": "99999999999999"},
        {"tranStateTableOffset": "9223372036854775808"},
        {"msgId": None},
        {"producerGroup": None},
        {"fromTransactionCheck": "maybe"},
    ],
)
async def test_odd_end_transaction_headers_get_clear_answers(tx: Tx, changes: dict[str, str | None]) -> None:
    half = await tx.half()
    ext = {
        "producerGroup": "PG",
        "tranStateTableOffset": str(half.queue_offset),
        "commitLogOffset": str(half.phys_offset),
        "commitOrRollback": "8",
        "msgId": "AC110001000018B4AAC27A3E6B2C0001",
    }
    for key, value in changes.items():
        if value is None:
            ext.pop(key)
        else:
            ext[key] = value
    reply = await tx.plane.call(END, ext)
    assert reply.code in (ResponseCode.SUCCESS, ResponseCode.SYSTEM_ERROR), (reply.code, reply.remark)
    assert reply.code == ResponseCode.SUCCESS or reply.remark


def test_available_channel_takes_the_group_producers_in_turn() -> None:
    from rocketpy.broker.client_manager import ProducerManager

    producers = ProducerManager()
    a, b = FakeConnection("10.0.0.1:1"), FakeConnection("10.0.0.2:2")
    for n, conn in enumerate((a, b)):
        producers.register("PG", ClientChannelInfo(conn, f"client-{n}", LanguageCode.JAVA, 409), 0)
    assert [producers.available_channel("PG") for _ in range(4)] == [b, a, b, a]
    b.closed = True
    assert [producers.available_channel("PG") for _ in range(2)] == [a, a]
    assert producers.available_channel("nobody") is None


async def test_a_backlog_is_checked_in_one_pass_and_the_rewrites_wait_for_the_next(tx: Tx) -> None:
    for n in range(300):  # more than check.YIELD_EVERY: the pass yields to the event loop on the way
        await tx.half(f"m{n}".encode(), uniq=f"AC110001000018B4AAC27A3E6B2C{n:04X}", age=6_500)
    result = await tx.check_pass()
    assert len(result.to_check) == len(tx.checks()) == 300
    assert tx.plane.controller.offsets.query(CID_SYS_RMQ_TRANS, HALF, 0) == 300
    assert tx.plane.store.get_max_offset_in_queue(HALF, 0) == 600
