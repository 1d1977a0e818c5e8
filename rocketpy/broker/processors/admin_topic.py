"""Topic administration: UPDATE_AND_CREATE_TOPIC (17), DELETE_TOPIC_IN_BROKER (215), GET_ALL_TOPIC_CONFIG (21),
GET_SYSTEM_TOPIC_LIST_FROM_BROKER (305). The topic parts of broker.processor.AdminBrokerProcessor.

Create and delete refuse a slave, a bad name and a system topic with SYSTEM_ERROR and Java's remarks. After a
create the broker registers that one topic with every NameServer (registerIncrementBrokerData) *before* replying,
so that `mqadmin updateTopic` followed at once by a producer finds the route. Java 4.9.8 ignores the header's
`order` flag here (order comes from the NameServer's ORDER_TOPIC_CONFIG); so does rocketpy. Delete also drops the
topic's consumer offsets (5.x behaviour; 4.9.8 leaves them behind in consumerOffset.json).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rocketpy.broker.processors.common import refuse_on_slave, success
from rocketpy.broker.topic_validator import validate_topic
from rocketpy.protocol.bodies._fields import BodyError
from rocketpy.protocol.bodies.topic_config import TopicConfig, TopicFilterType
from rocketpy.protocol.bodies.topic_list import TopicList
from rocketpy.protocol.broker_headers import CreateTopicRequestHeader, DeleteTopicRequestHeader
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler, RequestContext, inline

if TYPE_CHECKING:
    from rocketpy.broker.controller import BrokerController

LMQ_PREFIX = "%LMQ%"


class AdminTopicProcessor:
    def __init__(self, broker: BrokerController) -> None:
        self.broker = broker

    def handlers(self) -> dict[int, Handler]:
        return {
            RequestCode.UPDATE_AND_CREATE_TOPIC: self.update_and_create_topic,
            RequestCode.DELETE_TOPIC_IN_BROKER: self.delete_topic,
            RequestCode.GET_ALL_TOPIC_CONFIG: self.get_all_topic_config,
            RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_BROKER: self.get_system_topic_list,
        }

    def _config_from(self, header: CreateTopicRequestHeader) -> TopicConfig:
        try:
            filter_type = TopicFilterType.parse(header.topic_filter_type)
        except BodyError as exc:
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, str(exc)) from None
        if header.read_queue_nums < 0 or header.write_queue_nums < 0 or not 0 <= header.perm <= 15:
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, "queue numbers must be >= 0 and perm within 0..15")
        return TopicConfig(
            topic_name=header.topic,
            read_queue_nums=header.read_queue_nums,
            write_queue_nums=header.write_queue_nums,
            perm=header.perm,
            topic_filter_type=filter_type,
            topic_sys_flag=header.topic_sys_flag or 0,
        )

    async def update_and_create_topic(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        refuse_on_slave(self.broker.settings)
        header = CreateTopicRequestHeader.from_ext(cmd.ext_fields)
        validate_topic(header.topic)
        self.broker.topics.system_topics.refuse_system_topic(header.topic)
        config = self._config_from(header)
        self.broker.topics.update_topic_config(config)
        await self.broker.registration.register_increment(config)
        # updateAndCreateTopic sets SUCCESS but keeps createResponseCommand(null)'s default remark
        return RemotingCommand.response(ResponseCode.SUCCESS, "not set any response code")

    @inline
    async def delete_topic(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        refuse_on_slave(self.broker.settings)
        header = DeleteTopicRequestHeader.from_ext(cmd.ext_fields)
        validate_topic(header.topic)
        self.broker.topics.system_topics.refuse_system_topic(header.topic)
        if header.topic.startswith(LMQ_PREFIX):
            return success()  # light message queues have no topic config (MixAll.isLmq)
        self.broker.topics.delete_topic_config(header.topic)
        self.broker.offsets.remove_topic(header.topic)
        self.broker.store_view.clean_unused_topic(set(self.broker.topics.table))
        return success()

    @inline
    async def get_all_topic_config(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        return success(self.broker.topics.encode().encode())

    @inline
    async def get_system_topic_list(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        return success(TopicList(self.broker.topics.system_topics.all()).to_json())
