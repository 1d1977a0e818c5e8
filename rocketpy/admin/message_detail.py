"""A message as mqadmin prints it: QueryMsgByIdSubCommand.printMsg (the field table, the body file under
/tmp/rocketmq/msgbodys, DefaultMQAdminExtImpl.messageTrackDetail) and MessageExt.toString (printMsg's lines).

Shared by queryMsgById, queryMsgByUniqueKey and queryMsgByOffset (the table) and printMsg / printMsgByQueue /
consumeMessage (the one-line toString).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TextIO

import trio

from rocketpy.admin.command import java_str, printf
from rocketpy.admin.consumer_commands import consume_stats, consumer_connection
from rocketpy.admin.java_format import human_time
from rocketpy.client.admin import AdminClient
from rocketpy.common.java import java_hash_order, java_string_hash
from rocketpy.protocol.bodies.heartbeat import ConsumeType
from rocketpy.protocol.codes import ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.message_record import MessageExt

BODY_DIR = "/tmp/rocketmq/msgbodys"  # QueryMsgByIdSubCommand.createBodyFile


def java_map_string(props: dict[str, str]) -> str:
    """AbstractMap.toString of the HashMap MessageDecoder.string2messageProperties fills (then putProperty)."""
    return "{" + ", ".join(f"{k}={props[k]}" for k in java_hash_order(props)) + "}"


def java_bytes(body: bytes) -> str:
    """Arrays.toString(byte[]): signed bytes; a zero-length body is never set by the decoder (null)."""
    if not body:
        return "null"
    return "[" + ", ".join(str(b - 256 if b > 127 else b) for b in body) + "]"


def message_ext_string(msg: MessageExt, broker_name: str | None) -> str:
    """MessageExt.toString of a client-decoded message (MessageClientExt: the msgId field is the offset id)."""
    born = "/" + msg.born_host
    store = "/" + msg.store_host
    transaction_id = msg.properties.get("UNIQ_KEY") if msg.properties.get("TRAN_MSG", "").lower() == "true" else None
    inner = (
        f"Message{{topic='{msg.topic}', flag={msg.flag}, properties={java_map_string(msg.properties)}, "
        f"body={java_bytes(msg.body)}, transactionId='{java_str(transaction_id)}'}}"
    )
    return (
        f"MessageExt [brokerName={broker_name}, queueId={msg.queue_id}, storeSize={msg.store_size}, "
        f"queueOffset={msg.queue_offset}, sysFlag={msg.sys_flag}, bornTimestamp={msg.born_timestamp}, "
        f"bornHost={born}, storeTimestamp={msg.store_timestamp}, storeHost={store}, msgId={msg.offset_msg_id}, "
        f"commitLogOffset={msg.commit_log_offset}, bodyCRC={msg.body_crc}, reconsumeTimes={msg.reconsume_times}, "
        f"preparedTransactionOffset={msg.prepared_transaction_offset}, toString()={inner}]"
    )


def message_queue_string(topic: str, broker_name: str, queue_id: int) -> str:
    """MessageQueue.toString."""
    return f"MessageQueue [topic={topic}, brokerName={broker_name}, queueId={queue_id}]"


def message_queue_hash(topic: str, broker_name: str, queue_id: int) -> int:
    """MessageQueue.hashCode (for the order of Java's HashSet<MessageQueue>)."""
    h = 31 + java_string_hash(broker_name)
    h = (31 * h + queue_id) & 0xFFFFFFFF
    return (31 * h + java_string_hash(topic)) & 0xFFFFFFFF


def message_queue_set_order(queues: list[tuple[str, str, int]]) -> list[tuple[str, str, int]]:
    """The iteration order of a HashSet<MessageQueue> filled in the given order (default capacity)."""
    capacity = 16
    while len(queues) > capacity * 3 // 4:
        capacity <<= 1

    def slot(item: tuple[int, tuple[str, str, int]]) -> tuple[int, int]:
        h = message_queue_hash(*item[1])
        return (h ^ (h >> 16)) & (capacity - 1), item[0]

    return [q for _, q in sorted(enumerate(queues), key=slot)]


@dataclass(slots=True)
class MessageDetail:
    """What printMsg prints for one message: the message, its body file and its tracks (or the track error)."""

    msg: MessageExt
    body_path: str
    tracks: list[str] | None  # None: the track look-up failed (Java prints the stack trace and no track lines)


def _write_body(path: str, body: bytes) -> None:
    os.makedirs(BODY_DIR, exist_ok=True)
    with open(path, "wb") as f:
        f.write(body)


async def write_body_file(msg: MessageExt, index: int = 0) -> str:
    """createBodyFile: the body under /tmp/rocketmq/msgbodys/<msgId>[_index] (off the event loop)."""
    path = f"{BODY_DIR}/{msg.msg_id}" + (f"_{index}" if index > 0 else "")
    await trio.to_thread.run_sync(_write_body, path, msg.body)
    return path


def _remark(exc: RocketMQError) -> str:
    """MQBrokerException.getErrorMessage: the remark without the " BROKER: addr" tail."""
    return (exc.remark or "").split(" BROKER: ")[0]


def _track(group: str, track_type: str, desc: str | None) -> str:
    return f"MessageTrack [consumerGroup={group}, trackType={track_type}, exceptionDesc={java_str(desc)}]"


async def message_tracks(admin: AdminClient, msg: MessageExt) -> list[str]:
    """DefaultMQAdminExtImpl.messageTrackDetail: per group that consumes the topic, whether it consumed the message
    (MessageTrack.toString lines)."""
    out: list[str] = []
    route = await admin.topic_route(msg.topic)
    addr = route.broker_datas[0].select_broker_addr() if route.broker_datas else None
    groups = await admin.topic_consumed_by(addr, msg.topic) if addr else []
    for group in groups:
        try:
            connection = await consumer_connection(admin, group)
        except RocketMQError as exc:
            kind = "NOT_ONLINE" if exc.code == ResponseCode.CONSUMER_NOT_ONLINE else "UNKNOWN"
            out.append(_track(group, kind, f"CODE:{exc.code} DESC:{_remark(exc)}"))
            continue
        if connection.consume_type == ConsumeType.CONSUME_ACTIVELY:
            out.append(_track(group, "PULL", None))
            continue
        if connection.consume_type != ConsumeType.CONSUME_PASSIVELY:
            out.append(_track(group, "UNKNOWN", None))
            continue
        try:
            consumed = await _consumed(admin, msg, group)
        except RocketMQError as exc:
            kind = "NOT_ONLINE" if exc.code == ResponseCode.CONSUMER_NOT_ONLINE else "UNKNOWN"
            out.append(_track(group, kind, f"CODE:{exc.code} DESC:{_remark(exc)}"))
            continue
        kind = "NOT_CONSUME_YET"
        if consumed:
            kind = "CONSUMED"
            sub = connection.subscription_table.get(msg.topic)
            if sub is not None and not (msg.tags in sub.tags_set or "*" in sub.tags_set or not sub.tags_set):
                kind = "CONSUMED_BUT_FILTERED"
        out.append(_track(group, kind, None))
    return out


async def _consumed(admin: AdminClient, msg: MessageExt, group: str) -> bool:
    """DefaultMQAdminExtImpl.consumed: the group's offset on the message's queue (on the master that stored it) is
    past the message."""
    table, _ = await consume_stats(admin, group)
    info = await admin.cluster_info()
    for (topic, broker_name, queue_id), wrapper in table.items():
        if topic != msg.topic or queue_id != msg.queue_id:
            continue
        data = info.broker_addr_table.get(broker_name)
        stored_here = data is not None and data.broker_addrs.get(0) == msg.store_host
        if stored_here and int(wrapper.get("consumerOffset", 0)) > msg.queue_offset:
            return True
    return False


async def message_detail(admin: AdminClient, msg: MessageExt, *, index: int = 0) -> MessageDetail:
    path = await write_body_file(msg, index)
    try:
        tracks = await message_tracks(admin, msg)
    except RocketMQError:  # Java prints the stack trace and goes on: no track lines
        tracks = None
    return MessageDetail(msg, path, tracks)


def render_detail(detail: MessageDetail, out: TextIO, *, with_offset_id: bool = True) -> None:
    """printMsg's table (queryMsgByUniqueKey's showMessage leaves out the OffsetID line)."""
    msg = detail.msg
    row = "%-20s %s%n"
    if with_offset_id:
        printf(out, row, "OffsetID:", msg.offset_msg_id)
    printf(out, row, "Topic:", msg.topic)
    printf(out, row, "Tags:", f"[{java_str(msg.tags)}]")
    printf(out, row, "Keys:", f"[{java_str(msg.keys)}]")
    printf(out, "%-20s %d%n", "Queue ID:", msg.queue_id)
    printf(out, "%-20s %d%n", "Queue Offset:", msg.queue_offset)
    printf(out, "%-20s %d%n", "CommitLog Offset:", msg.commit_log_offset)
    printf(out, "%-20s %d%n", "Reconsume Times:", msg.reconsume_times)
    printf(out, row, "Born Timestamp:", human_time(msg.born_timestamp))
    printf(out, row, "Store Timestamp:", human_time(msg.store_timestamp))
    printf(out, row, "Born Host:", msg.born_host)
    printf(out, row, "Store Host:", msg.store_host)
    printf(out, "%-20s %d%n", "System Flag:", msg.sys_flag)
    printf(out, row, "Properties:", java_map_string(msg.properties))
    printf(out, row, "Message Body Path:", detail.body_path)
    if detail.tracks is None:
        return
    if not detail.tracks:
        out.write("\n\nWARN: No Consumer")
    else:
        out.write("\n\n" + "".join(detail.tracks))
