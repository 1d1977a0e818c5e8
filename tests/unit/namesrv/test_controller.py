"""The controller's liveness loop under trio's MockClock, and a NameServer over real loopback sockets."""

from __future__ import annotations

import trio
import trio.testing

from rocketpy.namesrv.config import NamesrvSettings
from rocketpy.namesrv.controller import NamesrvController
from rocketpy.protocol.bodies import DataVersion, TopicRouteData
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.namesrv_headers import QueryDataVersionRequestHeader
from rocketpy.remoting.client import RemotingClient
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.server import RemotingServer

from .conftest import FakeConnection, call, register, register_request, topic


async def route_code(controller: NamesrvController, name: str = "T") -> int:
    return (await call(controller, RequestCode.GET_ROUTEINFO_BY_TOPIC, {"topic": name})).code


async def test_broker_expires_120s_after_last_registration(
    settings: NamesrvSettings, autojump_clock: trio.testing.MockClock
) -> None:
    controller = NamesrvController(settings)  # default clock: trio.current_time, i.e. the MockClock
    conn = FakeConnection("10.0.0.1:40000")
    async with trio.open_nursery() as nursery:
        await nursery.start(controller.run_scan)
        start = trio.current_time()
        await register(controller, topics=(topic("T"),), conn=conn)
        await trio.sleep(119)
        assert await route_code(controller) == ResponseCode.SUCCESS
        assert not conn.closed
        # Scans run 5 s after start and every 10 s: the one at 125 s is the first past the 120 s limit.
        await trio.sleep_until(start + 124.9)
        assert await route_code(controller) == ResponseCode.SUCCESS
        await trio.sleep_until(start + 125.1)
        assert await route_code(controller) == ResponseCode.TOPIC_NOT_EXIST
        assert conn.closed  # Java closes the expired broker's channel
        nursery.cancel_scope.cancel()


async def test_periodic_registration_keeps_broker_alive(
    settings: NamesrvSettings, autojump_clock: trio.testing.MockClock
) -> None:
    controller = NamesrvController(settings)
    async with trio.open_nursery() as nursery:
        await nursery.start(controller.run_scan)
        for _ in range(20):  # brokers re-register every 30 s
            await register(controller, topics=(topic("T"),))
            await trio.sleep(30)
        assert await route_code(controller) == ResponseCode.SUCCESS
        await trio.sleep(131)
        assert await route_code(controller) == ResponseCode.TOPIC_NOT_EXIST
        nursery.cancel_scope.cancel()


async def test_unchanged_data_version_query_is_a_keepalive(
    settings: NamesrvSettings, autojump_clock: trio.testing.MockClock
) -> None:
    controller = NamesrvController(settings)
    version = DataVersion(3, 3)
    async with trio.open_nursery() as nursery:
        await nursery.start(controller.run_scan)
        start = trio.current_time()
        await register(controller, topics=(topic("T"),), version=version)
        await trio.sleep(100)
        ext = QueryDataVersionRequestHeader("broker-a", "10.0.0.1:10911", "DefaultCluster", 0).to_ext()
        assert (await call(controller, RequestCode.QUERY_DATA_VERSION, ext, version.to_json())).code == 0
        await trio.sleep_until(start + 200)
        assert await route_code(controller) == ResponseCode.SUCCESS
        await trio.sleep_until(start + 230)
        assert await route_code(controller) == ResponseCode.TOPIC_NOT_EXIST
        nursery.cancel_scope.cancel()


async def test_over_loopback_a_closed_broker_connection_disappears_at_once(
    settings: NamesrvSettings, nursery: trio.Nursery
) -> None:
    controller = NamesrvController(settings)
    server = RemotingServer(controller.handlers())
    closed = trio.Event()

    def on_close(conn: object) -> None:
        controller.on_connection_closed(conn)
        closed.set()

    server.on_close(on_close)
    port = await nursery.start(server.serve, 0, "127.0.0.1")
    addr = f"127.0.0.1:{port}"
    ext, body = register_request(topics=(topic("T"),))
    async with RemotingClient() as broker, RemotingClient() as client:
        reply = await broker.invoke(addr, RemotingCommand.request(RequestCode.REGISTER_BROKER, ext, body))
        assert reply.code == ResponseCode.SUCCESS and reply.is_response
        routed = await client.invoke(addr, RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, {"topic": "T"}))
        assert routed.code == ResponseCode.SUCCESS and routed.body is not None
        assert TopicRouteData.from_json(routed.body).broker_datas[0].broker_addrs == {0: "10.0.0.1:10911"}

        await broker.close(addr)
        with trio.fail_after(5):
            await closed.wait()
        gone = await client.invoke(addr, RemotingCommand.request(RequestCode.GET_ROUTEINFO_BY_TOPIC, {"topic": "T"}))
        assert gone.code == ResponseCode.TOPIC_NOT_EXIST

        unknown = await client.invoke(addr, RemotingCommand.request(9999))
        assert unknown.code == ResponseCode.REQUEST_CODE_NOT_SUPPORTED
