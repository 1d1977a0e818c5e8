"""Consumer offset subcommands: tools.command.offset.CloneGroupOffsetCommand, ResetOffsetByTimeCommand (with the
ResetOffsetByTimeOldCommand fallback it takes when no client of the group is online) and SkipAccumulationSubCommand,
over DefaultMQAdminExtImpl.resetOffsetByTimestamp / resetOffsetByTimestampOld."""

from __future__ import annotations

import argparse
import datetime
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from rocketpy.admin.command import SubCommand, front_at_least, optional, printf, required
from rocketpy.admin.consumer_commands import consume_stats
from rocketpy.admin.topic_commands import message_queue_hash
from rocketpy.client.admin import AdminClient
from rocketpy.common.fastjson import ObjectKey
from rocketpy.protocol.codes import ResponseCode
from rocketpy.protocol.errors import RocketMQError

MQ = tuple[str, str, int]  # MessageQueue: topic, brokerName, queueId


def mq_hash_order(queues: list[MQ]) -> list[MQ]:
    """java.util.HashMap iteration order of MessageQueue keys inserted in this order (what Java prints)."""
    capacity = 16
    while len(queues) > capacity * 3 // 4:
        capacity <<= 1

    def slot(item: tuple[int, MQ]) -> tuple[int, int]:
        h = message_queue_hash(*item[1])
        return (h ^ (h >> 16)) & (capacity - 1), item[0]

    return [mq for _, mq in sorted(enumerate(queues), key=slot)]


def mq_of(key: Any) -> MQ:
    """A MessageQueue map key as fastjson wrote it (a TypeError for anything else: an answer not understood)."""
    if not isinstance(key, ObjectKey):
        raise TypeError(f"not a MessageQueue key: {key!r}")
    return str(key.get("topic", "")), str(key.get("brokerName", "")), int(key.get("queueId", 0))


def java_boolean(text: str) -> bool:
    """Boolean.valueOf: true only for "true", any case."""
    return text.strip().lower() == "true"


def parse_timestamp(text: str) -> int:
    """ResetOffsetByTimeCommand: "now" is -1, a number is millis, else yyyy-MM-dd#HH:mm:ss:SSS in local time."""
    if text == "now":
        return -1
    try:
        return int(text)
    except ValueError:
        pass
    try:
        moment = datetime.datetime.strptime(text, "%Y-%m-%d#%H:%M:%S:%f")
    except ValueError:  # UtilAll.parseDate returns null and mqadmin fails on it with a NullPointerException
        raise RocketMQError(-1, f"specified timestamp invalid: {text}") from None
    return int(moment.timestamp() * 1000)


class Progress:
    """A progress line on stderr, only when stderr is a terminal (stdout stays mqadmin's)."""

    def __init__(self, what: str, total: int, err: TextIO | None = None) -> None:
        self.what, self.total, self.done = what, total, 0
        self.err = err if err is not None else sys.stderr
        self.enabled = self.err.isatty() and total > 1

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            self.err.write(f"\r{self.what}: {self.done}/{self.total} queues")
            if self.done == self.total:
                self.err.write("\n")
            self.err.flush()


@dataclass(slots=True)
class RollbackStats:
    broker_name: str
    queue_id: int
    broker_offset: int
    consumer_offset: int
    timestamp_offset: int
    rollback_offset: int


async def reset_offset_new(
    admin: AdminClient, topic: str, group: str, timestamp: int, force: bool, cplus: bool = False
) -> list[tuple[MQ, int]]:
    """DefaultMQAdminExtImpl.resetOffsetByTimestamp: INVOKE_BROKER_TO_RESET_OFFSET on every broker of the topic,
    the answers merged in one HashMap."""
    route = await admin.topic_route(topic)
    merged: dict[MQ, int] = {}
    for broker in route.broker_datas:
        addr = broker.select_broker_addr()
        if addr is None:
            continue
        table = await admin.reset_offset_by_time(addr, topic, group, timestamp, force, cplus)
        if not isinstance(table, dict):  # ResetOffsetBodyForC (a list), which ResetOffsetBody cannot decode either
            raise TypeError(f"the offsets of {addr} are not a map: {type(table).__name__}")
        for key, offset in table.items():
            merged[mq_of(key)] = int(offset)
    return [(mq, merged[mq]) for mq in mq_hash_order(list(merged))]


async def reset_offset_old(
    admin: AdminClient, group: str, topic: str, timestamp: int, force: bool, what: str
) -> list[RollbackStats]:
    """DefaultMQAdminExtImpl.resetOffsetByTimestampOld: per queue of the topic, the offset by time (the max offset
    for -1) committed with UPDATE_CONSUMER_OFFSET when forced or when it rolls back."""
    route = await admin.topic_route(topic)
    read_nums: dict[str, int] = {}
    for broker in route.broker_datas:
        for queue in route.queue_datas:
            addr = broker.select_broker_addr()
            if queue.broker_name == broker.broker_name and addr is not None:
                read_nums[addr] = queue.read_queue_nums
    result: list[RollbackStats] = []
    for broker in route.broker_datas:
        addr = broker.select_broker_addr()
        if addr is None:
            continue
        stats = await admin.consume_stats(addr, group)
        table = stats.get("offsetTable") or {}
        wrappers = {mq_of(key): wrapper for key, wrapper in table.items()}
        rows = [
            (mq, int(wrappers[mq].get("brokerOffset", 0)), int(wrappers[mq].get("consumerOffset", 0)))
            for mq in mq_hash_order(list(wrappers))
            if mq[0] == topic
        ]
        if not rows:  # never consumed: from the topic's min offsets
            topic_stats = await admin.topic_stats(addr, topic)
            offsets = {mq_of(key): value for key, value in (topic_stats.get("offsetTable") or {}).items()}
            for qid in range(read_nums.get(addr, 0)):
                mq = (topic, broker.broker_name or "", qid)
                if mq not in offsets:  # Java dereferences a missing entry
                    raise RocketMQError(-1, f"java.lang.NullPointerException: no stats for {mq}")
                rows.append((mq, int(offsets[mq].get("maxOffset", 0)), int(offsets[mq].get("minOffset", 0))))
        progress = Progress(what, len(rows))
        for mq, broker_offset, consumer_offset in rows:
            if timestamp == -1:
                reset = await admin.max_offset(addr, mq)
            else:
                reset = await admin.search_offset(addr, mq, timestamp)
            stats_row = RollbackStats(mq[1], mq[2], broker_offset, consumer_offset, reset, consumer_offset)
            if force or reset <= consumer_offset:
                stats_row.rollback_offset = reset
                await admin.update_consumer_offset(addr, group, mq, reset)
            result.append(stats_row)
            progress.step()
    return result


def _print_rollback(rows: list[RollbackStats], out: TextIO) -> None:
    printf(
        out,
        "%-20s  %-20s  %-20s  %-20s  %-20s  %-20s%n",
        "#brokerName",
        "#queueId",
        "#brokerOffset",
        "#consumerOffset",
        "#timestampOffset",
        "#rollbackOffset",
    )
    for r in rows:
        printf(
            out,
            "%-20s  %-20d  %-20d  %-20d  %-20d  %-20d%n",
            front_at_least(r.broker_name, 32),
            r.queue_id,
            r.broker_offset,
            r.consumer_offset,
            r.timestamp_offset,
            r.rollback_offset,
        )


def _print_offsets(rows: list[tuple[MQ, int]], out: TextIO) -> None:
    printf(out, "%-40s  %-40s  %-40s%n", "#brokerName", "#queueId", "#offset")
    for (_, broker, qid), offset in rows:
        printf(out, "%-40s  %-40d  %-40d%n", front_at_least(broker, 32), qid, offset)


class CloneGroupOffset(SubCommand):
    NAME = "cloneGroupOffset"
    HELP = "clone offset from other group."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "s", "srcGroup", "set source consumer group")
        required(parser, "d", "destGroup", "set destination consumer group")
        required(parser, "t", "topic", "set the topic")
        optional(parser, "o", "offline", "the group or the topic is offline")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        src, dest, topic = args.srcGroup.strip(), args.destGroup.strip(), args.topic.strip()
        table, _ = await consume_stats(admin, src)
        if table:
            route = await admin.topic_route(topic)
            for mq, wrapper in table.items():
                addr = next((b.select_broker_addr() for b in route.broker_datas if b.broker_name == mq[1]), None)
                offset = int(wrapper.get("consumerOffset", 0))
                if offset >= 0:
                    if addr is None:  # Java sends to a null address and fails
                        raise RocketMQError(-1, f"no broker {mq[1]} in the route of {topic}")
                    await admin.update_consumer_offset(addr, dest, mq, offset)
        return f"clone group offset success. srcGroup[{src}], destGroup=[{dest}], topic[{topic}]"

    def render(self, data: Any, out: TextIO) -> None:
        out.write(data)


class ResetOffsetByTime(SubCommand):
    NAME = "resetOffsetByTime"
    HELP = "Reset consumer offset by timestamp(without client restart)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "g", "group", "set the consumer group")
        required(parser, "t", "topic", "set the topic")
        required(parser, "s", "timestamp", "set the timestamp[now|currentTimeMillis|yyyy-MM-dd#HH:mm:ss:SSS]")
        optional(parser, "f", "force", "set the force rollback by timestamp switch[true|false]")
        optional(parser, "c", "cplus", "reset c++ client offset", flag=True)

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        group, topic, text = args.group.strip(), args.topic.strip(), args.timestamp.strip()
        timestamp = parse_timestamp(text)
        force = True if args.force is None else java_boolean(args.force)
        try:
            offsets = await reset_offset_new(admin, topic, group, timestamp, force, bool(args.cplus))
        except RocketMQError as exc:
            if exc.code != ResponseCode.CONSUMER_NOT_ONLINE:
                raise
            rows = await reset_offset_old(admin, group, topic, timestamp, force, self.NAME)
            return ("old", group, topic, force, text, timestamp, rows)
        return ("new", group, topic, force, text, timestamp, offsets)

    def render(self, data: Any, out: TextIO) -> None:
        path, group, topic, force, text, timestamp, rows = data
        if path == "old":  # ResetOffsetByTimeOldCommand.resetOffset
            printf(
                out,
                "rollback consumer offset by specified consumerGroup[%s], topic[%s], force[%s], "
                "timestamp(string)[%s], timestamp(long)[%s]%n",
                group,
                topic,
                force,
                text,
                str(timestamp),
            )
            _print_rollback(rows, out)
            return
        printf(
            out,
            "rollback consumer offset by specified group[%s], topic[%s], force[%s], timestamp(string)[%s], "
            "timestamp(long)[%s]%n",
            group,
            topic,
            force,
            text,
            str(timestamp),
        )
        _print_offsets(rows, out)


class SkipAccumulatedMessage(SubCommand):
    NAME = "skipAccumulatedMessage"
    HELP = "Skip all messages that are accumulated (not consumed) currently"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "g", "group", "set the consumer group")
        required(parser, "t", "topic", "set the topic")
        optional(parser, "f", "force", "set the force rollback by timestamp switch[true|false]")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        group, topic = args.group.strip(), args.topic.strip()
        force = True if args.force is None else java_boolean(args.force)
        try:
            return ("new", await reset_offset_new(admin, topic, group, -1, force))
        except RocketMQError as exc:
            if exc.code != ResponseCode.CONSUMER_NOT_ONLINE:
                raise
            return ("old", await reset_offset_old(admin, group, topic, -1, force, self.NAME))

    def render(self, data: Any, out: TextIO) -> None:
        path, rows = data
        if path == "old":
            _print_rollback(rows, out)
        else:
            _print_offsets(rows, out)
