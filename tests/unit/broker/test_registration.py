"""Registration with the real rocketpy NameServer over loopback sockets: what a client then finds in the routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio

from rocketpy.broker.config import BrokerSettings
from rocketpy.broker.controller import BrokerController
from rocketpy.broker.persistence import MemoryConfigStore
from rocketpy.namesrv.config import NamesrvSettings
from rocketpy.namesrv.controller import NamesrvController
from rocketpy.protocol.bodies import ClusterInfo, TopicRouteData
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.remoting.client import RemotingClient
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler, RequestContext, inline
from rocketpy.remoting.server import RemotingServer

from .conftest import FakeConnection, call, heartbeat, make_settings, subscription


@pytest.fixture
def received() -> list[int]:
    """Request codes the NameServer received, in order."""
    return []


@pytest.fixture
async def namesrv(tmp_path: Path, nursery: trio.Nursery, received: list[int]) -> AsyncIterator[str]:
    settings = NamesrvSettings()
    settings.namesrv.kv_config_path = str(tmp_path / "kvConfig.json")
    settings.namesrv.config_store_path = str(tmp_path / "namesrv.properties")
    controller = NamesrvController(settings)

    def recording(code: int, handler: Handler) -> Handler:
        async def record(ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand | None:
            received.append(code)
            return await handler(ctx, cmd)

        return record

    server = RemotingServer({code: recording(code, h) for code, h in controller.handlers().items()})
    server.on_close(controller.on_connection_closed)
    port = await nursery.start(server.serve, 0, "127.0.0.1")
    yield f"127.0.0.1:{port}"


def broker_settings(namesrv: str, name: str = "broker-a") -> BrokerSettings:
    settings = make_settings()
    settings.broker.broker_name = name
    settings.broker.namesrv_addr = namesrv
    return settings


async def ask(client: RemotingClient, addr: str, code: int, ext: dict[str, str] | None = None) -> RemotingCommand:
    return await client.invoke(addr, RemotingCommand.request(code, ext), timeout=5)


async def route(client: RemotingClient, namesrv: str, topic: str) -> TopicRouteData | None:
    reply = await ask(client, namesrv, RequestCode.GET_ROUTEINFO_BY_TOPIC, {"topic": topic})
    return TopicRouteData.from_json(bytes(reply.body or b"")) if reply.code == ResponseCode.SUCCESS else None


async def test_broker_registers_its_topics_and_unregisters_at_shutdown(namesrv: str) -> None:
    controller = BrokerController(broker_settings(namesrv), config_store=MemoryConfigStore())
    async with RemotingClient() as client:
        async with trio.open_nursery() as broker:
            await broker.start(controller.run)  # registered before this returns
            info = ClusterInfo.from_json(
                bytes((await ask(client, namesrv, RequestCode.GET_BROKER_CLUSTER_INFO)).body or b"")
            )
            assert info.cluster_addr_table == {"DefaultCluster": {"broker-a"}}
            assert info.broker_addr_table["broker-a"].broker_addrs == {0: "127.0.0.1:10911"}
            tbw = await route(client, namesrv, "TBW102")
            assert tbw is not None and (tbw.queue_datas[0].perm, tbw.queue_datas[0].write_queue_nums) == (7, 8)
            broker.cancel_scope.cancel()
        info = ClusterInfo.from_json(
            bytes((await ask(client, namesrv, RequestCode.GET_BROKER_CLUSTER_INFO)).body or b"")
        )
        assert "broker-a" not in info.broker_addr_table  # UNREGISTER_BROKER at shutdown
        assert await route(client, namesrv, "TBW102") is None


async def test_created_topic_is_routable_when_the_create_returns(namesrv: str) -> None:
    controller = BrokerController(broker_settings(namesrv), config_store=MemoryConfigStore())
    async with RemotingClient() as client, trio.open_nursery() as broker:
        await broker.start(controller.run)
        assert await route(client, namesrv, "TopicTest") is None
        ext = {
            "topic": "TopicTest",
            "defaultTopic": "TBW102",
            "readQueueNums": "4",
            "writeQueueNums": "4",
            "perm": "6",
            "topicFilterType": "SINGLE_TAG",
            "topicSysFlag": "0",
            "order": "false",
        }
        assert (await call(controller, RequestCode.UPDATE_AND_CREATE_TOPIC, ext)).code == ResponseCode.SUCCESS
        found = await route(client, namesrv, "TopicTest")
        assert found is not None and found.queue_datas[0].read_queue_nums == 4
        assert found.broker_datas[0].broker_addrs == {0: "127.0.0.1:10911"}
        broker.cancel_scope.cancel()


async def test_heartbeat_makes_the_retry_topic_routable(namesrv: str) -> None:
    controller = BrokerController(broker_settings(namesrv), config_store=MemoryConfigStore())
    async with RemotingClient() as client, trio.open_nursery() as broker:
        await broker.start(controller.run)
        body = heartbeat("10.0.0.5@1", consumers={"CG": [subscription("TopicTest")]})
        await call(controller, RequestCode.HEART_BEAT, body=body, conn=FakeConnection("10.0.0.5:1"))
        with trio.fail_after(5):  # registered at once, not at the next 30 s round
            while (found := await route(client, namesrv, "%RETRY%CG")) is None:
                await trio.sleep(0.01)
        assert (found.queue_datas[0].perm, found.queue_datas[0].read_queue_nums) == (6, 1)
        broker.cancel_scope.cancel()


async def test_unreachable_namesrv_does_not_stop_the_others(namesrv: str) -> None:
    with trio.socket.socket() as probe:  # a port nobody listens on
        await probe.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{probe.getsockname()[1]}"
    settings = broker_settings(f"{dead};{namesrv}")
    settings.broker.register_broker_timeout_mills = 1000
    controller = BrokerController(settings, config_store=MemoryConfigStore())
    async with RemotingClient() as client, trio.open_nursery() as broker:
        await broker.start(controller.run)
        assert await route(client, namesrv, "TBW102") is not None
        broker.cancel_scope.cancel()


async def test_read_only_broker_reports_its_permission_on_every_topic(namesrv: str) -> None:
    controller = BrokerController(broker_settings(namesrv), config_store=MemoryConfigStore())
    async with RemotingClient() as client, trio.open_nursery() as broker:
        await broker.start(controller.run)
        reply = await call(controller, RequestCode.UPDATE_BROKER_CONFIG, body=b"brokerPermission=4\n")
        assert reply.code == ResponseCode.SUCCESS
        with trio.fail_after(5):
            while (found := await route(client, namesrv, "TBW102")) is None or found.queue_datas[0].perm != 4:
                await trio.sleep(0.01)
        broker.cancel_scope.cancel()


async def test_without_force_register_only_a_changed_data_version_registers(namesrv: str, received: list[int]) -> None:
    settings = broker_settings(namesrv)
    settings.broker.force_register = False
    controller = BrokerController(settings, config_store=MemoryConfigStore())
    async with trio.open_nursery() as broker:
        await broker.start(controller.run)  # the start-up registration is always forced
        assert received == [RequestCode.REGISTER_BROKER]
        await controller.registration.register_all(force=False)
        assert received[1:] == [RequestCode.QUERY_DATA_VERSION]  # same DataVersion: a keepalive, no registration
        controller.topics.delete_topic_config("BenchmarkTest")  # bumps the DataVersion, asks for nothing
        await controller.registration.register_all(force=False)
        assert received[2:] == [RequestCode.QUERY_DATA_VERSION, RequestCode.REGISTER_BROKER]
        broker.cancel_scope.cancel()


async def test_over_loopback_members_are_notified_and_a_closed_client_leaves(nursery: trio.Nursery) -> None:
    """Real sockets: NOTIFY_CONSUMER_IDS_CHANGED reaches the client's handler table; closing a client's
    connection removes it (ClientHousekeepingService.onChannelClose) and the rest of the group is told."""
    controller = BrokerController(make_settings(), config_store=MemoryConfigStore())
    server = RemotingServer(controller.handlers())
    server.on_close(controller.on_connection_closed)
    port = await nursery.start(server.serve, 0, "127.0.0.1")
    await nursery.start(controller.run)
    broker = f"127.0.0.1:{port}"
    notified: dict[str, list[str]] = {"A": [], "B": []}

    def on_notify(name: str) -> Handler:
        @inline
        async def handler(ctx: RequestContext, cmd: RemotingCommand) -> None:
            notified[name].append((cmd.ext_fields or {}).get("consumerGroup", ""))

        return handler

    async def beat(client: RemotingClient, cid: str) -> None:
        body = heartbeat(cid, consumers={"CG": [subscription("T")]})
        reply = await client.invoke(broker, RemotingCommand.request(RequestCode.HEART_BEAT, None, body), timeout=5)
        assert reply.code == ResponseCode.SUCCESS and reply.version == 409

    async with RemotingClient({RequestCode.NOTIFY_CONSUMER_IDS_CHANGED: on_notify("A")}) as a:
        await beat(a, "A@1")
        async with RemotingClient({RequestCode.NOTIFY_CONSUMER_IDS_CHANGED: on_notify("B")}) as b:
            await beat(b, "B@1")
            with trio.fail_after(5):
                while len(notified["A"]) < 2 or not notified["B"]:
                    await trio.sleep(0.01)
            assert notified == {"A": ["CG", "CG"], "B": ["CG"]}
        with trio.fail_after(5):  # B's connection closed: A rebalances
            while len(notified["A"]) < 3:
                await trio.sleep(0.01)
        group = controller.consumers.get("CG")
        assert group is not None and group.all_client_ids() == ["A@1"]
