"""Message look-up subcommands (tools.command.message.QueryMsgByIdSubCommand, QueryMsgByUniqueKeySubCommand,
QueryMsgByOffsetSubCommand, PrintMessageSubCommand, PrintMessageByQueueCommand; queue.QueryConsumeQueueCommand).

The pulls are DefaultMQPullConsumer's (group TOOLS_CONSUMER, no offset commit, the subscription sent along), the
message table is QueryMsgByIdSubCommand.printMsg (rocketpy.admin.message_detail).
"""

from __future__ import annotations

import argparse
import codecs
import datetime
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from rocketpy.admin.command import SubCommand, java_str, optional, printf, required
from rocketpy.admin.java_format import pretty_json
from rocketpy.admin.message_commands import query_broker_addrs
from rocketpy.admin.message_detail import (
    message_detail,
    message_ext_string,
    message_queue_set_order,
    message_queue_string,
    render_detail,
)
from rocketpy.admin.resend import resend
from rocketpy.admin.send_rt_commands import RoundRobin
from rocketpy.client.admin import PULL_CODES, AdminClient
from rocketpy.common.java import java_hash_order
from rocketpy.protocol.bodies.route import TopicRouteData
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.message_headers import PullMessageRequestHeader
from rocketpy.protocol.message_record import MessageExt

TOOLS_CONSUMER = "TOOLS_CONSUMER"  # MixAll.TOOLS_CONSUMER_GROUP
FLAG_SUBSCRIPTION = 0x4  # PullSysFlag.buildSysFlag(false, false, true, false)
BROKER_SUSPEND_MAX_MILLIS = 20000  # DefaultMQPullConsumer.brokerSuspendMaxTimeMillis
FAQ = "\nSee http://rocketmq.apache.org/docs/faq/ for further details."


def decode_offset_msg_id(msg_id: str) -> tuple[str, int]:
    """MessageDecoder.decodeMessageId: the store address and commit-log offset of an offset message id (IPv4)."""
    if len(msg_id) != 32:
        raise ValueError(msg_id)
    raw = bytes.fromhex(msg_id)
    ip = ".".join(str(b) for b in raw[:4])
    return f"{ip}:{int.from_bytes(raw[4:8], 'big', signed=True)}", int.from_bytes(raw[8:], "big", signed=True)


def parse_timestamp(value: str) -> int:
    """PrintMessageSubCommand.timestampFormat: millis, else yyyy-MM-dd#HH:mm:ss:SSS in local time."""
    try:
        return int(value)
    except ValueError:
        moment = datetime.datetime.strptime(value, "%Y-%m-%d#%H:%M:%S:%f")
        return int(moment.timestamp() * 1000)


def tags_of(expression: str) -> set[str]:
    """FilterAPI.buildSubscriptionData's tagsSet ("*" or empty: every tag)."""
    if not expression or expression == "*":
        return set()
    return {t.strip() for t in expression.split("||") if t.strip()}


@dataclass(slots=True)
class PullResult:
    status: str
    next_begin_offset: int
    min_offset: int
    max_offset: int
    found: list[MessageExt] = field(default_factory=list)


def broker_addr(route: TopicRouteData, broker_name: str) -> str:
    """MQClientInstance.findBrokerAddressInSubscribe / InPublish on the master; a missing broker as Java says it."""
    for broker in route.broker_datas:
        if broker.broker_name == broker_name and 0 in broker.broker_addrs:
            return broker.broker_addrs[0]
    raise RocketMQError(-1, f"The broker[{broker_name}] not exist{FAQ}")


async def pull(
    admin: AdminClient,
    addr: str,
    topic: str,
    broker_name: str,
    queue_id: int,
    expression: str,
    offset: int,
    n: int,
    *,
    group: str = TOOLS_CONSUMER,
) -> PullResult:
    """DefaultMQPullConsumer.pull(mq, subExpression, offset, maxNums) including processPullResult (tags filtered
    again on the client; MIN_OFFSET / MAX_OFFSET put into each message's properties)."""
    header = PullMessageRequestHeader(
        consumer_group=group,
        topic=topic,
        queue_id=queue_id,
        queue_offset=offset,
        max_msg_nums=n,
        sys_flag=FLAG_SUBSCRIPTION,
        commit_offset=0,
        suspend_timeout_millis=BROKER_SUSPEND_MAX_MILLIS,
        sub_version=0,
        subscription=expression,
        expression_type="TAG",
        bname=broker_name,
    )
    code, reply, found = await admin.pull_message(addr, header)
    tags = tags_of(expression)
    if tags:
        found = [m for m in found if m.tags is not None and m.tags in tags]
    for m in found:
        m.properties["MIN_OFFSET"] = str(reply.min_offset)
        m.properties["MAX_OFFSET"] = str(reply.max_offset)
    return PullResult(
        PULL_CODES[ResponseCode(code)], reply.next_begin_offset, reply.min_offset, reply.max_offset, found
    )


class QueryMsgById(SubCommand):
    NAME = "queryMsgById"
    HELP = "Query Message by Id"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "i", "msgId", "Message Id")
        optional(parser, "g", "consumerGroup", "consumer group name")
        optional(parser, "d", "clientId", "The consumer's client id")
        optional(parser, "s", "sendMessage", "resend message")
        optional(parser, "u", "unitName", "unit name")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        ids = [i.strip() for i in args.msgId.strip().split(",") if i.strip()]
        if args.consumerGroup is not None and args.clientId is not None:
            group, client_id = args.consumerGroup.strip(), args.clientId.strip()
            direct: list[tuple[str, Any]] = []
            for msg_id in ids:
                try:  # pushMsg: a failure is printed (a stack trace in mqadmin) and the next id goes on
                    msg = await view_by_offset_id(admin, msg_id)
                    direct.append(("direct", await consume_directly(admin, group, client_id, msg, msg_id)))
                except RocketMQError as exc:
                    direct.append(("error", f"CODE: {exc.code}  DESC: {exc.remark}"))
            return direct
        if args.sendMessage is not None:  # -s true resends the messages; any other value: nothing, as mqadmin
            if args.sendMessage.strip().lower() != "true":
                return []
            queues_in_turn = RoundRobin()  # one producer for all the ids
            sent: list[tuple[str, Any]] = []
            for msg_id in ids:
                try:  # sendMsg: a failure is printed (a stack trace in mqadmin) and the next id goes on
                    msg = await view_by_offset_id(admin, msg_id)
                    sent.append(("direct", f"prepare resend msg. originalMsgId={msg_id}"))
                    sent.append(("direct", await resend(admin, msg, queues_in_turn)))
                except RocketMQError as exc:
                    sent.append(("error", f"CODE: {exc.code}  DESC: {exc.remark}"))
            return sent
        out: list[tuple[str, Any]] = []
        for msg_id in ids:
            msg = await view_by_offset_id(admin, msg_id)
            out.append(("detail", await message_detail(admin, msg)))
        return out

    def render(self, data: Any, out: TextIO) -> None:
        for kind, item in data:
            if kind == "direct":
                out.write(item)
            elif kind == "error":
                sys.stderr.write(f"rocketpy admin queryMsgById: {item}\n")
            else:
                render_detail(item, out)


async def view_by_offset_id(admin: AdminClient, msg_id: str) -> MessageExt:
    """MQAdminImpl.viewMessage: VIEW_MESSAGE_BY_ID at the broker and offset the id encodes."""
    try:
        addr, offset = decode_offset_msg_id(msg_id)
    except ValueError:
        raise RocketMQError(ResponseCode.NO_MESSAGE, "query message by id finished, but no message.") from None
    return await admin.view_message(addr, offset)


async def consume_directly(admin: AdminClient, group: str, client_id: str, msg: MessageExt, msg_id: str) -> str:
    """DefaultMQAdminExtImpl.consumeMessageDirectly: CONSUME_MESSAGE_DIRECTLY at the broker that stored the message,
    relayed to the client; ConsumeMessageDirectlyResult.toString."""
    result = await admin.consume_message_directly(msg.store_host, group, client_id, msg_id)
    return (
        f"ConsumeMessageDirectlyResult [order={java_str(bool(result.get('order', False)))}, "
        f"autoCommit={java_str(bool(result.get('autoCommit', True)))}, "
        f"consumeResult={java_str(result.get('consumeResult'))}, remark={java_str(result.get('remark'))}, "
        f"spentTimeMills={result.get('spentTimeMills', 0)}]"
    )


class QueryMsgByUniqueKey(SubCommand):
    NAME = "queryMsgByUniqueKey"
    HELP = "Query Message by Unique key"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "i", "msgId", "Message Id")
        optional(parser, "g", "consumerGroup", "consumer group name")
        optional(parser, "d", "clientId", "The consumer's client id")
        required(parser, "t", "topic", "The topic of msg")
        optional(parser, "a", "showAll", "Print all message, the limit is 32", flag=True)

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        msg_id, topic = args.msgId.strip(), args.topic.strip()
        if args.consumerGroup is not None and args.clientId is not None:
            group, client_id = args.consumerGroup.strip(), args.clientId.strip()
            try:  # DefaultMQAdminExtImpl.viewMessage(topic, msgId): an offset id first, else the unique key
                msg = await view_by_offset_id(admin, msg_id)
            except RocketMQError:
                msg = (await self.by_unique_key(admin, topic, msg_id))[0]
            target = msg.offset_msg_id if "UNIQ_KEY" in msg.properties else msg_id
            return [("direct", await consume_directly(admin, group, client_id, msg, target))]
        found = await self.by_unique_key(admin, topic, msg_id)
        return [("detail", await message_detail(admin, m, index=i)) for i, m in enumerate(found)]

    @staticmethod
    async def by_unique_key(admin: AdminClient, topic: str, msg_id: str) -> list[MessageExt]:
        """MQAdminImpl.queryMessage with the unique key: the earliest stored match over the topic's brokers."""
        found: list[MessageExt] = []
        for addr in await query_broker_addrs(admin, topic):
            for m in await admin.query_message(addr, topic, msg_id, 32, unique=True):
                if m.msg_id != msg_id:
                    continue
                if not found:
                    found.append(m)
                elif found[0].store_timestamp > m.store_timestamp:
                    found[:] = [m]
        if not found:
            raise RocketMQError(ResponseCode.NO_MESSAGE, "query message by key finished, but no message.")
        return found

    def render(self, data: Any, out: TextIO) -> None:
        for kind, item in data:
            if kind == "direct":
                out.write(item)
            else:
                render_detail(item, out, with_offset_id=False)


class QueryMsgByOffset(SubCommand):
    NAME = "queryMsgByOffset"
    HELP = "Query Message by offset"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "t", "topic", "topic name")
        required(parser, "b", "brokerName", "Broker Name")
        required(parser, "i", "queueId", "Queue Id")
        required(parser, "o", "offset", "Queue Offset")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        topic, broker_name = args.topic.strip(), args.brokerName.strip()
        queue_id, offset = int(args.queueId.strip()), int(args.offset.strip())
        route = await admin.topic_route(topic)
        addr = broker_addr(route, broker_name)
        result = await pull(admin, addr, topic, broker_name, queue_id, "*", offset, 1)
        if result.status != "FOUND" or not result.found:
            return None
        return await message_detail(admin, result.found[0])

    def render(self, data: Any, out: TextIO) -> None:
        if data is not None:
            render_detail(data, out)


def print_line(msg: MessageExt, broker_name: str, charset: str, print_body: bool) -> str:
    """printMessage's line: MSGID, MessageExt.toString, the body as text (or NOT PRINT BODY)."""
    body = msg.body.decode(_python_charset(charset), "replace") if print_body else "NOT PRINT BODY"
    return f"MSGID: {msg.msg_id} {message_ext_string(msg, broker_name)} BODY: {body}\n"


def _python_charset(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise RocketMQError(-1, f"unsupported charset {name}") from None


async def queue_range(
    admin: AdminClient, addr: str, topic: str, queue_id: int, begin: str | None, end: str | None
) -> tuple[int, int]:
    """minOffset/maxOffset of a queue, or the offsets searched for -b/-e timestamps."""
    low = await admin.queue_offset(addr, RequestCode.GET_MIN_OFFSET, topic, queue_id)
    high = await admin.queue_offset(addr, RequestCode.GET_MAX_OFFSET, topic, queue_id)
    if begin is not None:
        low = await admin.queue_offset(
            addr, RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, topic, queue_id, parse_timestamp(begin.strip())
        )
    if end is not None:
        high = await admin.queue_offset(
            addr, RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, topic, queue_id, parse_timestamp(end.strip())
        )
    return low, high


def subscribe_queues(route: TopicRouteData, topic: str) -> list[tuple[str, str, int]]:
    """MQAdminImpl.fetchSubscribeMessageQueues: the readable queues, in the order of Java's HashSet."""
    queues = [
        (topic, q.broker_name or "", i) for q in route.queue_datas if q.perm & 4 for i in range(q.read_queue_nums)
    ]
    if not queues:
        raise RocketMQError(-1, f"Namesrv return empty{FAQ}")
    return message_queue_set_order(queues)


class PrintMsg(SubCommand):
    NAME = "printMsg"
    HELP = "Print Message Detail"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "t", "topic", "topic name")
        optional(parser, "c", "charsetName", "CharsetName(eg: UTF-8,GBK)")
        optional(parser, "s", "subExpression", "Subscribe Expression(eg: TagA || TagB)")
        optional(parser, "b", "beginTimestamp", "Begin timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]")
        optional(parser, "e", "endTimestamp", "End timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]")
        optional(parser, "d", "printBody", "print body")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        topic = args.topic.strip()
        charset = "UTF-8" if args.charsetName is None else args.charsetName.strip()
        expression = "*" if args.subExpression is None else args.subExpression.strip()
        print_body = args.printBody is None or args.printBody.strip().lower() == "true"
        # an unknown topic: mqadmin's "Can not find Message Queue" exception reports the NameServer's code 17 cause
        route = await admin.topic_route(topic)
        lines: list[str] = []
        for _, broker_name, queue_id in subscribe_queues(route, topic):
            addr = broker_addr(route, broker_name)
            low, high = await queue_range(admin, addr, topic, queue_id, args.beginTimestamp, args.endTimestamp)
            mq = message_queue_string(topic, broker_name, queue_id)
            lines.append(f"minOffset={low}, maxOffset={high}, {mq}\n")
            offset = low
            while offset < high:
                try:
                    result = await pull(admin, addr, topic, broker_name, queue_id, expression, offset, 32)
                except RocketMQError:  # Java prints the stack trace and leaves the queue
                    break
                offset = result.next_begin_offset
                if result.status == "FOUND":
                    lines.extend(print_line(m, broker_name, charset, print_body) for m in result.found)
                elif result.status == "NO_MATCHED_MSG":
                    lines.append(f"{mq} no matched msg. status={result.status}, offset={offset}\n")
                else:
                    lines.append(f"{mq} print msg finished. status={result.status}, offset={offset}\n")
                    break
            lines.append("--------------------------------------------------------\n")
        return lines


class PrintMsgByQueue(SubCommand):
    NAME = "printMsgByQueue"
    HELP = "Print Message Detail"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "t", "topic", "topic name")
        required(parser, "a", "brokerName", "broker name")
        required(parser, "i", "queueId", "queue id")
        optional(parser, "c", "charsetName", "CharsetName(eg: UTF-8,GBK)")
        optional(parser, "s", "subExpression", "Subscribe Expression(eg: TagA || TagB)")
        optional(parser, "b", "beginTimestamp", "Begin timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]")
        optional(parser, "e", "endTimestamp", "End timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]")
        optional(parser, "p", "printMsg", "print msg. eg: true | false(default)")
        optional(parser, "d", "printBody", "print body. eg: true | false(default)")
        optional(parser, "f", "calculate", "calculate by tag. eg: true | false(default)")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        charset = "UTF-8" if args.charsetName is None else args.charsetName.strip()

        def flag(value: str | None) -> bool:
            return value is not None and value.strip().lower() == "true"

        print_msg, print_body, by_tag = flag(args.printMsg), flag(args.printBody), flag(args.calculate)
        expression = "*" if args.subExpression is None else args.subExpression.strip()
        topic, broker_name, queue_id = args.topic.strip(), args.brokerName.strip(), int(args.queueId.strip())
        route = await admin.topic_route(topic)
        addr = broker_addr(route, broker_name)
        low, high = await queue_range(admin, addr, topic, queue_id, args.beginTimestamp, args.endTimestamp)
        lines: list[str] = []
        counts: dict[str, int] = {}
        offset = low
        while offset < high:
            try:
                result = await pull(admin, addr, topic, broker_name, queue_id, expression, offset, 32)
            except RocketMQError:
                break
            offset = result.next_begin_offset
            if result.status != "FOUND":
                break
            if by_tag:
                for m in result.found:
                    if m.tags is not None and m.tags.strip():
                        counts[m.tags] = counts.get(m.tags, 0) + 1
            if print_msg:
                lines.extend(print_line(m, broker_name, charset, print_body) for m in result.found)
        if by_tag:  # TagCountBean sorted by count, descending; ties keep the HashMap's order (a stable sort)
            ordered = sorted(java_hash_order(counts), key=lambda t: -counts[t])
            lines.extend(f"Tag: {t:<30} Count: {counts[t]}\n" for t in ordered)
        return lines


class QueryCq(SubCommand):
    NAME = "queryCq"
    HELP = "Query cq command."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "t", "topic", "topic name")
        required(parser, "q", "queue", "queue num, ie. 1")
        required(parser, "i", "index", "start queue index.")
        optional(parser, "c", "count", "how many.")
        optional(parser, "b", "broker", "broker addr.")
        optional(parser, "g", "consumer", "consumer group.")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        topic, queue_id, index = args.topic.strip(), int(args.queue.strip()), int(args.index.strip())
        count = int((args.count or "10").strip())
        addr = None if args.broker is None else args.broker.strip()
        group = None if args.consumer is None else args.consumer.strip()
        if not addr:
            route = await admin.topic_route(topic)
            if not route.broker_datas:
                raise RocketMQError(-1, "No topic route data!")
            addr = route.broker_datas[0].broker_addrs.get(0)
            if addr is None:
                raise RocketMQError(-1, "No topic route data!")
        body = await admin.query_consume_queue(addr, topic, queue_id, index, count, group)
        return index, body

    def render(self, data: Any, out: TextIO) -> None:
        index, body = data
        if body.get("subscriptionData") is not None:
            out.write(f"Subscription data: \n{pretty_json(_subscription_bean(body['subscriptionData']))}\n")
            out.write("======================================\n")
        if body.get("filterData") is not None:
            out.write(f"Filter data: \n{body['filterData']}\n")
            out.write("======================================\n")
        printf(
            out,
            "Queue data: \nmax: %d, min: %d\n",
            int(body.get("maxQueueIndex", 0)),
            int(body.get("minQueueIndex", 0)),
        )
        out.write("======================================\n")
        for i, entry in enumerate(body.get("queueData") or [], start=index):
            out.write(f"idx: {i}\n{_cq_data_string(entry)}\n======================================\n")


def _cq_data_string(entry: dict[str, Any]) -> str:
    """ConsumeQueueData.toString."""
    return (
        f"ConsumeQueueData{{physicOffset={entry.get('physicOffset', 0)}, physicSize={entry.get('physicSize', 0)}, "
        f"tagsCode={entry.get('tagsCode', 0)}, extendDataJson='{java_str(entry.get('extendDataJson'))}', "
        f"bitMap='{java_str(entry.get('bitMap'))}', eval={java_str(bool(entry.get('eval', False)))}, "
        f"msg='{java_str(entry.get('msg'))}'}}"
    )


def _subscription_bean(sub: dict[str, Any]) -> dict[str, Any]:
    """SubscriptionData as fastjson writes a bean: fields in alphabetical order (the body's own order otherwise)."""
    return {k: sub[k] for k in sorted(sub)}


class ConsumeMessage(SubCommand):
    """ConsumeMessageCommand: pull (TOOLS_CONSUMER or -g) the oldest -c messages of the topic, of one queue, or of
    one queue from an offset, optionally within a time range, printing each as printMsgByQueue -p true -d true."""

    NAME = "consumeMessage"
    HELP = "Consume message"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "t", "topic", "Topic name")
        optional(parser, "b", "brokerName", "Broker name")
        optional(parser, "i", "queueId", "Queue Id")
        optional(parser, "o", "offset", "Queue offset")
        optional(parser, "g", "consumerGroup", "Consumer group name")
        optional(parser, "s", "beginTimestamp", "Begin timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]")
        optional(parser, "e", "endTimestamp", "End timestamp[currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]")
        optional(parser, "c", "MessageNumber", "Number of message to be consumed")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        self.group = TOOLS_CONSUMER if args.consumerGroup is None else args.consumerGroup.strip()
        topic = args.topic.strip()
        count = 128
        if args.MessageNumber is not None:
            count = int(args.MessageNumber.strip())
            if count <= 0:
                return ["Please input a positive messageNumber!"]
        broker_name = None if args.brokerName is None else args.brokerName.strip()
        queue_id: int | None = None
        offset: int | None = None
        if args.queueId is not None:
            if broker_name is None:
                return ["Please set the brokerName before queueId!"]
            queue_id = int(args.queueId.strip())
        if args.offset is not None:
            if queue_id is None:
                return ["Please set queueId before offset!"]
            offset = int(args.offset.strip())
        now = int(datetime.datetime.now().timestamp() * 1000)
        begin = end = 0
        if args.beginTimestamp is not None:
            begin = parse_timestamp(args.beginTimestamp.strip())
            if begin > now:
                return ["Please set the beginTimestamp before now!"]
        if args.endTimestamp is not None:
            end = parse_timestamp(args.endTimestamp.strip())
            if end > now:
                return ["Please set the endTimestamp before now!"]
            if begin > end:
                return ["Please make sure that the beginTimestamp is less than or equal to the endTimestamp"]
        lines: list[str] = []
        try:  # executeDefault / executeByCondition print a failure's stack trace and return normally
            if queue_id is None:
                await self._all_queues(admin, topic, count, begin, end, lines)
            else:
                assert broker_name is not None
                await self._one_queue(admin, topic, broker_name, queue_id, offset or 0, count, begin, end, lines)
        except RocketMQError as exc:
            sys.stderr.write(f"rocketpy admin consumeMessage: CODE: {exc.code}  DESC: {exc.remark}\n")
        return lines

    async def _range(self, admin: AdminClient, addr: str, topic: str, queue_id: int, begin: int, end: int) -> Any:
        low = await admin.queue_offset(addr, RequestCode.GET_MIN_OFFSET, topic, queue_id)
        high = await admin.queue_offset(addr, RequestCode.GET_MAX_OFFSET, topic, queue_id)
        if begin > 0:
            low = await admin.queue_offset(addr, RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, topic, queue_id, begin)
        if end > 0:
            high = await admin.queue_offset(addr, RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, topic, queue_id, end)
        return low, high

    async def _all_queues(
        self, admin: AdminClient, topic: str, count: int, begin: int, end: int, lines: list[str]
    ) -> None:
        route = await admin.topic_route(topic)
        left = count
        for _, broker_name, queue_id in subscribe_queues(route, topic):
            if left == 0:
                return
            addr = broker_addr(route, broker_name)
            low, high = await self._range(admin, addr, topic, queue_id, begin, end)
            if high - low > left:
                lines.append(f"The older {left} message of the {queue_id} queue will be provided\n")
                high, left = low + left - 1, 0
            else:
                left = left - (high - low) - 1
            await self._pull_queue(admin, addr, topic, broker_name, queue_id, low, high, lines)

    async def _one_queue(
        self,
        admin: AdminClient,
        topic: str,
        broker_name: str,
        queue_id: int,
        offset: int,
        count: int,
        begin: int,
        end: int,
        lines: list[str],
    ) -> None:
        route = await admin.topic_route(topic)
        addr = broker_addr(route, broker_name)
        low, high = await self._range(admin, addr, topic, queue_id, begin, end)
        if offset > high:
            lines.append(f"{message_queue_string(topic, broker_name, queue_id)} no matched msg, offset={offset}\n")
            return
        low = max(low, offset)
        if high - low > count:
            lines.append(f"The oldler {count} message will be provided\n")
            high = low + count - 1
        await self._pull_queue(admin, addr, topic, broker_name, queue_id, low, high, lines)

    async def _pull_queue(
        self,
        admin: AdminClient,
        addr: str,
        topic: str,
        broker_name: str,
        queue_id: int,
        low: int,
        high: int,
        lines: list[str],
    ) -> None:
        """pullMessageByQueue: from low to high inclusive, all that is left in one pull each time."""
        mq = message_queue_string(topic, broker_name, queue_id)
        offset = low
        while offset <= high:
            try:
                result = await pull(
                    admin, addr, topic, broker_name, queue_id, "*", offset, high - offset + 1, group=self.group
                )
            except RocketMQError as exc:
                sys.stderr.write(f"rocketpy admin consumeMessage: CODE: {exc.code}  DESC: {exc.remark}\n")
                return
            offset = result.next_begin_offset
            if result.status == "FOUND":
                lines.append("Consume ok\n")
                lines.extend(print_line(m, broker_name, "UTF-8", True) for m in result.found)
            elif result.status == "NO_MATCHED_MSG":
                lines.append(f"{mq} no matched msg. status={result.status}, offset={offset}\n")
            else:
                lines.append(f"{mq} print msg finished. status={result.status}, offset={offset}\n")
                return
