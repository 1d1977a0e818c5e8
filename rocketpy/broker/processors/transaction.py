"""END_TRANSACTION (37) and RESUME_CHECK_HALF_MESSAGE (323): broker.processor.EndTransactionProcessor and
AdminBrokerProcessor.resumeCheckHalfMessage of 4.9.8.

END_TRANSACTION comes oneway from the producer (after its local transaction, or answering a check-back), so
its replies are only seen by a client that sends it as a request. A pending (UNKNOW) state is ignored without a
reply. COMMIT loads the half message by commitLogOffset, checks PGROUP, its queue offset and commit-log offset,
stores it in its real topic (sysFlag commit, preparedTransactionOffset = the half's offset) and then writes the op
record; ROLLBACK writes the op record only. A slave answers SLAVE_NOT_AVAILABLE with the remark
"not set any response code" (RemotingCommand.createResponseCommand's, which Java leaves).

The committed message is put as DefaultMessageStore.putMessage puts it: when its WAIT property (the half's, which
endMessageTransaction copies over its own waitStoreMsgOK=false) says so, the answer waits for the disk under
SYNC_FLUSH and for a slave on a SYNC_MASTER (CommitLog.submitFlushRequest / submitReplicaRequest); every outcome of
those waits is still SUCCESS, as sendFinalMessage maps them. The op record (WAIT=false) never waits.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import trio

from rocketpy.broker.config import BrokerRole, BrokerSettings
from rocketpy.broker.transaction.bridge import TransactionalMessageBridge
from rocketpy.broker.transaction.messages import PROPERTY_PGROUP, PROPERTY_WAIT, end_message, resumed
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.transaction_headers import (
    TRANSACTION_COMMIT_TYPE,
    TRANSACTION_ROLLBACK_TYPE,
    EndTransactionRequestHeader,
    ResumeCheckHalfMessageRequestHeader,
)
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler, RequestContext
from rocketpy.store.config import FlushDiskType, PutMessageResult, PutMessageStatus
from rocketpy.store.format import StoredMessage, decode_message_id, get_property

log = logging.getLogger("RocketmqTransaction")

_RESUME_FAILED = "Put message back to RMQ_SYS_TRANS_HALF_TOPIC failed."
_RESUME_ERROR = "Exception was thrown when putting message back to RMQ_SYS_TRANS_HALF_TOPIC."
UNSET_REMARK = "not set any response code"  # RemotingCommand.createResponseCommand(null)'s remark


class TransactionProcessor:
    def __init__(self, settings: BrokerSettings, bridge: TransactionalMessageBridge) -> None:
        self.settings = settings
        self.bridge = bridge
        # SYNC_MASTER: the HA master's wait for a slave (ha/service.py wires it, as for SendMessageProcessor.replica)
        self.replica: Callable[[int], Awaitable[PutMessageStatus]] | None = None

    def handlers(self) -> dict[int, Handler]:
        return {
            RequestCode.END_TRANSACTION: self.end_transaction,
            RequestCode.RESUME_CHECK_HALF_MESSAGE: self.resume_check_half_message,
        }

    async def end_transaction(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand | None:
        h = EndTransactionRequestHeader.from_ext(cmd.ext_fields)
        h.check_fields()
        if self.settings.store.broker_role is BrokerRole.SLAVE:
            log.warning("Message store is slave mode, so end transaction is forbidden. ")
            # Java sets only the code on createResponseCommand's answer: its initial remark stays
            return RemotingCommand.response(ResponseCode.SLAVE_NOT_AVAILABLE, UNSET_REMARK)
        kind = "Check producer" if h.from_transaction_check else "The producer"
        if h.commit_or_rollback not in (TRANSACTION_COMMIT_TYPE, TRANSACTION_ROLLBACK_TYPE):
            log.warning("%s[%s] end transaction: pending status. %s", kind, ctx.connection.remote_addr, h)
            return None
        half = self.bridge.look(h.commit_log_offset)
        if half is None:
            return RemotingCommand.response(ResponseCode.SYSTEM_ERROR, "Find prepared transaction message failed")
        self._check_prepare_message(half, h)
        if h.commit_or_rollback == TRANSACTION_ROLLBACK_TYPE:
            log.warning("%s[%s] rolled back the message. %s", kind, ctx.connection.remote_addr, h)
            self.bridge.put_op(half)
            return RemotingCommand.response(ResponseCode.SUCCESS)
        reply = await self._send_final_message(half, h)
        if reply.code == ResponseCode.SUCCESS:
            self.bridge.put_op(half)
        return reply

    @staticmethod
    def _check_prepare_message(half: StoredMessage, h: EndTransactionRequestHeader) -> None:
        if get_property(half.properties, PROPERTY_PGROUP) != h.producer_group:
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, "The producer group wrong")
        if half.queue_offset != h.tran_state_table_offset:
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, "The transaction state table offset wrong")
        if half.phys_offset != h.commit_log_offset:
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, "The commit log offset wrong")

    async def _send_final_message(self, half: StoredMessage, h: EndTransactionRequestHeader) -> RemotingCommand:
        """sendFinalMessage: the committed message into its real topic, the store's status as Java maps it."""
        try:
            msg = end_message(half, TRANSACTION_COMMIT_TYPE, h.commit_log_offset)
        except ValueError as exc:  # REAL_QID that is no number: Java's Integer.parseInt throws
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, f"java.lang.NumberFormatException: {exc}") from None
        result = self.bridge.put(msg)
        status = await self._wait_stored(result) if result.ok and _waits(msg.properties) else result.status
        ok = (
            PutMessageStatus.PUT_OK,
            PutMessageStatus.FLUSH_DISK_TIMEOUT,
            PutMessageStatus.FLUSH_SLAVE_TIMEOUT,
            PutMessageStatus.SLAVE_NOT_AVAILABLE,
        )
        if status in ok:
            return RemotingCommand.response(ResponseCode.SUCCESS)
        if status in (PutMessageStatus.MESSAGE_ILLEGAL, PutMessageStatus.PROPERTIES_SIZE_EXCEEDED):
            remark = (
                "The message is illegal, maybe msg body or properties length not matched. msg body length limit "
                f"{self.settings.store.max_message_size}B, msg properties length limit 32KB."
            )
            return RemotingCommand.response(ResponseCode.MESSAGE_ILLEGAL, remark)
        failures = {
            PutMessageStatus.CREATE_MAPEDFILE_FAILED: (ResponseCode.SYSTEM_ERROR, "Create mapped file failed."),
            PutMessageStatus.SERVICE_NOT_AVAILABLE: (ResponseCode.SERVICE_NOT_AVAILABLE, "Service not available now."),
            PutMessageStatus.OS_PAGECACHE_BUSY: (
                ResponseCode.SYSTEM_ERROR,
                "OS page cache busy, please try another machine",
            ),
        }
        code, remark = failures.get(status, (ResponseCode.SYSTEM_ERROR, "UNKNOWN_ERROR"))
        return RemotingCommand.response(code, remark)

    async def _wait_stored(self, result: PutMessageResult) -> PutMessageStatus:
        """CommitLog.handleDiskFlushAndHA for a message with WAIT: the disk (SYNC_FLUSH), then a slave (SYNC_MASTER)."""
        status = PutMessageStatus.PUT_OK
        if self.bridge.store.config.flush_disk_type is FlushDiskType.SYNC_FLUSH:
            status = await trio.to_thread.run_sync(self.bridge.store.wait_flushed, result)
        if self.replica is not None:
            replica_status = await self.replica(result.flush_offset)
            if replica_status is not PutMessageStatus.PUT_OK:
                status = replica_status
        return status

    async def resume_check_half_message(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        """Put a (discarded) half message back into the half queue with TRANSACTION_CHECK_TIMES=0."""
        h = ResumeCheckHalfMessageRequestHeader.from_ext(cmd.ext_fields)
        try:
            _, offset = decode_message_id(h.msg_id or "")
        except ValueError:
            return RemotingCommand.response(ResponseCode.SYSTEM_ERROR, _RESUME_ERROR)
        record = self.bridge.look(offset)
        if record is None:
            return RemotingCommand.response(ResponseCode.SYSTEM_ERROR, _RESUME_ERROR)
        if not self.bridge.put(resumed(record)).ok:
            return RemotingCommand.response(ResponseCode.SYSTEM_ERROR, _RESUME_FAILED)
        log.info(
            "Put message back to RMQ_SYS_TRANS_HALF_TOPIC. real topic=%s", get_property(record.properties, "REAL_TOPIC")
        )
        return RemotingCommand.response(ResponseCode.SUCCESS)


def _waits(properties: str) -> bool:
    """Message.isWaitStoreMsgOK: no WAIT property means true, otherwise Boolean.parseBoolean."""
    value = get_property(properties, PROPERTY_WAIT)
    return value is None or value.lower() == "true"
