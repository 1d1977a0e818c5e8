"""Topic subcommands (tools.command.topic.*)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from rocketpy.admin.command import SubCommand, front_at_least, optional, perm_to_string, printf, required
from rocketpy.admin.java_format import human_time, pretty_json
from rocketpy.client.admin import AdminClient
from rocketpy.common import fastjson
from rocketpy.common.java import java_hash_order, java_string_hash
from rocketpy.protocol.bodies.topic_config import TopicConfig
from rocketpy.protocol.codes import ResponseCode
from rocketpy.protocol.errors import RocketMQError

CLUSTER_ERROR = "Make sure the specified clusterName exists or the name server connected to is correct."


def topic_config_text(config: TopicConfig) -> str:
    """TopicConfig.toString."""
    return (
        f"TopicConfig [topicName={config.topic_name}, readQueueNums={config.read_queue_nums}, "
        f"writeQueueNums={config.write_queue_nums}, perm={perm_to_string(config.perm)}, "
        f"topicFilterType={config.topic_filter_type.name}, topicSysFlag={config.topic_sys_flag}, "
        f"order={'true' if config.order else 'false'}]"
    )


def java_bool(text: str) -> bool:
    """Boolean.parseBoolean."""
    return text.strip().lower() == "true"


class TopicList(SubCommand):
    NAME = "topicList"
    HELP = "Fetch all topic list from name server"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        optional(parser, "c", "clusterModel", "clusterModel", flag=True)

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        topics = java_hash_order((await admin.topic_list()).topic_list)
        if not args.clusterModel:
            return {"topics": topics}
        info = await admin.cluster_info()
        rows = []
        for topic in topics:
            if topic.startswith(("%RETRY%", "%DLQ%")):
                continue
            cluster: str | None = ""
            groups: list[str] = []
            try:  # TopicListSubCommand swallows any failure of these two look-ups
                route = await admin.topic_route(topic)
                name = route.broker_datas[0].broker_name
                cluster = next(
                    (c for c in java_hash_order(info.cluster_addr_table) if name in info.cluster_addr_table[c]), None
                )
                addr = route.broker_datas[0].select_broker_addr()
                if addr is not None:
                    groups = await admin.topic_consumed_by(addr, topic)
            except (RocketMQError, IndexError):
                pass
            for group in groups or [""]:
                rows.append((cluster, topic, group))
        return {"rows": rows}

    def render(self, data: Any, out: TextIO) -> None:
        if "topics" in data:
            for topic in data["topics"]:
                printf(out, "%s%n", topic)
            return
        printf(out, "%-20s  %-48s  %-48s%n", "#Cluster Name", "#Topic", "#Consumer Group")
        for cluster, topic, group in data["rows"]:
            printf(
                out,
                "%-20s  %-64s  %-64s%n",
                front_at_least(cluster, 20),
                front_at_least(topic, 64),
                front_at_least(group, 64),
            )


class TopicRoute(SubCommand):
    NAME = "topicRoute"
    HELP = "Examine topic route info"
    FORMAT = "%-45s %-32s %-50s %-10s %-11s %-5s%n"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "t", "topic", "topic name")
        optional(parser, "l", "list", "Use list format to print data", flag=True)

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        route = await admin.topic_route(args.topic.strip())
        return {"list": args.list, "route": route}

    def render(self, data: Any, out: TextIO) -> None:
        route = data["route"]
        if not data["list"]:
            printf(out, "%s%n", pretty_json(route.to_obj()))
            return
        queues = {q.broker_name: q for q in route.queue_datas}
        printf(out, self.FORMAT, "#ClusterName", "#BrokerName", "#BrokerAddrs", "#ReadQueue", "#WriteQueue", "#Perm")
        total_read = total_write = 0
        for broker in sorted(route.broker_datas, key=lambda b: b.broker_name or ""):
            queue = queues[broker.broker_name]
            total_read += queue.read_queue_nums
            total_write += queue.write_queue_nums
            addrs = "{" + ", ".join(f"{k}={broker.broker_addrs[k]}" for k in java_hash_order(broker.broker_addrs)) + "}"
            printf(
                out,
                self.FORMAT,
                broker.cluster,
                broker.broker_name,
                addrs,
                queue.read_queue_nums,
                queue.write_queue_nums,
                queue.perm,
            )
        out.write("-" * 158 + "\n")
        printf(out, self.FORMAT, "Total:", len(queues), "", total_read, total_write, "")


class TopicClusterList(SubCommand):
    NAME = "topicClusterList"
    HELP = "get cluster info for topic"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "t", "topic", "topic name")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        info = await admin.cluster_info()
        route = await admin.topic_route(args.topic.strip())
        if not route.broker_datas:
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, "the topic route has no broker")
        name = route.broker_datas[0].broker_name
        return java_hash_order({c for c, names in info.cluster_addr_table.items() if name in names})

    def render(self, data: Any, out: TextIO) -> None:
        for cluster in data:
            printf(out, "%s%n", cluster)


class UpdateTopic(SubCommand):
    NAME = "updateTopic"
    HELP = "Update or create topic"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("-b", "--brokerAddr", dest="brokerAddr", help="create topic to which broker")
        where.add_argument("-c", "--clusterName", dest="clusterName", help="create topic to which cluster")
        required(parser, "t", "topic", "topic name")
        optional(parser, "r", "readQueueNums", "set read queue nums")
        optional(parser, "w", "writeQueueNums", "set write queue nums")
        optional(parser, "p", "perm", "set topic's permission(2|4|6), intro[2:W 4:R; 6:RW]")
        optional(parser, "o", "order", "set topic's order(true|false)")
        optional(parser, "u", "unit", "is unit topic (true|false)")
        optional(parser, "s", "hasUnitSub", "has unit sub (true|false)")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        config = TopicConfig(topic_name=args.topic.strip(), read_queue_nums=8, write_queue_nums=8)
        if args.readQueueNums is not None:
            config.read_queue_nums = int(args.readQueueNums.strip())
        if args.writeQueueNums is not None:
            config.write_queue_nums = int(args.writeQueueNums.strip())
        if args.perm is not None:
            config.perm = int(args.perm.strip())
        unit = args.unit is not None and java_bool(args.unit)
        unit_sub = args.hasUnitSub is not None and java_bool(args.hasUnitSub)
        config.topic_sys_flag = (1 if unit else 0) | (2 if unit_sub else 0)  # TopicSysFlag.buildSysFlag
        config.order = args.order is not None and java_bool(args.order)
        lines: list[str] = []
        if args.brokerAddr is not None:
            addr = args.brokerAddr.strip()
            await admin.create_topic(addr, config)
            if config.order:
                info = await admin.cluster_info()
                name = next((n for n, d in info.broker_addr_table.items() if addr in d.broker_addrs.values()), None)
                conf = f"{name}:{config.write_queue_nums}"
                await _merge_order_conf(admin, config.topic_name or "", conf)
                lines.append(f"set broker orderConf. isOrder=true, orderConf=[{conf}]")
            lines.append(f"create topic to {addr} success.\n")
        else:
            cluster = args.clusterName.strip()
            addrs = await admin.master_addrs_of_cluster(cluster)
            if addrs is None:
                lines.append(f"[error] {CLUSTER_ERROR}")
            for addr in addrs or []:
                await admin.create_topic(addr, config)
                lines.append(f"create topic to {addr} success.\n")
            if config.order:
                info = await admin.cluster_info()
                names = java_hash_order(info.cluster_addr_table.get(cluster, set()))
                conf = ";".join(f"{n}:{config.write_queue_nums}" for n in names)
                await admin.put_kv_config("ORDER_TOPIC_CONFIG", config.topic_name or "", conf)
                lines.append(f"set cluster orderConf. isOrder=true, orderConf=[{conf}]")
        lines.append(topic_config_text(config))
        return lines


async def _merge_order_conf(admin: AdminClient, topic: str, conf: str) -> None:
    """DefaultMQAdminExtImpl.createOrUpdateOrderConf(isCluster=false): this broker's entry replaces its old one."""
    try:
        old = await admin.get_kv_config("ORDER_TOPIC_CONFIG", topic)
    except RocketMQError as exc:  # Java prints the stack trace and carries on
        print(f"CODE: {exc.code}  DESC: {exc.remark}", file=sys.stderr)
        old = None
    entries: dict[str, str] = {}
    for item in (old or "").split(";") if (old or "").strip() else []:
        entries[item.split(":")[0]] = item
    entries[conf.split(":")[0]] = conf
    merged = ";".join(entries[k] for k in java_hash_order(entries))
    await admin.put_kv_config("ORDER_TOPIC_CONFIG", topic, merged)


class DeleteTopic(SubCommand):
    NAME = "deleteTopic"
    HELP = "Delete topic from broker and NameServer."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "t", "topic", "topic name")
        required(parser, "c", "clusterName", "delete topic from which cluster")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        lines: list[str] = []
        await delete_topic_lines(admin, args.clusterName.strip(), args.topic.strip(), lines)
        return lines


async def delete_topic_lines(admin: AdminClient, cluster: str, topic: str, lines: list[str]) -> None:
    """DeleteTopicSubCommand.deleteTopic: the cluster's masters, then every NameServer; appends what Java prints."""
    addrs = await admin.master_addrs_of_cluster(cluster)
    if addrs is None:
        lines.append(f"[error] {CLUSTER_ERROR}")
    for addr in addrs or []:
        await admin.delete_topic_in_broker(addr, topic)
    lines.append(f"delete topic [{topic}] from cluster [{cluster}] success.\n")
    await admin.delete_topic_in_namesrv(topic, cluster)
    lines.append(f"delete topic [{topic}] from NameServer success.\n")


class TopicStatus(SubCommand):
    NAME = "topicStatus"
    HELP = "Examine topic Status info"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "t", "topic", "topic name")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        topic = args.topic.strip()
        route = await admin.topic_route(topic)
        table: dict[tuple[str, str, int], Any] = {}
        for broker in route.broker_datas:
            addr = broker.select_broker_addr()
            if addr is None:
                continue
            stats = await admin.topic_stats(addr, topic)
            for key, offset in (stats.get("offsetTable") or {}).items():
                table[(str(key.get("topic", "")), str(key.get("brokerName", "")), int(key.get("queueId", 0)))] = offset
        if not table:
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, "Not found the topic stats info")
        return [(mq, table[mq]) for mq in sorted(table)]

    def render(self, data: Any, out: TextIO) -> None:
        printf(
            out,
            "%-32s  %-4s  %-20s  %-20s    %s%n",
            "#Broker Name",
            "#QID",
            "#Min Offset",
            "#Max Offset",
            "#Last Updated",
        )
        for (_topic, broker, qid), offset in data:
            updated = int(offset.get("lastUpdateTimestamp", 0))
            printf(
                out,
                "%-32s  %-4d  %-20d  %-20d    %s%n",
                front_at_least(broker, 32),
                qid,
                int(offset.get("minOffset", 0)),
                int(offset.get("maxOffset", 0)),
                human_time(updated) if updated > 0 else "",
            )


def _int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def message_queue_hash(topic: str, broker_name: str, queue_id: int) -> int:
    """MessageQueue.hashCode (31-based over brokerName, queueId, topic), as an unsigned 32-bit value."""
    result = 31 + java_string_hash(broker_name)
    result = _int32(31 * result + queue_id)
    return _int32(31 * result + java_string_hash(topic)) & 0xFFFFFFFF


def allocate_averagely(current: str, queues: list[Any], clients: list[str]) -> list[Any]:
    """AllocateMessageQueueAveragely.allocate (over the queues in the order given, as Java does)."""
    index, count, size = clients.index(current), len(queues), len(clients)
    mod = count % size
    if count <= size:
        average = 1
    elif mod > 0 and index < mod:
        average = count // size + 1
    else:
        average = count // size
    start = index * average if mod > 0 and index < mod else index * average + mod
    return [queues[(start + i) % count] for i in range(min(average, count - start))]


class AllocateMQ(SubCommand):
    NAME = "allocateMQ"
    HELP = "Allocate MQ"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "t", "topic", "topic name")
        required(parser, "i", "ipList", "ipList")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        topic, ips = args.topic.strip(), args.ipList.strip().split(",")
        route = await admin.topic_route(topic)
        # MQClientInstance.topicRouteData2TopicSubscribeInfo: a HashSet of the readable queues, then an ArrayList
        readable = [(q.broker_name or "", i) for q in route.queue_datas if q.perm & 4 for i in range(q.read_queue_nums)]
        by_hash = {message_queue_hash(topic, name, qid): (name, qid) for name, qid in readable}
        queues = [by_hash[h] for h in java_hash_order(by_hash)]
        result = {}
        for ip in java_hash_order(dict.fromkeys(ips)):
            result[ip] = [
                {"brokerName": name, "queueId": qid, "topic": topic}
                for name, qid in allocate_averagely(ip, queues, ips)
            ]
        return {"result": result}

    def render(self, data: Any, out: TextIO) -> None:
        printf(out, "%s%n", fastjson.dumps(data).decode())
