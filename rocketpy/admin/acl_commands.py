"""ACL subcommands (tools.command.acl.*): accounts and global white addresses of the brokers' plain_acl.yml, and the
ACL files' data versions. The requests are signed with ROCKETMQ_HOME/conf/tools.yml's account (rocketpy.client.acl),
as mqadmin signs them.

As in Java, a cluster-wide command stops at the first broker that refuses (the lines printed so far stay printed).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, TextIO

from rocketpy.admin.command import SubCommand, printf, required
from rocketpy.admin.topic_commands import CLUSTER_ERROR
from rocketpy.client.admin import AdminClient
from rocketpy.common.java import java_hash_order, split_commas
from rocketpy.protocol.acl_headers import CreateAccessConfigRequestHeader
from rocketpy.protocol.errors import RocketMQError

ROW = "%-16s  %-22s  %-22s  %-20s  %-22s  %-22s%n"


def _where(parser: argparse.ArgumentParser, what: str) -> None:
    """mqadmin's required OptionGroup of -b / -c."""
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("-b", "--brokerAddr", dest="brokerAddr", help=f"{what} which broker")
    group.add_argument("-c", "--clusterName", dest="clusterName", help=f"{what} which cluster")


def object_identity(class_name: str) -> str:
    """Object.toString of a class without its own toString (PlainAccessConfig): the name and an identity hash,
    which differs on every run in Java too."""
    return f"{class_name}@{random.getrandbits(31):x}"


async def _each_broker(
    admin: AdminClient, args: argparse.Namespace, lines: list[str], action: Callable[[str], Awaitable[str]]
) -> None:
    """-b: that broker; -c: every master and slave of the cluster (CommandUtil.fetchMasterAndSlaveAddrByClusterName)
    in Java's HashSet order. On a refusal, what was printed before stays printed and the command fails."""
    if args.brokerAddr is not None:
        addrs: list[str] | None = [args.brokerAddr.strip()]
    else:
        addrs = await admin.addrs_of_cluster(args.clusterName.strip())
        if addrs is None:
            lines.append(f"[error] {CLUSTER_ERROR}")
    for addr in addrs or []:
        try:
            lines.append(await action(addr))
        except RocketMQError:
            sys.stdout.write("".join(lines))
            raise


class UpdateAclConfig(SubCommand):
    NAME = "updateAclConfig"
    HELP = "Update acl config yaml file in broker"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _where(parser, "update acl config file to")
        required(parser, "a", "accessKey", "set accessKey in acl config file")
        required(parser, "s", "secretKey", "set secretKey in acl config file")
        parser.add_argument("-w", "--whiteRemoteAddress", help="set white ip Address for account in acl config file")
        parser.add_argument("-i", "--defaultTopicPerm", help="set default topicPerm in acl config file")
        parser.add_argument("-u", "--defaultGroupPerm", help="set default GroupPerm in acl config file")
        parser.add_argument("-t", "--topicPerms", help="set topicPerms list,eg: topicA=DENY,topicD=SUB")
        parser.add_argument("-g", "--groupPerms", help="set groupPerms list,eg: groupD=DENY,groupD=SUB")
        parser.add_argument("-m", "--admin", help="set admin flag in acl config file")

    @staticmethod
    def header(args: argparse.Namespace) -> CreateAccessConfigRequestHeader:
        """UpdateAccessConfigSubCommand's PlainAccessConfig as MQClientAPIImpl.createPlainAccessConfig sends it."""

        def opt(value: str | None) -> str | None:
            return None if value is None else value.strip()

        def perms(value: str | None) -> str | None:  # split(",") then UtilAll.join(list, ",")
            return None if value is None else ",".join(split_commas(value.strip()))

        return CreateAccessConfigRequestHeader(
            access_key=args.accessKey.strip(),
            secret_key=args.secretKey.strip(),
            white_remote_address=opt(args.whiteRemoteAddress),
            admin=args.admin is not None and args.admin.strip().lower() == "true",  # Boolean.parseBoolean
            default_topic_perm=opt(args.defaultTopicPerm),
            default_group_perm=opt(args.defaultGroupPerm),
            topic_perms=perms(args.topicPerms),
            group_perms=perms(args.groupPerms),
        )

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        header = self.header(args)
        lines: list[str] = []

        async def update(addr: str) -> str:
            await admin.create_plain_access_config(addr, header)
            return f"create or update plain access config to {addr} success.\n"

        await _each_broker(admin, args, lines, update)
        lines.append(object_identity("org.apache.rocketmq.common.PlainAccessConfig"))
        return lines


class DeleteAclConfig(SubCommand):
    NAME = "deleteAclConfig"
    HELP = "Delete Acl Config Account in broker"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _where(parser, "delete acl config account from")
        required(parser, "a", "accessKey", "set accessKey in acl config file for deleting which account")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        access_key = args.accessKey.strip()
        lines: list[str] = []

        async def delete(addr: str) -> str:
            await admin.delete_plain_access_config(addr, access_key)
            return f"delete plain access config account from {addr} success.\n"

        await _each_broker(admin, args, lines, delete)
        lines.append(f"account's accesskey is:{access_key}")
        return lines


class UpdateGlobalWhiteAddr(SubCommand):
    NAME = "updateGlobalWhiteAddr"
    HELP = "Update global white address for acl Config File in broker"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _where(parser, "update global white address to")
        required(
            parser,
            "g",
            "globalWhiteRemoteAddresses",
            "set globalWhiteRemoteAddress list,eg: 10.10.103.*,192.168.0.*",
        )
        parser.add_argument(
            "-p",
            "--aclFileFullPath",
            help="update global white address of specified acl file,eg: /xxx/plain_test.yml",
        )

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        addresses = args.globalWhiteRemoteAddresses.strip()
        acl_file = None if args.aclFileFullPath is None else args.aclFileFullPath.strip()
        lines: list[str] = []

        async def update(addr: str) -> str:
            await admin.update_global_white_addrs(addr, addresses, acl_file)
            return f"update global white remote addresses to {addr} success.\n"

        await _each_broker(admin, args, lines, update)
        return lines


def version_rows(info: dict[str, str]) -> list[tuple[str | None, ...]]:
    """ClusterAclConfigVersionListSubCommand.printClusterBaseInfo: one row per ACL file, in the order of the
    HashMap keyed by the files' paths; the update time in the local time zone (yyyy-MM-dd HH:mm:ss).

    MQClientAPIImpl.getBrokerClusterAclInfo parses the JSON into a default HashMap, then copies it into
    `new HashMap(size, 1)`: a table of exactly as many buckets as there are files, iterated in that order."""
    versions = json.loads(info.get("allAclFileVersion") or "{}") or {}
    parsed = java_hash_order(versions)
    rows: list[tuple[str | None, ...]] = []
    for path in java_hash_order(parsed, max(len(parsed), 1), load_factor=1.0):
        version = versions[path] or {}
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(int(version.get("timestamp", 0)) / 1000))
        rows.append(
            (
                info.get("clusterName"),
                info.get("brokerName"),
                info.get("brokerAddr"),
                path,
                str(version.get("counter", 0)),
                stamp,
            )
        )
    return rows


class ClusterAclConfigVersion(SubCommand):
    NAME = "clusterAclConfigVersion"
    HELP = "List all of acl config version information in cluster"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        _where(parser, "query acl config version for")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        out: list[tuple[str | None, ...] | str] = []
        if args.brokerAddr is not None:
            out += version_rows(await admin.acl_version_info(args.brokerAddr.strip()))
            out.append("get broker's plain access config version success.\n")
            return out
        masters = await admin.master_addrs_of_cluster(args.clusterName.strip())
        if masters is None:
            out.append(f"[error] {CLUSTER_ERROR}")
        out.append(("#Cluster Name", "#Broker Name", "#Broker Addr", "#AclFilePath", "#AclConfigVersionNum",
                    "#AclLastUpdateTime"))  # fmt: skip
        for addr in masters or []:
            try:
                out += version_rows(await admin.acl_version_info(addr))
            except RocketMQError:
                self.render(out, sys.stdout)
                raise
        out.append("get cluster's plain access config version success.\n")
        return out

    def render(self, data: Any, out: TextIO) -> None:
        for item in data:
            if isinstance(item, str):
                out.write(item)
            else:
                printf(out, ROW, *item)
