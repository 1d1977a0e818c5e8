"""VIEW_BROKER_STATS_DATA (315): AdminBrokerProcessor.ViewBrokerStatsData (4.9.8), what mqadmin statsAll and the
dashboard's per-minute collector read: one stats item's minute, hour and day windows (BrokerStatsData), or
SYSTEM_ERROR "The stats <name> <key> not exist" for an item nothing has counted yet.
"""

from __future__ import annotations

from rocketpy.broker.stats import BrokerStats
from rocketpy.broker.stats_manager import DAY, HOUR, MINUTE
from rocketpy.common import fastjson
from rocketpy.protocol.admin_headers import ViewBrokerStatsDataRequestHeader
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler, RequestContext, inline


class AdminStatsProcessor:
    def __init__(self, stats: BrokerStats) -> None:
        self.stats = stats

    def handlers(self) -> dict[int, Handler]:
        return {RequestCode.VIEW_BROKER_STATS_DATA: self.view_broker_stats_data}

    def stats_data(self, name: str, key: str) -> bytes:
        manager = self.stats.manager
        item = manager.get_stats_item(name, key)
        if item is None:
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, f"The stats <{name}> <{key}> not exist")
        now = manager.clock_ms()
        body = {}
        for label, window in (("statsDay", DAY), ("statsHour", HOUR), ("statsMinute", MINUTE)):
            snap = item.snapshot(now, window)
            body[label] = {"avgpt": snap.avgpt, "sum": snap.sum, "tps": snap.tps}
        return fastjson.dumps(body)

    @inline
    async def view_broker_stats_data(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = ViewBrokerStatsDataRequestHeader.from_ext(cmd.ext_fields)
        return RemotingCommand.response(ResponseCode.SUCCESS, None, None, self.stats_data(h.stats_name, h.stats_key))
