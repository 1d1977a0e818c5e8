"""Subcommands that send probe messages and print response times (tools.command.broker.SendMsgStatusCommand,
message.CheckMsgSendRTCommand, cluster.CLusterSendMsgRTCommand).

The sends are DefaultMQProducer's sync sends (SEND_MESSAGE_V2 with a client unique key), one at a time, timed with
the wall clock in milliseconds as Java's System.currentTimeMillis differences.
"""

from __future__ import annotations

import argparse
import random
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TextIO

from rocketpy.admin.command import SubCommand, optional, printf, required
from rocketpy.admin.message_commands import AUTO_CREATE_TOPIC, properties_string, publish_route
from rocketpy.admin.message_detail import message_queue_string
from rocketpy.client.admin import SEND_OK_CODES, AdminClient
from rocketpy.client.message_id import create_uniq_id
from rocketpy.common.java import java_hash_order
from rocketpy.protocol.bodies.route import TopicRouteData
from rocketpy.protocol.codes import ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.message_headers import SendMessageRequestHeaderV2


def _now() -> int:
    return int(time.time() * 1000)


DEFAULT_TOPIC_QUEUE_NUMS = 4  # DefaultMQProducer.defaultTopicQueueNums


async def producer_route(admin: AdminClient, topic: str) -> tuple[TopicRouteData, list[tuple[str, int]]]:
    """DefaultMQProducerImpl.tryToFindTopicPublishInfo: the topic's route and its send queues (brokerName, queueId)
    of the writable queues of masters in route order; a topic without a route yet borrows the auto-create topic's,
    trimmed to defaultTopicQueueNums queues per broker."""
    trim = False
    try:
        route = await admin.topic_route(topic)
    except RocketMQError as exc:
        if exc.code != ResponseCode.TOPIC_NOT_EXIST:
            raise
        route = None
    if route is None or not route.queue_datas:
        route, trim = await publish_route(admin, AUTO_CREATE_TOPIC), True
    masters = {b.broker_name for b in route.broker_datas if 0 in b.broker_addrs}
    queues = [
        (q.broker_name or "", i)
        for q in sorted(route.queue_datas, key=lambda q: q.broker_name or "")
        if q.perm & 2 and q.broker_name in masters
        for i in range(min(q.write_queue_nums, DEFAULT_TOPIC_QUEUE_NUMS) if trim else q.write_queue_nums)
    ]
    return route, queues


async def send_one(
    admin: AdminClient, route: TopicRouteData, group: str, topic: str, body: bytes, queue: tuple[str, int]
) -> str:
    """One sync send to a chosen queue; SendResult.toString."""
    broker_name, queue_id = queue
    addr = next((b.broker_addrs.get(0) for b in route.broker_datas if b.broker_name == broker_name), None)
    if addr is None:
        raise RocketMQError(-1, f"The broker[{broker_name}] not exist")
    uniq = create_uniq_id()
    header = SendMessageRequestHeaderV2(
        a=group,
        b=topic,
        c=AUTO_CREATE_TOPIC,
        d=4,
        e=queue_id,
        f=0,
        g=_now(),
        h=0,
        i=properties_string({"WAIT": "true", "UNIQ_KEY": uniq}),
        j=0,
        k=False,
        m=False,
        n=broker_name,
    )
    code, reply = await admin.send_message(addr, header, body)
    mq = message_queue_string(topic, broker_name, reply.queue_id)
    return (
        f"SendResult [sendStatus={SEND_OK_CODES[ResponseCode(code)]}, msgId={uniq}, offsetMsgId={reply.msg_id}, "
        f"messageQueue={mq}, queueOffset={reply.queue_offset}]"
    )


class RoundRobin:
    """MQFaultStrategy.selectOneMessageQueue without latency fault tolerance: a random start, then in turn."""

    def __init__(self) -> None:
        self.index = random.getrandbits(16)

    def pick(self, queues: list[tuple[str, int]]) -> tuple[str, int]:
        if not queues:
            raise RocketMQError(-1, "No route info of this topic")
        self.index += 1
        return queues[self.index % len(queues)]


class SendMsgStatus(SubCommand):
    NAME = "sendMsgStatus"
    HELP = "send msg to broker."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "b", "brokerName", "Broker Name")
        optional(parser, "s", "messageSize", "Message Size, Default: 128")
        optional(parser, "c", "count", "send message count, Default: 50")

    @staticmethod
    def body(size: int) -> bytes:
        return b"hello jodie" * len(range(0, size, 11))

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        topic = args.brokerName.strip()
        size = 128 if args.messageSize is None else int(args.messageSize)
        count = 50 if args.count is None else int(args.count)
        chooser = RoundRobin()
        route, queues = await producer_route(admin, topic)
        await send_one(admin, route, "PID_SMSC", topic, self.body(16), chooser.pick(queues))
        lines = []
        for _ in range(count):
            begin = _now()
            route, queues = await producer_route(admin, topic)
            result = await send_one(admin, route, "PID_SMSC", topic, self.body(size), chooser.pick(queues))
            lines.append(f"rt={_now() - begin}ms, SendResult={result}\n")
        return lines


def _avg(elapsed: int, amount: int) -> str:
    """String.format("%.2f", (double) elapsed / (amount - 1)), NaN/Infinity included."""
    if amount - 1 == 0:
        return "NaN" if elapsed == 0 else "Infinity"
    return f"{elapsed / (amount - 1):.2f}"


def _half_up(elapsed: int, amount: int) -> str:
    """new BigDecimal(rt).setScale(0, ROUND_HALF_UP) of rt = elapsed / (amount - 1)."""
    return str((Decimal(elapsed) / Decimal(amount - 1)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class CheckMsgSendRT(SubCommand):
    NAME = "checkMsgSendRT"
    HELP = "check message send response time"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "t", "topic", "topic name")
        optional(parser, "a", "amount", "message amount | default 100")
        optional(parser, "s", "size", "message size | default 128 Byte")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        topic = args.topic.strip()
        amount = 100 if args.amount is None else int(args.amount.strip())
        size = 128 if args.size is None else int(args.size.strip())
        body = b"a" * size
        group = str(_now())
        rows: list[tuple[str, int, bool, int]] = []
        broker_name, queue_id, elapsed = "", 0, 0
        for i in range(amount):
            start = _now()
            try:
                route, queues = await producer_route(admin, topic)
                if not queues:
                    raise RocketMQError(-1, "No route info of this topic")
                broker_name, queue_id = queues[i % len(queues)]
                await send_one(admin, route, group, topic, body, (broker_name, queue_id))
                ok = True
            except RocketMQError:
                ok = False
            end = _now()
            if i != 0:
                elapsed += end - start
            rows.append((broker_name, queue_id, ok, end - start))
        return rows, _avg(elapsed, amount)

    def render(self, data: Any, out: TextIO) -> None:
        rows, avg = data
        fmt = "%-32s  %-4s  %-20s    %s%n"
        printf(out, fmt, "#Broker Name", "#QID", "#Send Result", "#RT")
        for row in rows:
            printf(out, fmt, *row)
        printf(out, "Avg RT: %s%n", avg)


class ClusterRT(SubCommand):
    NAME = "clusterRT"
    HELP = "List All clusters Message Send RT"

    def __init__(self) -> None:
        self.rounds = 0

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        optional(parser, "a", "amount", "message amount | default 100")
        optional(parser, "s", "size", "message size | default 128 Byte")
        optional(parser, "c", "cluster", "cluster name | default display all cluster")
        optional(parser, "p", "printLog", "print as tlog | default false")
        optional(parser, "m", "machineRoom", "machine room name | default noname")
        optional(parser, "i", "interval", "print interval | default 10 seconds")

    def repeat_every(self, args: argparse.Namespace) -> float | None:
        """mqadmin sends and prints again every -i seconds (10 by default) until interrupted."""
        return float(10 if args.interval is None else int(args.interval.strip()))

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        amount = 100 if args.amount is None else int(args.amount.strip())
        size = 128 if args.size is None else int(args.size.strip())
        tlog = args.printLog is not None and args.printLog.strip().lower() == "true"
        room = "noname" if args.machineRoom is None else args.machineRoom.strip()
        info = await admin.cluster_info()
        clusters = [args.cluster.strip()] if args.cluster is not None else java_hash_order(info.cluster_addr_table)
        lines: list[str] = []
        if self.rounds == 0 and not tlog:
            lines.append(
                f"{'#Cluster Name':<24}  {'#Broker Name':<24}  {'#RT':<4}  {'#successCount':<8}  {'#failCount':<8}\n"
            )
        self.rounds += 1
        group = str(_now())
        body = b"a" * size
        for cluster in clusters:
            names = info.cluster_addr_table.get(cluster)
            if names is None:
                lines.append(f"cluster [{cluster}] not exist")
                break
            for broker_name in java_hash_order(names):
                elapsed = ok = failed = 0
                chooser = RoundRobin()
                for i in range(amount):
                    start = _now()
                    try:
                        route, queues = await producer_route(admin, broker_name)
                        await send_one(admin, route, group, broker_name, body, chooser.pick(queues))
                        ok += 1
                    except RocketMQError:
                        failed += 1
                    end = _now()
                    if i != 0:
                        elapsed += end - start
                rt = _avg(elapsed, amount)
                if not tlog:
                    lines.append(f"{cluster:<24}  {broker_name:<24}  {rt:<8}  {ok:<16}  {failed:<16}\n")
                else:
                    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 8 * 3600))
                    rounded = rt if rt in ("NaN", "Infinity") else _half_up(elapsed, amount)
                    lines.append(f"{when}|{room}|{cluster}|{broker_name}|{rounded}\n")
        return lines
