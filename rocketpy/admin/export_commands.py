"""Export subcommands (tools.command.export.*): a cluster's metadata and the brokers' main settings (the metrics
report: export_metrics.py), written as pretty-printed JSON files under -f (default /tmp/rocketmq/export), as
mqadmin writes them.

exportMetadata also shows its progress (brokers read so far) on stderr when stderr is a terminal; stdout stays
exactly mqadmin's.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import trio

from rocketpy.admin.command import SubCommand, optional, required
from rocketpy.admin.java_properties_order import properties_order
from rocketpy.admin.pretty_json import pretty
from rocketpy.admin.topic_commands import CLUSTER_ERROR
from rocketpy.client.admin import AdminClient
from rocketpy.common.java import java_hash_order
from rocketpy.protocol.bodies.subscription_group import SubscriptionGroupConfig, SubscriptionGroupWrapper
from rocketpy.protocol.bodies.topic_config import TopicConfig, TopicConfigSerializeWrapper
from rocketpy.protocol.errors import RocketMQError

DEFAULT_FILE_PATH = "/tmp/rocketmq/export"
RETRY_PREFIX, DLQ_PREFIX = "%RETRY%", "%DLQ%"
SYS_GROUP_PREFIX = "CID_RMQ_SYS_"  # MixAll.isSysConsumerGroup
# DefaultMQAdminExtImpl.SYSTEM_GROUP_SET
SYSTEM_GROUPS = frozenset(
    {
        "DEFAULT_CONSUMER",
        "DEFAULT_PRODUCER",
        "TOOLS_CONSUMER",
        "FILTERSRV_CONSUMER",
        "__MONITOR_CONSUMER",
        "CLIENT_INNER_PRODUCER",
        "SELF_TEST_P_GROUP",
        "SELF_TEST_C_GROUP",
        "CID_ONS-HTTP-PROXY",
        "CID_ONSAPI_PERMISSION",
        "CID_ONSAPI_OWNER",
        "CID_ONSAPI_PULL",
        "CID_RMQ_SYS_TRANS",
    }
)
# ExportConfigsCommand.needBrokerProprties
CONFIG_KEYS = (
    "brokerClusterName",
    "brokerId",
    "brokerName",
    "brokerRole",
    "fileReservedTime",
    "filterServerNums",
    "flushDiskType",
    "maxMessageSize",
    "messageDelayLevel",
    "msgTraceTopicName",
    "slaveReadEnable",
    "traceOn",
    "traceTopicEnable",
    "useTLS",
    "autoCreateTopicEnable",
    "autoCreateSubscriptionGroup",
)
NPE = "java.lang.NullPointerException"


def file_path_of(args: argparse.Namespace) -> str:
    return DEFAULT_FILE_PATH if args.filePath is None else args.filePath.strip()


def file_option(parser: argparse.ArgumentParser, what: str) -> None:
    optional(parser, "f", "filePath", f"export {what} path | default /tmp/rocketmq/export")


async def write_file(path: str, text: str) -> None:
    """MixAll.string2FileNotSafe: parent directories created, the file overwritten (off the event loop)."""

    def write() -> None:
        target = Path(path)
        with contextlib.suppress(OSError):  # File.mkdirs: a failure shows when writing
            target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    try:
        await trio.to_thread.run_sync(write)
    except OSError as exc:  # the command fails as Java's FileWriter does
        raise RocketMQError(-1, f"java.io.FileNotFoundException: {path} ({exc.strerror})") from None


def hash_map(table: dict[str, Any]) -> dict[str, Any]:
    """A Java HashMap / ConcurrentHashMap of String keys in its iteration order."""
    return {k: table[k] for k in java_hash_order(table)}


async def user_topic_config(admin: AdminClient, addr: str, special_topic: bool) -> TopicConfigSerializeWrapper:
    """DefaultMQAdminExtImpl.getUserTopicConfig: the broker's topics without its system topics and, unless
    `special_topic`, without the %RETRY% / %DLQ% ones."""
    wrapper = TopicConfigSerializeWrapper.from_obj(await admin.all_topic_config(addr))
    system = set(await admin.system_topics_of_broker(addr))
    wrapper.topic_config_table = {
        name: config
        for name, config in wrapper.topic_config_table.items()
        if name not in system and (special_topic or not name.startswith((RETRY_PREFIX, DLQ_PREFIX)))
    }
    return wrapper


async def user_subscription_groups(admin: AdminClient, addr: str) -> SubscriptionGroupWrapper:
    """DefaultMQAdminExtImpl.getUserSubscriptionGroup: without CID_RMQ_SYS_* and the built-in groups."""
    wrapper = await admin.subscription_groups(addr)
    wrapper.subscription_group_table = {
        name: config
        for name, config in wrapper.subscription_group_table.items()
        if not name.startswith(SYS_GROUP_PREFIX) and name not in SYSTEM_GROUPS
    }
    return wrapper


def _wrapper_obj(data_version: Any, table_key: str, table: dict[str, Any]) -> dict[str, Any]:
    return {"dataVersion": data_version.to_obj(), table_key: hash_map({k: v.to_obj() for k, v in table.items()})}


class _Progress:
    """`exportMetadata: 1/3 brokers read` rewritten in place on stderr, only when stderr is a terminal."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total, self.stream = total, stream
        self.enabled = stream.isatty()

    def update(self, done: int, addr: str) -> None:
        if self.enabled:
            self.stream.write(f"\rexportMetadata: {done}/{self.total} brokers read ({addr})\x1b[K")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled and self.total:
            self.stream.write("\n")
            self.stream.flush()


class ExportMetadata(SubCommand):
    NAME = "exportMetadata"
    HELP = "export metadata"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        optional(parser, "c", "clusterName", "choose a cluster to export")
        optional(parser, "b", "brokerAddr", "choose a broker to export")
        file_option(parser, "metadata.json")
        optional(parser, "t", "topic", "only export topic metadata", flag=True)
        optional(parser, "g", "subscriptionGroup", "only export subscriptionGroup metadata", flag=True)
        optional(parser, "s", "specialTopic", "need retryTopic and dlqTopic", flag=True)

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        file_path = file_path_of(args)
        if args.brokerAddr is not None:
            return await self._broker(admin, args, args.brokerAddr.strip(), file_path)
        if args.clusterName is None:  # mqadmin prints its usage
            raise RocketMQError(-1, f"mqadmin {self.NAME}: give -c clusterName or -b brokerAddr")
        lines: list[str] = []
        masters = await admin.master_addrs_of_cluster(args.clusterName.strip())
        if masters is None:
            lines.append(f"[error] {CLUSTER_ERROR}")
        topics: dict[str, TopicConfig] = {}
        groups: dict[str, SubscriptionGroupConfig] = {}
        progress = _Progress(len(masters or []), sys.stderr)
        for done, addr in enumerate(masters or [], start=1):
            topic_wrapper = await user_topic_config(admin, addr, args.specialTopic)
            group_wrapper = await user_subscription_groups(admin, addr)
            for name in java_hash_order(topic_wrapper.topic_config_table):
                config = topic_wrapper.topic_config_table[name]
                known = topics.get(name)
                if known is not None:  # a topic on several brokers: the queue numbers add up
                    config.write_queue_nums += known.write_queue_nums
                    config.read_queue_nums += known.read_queue_nums
                topics[name] = config
            for name in java_hash_order(group_wrapper.subscription_group_table):
                group = group_wrapper.subscription_group_table[name]
                seen = groups.get(name)
                if seen is not None:
                    group.retry_queue_nums += seen.retry_queue_nums
                groups[name] = group
            progress.update(done, addr)
        progress.close()
        result: dict[str, Any] = {}
        if args.topic:
            result["topicConfigTable"] = hash_map({k: v.to_obj() for k, v in topics.items()})
            export_path = file_path + "/topic.json"
        elif args.subscriptionGroup:
            result["subscriptionGroupTable"] = hash_map({k: v.to_obj() for k, v in groups.items()})
            export_path = file_path + "/subscriptionGroup.json"
        else:
            result["topicConfigTable"] = hash_map({k: v.to_obj() for k, v in topics.items()})
            result["subscriptionGroupTable"] = hash_map({k: v.to_obj() for k, v in groups.items()})
            export_path = file_path + "/metadata.json"
        result["exportTime"] = int(time.time() * 1000)
        await write_file(export_path, pretty(hash_map(result)))
        lines.append(f"export {export_path} success\n")
        return lines

    async def _broker(self, admin: AdminClient, args: argparse.Namespace, addr: str, file_path: str) -> list[str]:
        """-b: the broker's own wrappers, with their data versions; neither -t nor -g: nothing, as mqadmin."""
        progress = _Progress(1, sys.stderr)
        if args.topic:
            path = file_path + "/topic.json"
            wrapper = await user_topic_config(admin, addr, args.specialTopic)
            obj = _wrapper_obj(wrapper.data_version, "topicConfigTable", wrapper.topic_config_table)
        elif args.subscriptionGroup:
            path = file_path + "/subscriptionGroup.json"
            groups = await user_subscription_groups(admin, addr)
            obj = _wrapper_obj(groups.data_version, "subscriptionGroupTable", groups.subscription_group_table)
        else:
            return []
        progress.update(1, addr)
        progress.close()
        await write_file(path, pretty(obj))
        return [f"export {path} success"]


class ExportConfigs(SubCommand):
    NAME = "exportConfigs"
    HELP = "export configs"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "c", "clusterName", "choose a cluster to export")
        file_option(parser, "configs.json")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        file_path = file_path_of(args)
        lines: list[str] = []
        info = await admin.cluster_info()
        names = info.cluster_addr_table.get(args.clusterName.strip())
        masters: dict[str | None, int] = {}  # CommandUtil.fetchMasterAndSlaveDistinguish: master -> slave count
        if names is None:
            lines.append(f"[error] {CLUSTER_ERROR}")
        for name in java_hash_order(names or []):
            data = info.broker_addr_table.get(name)
            if data is None:
                continue
            master = data.broker_addrs.get(0)
            masters[master] = sum(1 for bid in data.broker_addrs if bid != 0)
        broker_configs: dict[str, Any] = {}
        for master in java_hash_order(masters):
            if master is None:
                raise RocketMQError(-1, NPE)
            props = await admin.broker_config(master)
            missing = [k for k in CONFIG_KEYS if k not in props]
            if missing:  # Properties.setProperty(key, null) throws
                raise RocketMQError(-1, f"{NPE} (the broker's config has no {', '.join(missing)})")
            broker_configs[props["brokerName"]] = {k: props[k] for k in properties_order(CONFIG_KEYS)}
        result = {
            "brokerConfigs": hash_map(broker_configs),
            "clusterScale": hash_map(
                {
                    "namesrvSize": len(admin.namesrv_addrs),
                    "masterBrokerSize": len(masters),
                    "slaveBrokerSize": sum(masters.values()),
                }
            ),
        }
        path = file_path + "/configs.json"
        await write_file(path, pretty(hash_map(result)))
        lines.append(f"export {path} success")
        return lines
