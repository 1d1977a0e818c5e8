"""Golden PULL_MESSAGE replies and side effects of the pull path's cases beyond the read loop (issue 12).

test_pull_golden.py pins the store's read loop with flagged (lite pull) subscriptions; this module pins what the
everyday push consumer sends and what surrounds it, recorded from the general pull path before the fast path
(pull_fast.py) existed: heartbeat-registered subscriptions (no subscription flag) with tags, commit-offset and
suspend flags, no new message with and without suspend (held, then answered at its deadline), offsets moved or
illegal, missing groups and subscriptions, SQL92 with and without enablePropertyFilter, retry topics, broadcast
refusal, and slave suggestions (slaveReadEnable, whichBrokerWhenConsumeSlowly, a slave). Every request goes in as a
wire frame and every reply comes out as the frame a Java consumer reads; after each case the committed offsets, the
get statistics and the OFFSET_MOVED_EVENT queue are part of the record.

Each case runs through the general handler and through the route the connection takes (fast handler first, the
general one when it declines): both must give the recorded bytes and effects.

Regenerate only for an intended change of behaviour: ROCKETPY_REGEN_PULL_CASES=1 pytest this file.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trio

from rocketpy.broker.config import BrokerRole, BrokerSettings
from rocketpy.broker.processors.pull_fast import FastPull
from rocketpy.broker.topic_validator import RMQ_SYS_OFFSET_MOVED_EVENT
from rocketpy.protocol.bodies.subscription_group import SubscriptionGroupConfig
from rocketpy.protocol.bodies.topic_config import TopicConfig
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.remoting.codec import encode
from rocketpy.remoting.command import RESPONSE_FLAG, RemotingCommand
from tests.unit.broker.conftest import FakeConnection, heartbeat
from tests.unit.broker.data.conftest import (
    CONSUMER,
    PULL_COMMIT,
    PULL_SUBSCRIPTION,
    PULL_SUSPEND,
    DataPlane,
    PlaneFactory,
    client_properties,
    pull_ext,
)
from tests.unit.broker.data.pull_support import check_golden, digest, java_subscription, reply_frame, wire_pull

GOLDEN_PATH = Path(__file__).with_name("pull_golden_cases.json")
REGEN = os.environ.get("ROCKETPY_REGEN_PULL_CASES") == "1"
PULL = RequestCode.PULL_MESSAGE
PUSH = PULL_COMMIT | PULL_SUSPEND  # what DefaultMQPushConsumerImpl sends once it has an offset to commit
TAGS = ["TagA", "TagB", "TagC", None]

# A pull: (queue id, offset, ext overrides); every pull of a case is answered in turn.
Pull = tuple[int, int, dict[str, Any]]


def push(qid: int, offset: int, **kw: Any) -> Pull:
    kw.setdefault("sys_flag", PUSH)
    kw.setdefault("commit_offset", max(0, offset - 1))
    kw.setdefault("sub_version", 100)
    kw.setdefault("suspend_timeout_millis", 1)  # held pulls end at once: the frame is what is pinned
    return (qid, offset, kw)


def lite(qid: int, offset: int, **kw: Any) -> Pull:
    kw.setdefault("sys_flag", PULL_SUBSCRIPTION)
    return (qid, offset, kw)


def slave_read(settings: BrokerSettings) -> None:
    settings.broker.slave_read_enable = True


def slave(settings: BrokerSettings) -> None:
    settings.store.broker_role = BrokerRole.SLAVE


# name -> (plane options, heartbeat subscriptions {topic: (expression, type)} or None, pulls)
Case = tuple[dict[str, Any], dict[str, tuple[str, str]] | None, list[Pull]]
EVERYDAY = [push(0, o) for o in (0, 1, 5, 19, 20)] + [push(1, 0, max_msg_nums=3), push(2, 7, max_msg_nums=1)]
CASES: dict[str, Case] = {
    "push_all": ({}, {"TopicTest": ("*", "TAG")}, EVERYDAY),
    "push_tags": ({}, {"TopicTest": ("TagA || TagC", "TAG")}, [*EVERYDAY, push(0, 19)]),
    "push_tag_nothing_matches": ({}, {"TopicTest": ("TagZ", "TAG")}, [push(0, 0), push(0, 19), push(0, 20)]),
    "push_no_commit_flag": ({}, {"TopicTest": ("*", "TAG")}, [push(0, 2, sys_flag=PULL_SUSPEND)]),
    "push_commit_only": ({}, {"TopicTest": ("*", "TAG")}, [push(0, 3, sys_flag=PULL_COMMIT, commit_offset=2)]),
    "push_no_flags": ({}, {"TopicTest": ("*", "TAG")}, [push(0, 20, sys_flag=0), push(0, 4, sys_flag=0)]),
    "push_empty_queue": ({}, {"TopicTest": ("*", "TAG")}, [push(3, 0), push(3, 0, sys_flag=PULL_COMMIT)]),
    "push_offsets_moved": (
        {},
        {"TopicTest": ("*", "TAG")},
        [push(0, 25), push(0, -1), push(3, 4), push(0, 25, sys_flag=0)],
    ),
    "push_illegal_queue": ({}, {"TopicTest": ("*", "TAG")}, [push(4, 0), push(-1, 0)]),
    "push_old_version": ({}, {"TopicTest": ("*", "TAG")}, [push(0, 0, sub_version=101), push(0, 0, sub_version=99)]),
    "push_no_subscription": ({}, {"Other": ("*", "TAG")}, [push(0, 0)]),
    "push_no_group_info": ({}, None, [push(0, 0)]),
    "push_unknown_topic": ({}, {"TopicTest": ("*", "TAG")}, [push(0, 0, topic="Nope")]),
    "push_broadcast": ({"broadcast": True}, {"TopicTest": ("*", "TAG")}, [push(0, 0)]),
    "push_group_disabled": ({"group": {"consume_enable": False}}, {"TopicTest": ("*", "TAG")}, [push(0, 0)]),
    "push_sql92_refused": ({}, {"TopicTest": ("a > 1", "SQL92")}, [push(0, 0)]),
    "push_sql92": (
        {"enable_property_filter": True},
        {"TopicTest": ("a > 3", "SQL92")},
        [push(0, 0), push(0, 19), push(1, 0, sub_version=101)],
    ),
    "push_retry_topic": (
        {},
        {"%RETRY%G1": ("*", "TAG")},
        [push(0, 0, topic="%RETRY%G1"), push(0, 4, topic="%RETRY%G1")],
    ),
    "push_retry_topic_filter_support": (
        {"filter_support_retry": True, "enable_property_filter": True},
        {"%RETRY%G1": ("*", "TAG"), "TopicTest": ("a > 3", "SQL92")},
        [push(0, 0, topic="%RETRY%G1"), push(0, 0)],
    ),
    "push_slave_read": (
        {"tweak": slave_read, "group": {"which_broker_when_consume_slowly": 1, "broker_id": 2}},
        {"TopicTest": ("*", "TAG")},
        [push(0, 0), push(0, 20), push(0, 25)],
    ),
    "push_slave_read_behind": (  # every record "on disk": suggest whichBrokerWhenConsumeSlowly, the disk limits
        {"tweak": slave_read, "group": {"which_broker_when_consume_slowly": 1}, "memory_ratio": 0},
        {"TopicTest": ("*", "TAG")},
        [push(0, 0), push(1, 5)],
    ),
    "push_on_slave": ({"tweak": slave}, {"TopicTest": ("*", "TAG")}, [push(0, 0), push(0, 25)]),
    "push_long_polling_off": (
        {"long_polling_enable": False, "short_polling_time_mills": 1},
        {"TopicTest": ("*", "TAG")},
        [push(0, 20)],
    ),
    "lite_flagged": (
        {},
        None,
        [lite(0, 0, subscription="TagB"), lite(0, 20, sys_flag=PULL_SUBSCRIPTION | PUSH, suspend_timeout_millis=1)],
    ),
    "lite_bad_expression": ({}, None, [lite(0, 0, subscription="||", expression_type="TAG")]),
    "rocketmq_header_push": ({"rocketmq_header": True}, {"TopicTest": ("*", "TAG")}, [push(0, 0), push(0, 20)]),
}


async def setup_case(
    make_plane: PlaneFactory, options: dict[str, Any], subs: dict[str, tuple[str, str]] | None
) -> DataPlane:
    broker = {
        k: v for k, v in options.items() if k not in ("tweak", "group", "broadcast", "rocketmq_header", "memory_ratio")
    }
    tweak: Callable[[BrokerSettings], None] | None = options.get("tweak")
    plane = make_plane(tweak=tweak, **broker)
    plane.controller.topics.update_topic_config(TopicConfig("TopicTest", 4, 4, 6))
    plane.controller.topics.update_topic_config(TopicConfig("%RETRY%G1", 1, 1, 6))
    plane.controller.groups.update(SubscriptionGroupConfig(group_name="G1", **options.get("group", {})))
    if options.get("broadcast"):
        plane.controller.groups.update(SubscriptionGroupConfig(group_name="G1", consume_broadcast_enable=False))
    role = plane.settings.store.broker_role
    plane.settings.store.broker_role = BrokerRole.ASYNC_MASTER  # a slave's store is filled by replication
    for i in range(60):
        extra = {"a": str(i % 7)} if i % 5 else {}
        props = client_properties(TAGS[i % 4], keys=f"k{i}", uniq=f"7F00000100{i:022X}", **extra)
        reply = await plane.send_one("TopicTest", bytes([65 + i % 26]) * (20 + i), queue_id=i % 3, properties=props)
        assert reply.code == 0, reply.remark
        if i < 6:
            retry = props + f"\x02RETRY_TOPIC\x01TopicTest\x02REAL_QID\x01{i % 3}"
            reply = await plane.send_one("%RETRY%G1", b"r" * (10 + i), queue_id=0, properties=retry)
            assert reply.code == 0, reply.remark
    plane.settings.store.broker_role = role
    if "memory_ratio" in options:
        plane.store.config.access_message_in_memory_max_ratio = options["memory_ratio"]
    if subs is not None:
        model = "BROADCASTING" if options.get("broadcast") else "CLUSTERING"
        consumers = {"G1": [java_subscription(t, e, 100, x) for t, (e, x) in subs.items()]}
        body = heartbeat("10.0.0.8@1", consumers=consumers, model=model)
        reply = await plane.call(RequestCode.HEART_BEAT, None, body, conn=CONSUMER)
        assert reply.code == ResponseCode.SUCCESS
    return plane


def request_frame(pull: Pull, opaque: int, rocketmq_header: bool) -> RemotingCommand:
    qid, offset, kw = pull
    kw = dict(kw)
    topic = kw.pop("topic", "TopicTest")
    kw.setdefault("subscription", "*")
    return wire_pull(pull_ext("G1", topic, qid, offset, **kw), opaque, rocketmq_header)


async def general(plane: DataPlane, cmd: RemotingCommand) -> bytes:
    return reply_frame(cmd, await plane.call(PULL, cmd.ext_fields, conn=CONSUMER))


Answer = Callable[[DataPlane, RemotingCommand], Any]


def effects(plane: DataPlane) -> dict[str, Any]:
    s = plane.stats
    return {
        "offsets": sorted((k, sorted(v.items())) for k, v in plane.controller.offsets.table.items()),
        "get": [s.get_found.total, s.get_miss.total, s.get_transferred.total],
        "moved_events": plane.store.get_max_offset_in_queue(RMQ_SYS_OFFSET_MOVED_EVENT, 0),
        "in_flight": s.in_flight["pull"],
    }


async def run_cases(make_plane: PlaneFactory, answer: Answer) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for name, (options, subs, pulls) in CASES.items():
        plane = await setup_case(make_plane, options, subs)
        replies = []
        for n, pull in enumerate(pulls):
            cmd = request_frame(pull, 1000 + n, bool(options.get("rocketmq_header")))
            replies.append(digest(await answer(plane, cmd)))
        record[name] = {"replies": replies, **effects(plane)}
    result: dict[str, Any] = json.loads(json.dumps(record))
    return result


async def test_pull_cases_general_path(make_plane: PlaneFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_700_000_123.456)
    check_golden(GOLDEN_PATH, await run_cases(make_plane, general), REGEN)


@dataclass(eq=False)
class ParkingConnection(FakeConnection):
    """What a parked pull's answer goes through: send_response_nowait, as the Connection encodes it."""

    later: list[bytes] = field(default_factory=list)

    def send_response_nowait(self, request: RemotingCommand, response: RemotingCommand) -> None:
        response.opaque, response.flag = request.opaque, response.flag | RESPONSE_FLAG
        response.serialize_type = request.serialize_type
        self.later.append(encode(response))

    def send_frame_nowait(self, data: bytes) -> bool:
        self.later.append(data)
        return True

    def flush_nowait(self) -> None:
        pass


# pulls of the everyday cases the fast path takes itself, held ones included (the rest go the general way)
FAST_EXPECTED = {"push_all": 7, "push_tags": 8, "push_tag_nothing_matches": 3, "push_no_commit_flag": 1,
                 "push_commit_only": 1, "push_no_flags": 2, "push_empty_queue": 2, "push_old_version": 1,
                 "push_retry_topic": 2, "push_slave_read": 2, "push_slave_read_behind": 2,
                 "push_long_polling_off": 1}  # fmt: skip


async def test_pull_cases_fast_route(make_plane: PlaneFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The connection's route (FastPull first, the general handler when it declines) gives the golden record."""
    monkeypatch.setattr(time, "time", lambda: 1_700_000_123.456)
    await check_fast_route(make_plane, lambda plane, cmd, conn: FastPull(plane.pull)(conn, cmd))  # type: ignore[arg-type]


FastPass = Callable[[DataPlane, RemotingCommand, ParkingConnection], bytes | None]


async def check_fast_route(make_plane: PlaneFactory, fast_pass: FastPass) -> None:
    """Every case through `fast_pass` (its reply, b"" when it parked the pull, None when it declined: then the
    general handler answers) gives the golden record, and the pass takes the pulls of FAST_EXPECTED."""
    taken: dict[str, int] = {}
    current = [""]

    async def route(plane: DataPlane, cmd: RemotingCommand) -> bytes:
        conn = ParkingConnection(CONSUMER.remote_addr)
        fast = fast_pass(plane, cmd, conn)
        if fast is None:
            return await general(plane, cmd)
        taken[current[0]] = taken.get(current[0], 0) + 1
        with trio.fail_after(5):
            while not fast and not conn.later:  # parked: answered by an arrival, the periodic check or the deadline
                await trio.sleep(0.001)
        return fast or conn.later.pop()

    record: dict[str, Any] = {}
    for name in CASES:
        current[0] = name
        record.update(await run_cases_named(make_plane, route, name))
    check_golden(GOLDEN_PATH, record)
    assert taken == FAST_EXPECTED, repr(taken)


async def run_cases_named(make_plane: PlaneFactory, answer: Answer, name: str) -> dict[str, Any]:
    saved = dict(CASES)
    CASES.clear()
    CASES[name] = saved[name]
    try:
        return await run_cases(make_plane, answer)
    finally:
        CASES.clear()
        CASES.update(saved)
