"""Group and connection administration, the group parts of broker.processor.AdminBrokerProcessor:
UPDATE_AND_CREATE_SUBSCRIPTIONGROUP (200), GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201), DELETE_SUBSCRIPTIONGROUP (207),
GET_CONSUMER_CONNECTION_LIST (203), GET_PRODUCER_CONNECTION_LIST (204), GET_ALL_PRODUCER_INFO (328),
QUERY_TOPIC_CONSUME_BY_WHO (300).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rocketpy.broker.processors.common import decode_body, refuse_on_slave, success
from rocketpy.broker.topic_validator import validate_group
from rocketpy.protocol.bodies.consumer import ConsumerConnection, GroupList, ProducerConnection
from rocketpy.protocol.bodies.subscription_group import SubscriptionGroupConfig
from rocketpy.protocol.broker_headers import (
    DeleteSubscriptionGroupRequestHeader,
    GetConsumerConnectionListRequestHeader,
    GetProducerConnectionListRequestHeader,
    QueryTopicConsumeByWhoRequestHeader,
)
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler, RequestContext, inline

if TYPE_CHECKING:
    from rocketpy.broker.controller import BrokerController


class AdminGroupProcessor:
    def __init__(self, broker: BrokerController) -> None:
        self.broker = broker

    def handlers(self) -> dict[int, Handler]:
        return {
            RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP: self.update_and_create_group,
            RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG: self.get_all_groups,
            RequestCode.DELETE_SUBSCRIPTIONGROUP: self.delete_group,
            RequestCode.GET_CONSUMER_CONNECTION_LIST: self.get_consumer_connection_list,
            RequestCode.GET_PRODUCER_CONNECTION_LIST: self.get_producer_connection_list,
            RequestCode.GET_ALL_PRODUCER_INFO: self.get_all_producer_info,
            RequestCode.QUERY_TOPIC_CONSUME_BY_WHO: self.query_topic_consume_by_who,
        }

    @inline
    async def update_and_create_group(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        refuse_on_slave(self.broker.settings)
        if not cmd.body:
            return success()  # RemotingSerializable.decode(null) is null: Java answers SUCCESS and changes nothing
        config = decode_body(SubscriptionGroupConfig.from_json, cmd, "SubscriptionGroupConfig")
        validate_group(config.group_name)
        self.broker.groups.update(config)
        return success()

    @inline
    async def get_all_groups(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        return success(self.broker.groups.encode().encode())

    @inline
    async def delete_group(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        refuse_on_slave(self.broker.settings)
        header = DeleteSubscriptionGroupRequestHeader.from_ext(cmd.ext_fields)
        self.broker.groups.delete(header.group_name)
        if header.remove_offset:
            self.broker.offsets.remove_offset(header.group_name)
        return success()

    @inline
    async def get_consumer_connection_list(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        header = GetConsumerConnectionListRequestHeader.from_ext(cmd.ext_fields)
        info = self.broker.consumers.get(header.consumer_group)
        if info is None:
            raise RocketMQError(
                ResponseCode.CONSUMER_NOT_ONLINE, f"the consumer group[{header.consumer_group}] not online"
            )
        body = ConsumerConnection(
            connection_set=[c.connection() for c in info.channels.values()],
            subscription_table=dict(info.subscriptions),
            consume_type=info.consume_type,
            message_model=info.message_model,
            consume_from_where=info.consume_from_where,
        )
        return success(body.to_json())

    @inline
    async def get_producer_connection_list(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        header = GetProducerConnectionListRequestHeader.from_ext(cmd.ext_fields)
        connections = self.broker.producers.connections(header.producer_group)
        if connections is None:
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, f"the producer group[{header.producer_group}] not exist")
        return success(ProducerConnection(connections).to_json())

    @inline
    async def get_all_producer_info(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        return success(self.broker.producers.producer_table().to_json())

    @inline
    async def query_topic_consume_by_who(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        header = QueryTopicConsumeByWhoRequestHeader.from_ext(cmd.ext_fields)
        groups = self.broker.consumers.query_topic_consume_by_who(header.topic)
        groups |= self.broker.offsets.which_group_by_topic(header.topic)
        return success(GroupList(groups).to_json())
