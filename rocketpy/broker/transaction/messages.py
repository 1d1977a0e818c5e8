"""The records of a transaction, built as 4.9.8 builds them (pure: no store, no sockets).

- `prepare_half`: TransactionalMessageBridge.parseHalfMessageInner, the send path's half message: REAL_TOPIC and
  REAL_QID saved, the transaction bits reset, topic RMQ_SYS_TRANS_HALF_TOPIC queue 0; the properties string is
  rendered from the whole map, so WAIT (re-put after SendMessageProcessor removed it) is stored, as in Java.
- `renew_half` / `renew_immunity_half`: renewHalfMessageInner / renewImmunityHalfMessageInner, a half message
  written again by the check (flag and reconsumeTimes are not copied, as in Java).
- `end_message`: EndTransactionProcessor.endMessageTransaction, the committed message in its real topic; its
  properties string is rendered before REAL_TOPIC / REAL_QID / TRAN_MSG are cleared, so they stay stored.
- `op_message`: makeOpMessageInner, tag "d" with the half queue offset as body (its string is rendered before
  the UNIQ_KEY is set, so no UNIQ_KEY is stored).
- `discarded` / `resumed`: DefaultTransactionalMessageCheckListener.toMessageExtBrokerInner
  (TRANS_CHECK_MAX_TIME_TOPIC) and AdminBrokerProcessor.toMessageExtBrokerInner (back to the half topic).
- `check_body`: MessageDecoder.encode of the half message for CHECK_TRANSACTION_STATE, with the real topic and
  queue and its size recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass

from rocketpy.broker.processors.send_support import parse_properties, properties_string
from rocketpy.broker.topic_validator import (
    RMQ_SYS_TRANS_CHECK_MAX_TIME_TOPIC,
    RMQ_SYS_TRANS_HALF_TOPIC,
    RMQ_SYS_TRANS_OP_HALF_TOPIC,
)
from rocketpy.store.commitlog import MessageInner, encode_record
from rocketpy.store.format import (
    TRANSACTION_MASK,
    TRANSACTION_NOT_TYPE,
    HostAddr,
    StoredMessage,
)

CID_SYS_RMQ_TRANS = "CID_RMQ_SYS_TRANS"  # MixAll.CID_SYS_RMQ_TRANS: the offsets of the half and op queues
REMOVE_TAG = "d"  # TransactionalMessageUtil.REMOVETAG

PROPERTY_TRAN_MSG = "TRAN_MSG"
PROPERTY_PGROUP = "PGROUP"
PROPERTY_REAL_TOPIC = "REAL_TOPIC"
PROPERTY_REAL_QUEUE_ID = "REAL_QID"
PROPERTY_UNIQ_KEY = "UNIQ_KEY"
PROPERTY_WAIT = "WAIT"
PROPERTY_TAGS = "TAGS"
PROPERTY_CHECK_TIMES = "TRANSACTION_CHECK_TIMES"
PROPERTY_PREPARED_QUEUE_OFFSET = "TRAN_PREPARED_QUEUE_OFFSET"
PROPERTY_CHECK_IMMUNITY = "CHECK_IMMUNITY_TIME_IN_SECONDS"


def reset_transaction(sys_flag: int, tran_type: int) -> int:
    """MessageSysFlag.resetTransactionValue."""
    return (sys_flag & ~TRANSACTION_MASK) | tran_type


@dataclass(slots=True)
class HalfMessage:
    """A half message read back (MessageExt): the decoded record and its properties map, which the check edits
    (TRANSACTION_CHECK_TIMES) and re-renders in insertion order, as a Java HashMap put keeps a key in place."""

    record: StoredMessage
    props: dict[str, str]

    @classmethod
    def of(cls, record: StoredMessage) -> HalfMessage:
        return cls(record, parse_properties(record.properties))

    def properties(self) -> str:
        return properties_string(self.props)


def prepare_half(msg: MessageInner, props: dict[str, str], insertion: list[str]) -> list[str]:
    """parseHalfMessageInner on the send path's message; `props`/`insertion` are its map and key order (WAIT
    goes last: SendMessageProcessor removed and re-put it). Returns the new key order."""
    order = [k for k in insertion if k != PROPERTY_WAIT] + ([PROPERTY_WAIT] if PROPERTY_WAIT in props else [])
    props[PROPERTY_REAL_TOPIC] = msg.topic
    props[PROPERTY_REAL_QUEUE_ID] = str(msg.queue_id)
    order += [k for k in (PROPERTY_REAL_TOPIC, PROPERTY_REAL_QUEUE_ID) if k not in order]
    msg.sys_flag = reset_transaction(msg.sys_flag, TRANSACTION_NOT_TYPE)
    msg.topic, msg.queue_id = RMQ_SYS_TRANS_HALF_TOPIC, 0
    msg.properties = properties_string(props, order)
    return order


def renew_half(half: HalfMessage) -> MessageInner:
    r = half.record
    msg = MessageInner(
        topic=r.topic,
        queue_id=r.queue_id,
        body=r.body,
        properties=half.properties(),
        sys_flag=r.sys_flag,
        born_timestamp=r.born_timestamp,
        born_host=r.born_host,
        store_host=r.store_host,
    )
    # setWaitStoreMsgOK(false) comes after the string was rendered, on the map the MessageExt shares: the record
    # keeps WAIT=true, the check-back body (and an immunity copy, rendered again) carries WAIT=false.
    half.props[PROPERTY_WAIT] = "false"
    return msg


def renew_immunity_half(half: HalfMessage) -> MessageInner:
    """The half message written again while its immunity lasts, remembering its first queue offset."""
    msg = renew_half(half)
    if PROPERTY_PREPARED_QUEUE_OFFSET not in half.props:
        half.props[PROPERTY_PREPARED_QUEUE_OFFSET] = str(half.record.queue_offset)
    msg.properties = half.properties()
    return msg


def end_message(half: StoredMessage, tran_type: int, commit_log_offset: int) -> MessageInner:
    """The message a COMMIT stores in its real topic (sysFlag commit, preparedTransactionOffset = the half's)."""
    props = parse_properties(half.properties)
    return MessageInner(
        topic=props.get(PROPERTY_REAL_TOPIC, ""),
        queue_id=int(props.get(PROPERTY_REAL_QUEUE_ID, "")),  # Java: Integer.parseInt, a NumberFormatException
        body=half.body,
        properties=properties_string(props),
        flag=half.flag,
        sys_flag=reset_transaction(half.sys_flag, tran_type),
        born_timestamp=half.born_timestamp,
        born_host=half.born_host,
        store_host=half.store_host,
        reconsume_times=half.reconsume_times,
        prepared_tx_offset=commit_log_offset,
    )


def op_message(half_queue_offset: int, queue_id: int, host: HostAddr, now_ms: int) -> MessageInner:
    props = {PROPERTY_TAGS: REMOVE_TAG, PROPERTY_WAIT: "true"}  # new Message(topic, "d", body): tags, then WAIT
    return MessageInner(
        topic=RMQ_SYS_TRANS_OP_HALF_TOPIC,
        queue_id=queue_id,
        body=str(half_queue_offset).encode(),
        properties=properties_string(props),
        born_timestamp=now_ms,
        born_host=host,
        store_host=host,
    )


def discarded(half: HalfMessage, queue_id: int = 0) -> MessageInner:
    """A half message checked too often, moved to TRANS_CHECK_MAX_TIME_TOPIC (1 queue)."""
    r = half.record
    return MessageInner(
        topic=RMQ_SYS_TRANS_CHECK_MAX_TIME_TOPIC,
        queue_id=queue_id,
        body=r.body,
        properties=half.properties(),
        flag=r.flag,
        sys_flag=r.sys_flag,
        born_timestamp=r.born_timestamp,
        born_host=r.born_host,
        store_host=r.store_host,
        reconsume_times=r.reconsume_times,
    )


def resumed(record: StoredMessage) -> MessageInner:
    """RESUME_CHECK_HALF_MESSAGE: the message back in the half queue with TRANSACTION_CHECK_TIMES=0."""
    props = parse_properties(record.properties)
    props[PROPERTY_CHECK_TIMES] = "0"
    return MessageInner(
        topic=RMQ_SYS_TRANS_HALF_TOPIC,
        queue_id=0,
        body=record.body,
        properties=properties_string(props),
        flag=record.flag,
        sys_flag=record.sys_flag,
        born_timestamp=record.born_timestamp,
        born_host=record.born_host,
        store_host=record.store_host,
        reconsume_times=record.reconsume_times,
    )


def check_body(half: HalfMessage) -> bytes:
    """The CHECK_TRANSACTION_STATE body: the half message (at its rewritten position) in its real topic/queue."""
    r = half.record
    msg = MessageInner(
        topic=half.props.get(PROPERTY_REAL_TOPIC, ""),
        queue_id=int(half.props.get(PROPERTY_REAL_QUEUE_ID, "")),
        body=r.body,
        properties=half.properties(),
        flag=r.flag,
        sys_flag=r.sys_flag,
        born_timestamp=r.born_timestamp,
        born_host=r.born_host,
        store_host=r.store_host,
        reconsume_times=r.reconsume_times,
        prepared_tx_offset=r.prepared_tx_offset,
    )
    return encode_record(msg, r.queue_offset, r.phys_offset, r.store_timestamp)
