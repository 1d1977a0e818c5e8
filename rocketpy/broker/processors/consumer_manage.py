"""GET_CONSUMER_LIST_BY_GROUP (38), UPDATE_CONSUMER_OFFSET (15), QUERY_CONSUMER_OFFSET (14), GET_ALL_CONSUMER_OFFSET
(43): broker.processor.ConsumerManageProcessor (and AdminBrokerProcessor.getAllConsumerOffset).

QUERY_CONSUMER_OFFSET with no stored offset answers SUCCESS with offset 0 when the queue's min offset is <= 0 and
message 0 is not "in disk" (a new or small queue: start from the beginning), else QUERY_NOT_FOUND, which the client
reads as "no offset" and applies its ConsumeFromWhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rocketpy.broker.processors.common import success
from rocketpy.protocol.bodies.consumer import ConsumerListByGroup
from rocketpy.protocol.broker_headers import (
    GetConsumerListByGroupRequestHeader,
    QueryConsumerOffsetRequestHeader,
    QueryConsumerOffsetResponseHeader,
    UpdateConsumerOffsetRequestHeader,
)
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler, RequestContext, inline

if TYPE_CHECKING:
    from rocketpy.broker.controller import BrokerController

NOT_FOUND_REMARK = "Not found, V3_0_6_SNAPSHOT maybe this group consumer boot first"


class ConsumerManageProcessor:
    def __init__(self, broker: BrokerController) -> None:
        self.broker = broker

    def handlers(self) -> dict[int, Handler]:
        return {
            RequestCode.GET_CONSUMER_LIST_BY_GROUP: self.get_consumer_list_by_group,
            RequestCode.UPDATE_CONSUMER_OFFSET: self.update_consumer_offset,
            RequestCode.QUERY_CONSUMER_OFFSET: self.query_consumer_offset,
            RequestCode.GET_ALL_CONSUMER_OFFSET: self.get_all_consumer_offset,
        }

    @inline
    async def get_consumer_list_by_group(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        header = GetConsumerListByGroupRequestHeader.from_ext(cmd.ext_fields)
        group = self.broker.consumers.get(header.consumer_group)
        ids = group.all_client_ids() if group is not None else []
        if not ids:
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, f"no consumer for this group, {header.consumer_group}")
        return success(ConsumerListByGroup(ids).to_json())

    @inline
    async def update_consumer_offset(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = UpdateConsumerOffsetRequestHeader.from_ext(cmd.ext_fields)
        self.broker.offsets.commit(ctx.connection.remote_addr, h.consumer_group, h.topic, h.queue_id, h.commit_offset)
        return success()

    @inline
    async def query_consumer_offset(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = QueryConsumerOffsetRequestHeader.from_ext(cmd.ext_fields)
        offset = self.broker.offsets.query(h.consumer_group, h.topic, h.queue_id)
        if offset >= 0:
            return success(ext_fields=QueryConsumerOffsetResponseHeader(offset).to_ext())
        store = self.broker.store_view
        min_offset = store.min_offset_in_queue(h.topic, h.queue_id)
        if min_offset <= 0 and not store.check_in_disk_by_consume_offset(h.topic, h.queue_id, 0):
            return success(ext_fields=QueryConsumerOffsetResponseHeader(0).to_ext())
        return RemotingCommand.response(ResponseCode.QUERY_NOT_FOUND, NOT_FOUND_REMARK)

    @inline
    async def get_all_consumer_offset(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        return success(self.broker.offsets.encode().encode())
