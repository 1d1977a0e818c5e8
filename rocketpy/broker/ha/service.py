"""HAService as the broker wires it (BrokerController.initialize/start and DefaultMessageStore.start of 4.9.8).

Every role listens on haListenPort, as Java's HAService always accepts; a SYNC_MASTER's sends and END_TRANSACTION
commits wait for a slave (`SendMessageProcessor.replica`, `TransactionProcessor.replica`); a SLAVE runs the HA
client and SlaveSynchronize. A slave with haMasterAddress set (6 characters or more) connects there; otherwise it
takes the haServerAddr of every REGISTER_BROKER answer (updateMasterHAServerAddrPeriodically), and
SlaveSynchronize the answer's masterAddr.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import trio

from rocketpy.broker.config import BrokerRole, BrokerSettings
from rocketpy.broker.controller import BrokerController
from rocketpy.broker.ha.master import HAMaster, HAMasterConfig
from rocketpy.protocol.bodies.register import RegisterBrokerResult
from rocketpy.store.message_store import MessageStore

if TYPE_CHECKING:
    from rocketpy.broker.ha.slave import HASlave
    from rocketpy.broker.ha.slave_sync import SlaveSynchronize
    from rocketpy.broker.processors.send import SendMessageProcessor
    from rocketpy.broker.processors.transaction import TransactionProcessor


class HAService:
    def __init__(
        self, settings: BrokerSettings, store: MessageStore, controller: BrokerController, delay_offset_path: Path
    ) -> None:
        s = settings.store
        self.settings = settings
        self.role = s.broker_role
        self.master = HAMaster(
            store,
            HAMasterConfig(
                heartbeat_interval_ms=s.ha_send_heartbeat_interval,
                housekeeping_interval_ms=s.ha_housekeeping_interval,
                transfer_batch_size=max(s.ha_transfer_batch_size, 1),
                slave_fallbehind_max=s.ha_slave_fallbehind_max,
                slave_timeout_ms=s.slave_timeout,
            ),
        )
        self.slave: HASlave | None = None
        self.sync: SlaveSynchronize | None = None
        self.update_ha_address_periodically = False
        if self.role is BrokerRole.SLAVE:  # the client side of HA is loaded by slaves only
            from rocketpy.broker.ha.slave import HAClientConfig, HASlave
            from rocketpy.broker.ha.slave_sync import SlaveSynchronize

            configured = s.ha_master_address if s.ha_master_address and len(s.ha_master_address) >= 6 else None
            self.update_ha_address_periodically = configured is None
            self.slave = HASlave(
                store, HAClientConfig(s.ha_send_heartbeat_interval, s.ha_housekeeping_interval), configured
            )
            self.sync = SlaveSynchronize(
                settings.broker_addr, controller.topics, controller.groups, controller.offsets, delay_offset_path
            )
            controller.registration.on_result = self.on_register_result

    def wire(self, send: SendMessageProcessor, transaction: TransactionProcessor | None = None) -> None:
        """Before the handlers are taken: a SYNC_MASTER's puts (sends and committed transactions) wait for the slave."""
        if self.role is BrokerRole.SYNC_MASTER:
            send.replica = self.master.wait_replica
            send.replica_submit = self.master.replica_later
            if transaction is not None:
                transaction.replica = self.master.wait_replica

    def on_register_result(self, result: RegisterBrokerResult) -> None:
        """doRegisterBrokerAll on a slave."""
        if self.slave is not None and self.update_ha_address_periodically and result.ha_server_addr:
            self.slave.update_master_address(result.ha_server_addr)
        if self.sync is not None:
            self.sync.master_addr = result.master_addr or None

    async def start(self, nursery: trio.Nursery) -> int:
        """Start the listener (and the slave's tasks); returns the HA port."""
        wanted = self.settings.store.ha_listen_port if self.settings.netty.listen_port else 0  # 0: ephemeral
        port: int = await nursery.start(self.master.serve, wanted)
        if self.slave is not None:
            await nursery.start(self.slave.run)
        if self.sync is not None:
            await nursery.start(self.sync.run)
        return port
