"""NameServer subcommands (tools.command.namesrv.* and cluster.ClusterListSubCommand)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, TextIO

from rocketpy.admin.command import SubCommand, optional, printf, required
from rocketpy.client.admin import AdminClient
from rocketpy.common.java import java_hash_order
from rocketpy.protocol.errors import RocketMQError


def print_properties(props: dict[str, str], out: TextIO) -> None:
    """`%-50s=  %s` per entry, in the order of Java's Properties (a hash table)."""
    for key in java_hash_order(props, 16):
        printf(out, "%-50s=  %s\n", key, props[key])


class ClusterList(SubCommand):
    """ClusterListSubCommand: one line per broker address with the broker's runtime figures."""

    NAME = "clusterList"
    HELP = "List cluster infos"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        optional(parser, "m", "moreStats", "Print more stats", flag=True)
        optional(parser, "i", "interval", "specify intervals numbers, it is in seconds")

    def repeat_every(self, args: argparse.Namespace) -> float | None:
        """-i N: print again every N seconds until interrupted (Long.parseLong(N) * 1000 ms)."""
        return None if args.interval is None else float(int(args.interval.strip()))

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        info = await admin.cluster_info()
        rows = []
        for cluster in java_hash_order(info.cluster_addr_table):
            for name in sorted(info.cluster_addr_table[cluster]):
                data = info.broker_addr_table.get(name)
                if data is None:
                    continue
                for bid in java_hash_order(data.broker_addrs):
                    addr = data.broker_addrs[bid]
                    try:
                        stats: dict[str, str] | None = await admin.broker_runtime_info(addr)
                    except RocketMQError:
                        stats = None
                    rows.append((cluster, name, bid, addr, stats))
        return {"more": args.moreStats, "rows": rows, "now": time.time() * 1000}

    def render(self, data: Any, out: TextIO) -> None:
        if data["more"]:
            printf(
                out,
                "%-16s  %-32s %14s %14s %14s %14s%n",
                "#Cluster Name",
                "#Broker Name",
                "#InTotalYest",
                "#OutTotalYest",
                "#InTotalToday",
                "#OutTotalToday",
            )
            for cluster, name, _bid, _addr, stats in data["rows"]:
                figures = [0, 0, 0, 0]
                try:
                    t = {k: int(v) for k, v in (stats or {}).items() if k.startswith(("msgPut", "msgGet"))}
                    figures = [
                        t["msgPutTotalTodayMorning"] - t["msgPutTotalYesterdayMorning"],
                        t["msgGetTotalTodayMorning"] - t["msgGetTotalYesterdayMorning"],
                        t["msgPutTotalTodayNow"] - t["msgPutTotalTodayMorning"],
                        t["msgGetTotalTodayNow"] - t["msgGetTotalTodayMorning"],
                    ]
                except (KeyError, ValueError):
                    pass
                printf(out, "%-16s  %-32s %14d %14d %14d %14d%n", cluster, name, *figures)
            return
        fmt = "%-16s  %-22s  %-4s  %-22s %-16s %19s %19s %10s %5s %6s%n"
        printf(
            out,
            fmt,
            "#Cluster Name",
            "#Broker Name",
            "#BID",
            "#Addr",
            "#Version",
            "#InTPS(LOAD)",
            "#OutTPS(LOAD)",
            "#PCWait(ms)",
            "#Hour",
            "#SPACE",
        )
        for cluster, name, bid, addr, stats in data["rows"]:
            s: dict[str, str] = stats or {}
            tps_in = _first_double(s.get("putTps"))
            tps_out = _first_double(s.get("getTransferedTps"))
            hour = space = 0.0
            earliest = s.get("earliestMessageTimeStamp")
            if earliest:
                hour = (data["now"] - int(earliest)) / 1000.0 / 60.0 / 60.0
            if s.get("commitLogDiskRatio"):
                space = float(s["commitLogDiskRatio"])
            printf(
                out,
                fmt,
                cluster,
                name,
                bid,
                addr,
                s.get("brokerVersionDesc", "") if stats else "",
                _load(
                    tps_in,
                    _v(s, stats, "sendThreadPoolQueueSize"),
                    _v(s, stats, "sendThreadPoolQueueHeadWaitTimeMills"),
                ),
                _load(
                    tps_out,
                    _v(s, stats, "pullThreadPoolQueueSize"),
                    _v(s, stats, "pullThreadPoolQueueHeadWaitTimeMills"),
                ),
                _v(s, stats, "pageCacheLockTimeMills"),
                f"{hour:2.2f}",
                f"{space:.4f}",
            )


def _load(tps: float, queued: str, wait: str) -> str:
    """`%9.2f(%s,%sms)`: TPS, the thread pool's queue size and its head's wait."""
    return f"{tps:9.2f}({queued},{wait}ms)"


def _v(table: dict[str, str], stats: Any, key: str) -> str:
    """A runtime figure as Java prints it: "" when the broker did not answer, "null" when it lacks the key."""
    if stats is None:
        return ""
    value = table.get(key)
    return "null" if value is None else value


def _first_double(text: str | None) -> float:
    try:
        return float((text or "").split(" ")[0])
    except ValueError:
        return 0.0


class GetNamesrvConfig(SubCommand):
    NAME = "getNamesrvConfig"
    HELP = "Get configs of name server."

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        return {addr: await admin.namesrv_config(addr) for addr in admin.namesrv_addrs}

    def render(self, data: Any, out: TextIO) -> None:
        for addr in java_hash_order(data):
            printf(out, "============%s============\n", addr)
            print_properties(data[addr], out)


class UpdateNamesrvConfig(SubCommand):
    NAME = "updateNamesrvConfig"
    HELP = "Update configs of name server."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "k", "key", "config key")
        required(parser, "v", "value", "config value")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        key, value = args.key.strip(), args.value.strip()
        for addr in admin.namesrv_addrs:
            await admin.update_namesrv_config(addr, {key: value})
        servers = "[" + ", ".join(admin.namesrv_addrs) + "]" if args.namesrvAddr else ""
        return servers, key, value

    def render(self, data: Any, out: TextIO) -> None:
        printf(out, "update name server config success!%s\n%s : %s\n", *data)


class UpdateKvConfig(SubCommand):
    NAME = "updateKvConfig"
    HELP = "Create or update KV config."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "s", "namespace", "set the namespace")
        required(parser, "k", "key", "set the key name")
        required(parser, "v", "value", "set the key value")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        await admin.put_kv_config(args.namespace.strip(), args.key.strip(), args.value.strip())

    def render(self, data: Any, out: TextIO) -> None:
        printf(out, "create or update kv config to namespace success.%n")


class DeleteKvConfig(SubCommand):
    NAME = "deleteKvConfig"
    HELP = "Delete KV config."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "s", "namespace", "set the namespace")
        required(parser, "k", "key", "set the key name")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        await admin.delete_kv_config(args.namespace.strip(), args.key.strip())

    def render(self, data: Any, out: TextIO) -> None:
        printf(out, "delete kv config from namespace success.%n")


class _WritePerm(SubCommand):
    """Wipe/AddWritePermSubCommand: each NameServer in turn; a failing one is reported and the rest still run."""

    VERB: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "b", "brokerName", "broker name")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        name = args.brokerName.strip()
        results: list[tuple[str, str, int | RocketMQError]] = []
        for addr in admin.namesrv_addrs:
            try:
                if self.VERB == "wipe":
                    results.append((name, addr, await admin.wipe_write_perm(addr, name)))
                else:
                    results.append((name, addr, await admin.add_write_perm(addr, name)))
            except RocketMQError as exc:
                results.append((name, addr, exc))
        return results

    def render(self, data: Any, out: TextIO) -> None:
        for name, addr, result in data:
            if isinstance(result, RocketMQError):
                printf(out, f"{self.VERB} write perm of broker[%s] in name server[%s] Failed%n", name, addr)
                print(f"CODE: {result.code}  DESC: {result.remark}", file=sys.stderr)
            else:
                printf(out, f"{self.VERB} write perm of broker[%s] in name server[%s] OK, %d%n", name, addr, result)


class WipeWritePerm(_WritePerm):
    NAME = "wipeWritePerm"
    HELP = "Wipe write perm of broker in all name server you defined in the -n param"
    VERB = "wipe"


class AddWritePerm(_WritePerm):
    NAME = "addWritePerm"
    HELP = "Add write perm of broker in all name server you defined in the -n param"
    VERB = "add"
