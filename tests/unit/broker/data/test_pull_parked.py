"""Parked pulls (issue 12): the fast path's held pulls, released without a task of their own.

The same observable behaviour as the general path's held pulls (test_pull.py): answered on an arrival its filter
accepts, by the periodic check, or with PULL_NOT_FOUND at its deadline; the answer is the general path's
second pass (no suspending, no second commit); a closed connection gets nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import trio
import trio.testing

from rocketpy.broker.processors.pull_fast import FastPull
from rocketpy.protocol.bodies.topic_config import TopicConfig
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.remoting.codec import FrameDecoder
from rocketpy.remoting.command import RemotingCommand
from rocketpy.store.format import decode_records
from tests.unit.broker.conftest import FakeConnection, heartbeat
from tests.unit.broker.data.conftest import (
    CONSUMER,
    PULL_COMMIT,
    PULL_SUSPEND,
    DataPlane,
    client_properties,
    pull_ext,
    settle,
)
from tests.unit.broker.data.pull_support import java_subscription

PULL = RequestCode.PULL_MESSAGE


@dataclass(eq=False)
class Parking(FakeConnection):
    later: list[tuple[float, RemotingCommand]] = field(default_factory=list)
    flushes: int = 0

    def send_response_nowait(self, request: RemotingCommand, response: RemotingCommand) -> None:
        self.later.append((trio.current_time(), response))

    def send_frame_nowait(self, data: bytes) -> bool:
        (cmd,) = FrameDecoder().feed(data)
        self.later.append((trio.current_time(), cmd))
        return True

    def flush_nowait(self) -> None:
        self.flushes += 1


async def ready(plane: DataPlane, sub: str = "*") -> FastPull:
    plane.controller.topics.update_topic_config(TopicConfig("TopicTest", 4, 4, 6))
    body = heartbeat("10.0.0.8@1", consumers={"G1": [java_subscription("TopicTest", sub, 100)]})
    assert (await plane.call(RequestCode.HEART_BEAT, None, body, conn=CONSUMER)).code == ResponseCode.SUCCESS
    return FastPull(plane.pull)


def request(offset: int = 0, timeout_ms: int = 15000, commit: int = 0) -> RemotingCommand:
    ext = pull_ext("G1", "TopicTest", 0, offset, sys_flag=PULL_SUSPEND | PULL_COMMIT, commit_offset=commit,
                   suspend_timeout_millis=timeout_ms, sub_version=100)  # fmt: skip
    return RemotingCommand.request(PULL, ext)


async def send(plane: DataPlane, tag: str) -> None:
    reply = await plane.send_one("TopicTest", tag.encode(), queue_id=0, properties=client_properties(tag))
    assert reply.code == ResponseCode.SUCCESS


def tags(reply: RemotingCommand) -> list[str]:
    return [r.property_map["TAGS"] for r in decode_records(bytes(reply.body or b""))]


async def test_parked_pull_answered_on_arrival(plane: DataPlane, autojump_clock: trio.testing.MockClock) -> None:
    fast = await ready(plane)
    conn = Parking(CONSUMER.remote_addr)
    start = trio.current_time()
    assert fast(conn, request(commit=3)) == b""  # parked
    assert plane.holds.held_count() == 1 and plane.controller.offsets.query("G1", "TopicTest", 0) == 3
    await trio.sleep(2)
    await send(plane, "TagA")
    await settle()
    [(when, reply)] = conn.later
    assert (reply.code, reply.remark, tags(reply)) == (ResponseCode.SUCCESS, "FOUND", ["TagA"])
    assert 2 <= when - start < 2.1 and plane.holds.held_count() == 0 and conn.flushes == 1
    plane.controller.offsets.commit("x", "G1", "TopicTest", 0, 9)
    await send(plane, "TagB")  # nobody waits any more; the replay did not commit
    await settle()
    assert len(conn.later) == 1 and plane.controller.offsets.query("G1", "TopicTest", 0) == 9


async def test_parked_pull_times_out_with_not_found(plane: DataPlane, autojump_clock: trio.testing.MockClock) -> None:
    fast = await ready(plane)
    conn = Parking(CONSUMER.remote_addr)
    start = trio.current_time()
    assert fast(conn, request(timeout_ms=15000)) == b""
    assert fast(conn, request(timeout_ms=3000)) == b""  # an earlier deadline than the timer's
    await trio.sleep(20)
    [(first, short), (second, long_)] = conn.later
    assert (short.code, short.remark) == (ResponseCode.PULL_NOT_FOUND, "NO_MESSAGE_IN_QUEUE")
    assert (long_.code, (long_.ext_fields or {})["nextBeginOffset"]) == (ResponseCode.PULL_NOT_FOUND, "0")
    assert 3 <= first - start < 3.1 and 15 <= second - start < 15.1
    assert plane.holds.held_count() == 0


async def test_parked_pull_ignores_arrivals_its_filter_rejects(
    plane: DataPlane, autojump_clock: trio.testing.MockClock
) -> None:
    fast = await ready(plane, "TagB")
    conn = Parking(CONSUMER.remote_addr)
    start = trio.current_time()
    assert fast(conn, request()) == b""
    await send(plane, "TagA")
    await settle()
    assert not conn.later
    await trio.sleep(1)
    await send(plane, "TagB")
    await settle()
    [(when, reply)] = conn.later
    assert (reply.code, tags(reply)) == (ResponseCode.SUCCESS, ["TagB"]) and 1 <= when - start < 1.1


async def test_periodic_check_releases_a_parked_pull(plane: DataPlane, autojump_clock: trio.testing.MockClock) -> None:
    fast = await ready(plane)
    conn = Parking(CONSUMER.remote_addr)
    assert fast(conn, request()) == b""
    start = trio.current_time()
    listener, plane.store.arrival_listener = plane.store.arrival_listener, None  # an arrival nobody hears of
    await send(plane, "TagA")
    plane.store.arrival_listener = listener
    await trio.sleep(6)
    [(when, reply)] = conn.later
    assert reply.code == ResponseCode.SUCCESS and when - start <= 5.1  # the 5 s check, not the 15 s deadline


async def test_a_closed_connection_gets_nothing(plane: DataPlane, autojump_clock: trio.testing.MockClock) -> None:
    fast = await ready(plane)
    conn = Parking(CONSUMER.remote_addr)
    await send(plane, "TagA")
    reply = fast(conn, request(offset=1))
    assert reply == b"" and plane.holds.held_count() == 1
    closed = Parking(CONSUMER.remote_addr)
    assert fast(closed, request(offset=1)) == b""
    closed.closed = True
    await send(plane, "TagB")
    await settle()
    assert [tags(r) for _, r in conn.later] == [["TagB"]] and not closed.later
    assert plane.holds.held_count() == 0


async def test_second_pass_the_fast_path_declines_goes_the_general_way(
    plane: DataPlane, autojump_clock: trio.testing.MockClock
) -> None:
    fast = await ready(plane)
    conn = Parking(CONSUMER.remote_addr)
    assert fast(conn, request()) == b""
    del plane.controller.consumers.groups["G1"]  # the consumer went away while its pull was held
    await send(plane, "TagA")
    await settle()
    [(_, reply)] = conn.later
    assert reply.code == ResponseCode.SUBSCRIPTION_NOT_EXIST
    assert (reply.remark or "").startswith("the consumer's group info not exist")
