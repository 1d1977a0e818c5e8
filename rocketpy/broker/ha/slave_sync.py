"""SlaveSynchronize (broker/slave of 4.9.8): a slave copies the master's metadata every 10 s, 3 s after start.

Topic configs (GET_ALL_TOPIC_CONFIG, 21, over the master's VIP port as BrokerOuterAPI asks it) and subscription
groups (GET_ALL_SUBSCRIPTIONGROUP_CONFIG, 201) replace the slave's tables when their DataVersion differs;
consumer offsets (GET_ALL_CONSUMER_OFFSET, 43) are merged over the slave's (putAll); the delay offsets
(GET_ALL_DELAY_OFFSET, 45) are written to the slave's delayOffset.json as they come (Java writes the file only,
the running schedule service keeps its table). The master's broker address comes from the REGISTER_BROKER answer.
Each step fails alone, logged, as Java's try/catch around each does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import trio

from rocketpy.broker.offsets import ConsumerOffsetManager
from rocketpy.broker.subscription_group import SubscriptionGroupManager
from rocketpy.broker.topic_config import TopicConfigManager
from rocketpy.protocol.bodies.subscription_group import SubscriptionGroupWrapper
from rocketpy.protocol.bodies.topic_config import TopicConfigSerializeWrapper
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.remoting.client import RemotingClient
from rocketpy.remoting.command import RemotingCommand
from rocketpy.store.config_files import loads_consumer_offsets, write_config_file

log = logging.getLogger("RocketmqBroker")

INITIAL_DELAY = 3.0
PERIOD = 10.0
TIMEOUT = 3.0


def vip_channel(addr: str) -> str:
    """MixAll.brokerVIPChannel(true, addr): the same host, port - 2."""
    host, _, port = addr.rpartition(":")
    return f"{host}:{int(port) - 2}"


class SlaveSynchronize:
    def __init__(
        self,
        own_addr: str,
        topics: TopicConfigManager,
        groups: SubscriptionGroupManager,
        offsets: ConsumerOffsetManager,
        delay_offset_path: Path,
        on_offsets: Callable[[], None] = lambda: None,
    ) -> None:
        self.own_addr = own_addr
        self.topics = topics
        self.groups = groups
        self.offsets = offsets
        self.delay_offset_path = delay_offset_path
        self.on_offsets = on_offsets
        self.master_addr: str | None = None

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with RemotingClient(connect_timeout=TIMEOUT) as client:
            task_status.started()
            await trio.sleep(INITIAL_DELAY)
            while True:
                await self.sync_all(client)
                await trio.sleep(PERIOD)

    async def sync_all(self, client: RemotingClient) -> None:
        master = self.master_addr
        if not master or master == self.own_addr:
            return
        for step in (self._topics, self._offsets, self._delay_offsets, self._groups):
            try:
                await step(client, master)
            except Exception as exc:  # every step is independent, as in Java
                log.error("SlaveSynchronize %s from %s failed: %s", step.__name__, master, exc)

    @staticmethod
    async def _fetch(client: RemotingClient, addr: str, code: int) -> bytes:
        response = await client.invoke(addr, RemotingCommand.request(code), TIMEOUT)
        if response.code != ResponseCode.SUCCESS:
            raise RuntimeError(f"code {response.code}, {response.remark}")
        return bytes(response.body or b"")

    async def _topics(self, client: RemotingClient, master: str) -> None:
        body = await self._fetch(client, vip_channel(master), RequestCode.GET_ALL_TOPIC_CONFIG)
        if self.topics.replace_all(TopicConfigSerializeWrapper.from_json(body)):
            log.info("Update slave topic config from master, %s", master)

    async def _offsets(self, client: RemotingClient, master: str) -> None:
        body = await self._fetch(client, master, RequestCode.GET_ALL_CONSUMER_OFFSET)
        self.offsets.table.update(loads_consumer_offsets(body.decode()))
        self.offsets.dirty = True
        self.on_offsets()

    async def _delay_offsets(self, client: RemotingClient, master: str) -> None:
        body = await self._fetch(client, master, RequestCode.GET_ALL_DELAY_OFFSET)
        if body:
            await trio.to_thread.run_sync(write_config_file, self.delay_offset_path, body.decode())

    async def _groups(self, client: RemotingClient, master: str) -> None:
        body = await self._fetch(client, master, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG)
        if self.groups.replace_all(SubscriptionGroupWrapper.from_json(body)):
            log.info("Update slave Subscription Group from master, %s", master)
