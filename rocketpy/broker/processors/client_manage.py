"""HEART_BEAT (34), UNREGISTER_CLIENT (35), CHECK_CLIENT_CONFIG (46): broker.processor.ClientManageProcessor.

A heartbeat registers each producer group and each consumer group of the client on the connection it came on.
For a consumer group it first finds (and, with autoCreateSubscriptionGroup, creates) the group config and creates
the group's `%RETRY%` topic with the group's retryQueueNums, which re-registers the broker with the NameServers:
mqadmin and the dashboard find a group's brokers through that topic's route. The reply's `version` is the
broker's CURRENT_VERSION; the Java client records it as the broker version and refuses SQL92 pulls below 4.1.0.
SQL92 subscriptions are compiled by the ConsumerManager's filter listener (broker/consumer_filter.py); as in Java
a heartbeat is never refused for an expression that does not compile: CHECK_CLIENT_CONFIG, which a consumer sends
at start for each non-TAG subscription, refuses it with SUBSCRIPTION_PARSE_FAILED and the parser's message.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from rocketpy.broker.client_manager import ClientChannelInfo, Notification
from rocketpy.broker.processors.common import decode_body, success
from rocketpy.broker.topic_validator import retry_topic, validate_group
from rocketpy.protocol.bodies.heartbeat import CheckClientRequestBody, ConsumerData, HeartbeatData, is_tag_type
from rocketpy.protocol.bodies.topic_config import PERM_READ, PERM_WRITE
from rocketpy.protocol.broker_headers import UnregisterClientRequestHeader
from rocketpy.protocol.codes import CURRENT_VERSION, RequestCode, ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler, RequestContext, inline

if TYPE_CHECKING:
    from rocketpy.broker.controller import BrokerController

TOPIC_SYS_FLAG_UNIT_SUB = 0x2  # TopicSysFlag.buildSysFlag(false, true)


class ClientManageProcessor:
    def __init__(self, broker: BrokerController) -> None:
        self.broker = broker

    def handlers(self) -> dict[int, Handler]:
        return {
            RequestCode.HEART_BEAT: self.heart_beat,
            RequestCode.UNREGISTER_CLIENT: self.unregister_client,
            RequestCode.CHECK_CLIENT_CONFIG: self.check_client_config,
        }

    @inline
    async def heart_beat(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        data = decode_body(HeartbeatData.from_json, cmd, "HeartbeatData")
        if not data.client_id:
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, "the heartbeat has no clientID")
        for consumer in data.consumer_data_set:
            validate_group(consumer.group_name)  # before anything changes: the name becomes a topic name
        now = self.broker.clock_ms()
        info = ClientChannelInfo(ctx.connection, data.client_id, cmd.language, cmd.version, now)
        notes: list[Notification] = []
        for consumer in data.consumer_data_set:
            notes += self._register_consumer(info, consumer, now)
        for group in data.producer_groups:  # each table keeps its own record of the channel's last heartbeat
            self.broker.producers.register(group, dataclasses.replace(info), now)
        await self.broker.notify_consumer_ids_changed(notes)
        response = success()
        response.version = CURRENT_VERSION
        return response

    def _register_consumer(self, info: ClientChannelInfo, data: ConsumerData, now: int) -> list[Notification]:
        group = data.group_name or ""
        config = self.broker.groups.find(group)
        notify = True
        if config is not None:
            notify = config.notify_consumer_ids_changed_enable
            sys_flag = TOPIC_SYS_FLAG_UNIT_SUB if data.unit_mode else 0
            self.broker.topics.create_in_send_message_back(
                retry_topic(group), config.retry_queue_nums, PERM_WRITE | PERM_READ, sys_flag
            )
        kind = (data.consume_type, data.message_model, data.consume_from_where)
        subs = data.subscription_data_set
        return self.broker.consumers.register(group, dataclasses.replace(info), kind, subs, notify, now)

    @inline
    async def unregister_client(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        header = UnregisterClientRequestHeader.from_ext(cmd.ext_fields)
        if header.producer_group is not None:
            self.broker.producers.unregister(header.producer_group, ctx.connection, header.client_id)
        if header.consumer_group is not None:
            config = self.broker.groups.find(header.consumer_group)
            notify = True if config is None else config.notify_consumer_ids_changed_enable
            notes = self.broker.consumers.unregister(header.consumer_group, ctx.connection, notify)
            await self.broker.notify_consumer_ids_changed(notes)
        return success()

    @inline
    async def check_client_config(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        body = decode_body(CheckClientRequestBody.from_json, cmd, "CheckClientRequestBody")
        sub = body.subscription_data
        if sub is None or is_tag_type(sub.expression_type):
            return success()
        if not self.broker.settings.broker.enable_property_filter:
            raise RocketMQError(
                ResponseCode.SYSTEM_ERROR,
                f"The broker does not support consumer to filter message by {sub.expression_type}",
            )
        try:  # FilterFactory.INSTANCE.get(type).compile(subString); the remark is e.getMessage()
            self.broker.consumers.filters.compile(sub.expression_type, sub.sub_string)
        except ValueError as exc:
            raise RocketMQError(ResponseCode.SUBSCRIPTION_PARSE_FAILED, exc.args[0] if exc.args else None) from None
        return success()
