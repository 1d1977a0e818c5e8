"""Broker and subscription group subcommands (tools.command.broker.*, consumer.Update/DeleteSubGroup)."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from rocketpy.admin.command import SubCommand, optional, printf, required
from rocketpy.admin.namesrv_commands import print_properties
from rocketpy.admin.topic_commands import CLUSTER_ERROR, delete_topic_lines, java_bool
from rocketpy.client.admin import AdminClient
from rocketpy.common.java import java_hash_order
from rocketpy.protocol.bodies.subscription_group import SubscriptionGroupConfig
from rocketpy.protocol.codes import RequestCode
from rocketpy.protocol.errors import RocketMQError


def _where(parser: argparse.ArgumentParser, what: str) -> None:
    optional(parser, "b", "brokerAddr", f"{what} which broker")
    optional(parser, "c", "clusterName", f"{what} which cluster")


def _usage_error(name: str) -> RocketMQError:
    # ServerUtil.printCommandLineHelp: neither -b nor -c given
    return RocketMQError(-1, f"mqadmin {name}: one of -b brokerAddr or -c clusterName is required")


def _error_line(exc: RocketMQError) -> str:
    return f"CODE: {exc.code}  DESC: {exc.remark}"


class GetBrokerConfig(SubCommand):
    NAME = "getBrokerConfig"
    HELP = "Get broker config by cluster or special broker!"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _where(parser, "get")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        if args.brokerAddr is not None:
            addr = args.brokerAddr.strip()
            return [(f"============{addr}============\n", await admin.broker_config(addr))]
        if args.clusterName is None:
            return []
        info = await admin.cluster_info()
        names = info.cluster_addr_table.get(args.clusterName.strip())
        if names is None:  # CommandUtil.fetchMasterAndSlaveDistinguish throws
            raise RocketMQError(-1, f"[error] {CLUSTER_ERROR}")
        sections = []
        for name in sorted(names):
            data = info.broker_addr_table.get(name)
            if data is None or 0 not in data.broker_addrs:
                continue
            master = data.broker_addrs[0]
            sections.append((f"============Master: {master}============\n", await admin.broker_config(master)))
            for bid, slave in data.broker_addrs.items():
                if bid != 0:
                    header = f"============My Master: {master}=====Slave: {slave}============\n"
                    sections.append((header, await admin.broker_config(slave)))
        return sections

    def render(self, data: Any, out: TextIO) -> None:
        for header, props in data:
            out.write(header)
            print_properties(props, out)
            out.write("\n")


class UpdateBrokerConfig(SubCommand):
    NAME = "updateBrokerConfig"
    HELP = "Update broker's config"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _where(parser, "update")
        required(parser, "k", "key", "config key")
        required(parser, "v", "value", "config value")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        props = {args.key.strip(): args.value.strip()}
        if args.brokerAddr is not None:
            addr = args.brokerAddr.strip()
            await admin.update_broker_config(addr, props)
            return [f"update broker config success, {addr}\n"]
        if args.clusterName is None:
            raise _usage_error(self.NAME)
        addrs = await admin.master_addrs_of_cluster(args.clusterName.strip())
        lines = [] if addrs is not None else [f"[error] {CLUSTER_ERROR}"]
        for addr in addrs or []:
            try:
                await admin.update_broker_config(addr, props)
                lines.append(f"update broker config success, {addr}\n")
            except RocketMQError as exc:  # Java prints the stack trace and goes on with the next master
                print(_error_line(exc), file=sys.stderr)
        return lines


class BrokerStatus(SubCommand):
    NAME = "brokerStatus"
    HELP = "Fetch broker runtime status data"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        optional(parser, "b", "brokerAddr", "Broker address")
        optional(parser, "c", "clusterName", "which cluster")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        if args.brokerAddr is not None:
            addr = args.brokerAddr.strip()
            return [(None, await admin.broker_runtime_info(addr))]
        if args.clusterName is None:
            return []
        addrs = await admin.addrs_of_cluster(args.clusterName.strip())
        tables = []
        for addr in addrs or []:
            try:
                tables.append((addr, await admin.broker_runtime_info(addr)))
            except RocketMQError as exc:
                print(_error_line(exc), file=sys.stderr)
        return tables

    def render(self, data: Any, out: TextIO) -> None:
        for addr, table in data:
            for key in sorted(table):
                if addr is None:
                    printf(out, "%-32s: %s%n", key, table[key])
                else:
                    printf(out, "%-24s %-32s: %s%n", addr, key, table[key])


def subscription_group_text(c: SubscriptionGroupConfig) -> str:
    """SubscriptionGroupConfig.toString."""

    def b(v: bool) -> str:
        return "true" if v else "false"

    return (
        f"SubscriptionGroupConfig [groupName={c.group_name}, consumeEnable={b(c.consume_enable)}, "
        f"consumeFromMinEnable={b(c.consume_from_min_enable)}, consumeBroadcastEnable={b(c.consume_broadcast_enable)}, "
        f"retryQueueNums={c.retry_queue_nums}, retryMaxTimes={c.retry_max_times}, brokerId={c.broker_id}, "
        f"whichBrokerWhenConsumeSlowly={c.which_broker_when_consume_slowly}, "
        f"notifyConsumerIdsChangedEnable={b(c.notify_consumer_ids_changed_enable)}]"
    )


class UpdateSubGroup(SubCommand):
    NAME = "updateSubGroup"
    HELP = "Update or create subscription group"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _where(parser, "create subscription group to")
        required(parser, "g", "groupName", "consumer group name")
        optional(parser, "s", "consumeEnable", "consume enable")
        optional(parser, "m", "consumeFromMinEnable", "from min offset")
        optional(parser, "d", "consumeBroadcastEnable", "broadcast")
        optional(parser, "q", "retryQueueNums", "retry queue nums")
        optional(parser, "r", "retryMaxTimes", "retry max times")
        optional(parser, "i", "brokerId", "consumer from which broker id")
        optional(parser, "w", "whichBrokerWhenConsumeSlowly", "which broker id when consume slowly")
        optional(parser, "a", "notifyConsumerIdsChanged", "notify consumerId changed")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        c = SubscriptionGroupConfig(
            group_name=args.groupName.strip(), consume_broadcast_enable=False, consume_from_min_enable=False
        )
        if args.consumeEnable is not None:
            c.consume_enable = java_bool(args.consumeEnable)
        if args.consumeFromMinEnable is not None:
            c.consume_from_min_enable = java_bool(args.consumeFromMinEnable)
        if args.consumeBroadcastEnable is not None:
            c.consume_broadcast_enable = java_bool(args.consumeBroadcastEnable)
        if args.retryQueueNums is not None:
            c.retry_queue_nums = int(args.retryQueueNums.strip())
        if args.retryMaxTimes is not None:
            c.retry_max_times = int(args.retryMaxTimes.strip())
        if args.brokerId is not None:
            c.broker_id = int(args.brokerId.strip())
        if args.whichBrokerWhenConsumeSlowly is not None:
            c.which_broker_when_consume_slowly = int(args.whichBrokerWhenConsumeSlowly.strip())
        if args.notifyConsumerIdsChanged is not None:
            c.notify_consumer_ids_changed_enable = java_bool(args.notifyConsumerIdsChanged)
        if args.brokerAddr is not None:
            addr = args.brokerAddr.strip()
            await admin.create_subscription_group(addr, c)
            return [f"create subscription group to {addr} success.\n", subscription_group_text(c)]
        if args.clusterName is None:
            raise _usage_error(self.NAME)
        addrs = await admin.master_addrs_of_cluster(args.clusterName.strip())
        lines = [] if addrs is not None else [f"[error] {CLUSTER_ERROR}"]
        for addr in addrs or []:
            try:
                await admin.create_subscription_group(addr, c)
                lines.append(f"create subscription group to {addr} success.\n")
            except RocketMQError as exc:
                print(_error_line(exc), file=sys.stderr)
        lines.append(subscription_group_text(c))
        return lines


class DeleteSubGroup(SubCommand):
    NAME = "deleteSubGroup"
    HELP = "Delete subscription group from broker."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _where(parser, "delete subscription group from")
        required(parser, "g", "groupName", "subscription group name")
        optional(parser, "r", "removeOffset", "remove offset")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        group = args.groupName.strip()
        remove_offset = args.removeOffset is not None and java_bool(args.removeOffset)
        if args.brokerAddr is not None:
            addr = args.brokerAddr.strip()
            await admin.delete_subscription_group(addr, group, remove_offset)
            return [f"delete subscription group [{group}] from broker [{addr}] success.\n"]
        if args.clusterName is None:
            raise _usage_error(self.NAME)
        cluster = args.clusterName.strip()
        addrs = await admin.master_addrs_of_cluster(cluster)
        lines = [] if addrs is not None else [f"[error] {CLUSTER_ERROR}"]
        for addr in addrs or []:
            await admin.delete_subscription_group(addr, group, remove_offset)
            lines.append(f"delete subscription group [{group}] from broker [{addr}] in cluster [{cluster}] success.\n")
        try:
            for topic in (f"%RETRY%{group}", f"%DLQ%{group}"):
                await delete_topic_lines(admin, cluster, topic, lines)
        except RocketMQError as exc:
            print(_error_line(exc), file=sys.stderr)
        return lines


class _BrokerMaintenance(SubCommand):
    """CleanUnusedTopicCommand / DeleteExpiredCommitLogSubCommand: one request to a broker, or to every broker of a
    cluster (of every cluster without -c); prints "success" or "false" for the last answer, with no newline."""

    CODE: int

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        optional(parser, "b", "brokerAddr", "Broker address")
        optional(parser, "c", "cluster", "cluster name")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        if args.brokerAddr is not None:
            addrs = [args.brokerAddr.strip()]
        else:
            info = await admin.cluster_info()
            clusters = [args.cluster.strip()] if args.cluster else java_hash_order(info.cluster_addr_table)
            addrs = [a for c in clusters for a in info.all_addrs_of_cluster(c)]
        result = False
        for addr in addrs:
            await admin.call(addr, self.CODE)  # a refusal raises: MQClientException(code, remark)
            result = True
        return result

    def render(self, data: Any, out: TextIO) -> None:
        out.write("success" if data else "false")


class CleanUnusedTopic(_BrokerMaintenance):
    NAME = "cleanUnusedTopic"
    HELP = "Clean unused topic on broker."
    CODE = RequestCode.CLEAN_UNUSED_TOPIC


class DeleteExpiredCommitLog(_BrokerMaintenance):
    NAME = "deleteExpiredCommitLog"
    HELP = "Delete expired CommitLog files"
    CODE = RequestCode.DELETE_EXPIRED_COMMITLOG
