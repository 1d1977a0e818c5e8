"""Consumer and producer subcommands (tools.command.connection.*, consumer.ConsumerProgress / GetConsumerConfig,
topic.UpdateTopicPerm / UpdateOrderConf)."""

from __future__ import annotations

import argparse
import contextlib
import datetime
from typing import Any, TextIO

from rocketpy.admin.command import SubCommand, front_at_least, optional, printf, required
from rocketpy.admin.topic_commands import CLUSTER_ERROR, topic_config_text
from rocketpy.client.admin import AdminClient
from rocketpy.common.java import java_hash_order
from rocketpy.protocol.bodies.consumer import ConsumerConnection
from rocketpy.protocol.bodies.heartbeat import ConsumeType
from rocketpy.protocol.bodies.topic_config import TopicConfig
from rocketpy.protocol.codes import ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.versions import version_desc

RETRY_PREFIX = "%RETRY%"


def _name(value: Any) -> str:
    """An enum as Java's String.valueOf prints it (null when absent)."""
    return "null" if value is None else str(value.name)


async def consumer_connection(admin: AdminClient, group: str, broker_addr: str | None = None) -> ConsumerConnection:
    """DefaultMQAdminExtImpl.examineConsumerConnectionInfo: through the group's retry topic route, unless a broker
    is given; an empty answer is CONSUMER_NOT_ONLINE."""
    if broker_addr is None:
        route = await admin.topic_route(RETRY_PREFIX + group)
        addr = route.broker_datas[0].select_broker_addr() if route.broker_datas else None
        result = ConsumerConnection() if not addr else await admin.consumer_connection(addr, group)
    else:
        result = await admin.consumer_connection(broker_addr, group)
    if not result.connection_set:
        raise RocketMQError(ResponseCode.CONSUMER_NOT_ONLINE, "Not found the consumer group connection")
    return result


async def consume_stats(admin: AdminClient, group: str) -> tuple[dict[tuple[str, str, int], Any], float]:
    """DefaultMQAdminExtImpl.examineConsumeStats: every broker of the group's retry topic, merged."""
    route = await admin.topic_route(RETRY_PREFIX + group)
    table: dict[tuple[str, str, int], Any] = {}
    tps = 0.0
    for broker in route.broker_datas:
        addr = broker.select_broker_addr()
        if addr is None:
            continue
        stats = await admin.consume_stats(addr, group)
        for key, wrapper in (stats.get("offsetTable") or {}).items():
            table[(str(key.get("topic", "")), str(key.get("brokerName", "")), int(key.get("queueId", 0)))] = wrapper
        tps += float(stats.get("consumeTps", 0.0))
    if not table:
        raise RocketMQError(
            ResponseCode.CONSUMER_NOT_ONLINE,
            "Not found the consumer group consume stats, because return offset table is empty, maybe the consumer "
            "not consume any message",
        )
    return table, tps


class ConsumerConnectionCommand(SubCommand):
    NAME = "consumerConnection"
    HELP = "Query consumer's socket connection, client version and subscription"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "g", "consumerGroup", "consumer group name")
        optional(parser, "b", "brokerAddr", "broker address")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        broker = args.brokerAddr.strip() if args.brokerAddr else None
        return await consumer_connection(admin, args.consumerGroup.strip(), broker)

    def render(self, data: Any, out: TextIO) -> None:
        cc: ConsumerConnection = data
        printf(out, "%-36s %-22s %-10s %s%n", "#ClientId", "#ClientAddr", "#Language", "#Version")
        for conn in cc.connection_set:
            language = conn.to_obj()["language"]
            printf(
                out, "%-36s %-22s %-10s %s%n", conn.client_id, conn.client_addr, language, version_desc(conn.version)
            )
        printf(out, "%nBelow is subscription:\n")
        printf(out, "%-20s %s%n", "#Topic", "#SubExpression")
        for topic in java_hash_order(cc.subscription_table):
            sd = cc.subscription_table[topic]
            printf(out, "%-20s %s%n", sd.topic, sd.sub_string)
        out.write("\n")
        printf(out, "ConsumeType: %s%n", _name(cc.consume_type))
        printf(out, "MessageModel: %s%n", _name(cc.message_model))
        printf(out, "ConsumeFromWhere: %s%n", _name(cc.consume_from_where))


class ProducerConnectionCommand(SubCommand):
    NAME = "producerConnection"
    HELP = "Query producer's socket connection and client version"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "g", "producerGroup", "producer group name")
        required(parser, "t", "topic", "topic name")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        group, topic = args.producerGroup.strip(), args.topic.strip()
        route = await admin.topic_route(topic)
        addr = route.broker_datas[0].select_broker_addr() if route.broker_datas else None
        connections = [] if not addr else (await admin.producer_connection(addr, group)).connection_set
        if not connections:
            raise RocketMQError(-1, "Not found the producer group connection")
        return connections

    def render(self, data: Any, out: TextIO) -> None:
        for i, conn in enumerate(data, 1):
            language = conn.to_obj()["language"]
            printf(
                out,
                "%04d  %-32s %-22s %-8s %s%n",
                i,
                conn.client_id,
                conn.client_addr,
                language,
                version_desc(conn.version),
            )


class ConsumerProgress(SubCommand):
    NAME = "consumerProgress"
    HELP = "Query consumers's progress, speed"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        optional(parser, "g", "groupName", "consumer group name")
        optional(parser, "s", "showClientIP", "Show Client IP per Queue")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        if args.groupName is not None:
            if args.showClientIP is not None and args.showClientIP.lower() == "true":
                raise RocketMQError(
                    -1,
                    "consumerProgress -s true (per-queue client IPs through GET_CONSUMER_RUNNING_INFO) "
                    "is not implemented in rocketpy admin yet",
                )
            table, tps = await consume_stats(admin, args.groupName.strip())
            return {"queues": [(mq, table[mq]) for mq in sorted(table)], "tps": tps}
        groups = []
        for topic in java_hash_order((await admin.topic_list()).topic_list):
            if not topic.startswith(RETRY_PREFIX):
                continue
            group = topic[len(RETRY_PREFIX) :]
            tps, diff = 0, 0
            try:
                table, total_tps = await consume_stats(admin, group)
                tps = int(total_tps)
                diff = sum(int(w.get("brokerOffset", 0)) - int(w.get("consumerOffset", 0)) for w in table.values())
            except (RocketMQError, IndexError):
                pass
            cc: ConsumerConnection | None = None
            with contextlib.suppress(RocketMQError, IndexError):  # an offline group: counted as 0 connections
                cc = await consumer_connection(admin, group)
            groups.append((group, cc, tps, diff))
        return {"groups": groups}

    def render(self, data: Any, out: TextIO) -> None:
        if "queues" in data:
            printf(
                out,
                "%-64s  %-32s  %-4s  %-20s  %-20s  %-20s  %s%n",
                "#Topic",
                "#Broker Name",
                "#QID",
                "#Broker Offset",
                "#Consumer Offset",
                "#Diff",
                "#LastTime",
            )
            total = 0
            for (topic, broker, qid), w in data["queues"]:
                broker_offset, consumer_offset = int(w.get("brokerOffset", 0)), int(w.get("consumerOffset", 0))
                diff = broker_offset - consumer_offset
                total += diff
                last = int(w.get("lastTimestamp", 0))
                last_time = "N/A" if last == 0 else _format_date(last)
                printf(
                    out,
                    "%-64s  %-32s  %-4d  %-20d  %-20d  %-20d  %s%n",
                    front_at_least(topic, 64),
                    front_at_least(broker, 32),
                    qid,
                    broker_offset,
                    consumer_offset,
                    diff,
                    last_time,
                )
            out.write("\n")
            printf(out, "Consume TPS: %.2f%n", data["tps"])
            printf(out, "Diff Total: %d%n", total)
            return
        printf(
            out,
            "%-64s  %-6s  %-24s %-5s  %-14s  %-7s  %s%n",
            "#Group",
            "#Count",
            "#Version",
            "#Type",
            "#Model",
            "#TPS",
            "#Diff Total",
        )
        for group, cc, tps, diff in data["groups"]:
            count = len(cc.connection_set) if cc is not None else 0
            version = consume_type = model = ""
            if cc is not None and count:
                version = version_desc(min(c.version for c in cc.connection_set))
                consume_type = "PULL" if cc.consume_type is ConsumeType.CONSUME_ACTIVELY else "PUSH"
                if cc.consume_type is ConsumeType.CONSUME_PASSIVELY:
                    model = _name(cc.message_model)
            printf(
                out,
                "%-64s  %-6d  %-24s %-5s  %-14s  %-7d  %d%n",
                front_at_least(group, 64),
                count,
                version if count > 0 else "OFFLINE",
                consume_type,
                model,
                tps,
                diff,
            )


def _format_date(millis: int) -> str:
    """UtilAll.formatDate(date, "yyyy-MM-dd HH:mm:ss") in local time."""
    return datetime.datetime.fromtimestamp(millis / 1000.0).strftime("%Y-%m-%d %H:%M:%S")


# SubscriptionGroupConfig's declared fields, in declaration order (what getConsumerConfig prints by reflection)
_GROUP_FIELDS = (
    ("groupName", "group_name"),
    ("consumeEnable", "consume_enable"),
    ("consumeFromMinEnable", "consume_from_min_enable"),
    ("consumeBroadcastEnable", "consume_broadcast_enable"),
    ("retryQueueNums", "retry_queue_nums"),
    ("retryMaxTimes", "retry_max_times"),
    ("brokerId", "broker_id"),
    ("whichBrokerWhenConsumeSlowly", "which_broker_when_consume_slowly"),
    ("notifyConsumerIdsChangedEnable", "notify_consumer_ids_changed_enable"),
)


class GetConsumerConfig(SubCommand):
    NAME = "getConsumerConfig"
    HELP = "Get consumer config by subscription group name!"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "g", "groupName", "subscription group name")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        group = args.groupName.strip()
        info = await admin.cluster_info()
        found = []
        for name in java_hash_order(info.broker_addr_table):
            cluster = next(
                (c for c in java_hash_order(info.cluster_addr_table) if name in info.cluster_addr_table[c]), None
            )
            addr = info.broker_addr_table[name].select_broker_addr()
            if addr is None:
                continue
            config = (await admin.subscription_groups(addr)).subscription_group_table.get(group)
            if config is not None:
                found.append((cluster, name, config))
        return found

    def render(self, data: Any, out: TextIO) -> None:
        for cluster, name, config in data:
            printf(out, "=============================%s:%s=============================\n", cluster, name)
            for java_name, attr in _GROUP_FIELDS:
                printf(out, "%s%-40s=  %s\n", "", java_name, getattr(config, attr))


class UpdateTopicPerm(SubCommand):
    NAME = "updateTopicPerm"
    HELP = "Update topic perm"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        optional(parser, "b", "brokerAddr", "create topic to which broker")
        optional(parser, "c", "clusterName", "create topic to which cluster")
        required(parser, "t", "topic", "topic name")
        required(parser, "p", "perm", "set topic's permission(2|4|6), intro[2:W; 4:R; 6:RW]")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        topic = args.topic.strip()
        route = await admin.topic_route(topic)
        if not route.queue_datas:
            raise RocketMQError(-1, f"the route of {topic} has no queues")
        first = route.queue_datas[0]
        perm = int(args.perm.strip())
        config = TopicConfig(
            topic_name=topic,
            read_queue_nums=first.read_queue_nums,
            write_queue_nums=first.write_queue_nums,
            perm=perm,
            topic_sys_flag=first.topic_sys_flag,
        )
        lines: list[str] = []
        if args.brokerAddr is not None:
            addr = args.brokerAddr.strip()
            name = next((b.broker_name for b in route.broker_datas if b.broker_addrs.get(0) == addr), None)
            if name is None:
                return ["updateTopicPerm error broker not exit or broker is not master!.\n"]
            old = 0
            for queue in route.queue_datas:
                if queue.broker_name == name:
                    old = queue.perm
                    if perm == old:
                        return ["new perm equals to the old one!\n"]
                    break
            await admin.create_topic(addr, config)
            return [f"update topic perm from {old} to {perm} in {addr} success.\n", f"{topic_config_text(config)}.\n"]
        if args.clusterName is None:
            raise RocketMQError(-1, f"mqadmin {self.NAME}: one of -b brokerAddr or -c clusterName is required")
        addrs = await admin.master_addrs_of_cluster(args.clusterName.strip())
        if addrs is None:
            lines.append(f"[error] {CLUSTER_ERROR}")
        for addr in addrs or []:
            await admin.create_topic(addr, config)
            lines.append(f"update topic perm from {first.perm} to {perm} in {addr} success.\n")
        return lines


class UpdateOrderConf(SubCommand):
    NAME = "updateOrderConf"
    HELP = "Create or update or delete order conf"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "t", "topic", "topic name")
        optional(parser, "v", "orderConf", "set order conf [eg. brokerName1:num;brokerName2:num]")
        required(parser, "m", "method", "option type [eg. put|get|delete")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        topic, method = args.topic.strip(), args.method.strip()
        if method == "get":
            conf = await admin.get_kv_config("ORDER_TOPIC_CONFIG", topic)
            return f"get orderConf success. topic=[{topic}], orderConf=[{conf}] "
        if method == "put":
            conf = (args.orderConf or "").strip()
            if not conf:
                raise RocketMQError(-1, "please set orderConf with option -v.")
            await admin.put_kv_config("ORDER_TOPIC_CONFIG", topic, conf)
            return f"update orderConf success. topic=[{topic}], orderConf=[{conf}]"
        if method == "delete":
            await admin.delete_kv_config("ORDER_TOPIC_CONFIG", topic)
            return f"delete orderConf success. topic=[{topic}]"
        raise RocketMQError(-1, f"mqadmin {self.NAME}: -m must be put, get or delete")

    def render(self, data: Any, out: TextIO) -> None:
        out.write(data)
