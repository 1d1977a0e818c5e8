"""`startMonitoring`: tools.command.consumer.StartMonitoringSubCommand, i.e. tools.monitor.MonitorService with its
DefaultMonitorListener.

Each round looks at every consumer group (the %RETRY% topics of the NameServer's topic list): its undone messages
per topic (the diff of GET_CONSUME_STATS, and the delay of the last message, pulled with the TOOLS_CONSUMER group)
and, for each online client, its running info (GET_CONSUMER_RUNNING_INFO) checked by analyzeSubscription /
analyzeProcessQueue. The first round starts 20 s after start, the next ones every 60 s, as in Java.

Differences, by necessity: Java writes the listener's lines to its client log, rocketpy admin prints them on
stdout (it has no log file); mqadmin runs until it is killed, rocketpy admin stops cleanly on SIGINT/Ctrl-C or
after `--rounds N` (a rocketpy option for scripts, with `--delay` and `--interval` in seconds); the
OFFSET_MOVED_EVENT subscription behind reportDeleteMsgsEvent needs a push consumer, which rocketpy admin does not
have: it says so on stderr at start instead of reporting those events.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from typing import Any, TextIO

import trio

from rocketpy.admin.command import SubCommand
from rocketpy.admin.consumer_commands import RETRY_PREFIX, consumer_connection
from rocketpy.admin.consumer_status import analyze_process_queue, analyze_subscription, running_info
from rocketpy.admin.offset_commands import mq_of
from rocketpy.client.admin import AdminClient
from rocketpy.common.java import java_hash_order
from rocketpy.protocol.codes import RequestCode, Version
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.message_record import decode_all

LOG_PREFIX = "[MONITOR] "
LOG_NOTIFY = LOG_PREFIX + " [NOTIFY] "
TOOLS_CONSUMER_GROUP = "TOOLS_CONSUMER"  # MixAll.TOOLS_CONSUMER_GROUP
FIRST_ROUND_DELAY = 20.0  # MonitorService.startScheduleTask: 1000 * 20
ROUND_INTERVAL = 60.0  # MonitorConfig.roundInterval
PULL_SUBSCRIPTION_FLAG = 0x4  # PullSysFlag.FLAG_SUBSCRIPTION: a pull with "*", no commit, no suspend


async def last_store_timestamp(admin: AdminClient, addr: str, mq: tuple[str, str, int], max_offset: int) -> int:
    """DefaultMQPullConsumer.pull(mq, "*", maxOffset - 1, 1): the store time of the queue's last message, or 0
    when the pull finds nothing (NO_NEW_MSG, OFFSET_ILLEGAL ...)."""
    topic, _, queue_id = mq
    ext = {
        "consumerGroup": TOOLS_CONSUMER_GROUP,
        "topic": topic,
        "queueId": str(queue_id),
        "queueOffset": str(max_offset - 1),
        "maxMsgNums": "1",
        "sysFlag": str(PULL_SUBSCRIPTION_FLAG),
        "commitOffset": "0",
        "suspendTimeoutMillis": "20000",
        "subscription": "*",
        "subVersion": "0",
        "expressionType": "TAG",
    }
    try:
        reply = await admin.call(addr, RequestCode.PULL_MESSAGE, ext)
    except RocketMQError:
        return 0
    messages = decode_all(None if reply.body is None else bytes(reply.body))
    return messages[0].store_timestamp if messages else 0


class MonitorRound:
    """MonitorService.doMonitorWork with the DefaultMonitorListener: one round, as report lines."""

    def __init__(self, admin: AdminClient, err: TextIO) -> None:
        self.admin = admin
        self.err = err
        self.lines: list[str] = []

    async def run(self) -> list[str]:
        self.lines = [LOG_PREFIX + "=========================================beginRound"]
        topics = java_hash_order((await self.admin.topic_list()).topic_list)
        groups = [t[len(RETRY_PREFIX) :] for t in topics if t.startswith(RETRY_PREFIX)]
        progress = self.err.isatty()
        for i, group in enumerate(groups, 1):
            if progress:
                self.err.write(f"\rstartMonitoring: group {i}/{len(groups)}")
                self.err.flush()
            with contextlib.suppress(RocketMQError, ValueError, KeyError, TypeError, IndexError):
                await self.report_undone(group)
            with contextlib.suppress(RocketMQError, ValueError, KeyError, TypeError, IndexError):
                await self.report_running_info(group)
        if progress and groups:
            self.err.write("\n")
        self.lines.append(LOG_PREFIX + "=========================================endRound")
        return self.lines

    async def report_undone(self, group: str) -> None:
        """reportUndoneMsgs: per topic of the group's consume stats, only when the group has a client online."""
        route = await self.admin.topic_route(RETRY_PREFIX + group)
        table: dict[tuple[str, str, int], tuple[str, Any]] = {}
        for broker in route.broker_datas:
            addr = broker.select_broker_addr()
            if addr is None:
                continue
            stats = await self.admin.consume_stats(addr, group)
            for key, wrapper in (stats.get("offsetTable") or {}).items():
                mq = mq_of(key)
                table[mq] = (addr, wrapper)
        if not table:
            return  # examineConsumeStats fails: CONSUMER_NOT_ONLINE
        await consumer_connection(self.admin, group)  # raises when no client is online: nothing reported
        by_topic: dict[str, list[tuple[tuple[str, str, int], str, Any]]] = {}
        for mq, (addr, wrapper) in table.items():
            by_topic.setdefault(mq[0], []).append((mq, addr, wrapper))
        for topic in java_hash_order(by_topic):
            total = single_max = delay_max = 0
            for mq, addr, w in by_topic[topic]:
                diff = int(w.get("brokerOffset", 0)) - int(w.get("consumerOffset", 0))
                single_max = max(single_max, diff)
                if diff > 0:
                    total += diff
                last = int(w.get("lastTimestamp", 0))
                if last > 0:
                    with contextlib.suppress(RocketMQError):
                        max_offset = await self.admin.max_offset(addr, mq)
                        if max_offset > 0:
                            stored = await last_store_timestamp(self.admin, addr, mq, max_offset)
                            if stored:
                                delay_max = max(delay_max, stored - last)
            self.lines.append(
                LOG_PREFIX + f"reportUndoneMsgs: UndoneMsgs [consumerGroup={group}, topic={topic}, "
                f"undoneMsgsTotal={total}, undoneMsgsSingleMQ={single_max}, undoneMsgsDelayTimeMills={delay_max}]"
            )

    async def report_running_info(self, group: str) -> None:
        """reportConsumerRunningInfo: clients of V3_1_8_SNAPSHOT and later, by client id."""
        cc = await consumer_connection(self.admin, group)
        table: dict[str, Any] = {}
        for conn in cc.connection_set:
            if conn.version < Version.V3_1_8_SNAPSHOT:
                continue
            with contextlib.suppress(RocketMQError):
                info = await running_info(self.admin, group, conn.client_id, False)
                if info is not None:
                    table[conn.client_id] = info
        if not table:
            return
        now = int(time.time() * 1000)
        first = table[min(table)]
        name = (first.get("properties") or {}).get("consumerGroup")
        if not analyze_subscription(table, now):
            self.lines.append(LOG_NOTIFY + f"reportConsumerRunningInfo: ConsumerGroup: {name}, Subscription different")
        for client_id in sorted(table):
            result = analyze_process_queue(client_id, table[client_id], now)
            if result:
                self.lines.append(
                    LOG_NOTIFY + f"reportConsumerRunningInfo: ConsumerGroup: {name}, ClientId: {client_id}, {result}"
                )


class StartMonitoring(SubCommand):
    NAME = "startMonitoring"
    HELP = "Start Monitoring"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        # mqadmin has no options; these bound the run for scripts (rocketpy only)
        parser.add_argument("--rounds", type=int, default=None, help="stop after N rounds (default: until Ctrl-C)")
        parser.add_argument("--delay", type=float, default=FIRST_ROUND_DELAY, help="seconds before the first round")
        parser.add_argument("--interval", type=float, default=ROUND_INTERVAL, help="seconds between rounds")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        if args.rounds is not None and args.rounds < 1:
            raise RocketMQError(-1, "--rounds must be at least 1")
        err = sys.stderr
        err.write(
            "rocketpy admin startMonitoring: reportDeleteMsgsEvent (the OFFSET_MOVED_EVENT subscription) is not "
            "monitored by rocketpy admin\n"
        )
        out = sys.stdout
        await trio.sleep(max(0.0, args.delay))
        done = 0
        while True:
            started = trio.current_time()
            for line in await MonitorRound(admin, err).run():
                out.write(line + "\n")
            out.flush()
            done += 1
            if args.rounds is not None and done >= args.rounds:
                return None
            # scheduleAtFixedRate: the next round starts `interval` after the previous one started
            await trio.sleep(max(0.0, args.interval - (trio.current_time() - started)))

    def render(self, data: Any, out: TextIO) -> None:
        """The rounds are printed as they end (run)."""
