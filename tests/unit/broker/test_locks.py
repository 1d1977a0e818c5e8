"""LOCK_BATCH_MQ / UNLOCK_BATCH_MQ with the 60 s lock TTL, bodies as the Java orderly consumer sends them."""

from __future__ import annotations

import orjson

from rocketpy.broker.controller import BrokerController
from rocketpy.protocol.codes import RequestCode, ResponseCode

from .conftest import Clock, call


def lock_body(client: str, *queues: int, group: str = "G", topic: str = "T") -> bytes:
    mqs = ",".join('{"brokerName":"broker-a","queueId":%d,"topic":"%s"}' % (q, topic) for q in queues)  # noqa: UP031
    return ('{"clientId":"%s","consumerGroup":"%s","mqSet":[%s]}' % (client, group, mqs)).encode()  # noqa: UP031


async def lock(controller: BrokerController, client: str, *queues: int) -> list[int]:
    reply = await call(controller, RequestCode.LOCK_BATCH_MQ, body=lock_body(client, *queues))
    assert reply.code == ResponseCode.SUCCESS
    return sorted(mq["queueId"] for mq in orjson.loads(reply.body or b"")["lockOKMQSet"])


async def test_lock_is_exclusive_until_the_ttl_passes(controller: BrokerController, clock: Clock) -> None:
    assert await lock(controller, "A@1", 0, 1) == [0, 1]
    assert await lock(controller, "B@1", 1, 2) == [2]
    clock.now += 59_000
    assert await lock(controller, "A@1", 0) == [0]  # renews queue 0 only
    clock.now += 2_000  # queue 1: 61 s since A last renewed it
    assert await lock(controller, "B@1", 0, 1) == [1]
    assert await lock(controller, "A@1", 0, 1) == [0]


async def test_unlock_only_releases_own_locks(controller: BrokerController) -> None:
    assert await lock(controller, "A@1", 0, 1) == [0, 1]
    reply = await call(controller, RequestCode.UNLOCK_BATCH_MQ, body=lock_body("B@1", 0, 1))
    assert reply.code == ResponseCode.SUCCESS
    assert await lock(controller, "B@1", 0, 1) == []
    await call(controller, RequestCode.UNLOCK_BATCH_MQ, body=lock_body("A@1", 1))
    assert await lock(controller, "B@1", 0, 1) == [1]


async def test_lock_response_shape(controller: BrokerController) -> None:
    reply = await call(controller, RequestCode.LOCK_BATCH_MQ, body=lock_body("A@1", 3))
    assert reply.body == b'{"lockOKMQSet":[{"brokerName":"broker-a","queueId":3,"topic":"T"}]}'
    bad = await call(controller, RequestCode.LOCK_BATCH_MQ, body=b'{"mqSet":[1]}')
    assert bad.code == ResponseCode.SYSTEM_ERROR
