"""The transaction check service: TransactionalMessageCheckService + AbstractTransactionalMessageCheckListener.

Every transactionCheckInterval (read once at start, as Java's ServiceThread does) a check pass runs with the
current transactionTimeOut and transactionCheckMax; each half message it wrote again is sent, oneway, as
CHECK_TRANSACTION_STATE to one live channel of its PGROUP producer group (ProducerManager.getAvailableChannel). A
group with no live producer is only logged: the check still counted, as in Java. The producer answers later with a
oneway END_TRANSACTION (fromTransactionCheck=true). Masters only (BrokerController.startProcessorByHa).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import trio

from rocketpy.broker.client_manager import ProducerManager
from rocketpy.broker.config import BrokerSettings
from rocketpy.broker.transaction.bridge import TransactionalMessageBridge
from rocketpy.broker.transaction.check import CheckPass, TransactionalMessageCheck, offset_msg_id
from rocketpy.broker.transaction.messages import PROPERTY_PGROUP, PROPERTY_UNIQ_KEY, HalfMessage, check_body
from rocketpy.protocol.codes import RequestCode
from rocketpy.protocol.transaction_headers import CheckTransactionStateRequestHeader
from rocketpy.remoting.command import RemotingCommand

log = logging.getLogger("RocketmqTransaction")


class TransactionalMessageCheckService:
    def __init__(
        self,
        settings: BrokerSettings,
        bridge: TransactionalMessageBridge,
        producers: ProducerManager,
        clock_ms: Callable[[], int],
    ) -> None:
        self.settings = settings
        self.producers = producers
        self.checker = TransactionalMessageCheck(bridge, clock_ms, lambda: settings.store.file_reserved_time)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        interval = max(self.settings.broker.transaction_check_interval, 1) / 1000
        log.info("Start transaction check service thread!")
        task_status.started()
        while True:
            await trio.sleep(interval)
            await self.check_once()

    async def check_once(self) -> CheckPass:
        b = self.settings.broker
        result = await self.checker.check(b.transaction_time_out, b.transaction_check_max)
        for half in result.to_check:
            await self.send_check(half)
        return result

    async def send_check(self, half: HalfMessage) -> bool:
        """sendCheckMessage + Broker2Client.checkProducerTransactionState; False when nobody could be asked."""
        uniq = half.props.get(PROPERTY_UNIQ_KEY)
        header = CheckTransactionStateRequestHeader(
            tran_state_table_offset=half.record.queue_offset,
            commit_log_offset=half.record.phys_offset,
            msg_id=uniq,
            transaction_id=uniq,
            offset_msg_id=offset_msg_id(half),
        )
        group = half.props.get(PROPERTY_PGROUP)
        channel = self.producers.available_channel(group) if group is not None else None
        if channel is None:
            log.warning("Check transaction failed, channel is null. groupId=%s", group)
            return False
        try:
            body = check_body(half)
        except ValueError as exc:  # a REAL_QID that is no number: Java's executor logs the exception
            log.error("Send check message error! %s", exc)
            return False
        try:
            await channel.invoke_oneway(
                RemotingCommand.request(RequestCode.CHECK_TRANSACTION_STATE, header.to_ext(), body)
            )
        except Exception as exc:
            log.error("Check transaction failed because invoke producer exception. group=%s: %s", group, exc)
            return False
        return True
