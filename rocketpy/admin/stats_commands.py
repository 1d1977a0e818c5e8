"""Broker statistics subcommands: tools.command.broker.BrokerConsumeStatsSubCommad and CleanExpiredCQSubCommand,
stats.StatsAllSubCommand and producer.ProducerSubCommand."""

from __future__ import annotations

import argparse
import contextlib
from typing import Any, TextIO

from rocketpy.admin.broker_commands import _BrokerMaintenance
from rocketpy.admin.command import SubCommand, front_at_least, optional, printf, required
from rocketpy.admin.consumer_commands import RETRY_PREFIX, _format_date
from rocketpy.admin.offset_commands import mq_of
from rocketpy.client.admin import AdminClient
from rocketpy.common.java import java_hash_order
from rocketpy.protocol.codes import RequestCode
from rocketpy.protocol.errors import RocketMQError

DLQ_PREFIX = "%DLQ%"
TOPIC_PUT_NUMS = "TOPIC_PUT_NUMS"  # BrokerStatsManager's stats names
GROUP_GET_NUMS = "GROUP_GET_NUMS"


def _java_long(text: str) -> int:
    """Long.parseLong (a malformed number fails the command, as NumberFormatException does)."""
    try:
        return int(text.strip())
    except ValueError:
        raise ValueError(f'java.lang.NumberFormatException: For input string: "{text.strip()}"') from None


class BrokerConsumeStats(SubCommand):
    NAME = "brokerConsumeStats"
    HELP = "Fetch broker consume stats data"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "b", "brokerAddr", "Broker address")
        optional(parser, "t", "timeoutMillis", "request timeout Millis")
        optional(parser, "l", "level", "threshold of print diff")
        optional(parser, "o", "order", "order topic")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        is_order = args.order is not None and args.order.strip().lower() == "true"
        timeout = _java_long(args.timeoutMillis) if args.timeoutMillis is not None else 50000
        level = _java_long(args.level) if args.level is not None else 0
        stats = await admin.consume_stats_in_broker(args.brokerAddr.strip(), is_order, timeout / 1000.0)
        rows = []
        for by_group in stats.get("consumeStatsList") or []:
            for group in java_hash_order(by_group):
                for consume in by_group[group] or []:
                    table = {mq_of(k): w for k, w in (consume.get("offsetTable") or {}).items()}
                    for mq in sorted(table):  # Collections.sort: MessageQueue.compareTo (topic, broker, queue id)
                        w = table[mq]
                        broker_offset, consumer_offset = int(w.get("brokerOffset", 0)), int(w.get("consumerOffset", 0))
                        diff = broker_offset - consumer_offset
                        last = int(w.get("lastTimestamp", 0))
                        if diff < level or last <= 0:
                            continue
                        rows.append((mq, group, broker_offset, consumer_offset, diff, last))
        return rows, int(stats.get("totalDiff", 0))

    def render(self, data: Any, out: TextIO) -> None:
        rows, total = data
        printf(
            out,
            "%-64s  %-64s  %-32s  %-4s  %-20s  %-20s  %-20s  %s%n",
            "#Topic",
            "#Group",
            "#Broker Name",
            "#QID",
            "#Broker Offset",
            "#Consumer Offset",
            "#Diff",
            "#LastTime",
        )
        for (topic, broker, qid), group, broker_offset, consumer_offset, diff, last in rows:
            printf(
                out,
                "%-64s  %-64s  %-32s  %-4d  %-20d  %-20d  %-20d  %s%n",
                front_at_least(topic, 64),
                group,
                front_at_least(broker, 32),
                qid,
                broker_offset,
                consumer_offset,
                diff,
                _format_date(last),
            )
        printf(out, "%nDiff Total: %d%n", total)


def compute_24hour_sum(data: Any) -> int:
    """StatsAllSubCommand.compute24HourSum: the day's sum, else the hour's, else the minute's."""
    for period in ("statsDay", "statsHour", "statsMinute"):
        total = int((data.get(period) or {}).get("sum", 0))
        if total != 0:
            return total
    return 0


class StatsAll(SubCommand):
    NAME = "statsAll"
    HELP = "Topic and Consumer tps stats"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        optional(parser, "a", "activeTopic", "print active topic only", flag=True)
        optional(parser, "t", "topic", "print select topic only")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        topics = java_hash_order((await admin.topic_list()).topic_list)
        select = args.topic
        rows: list[tuple[Any, ...]] = []
        for topic in topics:
            if topic.startswith((RETRY_PREFIX, DLQ_PREFIX)):
                continue
            if select and topic != select:
                continue
            with contextlib.suppress(RocketMQError, IndexError, KeyError, TypeError, ValueError):
                rows.extend(await self._topic_rows(admin, topic, bool(args.activeTopic)))
        return rows

    async def _topic_rows(self, admin: AdminClient, topic: str, active: bool) -> list[tuple[Any, ...]]:
        """StatsAllSubCommand.printTopicDetail (a failure drops the topic, as Java's empty catch)."""
        route = await admin.topic_route(topic)
        masters = [b.broker_addrs[0] for b in route.broker_datas if 0 in b.broker_addrs]
        groups = await _consumed_by(admin, route, topic)
        in_tps, in_today = 0.0, 0
        for addr in masters:
            with contextlib.suppress(RocketMQError, ValueError):
                data = await admin.broker_stats_data(addr, TOPIC_PUT_NUMS, topic)
                in_tps += float((data.get("statsMinute") or {}).get("tps", 0.0))
                in_today += compute_24hour_sum(data)
        if not groups:
            return [(topic, None, 0, in_tps, None, in_today, None)] if not active or in_today > 0 else []
        rows: list[tuple[Any, ...]] = []
        for group in groups:
            out_tps, out_today = 0.0, 0
            for addr in masters:
                with contextlib.suppress(RocketMQError, ValueError):
                    data = await admin.broker_stats_data(addr, GROUP_GET_NUMS, f"{topic}@{group}")
                    out_tps += float((data.get("statsMinute") or {}).get("tps", 0.0))
                    out_today += compute_24hour_sum(data)
            accumulate = 0
            with contextlib.suppress(RocketMQError, ValueError, IndexError):
                accumulate = max(0, await _total_diff(admin, group, topic))
            if not active or in_today > 0 or out_today > 0:
                rows.append((topic, group, accumulate, in_tps, out_tps, in_today, out_today))
        return rows

    def render(self, data: Any, out: TextIO) -> None:
        printf(
            out,
            "%-64s  %-64s %12s %11s %11s %14s %14s%n",
            "#Topic",
            "#Consumer Group",
            "#Accumulation",
            "#InTPS",
            "#OutTPS",
            "#InMsg24Hour",
            "#OutMsg24Hour",
        )
        for topic, group, accumulate, in_tps, out_tps, in_today, out_today in data:
            if group is None:
                printf(
                    out,
                    "%-64s  %-64s %12d %11.2f %11s %14d %14s%n",
                    front_at_least(topic, 64),
                    "",
                    0,
                    in_tps,
                    "",
                    in_today,
                    "NO_CONSUMER",
                )
            else:
                printf(
                    out,
                    "%-64s  %-64s %12d %11.2f %11.2f %14d %14d%n",
                    front_at_least(topic, 64),
                    front_at_least(group, 64),
                    accumulate,
                    in_tps,
                    out_tps,
                    in_today,
                    out_today,
                )


async def _consumed_by(admin: AdminClient, route: Any, topic: str) -> list[str]:
    """DefaultMQAdminExtImpl.queryTopicConsumeByWho: asked of the first broker of the route."""
    if not route.broker_datas:
        return []
    addr = route.broker_datas[0].select_broker_addr()
    return [] if addr is None else await admin.topic_consumed_by(addr, topic)


async def _total_diff(admin: AdminClient, group: str, topic: str) -> int:
    """examineConsumeStats(group, topic).computeTotalDiff over the brokers of the group's retry topic."""
    retry = await admin.topic_route(RETRY_PREFIX + group)
    total = 0
    for broker in retry.broker_datas:
        addr = broker.select_broker_addr()
        if addr is None:
            continue
        stats = await admin.consume_stats(addr, group, topic)
        for wrapper in (stats.get("offsetTable") or {}).values():
            total += int(wrapper.get("brokerOffset", 0)) - int(wrapper.get("consumerOffset", 0))
    return total


class Producer(SubCommand):
    NAME = "producer"
    HELP = "Query producer's instances, connection, status, etc."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "b", "broker", "broker address")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        data = await admin.all_producer_info(args.broker.strip())
        return [(group, data[group]) for group in java_hash_order(data)]

    def render(self, data: Any, out: TextIO) -> None:
        for group, producers in data:
            if not producers:
                printf(out, "producer group (%s) instances are empty\n", group)
                continue
            for p in producers:
                printf(
                    out,
                    "producer group (%s) instance : clientId=%s,remoteIP=%s, language=%s, version=%d, "
                    "lastUpdateTimestamp=%d\n",
                    group,
                    p.get("clientId"),
                    p.get("remoteIP"),
                    p.get("language"),
                    int(p.get("version", 0)),
                    int(p.get("lastUpdateTimestamp", 0)),
                )


class CleanExpiredCQ(_BrokerMaintenance):
    NAME = "cleanExpiredCQ"
    HELP = "Clean expired ConsumeQueue on broker."
    CODE = RequestCode.CLEAN_EXPIRED_CONSUMEQUEUE
