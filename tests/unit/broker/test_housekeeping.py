"""The controller's background loops under trio's MockClock: client expiry, offset flushing, registration timing."""

from __future__ import annotations

import orjson
import trio
import trio.testing

from rocketpy.broker.controller import BrokerController
from rocketpy.broker.persistence import MemoryConfigStore
from rocketpy.protocol.codes import RequestCode

from .conftest import FakeConnection, call, heartbeat, make_settings, subscription


def compact(text: str) -> str:
    return "".join(text.split())


def trio_ms() -> int:
    return int(trio.current_time() * 1000)


def mock_controller(files: MemoryConfigStore | None = None) -> BrokerController:
    store = files or MemoryConfigStore()
    return BrokerController(make_settings(), clock_ms=trio_ms, config_store=store, offload_blocking_io=False)


async def test_silent_client_expires_after_120s_and_the_group_is_told(
    autojump_clock: trio.testing.MockClock,
) -> None:
    controller = mock_controller()
    silent, alive = FakeConnection("10.0.0.1:1"), FakeConnection("10.0.0.2:2")
    async with trio.open_nursery() as nursery:
        await nursery.start(controller.run)
        start = trio.current_time()
        for conn, cid in ((silent, "S@1"), (alive, "A@1")):
            body = heartbeat(cid, producers=("PG",), consumers={"G": [subscription("T")]})
            await call(controller, RequestCode.HEART_BEAT, body=body, conn=conn)

        async def keep_beating() -> None:  # the live client beats every 30 s, with all its groups, as Java's does
            while True:
                await trio.sleep(30)
                body = heartbeat("A@1", producers=("PG",), consumers={"G": [subscription("T")]})
                await call(controller, RequestCode.HEART_BEAT, body=body, conn=alive)

        nursery.start_soon(keep_beating)
        # Scans run every 10 s from start; the one at 120 s sees exactly 120 s of silence, which is not yet too long.
        await trio.sleep_until(start + 125)
        assert not silent.closed
        notified = len(alive.notified_groups())
        await trio.sleep_until(start + 131)
        assert silent.closed and not alive.closed
        assert len(alive.notified_groups()) == notified + 1  # the remaining member rebalances at once
        ids = await call(controller, RequestCode.GET_CONSUMER_LIST_BY_GROUP, {"consumerGroup": "G"})
        assert orjson.loads(ids.body or b"")["consumerIdList"] == ["A@1"]
        assert [c.client_id for c in controller.producers.connections("PG") or []] == ["A@1"]
        nursery.cancel_scope.cancel()


async def test_offsets_flush_every_interval_and_at_shutdown(autojump_clock: trio.testing.MockClock) -> None:
    files = MemoryConfigStore()
    controller = mock_controller(files)
    offset = {"consumerGroup": "G", "topic": "T", "queueId": "0", "commitOffset": "1"}
    async with trio.open_nursery() as nursery:
        await nursery.start(controller.run)
        start = trio.current_time()
        await call(controller, RequestCode.UPDATE_CONSUMER_OFFSET, offset)
        await trio.sleep_until(start + 9.9)
        assert "consumerOffset.json" not in files.files  # Java's first flush is 10 s after start
        await trio.sleep_until(start + 10.5)
        assert "{0:1}" in compact(files.files["consumerOffset.json"])
        await call(controller, RequestCode.UPDATE_CONSUMER_OFFSET, {**offset, "commitOffset": "2"})
        await trio.sleep_until(start + 15.5)  # flushConsumerOffsetInterval = 5 s
        assert "{0:2}" in compact(files.files["consumerOffset.json"])
        await call(controller, RequestCode.UPDATE_CONSUMER_OFFSET, {**offset, "commitOffset": "3"})
        nursery.cancel_scope.cancel()
    assert "{0:3}" in compact(files.files["consumerOffset.json"])  # persisted at shutdown


async def test_topic_changes_are_written_soon_after(autojump_clock: trio.testing.MockClock) -> None:
    files = MemoryConfigStore()
    controller = mock_controller(files)
    async with trio.open_nursery() as nursery:
        await nursery.start(controller.run)
        await call(controller, RequestCode.HEART_BEAT, body=heartbeat("c@1", consumers={"G": [subscription("T")]}))
        await trio.sleep(0.1)
        assert "%RETRY%G" in orjson.loads(files.files["topics.json"])["topicConfigTable"]
        assert "G" in orjson.loads(files.files["subscriptionGroup.json"])["subscriptionGroupTable"]
        nursery.cancel_scope.cancel()


async def test_registration_schedule(autojump_clock: trio.testing.MockClock) -> None:
    settings = make_settings()
    settings.broker.register_name_server_period = 30_000
    controller = BrokerController(
        settings, clock_ms=trio_ms, config_store=MemoryConfigStore(), offload_blocking_io=False
    )
    times: list[float] = []

    async def record(force: bool = True) -> list[object]:
        times.append(trio.current_time())
        return []

    controller.registration.register_all = record  # type: ignore[method-assign]
    # A created topic registers at once, oneway, before the request that created it is answered.
    controller.registration.register_oneway_now = lambda: times.append(trio.current_time())  # type: ignore[method-assign]
    async with trio.open_nursery() as nursery:
        await nursery.start(controller.run)
        start = times[0]  # registered before reporting started
        await trio.sleep(45)
        controller.topics.create_in_send_message_back("%RETRY%G", 1, 6, 0)  # asks for an immediate registration
        await trio.sleep(0.01)
        await trio.sleep_until(start + 101)
        nursery.cancel_scope.cancel()
    assert [round(t - start, 2) for t in times] == [0, 10, 40, 45, 70, 100]
