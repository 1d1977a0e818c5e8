"""Registration with the NameServers: REGISTER_BROKER (103) at start, every registerNameServerPeriod and at once
when topics change; UNREGISTER_BROKER (104) at shutdown.

Mirrors BrokerController.registerBrokerAll / registerIncrementBrokerData / unregisterBrokerAll and
out.BrokerOuterAPI. Every NameServer of namesrvAddr ("a:9876;b:9876") is asked concurrently, each with
registerBrokerTimeoutMills, and the first answer's KVTable (namespace ORDER_TOPIC_CONFIG) sets the topics' order
flags. The body is the RegisterBrokerBody (version >= V3_0_11 form), zlib-compressed with compressedRegister, and
bodyCrc32 is its CRC32. The periodic task starts 10 s after start and repeats every
max(10 s, min(registerNameServerPeriod, 60 s)), as Java schedules it. With forceRegister=false (Java's default is
true) a periodic round first asks every NameServer QUERY_DATA_VERSION (322) and registers only when one of them
answers changed, answers a different DataVersion, or fails (BrokerOuterAPI.needRegister).

When brokerPermission lacks R or W, every topic is reported with the broker's permission (how wipeWritePerm by
`updateBrokerConfig -k brokerPermission -v 4` takes a broker out of the write path).
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable

import trio

from rocketpy.broker.config import BrokerSettings
from rocketpy.protocol.bodies.data_version import DataVersion
from rocketpy.protocol.bodies.kv import KVTable
from rocketpy.protocol.bodies.register import RegisterBrokerBody, RegisterBrokerResult, body_crc32
from rocketpy.protocol.bodies.topic_config import PERM_READ, PERM_WRITE, TopicConfig, TopicConfigSerializeWrapper
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.namesrv_headers import (
    QueryDataVersionRequestHeader,
    QueryDataVersionResponseHeader,
    RegisterBrokerRequestHeader,
    RegisterBrokerResponseHeader,
    UnRegisterBrokerRequestHeader,
)
from rocketpy.remoting.client import RemotingClient
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import ConnectionClosedError

log = logging.getLogger("RocketmqBroker")

INITIAL_DELAY = 10.0
UNREGISTER_TIMEOUT = 3.0


def register_period(settings: BrokerSettings) -> float:
    return max(10_000, min(settings.broker.register_name_server_period, 60_000)) / 1000


def apply_broker_permission(wrapper: TopicConfigSerializeWrapper, broker_perm: int) -> TopicConfigSerializeWrapper:
    """registerBrokerAll: a broker without R or W reports its own permission on every topic."""
    if broker_perm & PERM_READ and broker_perm & PERM_WRITE:
        return wrapper
    table = {
        name: TopicConfig(
            topic_name=tc.topic_name,
            read_queue_nums=tc.read_queue_nums,
            write_queue_nums=tc.write_queue_nums,
            perm=broker_perm,
        )
        for name, tc in wrapper.topic_config_table.items()
    }
    return TopicConfigSerializeWrapper(table, wrapper.data_version)


class NamesrvRegistration:
    """Owns the NameServer client while `run` runs; `request_register()` asks for an immediate full registration."""

    def __init__(
        self,
        settings: BrokerSettings,
        build_wrapper: Callable[[], TopicConfigSerializeWrapper],
        on_order_config: Callable[[KVTable | None], None] | None = None,
        data_version: Callable[[], DataVersion] | None = None,
    ) -> None:
        self.settings = settings
        self.build_wrapper = build_wrapper
        # An increment needs the version alone: building the whole wrapper made each create O(topics).
        self.data_version = data_version or (lambda: self.build_wrapper().data_version)
        self.on_order_config = on_order_config
        self.registrations = 0  # completed registration rounds, for observers and tests
        self._client: RemotingClient | None = None
        self._wake = trio.Event()
        self.ssl_context: ssl.SSLContext | None = None  # set when useTLS: NameServer connections speak TLS
        # doRegisterBrokerAll's use of the first answer on a slave: the master's HA and broker addresses.
        self.on_result: Callable[[RegisterBrokerResult], None] | None = None

    def request_register(self) -> None:
        self._wake.set()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Register now, report started, then keep registering; unregister from every NameServer when cancelled."""
        try:
            async with RemotingClient(connect_timeout=self._timeout(), ssl_context=self.ssl_context) as client:
                self._client = client
                await self.register_all()
                task_status.started()
                await self._loop()
        finally:
            self._client = None
            with trio.CancelScope(shield=True):
                await self.unregister_all()

    async def _loop(self) -> None:
        deadline = trio.current_time() + INITIAL_DELAY
        while True:
            with trio.move_on_at(deadline):
                await self._wake.wait()
            requested = self._wake.is_set()  # a topic changed: register whatever the NameServers hold
            self._wake = trio.Event()
            if trio.current_time() >= deadline:
                deadline = trio.current_time() + register_period(self.settings)
            try:
                await self.register_all(force=requested or self.settings.broker.force_register)
            except Exception:  # a bug here must not stop the keepalive
                log.exception("registerBrokerAll Exception")

    def _timeout(self) -> float:
        return max(self.settings.broker.register_broker_timeout_mills, 1) / 1000

    async def register_all(self, force: bool = True) -> list[RegisterBrokerResult]:
        """registerBrokerAll(checkOrderConfig=true, oneway=false, forceRegister)."""
        wrapper = apply_broker_permission(self.build_wrapper(), self.settings.broker.broker_permission)
        if not force and not await self.need_register(wrapper.data_version):
            return []
        results = await self._register(wrapper)
        if results and self.on_result is not None:
            self.on_result(results[0][0])
        if results and self.on_order_config is not None:
            self.on_order_config(results[0][1])
        self.registrations += 1
        return [result for result, _ in results]

    async def register_increment(self, topic: TopicConfig) -> list[RegisterBrokerResult]:
        """registerIncrementBrokerData: only this topic, with the manager's current DataVersion."""
        single = TopicConfigSerializeWrapper({topic.topic_name or "": topic}, self.data_version())
        results = await self._register(apply_broker_permission(single, self.settings.broker.broker_permission))
        return [result for result, _ in results]

    async def _register(
        self, wrapper: TopicConfigSerializeWrapper
    ) -> list[tuple[RegisterBrokerResult, KVTable | None]]:
        client = self._client
        addrs = self.settings.namesrv_addrs()
        if client is None or not addrs:
            return []
        header, body = self._request_parts(wrapper)
        results: list[tuple[RegisterBrokerResult, KVTable | None]] = []
        async with trio.open_nursery() as nursery:
            for addr in addrs:
                nursery.start_soon(self._register_one, client, addr, header, body, results)
        return results

    def _request_parts(self, wrapper: TopicConfigSerializeWrapper) -> tuple[RegisterBrokerRequestHeader, bytes]:
        b = self.settings.broker
        body = RegisterBrokerBody(wrapper, []).encode(b.compressed_register)
        header = RegisterBrokerRequestHeader(
            broker_name=b.broker_name,
            broker_addr=self.settings.broker_addr,
            cluster_name=b.broker_cluster_name,
            ha_server_addr=self.settings.ha_server_addr,
            broker_id=b.broker_id,
            compressed=b.compressed_register,
            body_crc32=body_crc32(body),
        )
        return header, body

    def register_oneway_now(self) -> None:
        """registerBrokerAll(checkOrderConfig=false, oneway=true, forceRegister=true), as Java's
        createTopicInSendMessageMethod calls it: the REGISTER_BROKER frames are queued before the send's reply
        leaves, so a client that asks the NameServer right after finds the new topic. Never yields (the send
        handler is inline); a NameServer without an open connection is left to the registration loop."""
        client = self._client
        if client is None:
            self.request_register()
            return
        wrapper = apply_broker_permission(self.build_wrapper(), self.settings.broker.broker_permission)
        header, body = self._request_parts(wrapper)
        for addr in self.settings.namesrv_addrs():
            conn = client.connected(addr)
            try:
                if conn is None:
                    raise ConnectionClosedError(addr)
                conn.send_oneway_nowait(RemotingCommand.request(RequestCode.REGISTER_BROKER, header.to_ext(), body))
            except ConnectionClosedError:
                self.request_register()

    async def _register_one(
        self,
        client: RemotingClient,
        addr: str,
        header: RegisterBrokerRequestHeader,
        body: bytes,
        results: list[tuple[RegisterBrokerResult, KVTable | None]],
    ) -> None:
        request = RemotingCommand.request(RequestCode.REGISTER_BROKER, header.to_ext(), body)
        try:
            response = await client.invoke(addr, request, self._timeout())
            if response.code != ResponseCode.SUCCESS:
                log.warning("registerBroker to %s refused: code %d, %s", addr, response.code, response.remark)
                return
            head = RegisterBrokerResponseHeader.from_ext(response.ext_fields)
            kv = KVTable.from_json(bytes(response.body)) if response.body else None
            results.append((RegisterBrokerResult(head.ha_server_addr, head.master_addr, kv or KVTable()), kv))
            log.info("register broker[%d]to name server %s OK", header.broker_id, addr)
        except Exception as exc:  # one unreachable NameServer must not stop the others
            log.warning("registerBroker Exception, %s: %s", addr, exc)

    async def need_register(self, version: DataVersion) -> bool:
        """BrokerOuterAPI.needRegister: does any NameServer hold a different DataVersion for this broker?"""
        client = self._client
        if client is None:
            return False
        b = self.settings.broker
        header = QueryDataVersionRequestHeader(
            b.broker_name, self.settings.broker_addr, b.broker_cluster_name, b.broker_id
        )
        answers: list[bool] = []

        async def ask(addr: str) -> None:
            request = RemotingCommand.request(RequestCode.QUERY_DATA_VERSION, header.to_ext(), version.to_json())
            try:
                response = await client.invoke(addr, request, self._timeout())
                if response.code == ResponseCode.SUCCESS:
                    changed = QueryDataVersionResponseHeader.from_ext(response.ext_fields).changed
                    if response.body and DataVersion.from_json(bytes(response.body)) != version:
                        changed = True
                    answers.append(changed)
            except Exception as exc:  # an unreachable NameServer counts as changed, as in Java
                log.error("Query data version from name server %s Exception, %s", addr, exc)
                answers.append(True)

        async with trio.open_nursery() as nursery:
            for addr in self.settings.namesrv_addrs():
                nursery.start_soon(ask, addr)
        return any(answers)

    async def unregister_all(self) -> None:
        """unregisterBrokerAll, with a fresh client: the running one may already be cancelled."""
        addrs = self.settings.namesrv_addrs()
        if not addrs:
            return
        b = self.settings.broker
        header = UnRegisterBrokerRequestHeader(
            b.broker_name, self.settings.broker_addr, b.broker_cluster_name, b.broker_id
        )
        with trio.move_on_after(UNREGISTER_TIMEOUT):
            async with RemotingClient(connect_timeout=UNREGISTER_TIMEOUT, ssl_context=self.ssl_context) as client:
                for addr in addrs:
                    try:
                        request = RemotingCommand.request(RequestCode.UNREGISTER_BROKER, header.to_ext())
                        await client.invoke(addr, request, UNREGISTER_TIMEOUT)
                        log.info("unregisterBroker OK, NamesrvAddr: %s", addr)
                    except Exception as exc:
                        log.warning("unregisterBroker Exception, %s: %s", addr, exc)
