"""Command headers of transactional messages: END_TRANSACTION (37), CHECK_TRANSACTION_STATE (39, broker to
producer) and RESUME_CHECK_HALF_MESSAGE (323).

Mirrors common.protocol.header.EndTransactionRequestHeader, CheckTransactionStateRequestHeader and
ResumeCheckHalfMessageRequestHeader of RocketMQ 4.9.8. A field without a default is @CFNotNull; `bname` is the
optional RpcRequestHeader field (4.9.5+) the broker ignores.
"""

from __future__ import annotations

from dataclasses import dataclass

from rocketpy.protocol.codes import ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.header import Header

# MessageSysFlag transaction types, as END_TRANSACTION's commitOrRollback carries them
TRANSACTION_NOT_TYPE = 0x0
TRANSACTION_COMMIT_TYPE = 0x8
TRANSACTION_ROLLBACK_TYPE = 0xC

COMMIT_OR_ROLLBACK_WRONG = (  # RemotingHelper.exceptionSimpleDesc, 4.9.8 line numbers
    "org.apache.rocketmq.remoting.exception.RemotingCommandException: commitOrRollback field wrong, "
    "org.apache.rocketmq.common.protocol.header.EndTransactionRequestHeader.checkFields("
    "EndTransactionRequestHeader.java:60)"
)


@dataclass(slots=True, eq=False, repr=False)
class EndTransactionRequestHeader(Header):
    """END_TRANSACTION (37), sent oneway by the producer after its local transaction or a check-back."""

    producer_group: str
    tran_state_table_offset: int
    commit_log_offset: int
    commit_or_rollback: int
    msg_id: str | None = None  # @CFNotNull, but Java's lenient decode leaves it null and the broker never reads it
    from_transaction_check: bool = False
    transaction_id: str | None = None
    bname: str | None = None

    def check_fields(self) -> None:
        """checkFields: only the three transaction types; the remark is exceptionSimpleDesc of Java's exception."""
        if self.commit_or_rollback not in (TRANSACTION_NOT_TYPE, TRANSACTION_COMMIT_TYPE, TRANSACTION_ROLLBACK_TYPE):
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, COMMIT_OR_ROLLBACK_WRONG)


@dataclass(slots=True, eq=False, repr=False)
class CheckTransactionStateRequestHeader(Header):
    """CHECK_TRANSACTION_STATE (39): the half message's queue offset and commit-log offset, its UNIQ_KEY twice and
    its offset message id."""

    tran_state_table_offset: int
    commit_log_offset: int
    msg_id: str | None = None
    transaction_id: str | None = None
    offset_msg_id: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class ResumeCheckHalfMessageRequestHeader(Header):
    """RESUME_CHECK_HALF_MESSAGE (323): the offset message id of a half message to check again."""

    msg_id: str | None = None
