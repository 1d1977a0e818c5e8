"""Message subcommands (tools.command.message.SendMessageCommand, QueryMsgByKeySubCommand)."""

from __future__ import annotations

import argparse
import random
import time
import zlib
from typing import Any, TextIO

from rocketpy.admin.command import SubCommand, optional, printf, required
from rocketpy.client.admin import SEND_OK_CODES, AdminClient
from rocketpy.client.message_id import create_uniq_id
from rocketpy.protocol.bodies.route import TopicRouteData
from rocketpy.protocol.codes import ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.message_headers import SendMessageRequestHeaderV2
from rocketpy.protocol.message_record import MessageExt

AUTO_CREATE_TOPIC = "TBW102"  # TopicValidator.AUTO_CREATE_TOPIC_KEY_TOPIC
COMPRESS_OVER = 4096  # DefaultMQProducer.compressMsgBodyOverHowmuch
NO_ROUTE_FAQ = "\nSee http://rocketmq.apache.org/docs/faq/ for further details."


def properties_string(props: dict[str, str]) -> str:
    """MessageDecoder.messageProperties2String."""
    return "".join(f"{k}\x01{v}\x02" for k, v in props.items())


async def query_broker_addrs(admin: AdminClient, topic: str) -> list[str]:
    """MQAdminImpl.queryMessage's brokers: the master (else a slave) of each broker in the topic's route; no route
    (the NameServer's failure is only logged) or no address is TOPIC_NOT_EXIST "The topic[X] not matched route info"."""
    try:
        route = await admin.topic_route(topic)
    except RocketMQError as exc:
        if exc.code != ResponseCode.TOPIC_NOT_EXIST:
            raise
        route = None
    addrs = [] if route is None else [a for b in route.broker_datas if (a := b.select_broker_addr()) is not None]
    if not addrs:
        raise RocketMQError(ResponseCode.TOPIC_NOT_EXIST, f"The topic[{topic}] not matched route info")
    return addrs


async def query_by_key(admin: AdminClient, topic: str, key: str, max_num: int) -> list[MessageExt]:
    """MQAdminImpl.queryMessage by key: every broker of the topic's route, the messages whose keys hold `key`."""
    found: list[MessageExt] = []
    for addr in await query_broker_addrs(admin, topic):
        for message in await admin.query_message(addr, topic, key, max_num):
            if message.keys is not None and key in message.keys.split(" ") and message.topic == topic:
                found.append(message)
    if not found:
        raise RocketMQError(ResponseCode.NO_MESSAGE, "query message by key finished, but no message.")
    return found


async def publish_route(admin: AdminClient, topic: str) -> TopicRouteData:
    """DefaultMQProducerImpl.tryToFindTopicPublishInfo: the topic's route, else the auto-create topic's (the broker
    then creates the topic from it, when autoCreateTopicEnable)."""
    for name in (topic, AUTO_CREATE_TOPIC):
        try:
            route = await admin.topic_route(name)
        except RocketMQError as exc:
            if exc.code != ResponseCode.TOPIC_NOT_EXIST:
                raise
            continue
        if route.queue_datas:
            return route
    raise RocketMQError(-1, f"No route info of this topic: {topic}{NO_ROUTE_FAQ}")


class SendMessage(SubCommand):
    NAME = "sendMessage"
    HELP = "Send a message"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "t", "topic", "Topic name")
        required(parser, "p", "body", "UTF-8 string format of the message body")
        optional(parser, "k", "key", "Message keys")
        optional(parser, "c", "tags", "Message tags")
        optional(parser, "b", "broker", "Send message to target broker")
        optional(parser, "i", "qid", "Send message to target queue")
        optional(parser, "m", "msgTraceEnable", "Message Trace Enable, Default: false")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        topic, body = args.topic.strip(), args.body.strip().encode("utf-8")
        if args.qid is not None and args.broker is None:
            return {"text": "Broker name must be set if the queue is chosen!"}
        if args.msgTraceEnable is not None and args.msgTraceEnable.strip().lower() == "true":
            raise RocketMQError(-1, "sendMessage -m true (message trace) is not implemented in rocketpy admin yet")
        route = await publish_route(admin, topic)
        writable = [(q.broker_name, i) for q in route.queue_datas if q.perm & 2 for i in range(q.write_queue_nums)]
        if args.broker is not None and args.qid is not None:
            broker_name, queue_id = args.broker.strip(), int(args.qid.strip())
        elif writable:
            broker_name, queue_id = random.choice(writable)  # the producer's rotating start queue
        else:
            raise RocketMQError(-1, f"No route info of this topic: {topic}{NO_ROUTE_FAQ}")
        broker = next((b for b in route.broker_datas if b.broker_name == broker_name), None)
        addr = broker.broker_addrs.get(0) if broker is not None else None
        if addr is None:
            raise RocketMQError(-1, f"The broker[{broker_name}] not exist")
        props: dict[str, str] = {}
        if args.key is not None:
            props["KEYS"] = args.key.strip()
        if args.tags is not None:
            props["TAGS"] = args.tags.strip()
        props["WAIT"] = "true"
        uniq = create_uniq_id()
        props["UNIQ_KEY"] = uniq
        sys_flag = 0
        if len(body) > COMPRESS_OVER:
            body, sys_flag = zlib.compress(body, 5), 1
        header = SendMessageRequestHeaderV2(
            a=str(int(time.time() * 1000)),
            b=topic,
            c=AUTO_CREATE_TOPIC,
            d=4,
            e=queue_id,
            f=sys_flag,
            g=int(time.time() * 1000),
            h=0,
            i=properties_string(props),
            j=0,
            k=False,
            m=False,
            n=broker_name,
        )
        code, reply = await admin.send_message(addr, header, body)
        return {"row": (broker_name, reply.queue_id, SEND_OK_CODES[ResponseCode(code)], uniq)}

    def render(self, data: Any, out: TextIO) -> None:
        if "text" in data:
            out.write(data["text"])
            return
        fmt = "%-32s  %-4s  %-20s    %s%n"
        printf(out, fmt, "#Broker Name", "#QID", "#Send Result", "#MsgId")
        printf(out, fmt, *data["row"])


class QueryMsgByKey(SubCommand):
    NAME = "queryMsgByKey"
    HELP = "Query Message by Key"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "t", "topic", "topic name")
        required(parser, "k", "msgKey", "Message Key")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        found = await query_by_key(admin, args.topic.strip(), args.msgKey.strip(), 64)
        return [(m.msg_id, m.queue_id, m.queue_offset) for m in found]

    def render(self, data: Any, out: TextIO) -> None:
        printf(out, "%-50s %4s %40s%n", "#Message ID", "#QID", "#Offset")
        for row in data:
            printf(out, "%-50s %4d %40d%n", *row)
