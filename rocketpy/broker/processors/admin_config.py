"""GET_BROKER_CONFIG (26) and UPDATE_BROKER_CONFIG (25): AdminBrokerProcessor.getBrokerConfig/updateBrokerConfig.

26 answers every config as `key=value\\n` text with the response header `version`, the Configuration's DataVersion
JSON. 25 takes the same text; see config_update.py for what it refuses. An accepted update bumps that DataVersion,
is written to the broker config file fixed at start-up, and, when it touches brokerPermission, bumps the topics'
DataVersion and re-registers with the NameServers (how `updateBrokerConfig -k brokerPermission` works).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rocketpy.broker.config_update import apply_update, check_update
from rocketpy.broker.processors.common import success
from rocketpy.common import properties
from rocketpy.protocol.broker_headers import GetBrokerConfigResponseHeader
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler, RequestContext, inline

if TYPE_CHECKING:
    from rocketpy.broker.controller import BrokerController


class AdminConfigProcessor:
    def __init__(self, broker: BrokerController) -> None:
        self.broker = broker

    def handlers(self) -> dict[int, Handler]:
        return {
            RequestCode.GET_BROKER_CONFIG: self.get_broker_config,
            RequestCode.UPDATE_BROKER_CONFIG: self.update_broker_config,
        }

    @inline
    async def get_broker_config(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        settings = self.broker.settings
        header = GetBrokerConfigResponseHeader(settings.data_version.to_json().decode())
        return success(settings.format_properties().encode(), header.to_ext())

    @inline
    async def update_broker_config(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        if not cmd.body:
            return success()
        try:
            props = properties.loads(bytes(cmd.body).decode("utf-8"))
        except (UnicodeDecodeError, properties.PropertiesError):
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, "string2Properties error") from None
        parsed = check_update(self.broker.settings, props)
        apply_update(self.broker.settings, parsed, self.broker.clock_ms())
        self.broker.config_changed()
        if "brokerPermission" in parsed:
            self.broker.topics.data_version.next_version(self.broker.clock_ms())
            self.broker.registration.request_register()
        return success()
