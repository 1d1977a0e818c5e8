"""`consumerStatus`: tools.command.consumer.ConsumerStatusSubCommand, over GET_CONSUMER_RUNNING_INFO relayed by the
broker to each live client, and the text of common.protocol.body.ConsumerRunningInfo (formatString and the
analyzeSubscription / analyzeRebalance / analyzeProcessQueue checks).

Without -i, mqadmin writes each client's running info to the file `<millis>/<clientId>` under the working
directory and prints the table of those files; with -i it prints one client's running info.
"""

from __future__ import annotations

import argparse
import datetime
import io
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import trio

from rocketpy.admin.command import SubCommand, java_str, optional, printf, required
from rocketpy.admin.consumer_commands import RETRY_PREFIX, consumer_connection
from rocketpy.admin.offset_commands import MQ, mq_of
from rocketpy.client.admin import AdminClient
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.versions import version_desc


def _fmt(fmt: str, *args: Any) -> str:
    """String.format for the conversions used here (see command.printf)."""
    buf = io.StringIO()
    printf(buf, fmt, *args)
    return buf.getvalue()


def _mq_text(mq: MQ) -> str:
    """MessageQueue.toString."""
    return f"MessageQueue [topic={mq[0]}, brokerName={mq[1]}, queueId={mq[2]}]"


def _human(millis: int) -> str:
    """UtilAll.timeMillisToHumanString: yyyyMMddHHmmssSSS in local time."""
    moment = datetime.datetime.fromtimestamp(millis / 1000.0)
    return moment.strftime("%Y%m%d%H%M%S") + f"{millis % 1000:03d}"


def _java_double(value: Any) -> float:
    return float(value or 0.0)


def _process_queue_text(pq: Any) -> str:
    """ProcessQueueInfo.toString."""
    return (
        f"ProcessQueueInfo [commitOffset={int(pq.get('commitOffset', 0))}, "
        f"cachedMsgMinOffset={int(pq.get('cachedMsgMinOffset', 0))}, "
        f"cachedMsgMaxOffset={int(pq.get('cachedMsgMaxOffset', 0))}, "
        f"cachedMsgCount={int(pq.get('cachedMsgCount', 0))}, "
        f"cachedMsgSizeInMiB={int(pq.get('cachedMsgSizeInMiB', 0))}, "
        f"transactionMsgMinOffset={int(pq.get('transactionMsgMinOffset', 0))}, "
        f"transactionMsgMaxOffset={int(pq.get('transactionMsgMaxOffset', 0))}, "
        f"transactionMsgCount={int(pq.get('transactionMsgCount', 0))}, "
        f"locked={java_str(bool(pq.get('locked', False)))}, tryUnlockTimes={int(pq.get('tryUnlockTimes', 0))}, "
        f"lastLockTimestamp={_human(int(pq.get('lastLockTimestamp', 0)))}, "
        f"droped={java_str(bool(pq.get('droped', False)))}, "
        f"lastPullTimestamp={_human(int(pq.get('lastPullTimestamp', 0)))}, "
        f"lastConsumeTimestamp={_human(int(pq.get('lastConsumeTimestamp', 0)))}]"
    )


def _subscriptions(info: Any) -> list[Any]:
    """The TreeSet<SubscriptionData>: ordered by "topic@subString" (SubscriptionData.compareTo)."""
    subs = list(info.get("subscriptionSet") or [])
    return sorted(subs, key=lambda s: f"{s.get('topic')}@{s.get('subString')}")


def _mq_table(info: Any) -> list[tuple[MQ, Any]]:
    """The TreeMap<MessageQueue, ProcessQueueInfo>: MessageQueue.compareTo (topic, broker name, queue id)."""
    table = {mq_of(k): v for k, v in (info.get("mqTable") or {}).items()}
    return [(mq, table[mq]) for mq in sorted(table)]


def format_running_info(info: Any) -> str:
    """ConsumerRunningInfo.formatString. The properties come in the order of the answer (Java prints a
    java.util.Properties, whose order depends on the JVM)."""
    out = ["#Consumer Properties#\n"]
    for key, value in (info.get("properties") or {}).items():
        out.append(_fmt("%-40s: %s\n", key, java_str(value)))
    out.append("\n\n#Consumer Subscription#\n")
    for i, sub in enumerate(_subscriptions(info), 1):
        out.append(
            _fmt(
                "%03d Topic: %-40s ClassFilter: %-8s SubExpression: %s\n",
                i,
                sub.get("topic"),
                java_str(bool(sub.get("classFilterMode", False))),
                java_str(sub.get("subString")),
            )
        )
    out.append("\n\n#Consumer Offset#\n")
    out.append(_fmt("%-64s  %-32s  %-4s  %-20s\n", "#Topic", "#Broker Name", "#QID", "#Consumer Offset"))
    table = _mq_table(info)
    for (topic, broker, qid), pq in table:
        out.append(_fmt("%-32s  %-32s  %-4d  %-20d\n", topic, broker, qid, int(pq.get("commitOffset", 0))))
    out.append("\n\n#Consumer MQ Detail#\n")
    out.append(_fmt("%-64s  %-32s  %-4s  %-20s\n", "#Topic", "#Broker Name", "#QID", "#ProcessQueueInfo"))
    for (topic, broker, qid), pq in table:
        out.append(_fmt("%-64s  %-32s  %-4d  %s\n", topic, broker, qid, _process_queue_text(pq)))
    out.append("\n\n#Consumer RT&TPS#\n")
    out.append(
        _fmt(
            "%-64s  %14s %14s %14s %14s %18s %25s\n",
            "#Topic",
            "#Pull RT",
            "#Pull TPS",
            "#Consume RT",
            "#ConsumeOK TPS",
            "#ConsumeFailed TPS",
            "#ConsumeFailedMsgsInHour",
        )
    )
    status = info.get("statusTable") or {}
    for topic in sorted(status):
        s = status[topic]
        out.append(
            _fmt(
                "%-32s  %14.2f %14.2f %14.2f %14.2f %18.2f %25d\n",
                topic,
                _java_double(s.get("pullRT")),
                _java_double(s.get("pullTPS")),
                _java_double(s.get("consumeRT")),
                _java_double(s.get("consumeOKTPS")),
                _java_double(s.get("consumeFailedTPS")),
                int(s.get("consumeFailedMsgs", 0)),
            )
        )
    if info.get("jstack") is not None:
        out.append("\n\n#Consumer jstack#\n")
        out.append(str(info["jstack"]))
    return "".join(out)


def _is_push(info: Any) -> bool:
    return str((info.get("properties") or {}).get("PROP_CONSUME_TYPE")) == "CONSUME_PASSIVELY"


def analyze_subscription(table: dict[str, Any], now_ms: int) -> bool:
    """ConsumerRunningInfo.analyzeSubscription: a push group started over 2 minutes ago must have one, non-empty
    subscription set across its clients."""
    infos = [table[c] for c in sorted(table)]
    first = infos[0]
    started = int(str((first.get("properties") or {}).get("PROP_CONSUMER_START_TIMESTAMP", "0")))
    if _is_push(first) and now_ms - started > 2 * 60 * 1000:
        expected = _subscription_keys(first)
        if any(_subscription_keys(info) != expected for info in infos):
            return False
        if not expected:
            return False
    return True


def _subscription_keys(info: Any) -> set[str]:
    """SubscriptionData equality: topic, subString, classFilterMode, expressionType, tags and codes."""
    return {
        repr(
            (
                s.get("topic"),
                s.get("subString"),
                bool(s.get("classFilterMode", False)),
                s.get("expressionType"),
                sorted(s.get("tagsSet") or []),
                sorted(s.get("codeSet") or []),
            )
        )
        for s in info.get("subscriptionSet") or []
    }


def analyze_process_queue(client_id: str, info: Any, now_ms: int) -> str:
    """ConsumerRunningInfo.analyzeProcessQueue: queues that cannot lock (orderly) or seem blocked (concurrently)."""
    if not _is_push(info):
        return ""
    orderly = str((info.get("properties") or {}).get("PROP_CONSUMEORDERLY", "false")).lower() == "true"
    out = []
    for mq, pq in _mq_table(info):
        if orderly:
            if not pq.get("locked", False):
                since = now_ms - int(pq.get("lastLockTimestamp", 0))
                out.append(f"{client_id} {_mq_text(mq)} can't lock for a while, {since}ms\n")
            elif pq.get("droped", False) and int(pq.get("tryUnlockTimes", 0)) > 0:
                times = int(pq.get("tryUnlockTimes", 0))
                out.append(f"{client_id} {_mq_text(mq)} unlock {times} times, still failed\n")
        else:
            diff = now_ms - int(pq.get("lastConsumeTimestamp", 0))
            if diff > 60 * 1000 and int(pq.get("cachedMsgCount", 0)) > 0:
                out.append(f"{client_id} {_mq_text(mq)} can't consume for a while, maybe blocked, {diff}ms\n")
    return "".join(out)


async def running_info(admin: AdminClient, group: str, client_id: str, jstack: bool) -> Any:
    """DefaultMQAdminExtImpl.getConsumerRunningInfo: through the first broker of the group's retry topic."""
    route = await admin.topic_route(RETRY_PREFIX + group)
    for broker in route.broker_datas:
        addr = broker.select_broker_addr()
        if addr is not None:
            return await admin.consumer_running_info(addr, group, client_id, jstack)
    return None


def _write_file(path: Path, text: str) -> None:
    """MixAll.string2FileNotSafe: parent directories created as needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


class ConsumerStatus(SubCommand):
    NAME = "consumerStatus"
    HELP = "Query consumer's internal data structure"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "g", "consumerGroup", "consumer group name")
        optional(parser, "i", "clientId", "The consumer's client id")
        optional(parser, "b", "brokerAddr", "broker address")
        optional(parser, "s", "jstack", "Run jstack command in the consumer progress", flag=True)

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        group = args.consumerGroup.strip()
        broker = args.brokerAddr.strip() if args.brokerAddr else None
        cc = await consumer_connection(admin, group, broker)
        jstack = bool(args.jstack)
        if args.clientId is not None:
            info = await running_info(admin, group, args.clientId.strip(), jstack)
            return {"one": None if info is None else format_running_info(info)}
        now = int(time.time() * 1000)
        rows, table = [], {}
        for conn in cc.connection_set:
            try:
                info = await running_info(admin, group, conn.client_id, jstack)
            except RocketMQError as exc:  # mqadmin prints the stack trace and goes on with the next client
                print(f"CODE: {exc.code}  DESC: {exc.remark}", file=sys.stderr)
                continue
            if info is None:
                continue
            table[conn.client_id] = info
            path = f"{now}/{conn.client_id}"
            await trio.to_thread.run_sync(_write_file, Path(path), format_running_info(info))
            rows.append((conn.client_id, version_desc(conn.version), path))
        return {"rows": rows, "table": table, "now": int(time.time() * 1000)}

    def render(self, data: Any, out: TextIO) -> None:
        if "one" in data:
            if data["one"] is not None:
                out.write(data["one"])
            return
        out.write(_fmt("%-10s %-40s %-20s %s\n", "#Index", "#ClientId", "#Version", "#ConsumerRunningInfoFile"))
        for i, (client_id, version, path) in enumerate(data["rows"], 1):
            out.write(_fmt("%-10d %-40s %-20s %s\n", i, client_id, version, path))
        table, now = data["table"], data["now"]
        if not table:
            return
        if analyze_subscription(table, now):
            out.write("\n\nSame subscription in the same group of consumer")
            out.write("\n\nRebalance OK\n")  # analyzeRebalance always answers true in 4.9.8
            for client_id in sorted(table):
                out.write(analyze_process_queue(client_id, table[client_id], now))
        else:
            out.write("\n\nWARN: Different subscription in the same group of consumer!!!")
