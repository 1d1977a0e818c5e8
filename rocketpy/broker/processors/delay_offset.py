"""GET_ALL_DELAY_OFFSET (45): AdminBrokerProcessor.getAllDelayOffset, what a slave's SlaveSynchronize fetches.

The body is the schedule service's offset table in DelayOffsetSerializeWrapper's compact JSON
(`{"offsetTable":{1:3,4:2}}`, fastjson's unquoted integer keys), from memory, not from delayOffset.json: the
levels delivered since the last load. The table always encodes to a non-empty string, so Java's
"No delay offset in this broker" branch is unreachable here as there.
"""

from __future__ import annotations

from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler, RequestContext, inline
from rocketpy.store.schedule import ScheduleMessageService


class DelayOffsetProcessor:
    def __init__(self, schedule: ScheduleMessageService) -> None:
        self.schedule = schedule

    def handlers(self) -> dict[int, Handler]:
        return {RequestCode.GET_ALL_DELAY_OFFSET: self.get_all_delay_offset}

    @inline
    async def get_all_delay_offset(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        body = self.schedule.encode().encode()
        return RemotingCommand.response(ResponseCode.SUCCESS, body=body)
