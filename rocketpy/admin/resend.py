"""queryMsgById -s true (QueryMsgByIdSubCommand.sendMsg): a looked-up message sent again, as the producer group
"ReSendMsgById" sends the MessageExt it is given (DefaultMQProducerImpl.sendKernelImpl): the stored properties kept,
the unique key among them (setUniqID only sets a missing one), the flag kept, the sys flag computed anew."""

from __future__ import annotations

import time
import zlib

from rocketpy.admin.message_commands import AUTO_CREATE_TOPIC, COMPRESS_OVER, properties_string
from rocketpy.admin.message_detail import message_queue_string
from rocketpy.admin.send_rt_commands import RoundRobin, producer_route
from rocketpy.client.admin import SEND_OK_CODES, AdminClient
from rocketpy.client.message_id import create_uniq_id
from rocketpy.common.java import java_hash_order
from rocketpy.protocol.codes import ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.message_headers import SendMessageRequestHeaderV2
from rocketpy.protocol.message_record import MessageExt

RESEND_GROUP = "ReSendMsgById"
RETRY_PREFIX = "%RETRY%"  # MixAll.RETRY_GROUP_TOPIC_PREFIX
COMPRESSED_FLAG = 0x1  # MessageSysFlag.COMPRESSED_FLAG
TRANSACTION_PREPARED_TYPE = 0x4  # MessageSysFlag.TRANSACTION_PREPARED_TYPE
MESSAGE_ILLEGAL = 13  # ResponseCode.MESSAGE_ILLEGAL as Validators.checkMessage throws it


async def resend(admin: AdminClient, msg: MessageExt, queues_in_turn: RoundRobin) -> str:
    """One sync send of `msg` to its topic's next queue; SendResult.toString."""
    if not msg.body:  # Validators.checkMessage
        raise RocketMQError(MESSAGE_ILLEGAL, "the message body length is zero")
    route, queues = await producer_route(admin, msg.topic)
    broker_name, queue_id = queues_in_turn.pick(queues)
    addr = next((b.broker_addrs.get(0) for b in route.broker_datas if b.broker_name == broker_name), None)
    if addr is None:
        raise RocketMQError(-1, f"The broker[{broker_name}] not exist")
    props = dict(msg.properties)
    props.setdefault("UNIQ_KEY", create_uniq_id())
    body, sys_flag = bytes(msg.body), 0
    if len(body) > COMPRESS_OVER:
        body, sys_flag = zlib.compress(body, 5), COMPRESSED_FLAG
    if props.get("TRAN_MSG", "").lower() == "true":
        sys_flag |= TRANSACTION_PREPARED_TYPE
    reconsume_times, max_reconsume_times = 0, None
    if msg.topic.startswith(RETRY_PREFIX):
        if "RECONSUME_TIME" in props:
            reconsume_times = int(props["RECONSUME_TIME"])
        if "MAX_RECONSUME_TIMES" in props:
            max_reconsume_times = int(props["MAX_RECONSUME_TIMES"])
    header = SendMessageRequestHeaderV2(
        a=RESEND_GROUP,
        b=msg.topic,
        c=AUTO_CREATE_TOPIC,
        d=4,
        e=queue_id,
        f=sys_flag,
        g=int(time.time() * 1000),
        h=msg.flag,
        i=properties_string({k: props[k] for k in java_hash_order(props)}),  # the HashMap's iteration order
        j=reconsume_times,
        k=False,
        l=max_reconsume_times,
        m=False,
        n=broker_name,
    )
    code, reply = await admin.send_message(addr, header, body)
    mq = message_queue_string(msg.topic, broker_name, reply.queue_id)
    return (
        f"SendResult [sendStatus={SEND_OK_CODES[ResponseCode(code)]}, msgId={props['UNIQ_KEY']}, "
        f"offsetMsgId={reply.msg_id}, messageQueue={mq}, queueOffset={reply.queue_offset}]"
    )
