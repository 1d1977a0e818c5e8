"""LOCK_BATCH_MQ (41) and UNLOCK_BATCH_MQ (42): AdminBrokerProcessor.lockBatchMQ/unlockBatchMQ over the
RebalanceLockManager. The lock reply lists the queues the client now holds: `{"lockOKMQSet":[..]}`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rocketpy.broker.processors.common import decode_body, success
from rocketpy.protocol.bodies.lock import LockBatchRequestBody, LockBatchResponseBody
from rocketpy.protocol.codes import RequestCode
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler, RequestContext, inline

if TYPE_CHECKING:
    from rocketpy.broker.controller import BrokerController


class LockProcessor:
    def __init__(self, broker: BrokerController) -> None:
        self.broker = broker

    def handlers(self) -> dict[int, Handler]:
        return {RequestCode.LOCK_BATCH_MQ: self.lock_batch, RequestCode.UNLOCK_BATCH_MQ: self.unlock_batch}

    @inline
    async def lock_batch(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        body = decode_body(LockBatchRequestBody.from_json, cmd, "LockBatchRequestBody")
        locked = self.broker.locks.try_lock_batch(body.consumer_group or "", body.mq_set, body.client_id or "")
        return success(LockBatchResponseBody(locked).to_json())

    @inline
    async def unlock_batch(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        body = decode_body(LockBatchRequestBody.from_json, cmd, "UnlockBatchRequestBody")
        self.broker.locks.unlock_batch(body.consumer_group or "", body.mq_set, body.client_id or "")
        return success()
