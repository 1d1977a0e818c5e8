"""exportMetrics (tools.command.export.ExportMetricsCommand): per master broker of a cluster, its environment,
rates, one-day counts and sizes, and the clients' versions, with cluster totals, written to metrics.json."""

from __future__ import annotations

import argparse
from typing import Any

from rocketpy.admin.command import SubCommand, required
from rocketpy.admin.export_commands import (
    NPE,
    RETRY_PREFIX,
    file_option,
    file_path_of,
    hash_map,
    user_subscription_groups,
    user_topic_config,
    write_file,
)
from rocketpy.admin.pretty_json import pretty
from rocketpy.client.admin import AdminClient
from rocketpy.common.java import java_hash_order
from rocketpy.protocol.bodies.consumer import language_name
from rocketpy.protocol.bodies.subscription_group import SubscriptionGroupWrapper
from rocketpy.protocol.codes import VERSION_DESC
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.versions import version_desc


def _first_double(text: str | None) -> float:
    """Double.parseDouble(value.split(" ")[0]) of a runtime info rate ("12.5 3.1 0.7")."""
    if text is None:
        raise RocketMQError(-1, NPE)
    first = text.split(" ")[0]
    if not first.strip():  # the broker has no 10 s sample yet: Java's parseDouble("") fails the command
        raise RocketMQError(-1, "java.lang.NumberFormatException: empty String")
    return float(first)


def _long(text: str | None) -> int:
    if text is None:
        raise RocketMQError(-1, "java.lang.NumberFormatException: null")
    return int(text)


def _day_sum(stats: Any) -> int:
    """StatsAllSubCommand.compute24HourSum: the day's sum, else the hour's, else the minute's."""
    for key in ("statsDay", "statsHour", "statsMinute"):
        total = int((stats.get(key) or {}).get("sum", 0))
        if total != 0:
            return total
    return 0


class ExportMetrics(SubCommand):
    NAME = "exportMetrics"
    HELP = "export metrics"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        required(parser, "c", "clusterName", "choose a cluster to export")
        file_option(parser, "metrics.json")

    async def run(self, admin: AdminClient, args: argparse.Namespace) -> Any:
        file_path = file_path_of(args)
        total_tps = {"totalNormalInTps": 0.0, "totalNormalOutTps": 0.0, "totalTransInTps": 0.0,
                     "totalScheduleInTps": 0.0}  # fmt: skip
        total_day = {"normalOneDayInNum": 0, "normalOneDayOutNum": 0, "transOneDayInNum": 0,
                     "scheduleOneDayInNum": 0}  # fmt: skip
        info = await admin.cluster_info()
        names = info.cluster_addr_table.get(args.clusterName.strip())
        if names is None:  # the Java command iterates the missing set
            raise RocketMQError(-1, NPE)
        report: dict[str, Any] = {}
        for name in java_hash_order(names):
            data = info.broker_addr_table.get(name)
            if data is None:
                continue
            addr = data.broker_addrs.get(0)
            if addr is None:
                raise RocketMQError(-1, NPE)
            kv = await admin.broker_runtime_info(addr)
            props = await admin.broker_config(addr)
            groups = await user_subscription_groups(admin, addr)
            env = {"cpuNum": props.get("clientCallbackExecutorThreads"), "totalMemKBytes": kv.get("totalMemKBytes")}
            quota = await self._quota(admin, addr, kv, groups, total_tps, total_day)
            version = {"rocketmqVersion": VERSION_DESC, "clientInfo": await self._clients(admin, groups)}
            report[name] = hash_map(
                {"runtimeEnv": hash_map(env), "runtimeQuota": quota, "runtimeVersion": hash_map(version)}
            )
        result = {
            "evaluateReport": hash_map(report),
            "totalData": hash_map({"totalTps": hash_map(total_tps), "totalOneDayNum": hash_map(total_day)}),
        }
        path = file_path + "/metrics.json"
        await write_file(path, pretty(hash_map(result)))
        return [f"export {path} success"]

    @staticmethod
    async def _stats(admin: AdminClient, addr: str, topic: str) -> Any:
        """viewBrokerStatsData(TOPIC_PUT_NUMS, topic); None when the broker refuses (no such stats yet)."""
        try:
            return await admin.broker_stats_data(addr, "TOPIC_PUT_NUMS", topic)
        except RocketMQError:
            return None

    async def _quota(
        self,
        admin: AdminClient,
        addr: str,
        kv: dict[str, str],
        groups: SubscriptionGroupWrapper,
        total_tps: dict[str, float],
        total_day: dict[str, int],
    ) -> dict[str, Any]:
        """ExportMetricsCommand.getRuntimeQuota."""
        topics = await user_topic_config(admin, addr, False)
        trans = await self._stats(admin, addr, "RMQ_SYS_TRANS_HALF_TOPIC")
        schedule = await self._stats(admin, addr, "SCHEDULE_TOPIC_XXXX")
        in_tps, out_tps = _first_double(kv.get("putTps")), _first_double(kv.get("getTransferedTps"))
        trans_tps = float((trans.get("statsMinute") or {}).get("tps", 0.0)) if trans is not None else 0.0
        schedule_tps = float((schedule.get("statsMinute") or {}).get("tps", 0.0)) if schedule is not None else 0.0
        trans_day = _day_sum(trans) if trans is not None else 0
        schedule_day = _day_sum(schedule) if schedule is not None else 0
        in_day = _long(kv.get("msgPutTotalTodayMorning")) - _long(kv.get("msgPutTotalYesterdayMorning"))
        out_day = _long(kv.get("msgGetTotalTodayMorning")) - _long(kv.get("msgGetTotalYesterdayMorning"))
        total_tps["totalNormalInTps"] += in_tps
        total_tps["totalNormalOutTps"] += out_tps
        total_tps["totalTransInTps"] += trans_tps
        total_tps["totalScheduleInTps"] += schedule_tps
        total_day["normalOneDayInNum"] += in_day
        total_day["normalOneDayOutNum"] += out_day
        total_day["transOneDayInNum"] += trans_day
        total_day["scheduleOneDayInNum"] += schedule_day
        tps = {"normalInTps": in_tps, "normalOutTps": out_tps, "transInTps": trans_tps, "scheduleInTps": schedule_tps}
        day = {
            "normalOneDayInNum": in_day,
            "normalOneDayOutNum": out_day,
            "transOneDayInNum": trans_day,
            "scheduleOneDayInNum": schedule_day,
        }
        disk = {
            "commitLogDiskRatio": kv.get("commitLogDiskRatio"),
            "consumeQueueDiskRatio": kv.get("consumeQueueDiskRatio"),
        }
        return hash_map(
            {
                "diskRatio": hash_map(disk),
                "tps": hash_map(tps),
                "oneDayNum": hash_map(day),
                "messageAverageSize": kv.get("putMessageAverageSize"),
                "topicSize": len(topics.topic_config_table),
                "groupSize": len(groups.subscription_group_table),
            }
        )

    @staticmethod
    async def _clients(admin: AdminClient, groups: SubscriptionGroupWrapper) -> list[str]:
        """getRuntimeVersion: "LANGUAGE%Vx_y_z" of every online consumer of the broker's groups (a HashSet); a group
        whose retry topic has no route or no consumer online is skipped, as Java skips its exception."""
        clients: set[str] = set()
        for config in groups.subscription_group_table.values():
            try:
                route = await admin.topic_route(RETRY_PREFIX + (config.group_name or "null"))
                if not route.broker_datas:
                    continue
                addr = route.broker_datas[0].select_broker_addr()
                if not addr:
                    continue
                connection = await admin.consumer_connection(addr, config.group_name or "")
            except RocketMQError:
                continue
            for conn in connection.connection_set:
                clients.add(f"{language_name(conn.language)}%{version_desc(conn.version)}")
        return java_hash_order(clients)
