"""Orderly-consumer lock bodies (common.protocol.body.Lock/UnlockBatchRequestBody, LockBatchResponseBody).

request (41, 42)  {"clientId":"..","consumerGroup":"G","mqSet":[{"brokerName":"b","queueId":0,"topic":"T"}]}
response (41)     {"lockOKMQSet":[..]}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from rocketpy.common import fastjson
from rocketpy.common.records import FieldwiseEqRepr
from rocketpy.protocol.bodies._fields import get_list, get_str, parse_object
from rocketpy.protocol.bodies.message_queue import MessageQueue


def _queues(obj: Mapping[Any, Any], name: str) -> set[MessageQueue]:
    return {MessageQueue.from_obj(item) for item in get_list(obj, name)}


def _sorted(queues: set[MessageQueue]) -> list[dict[str, Any]]:
    return [mq.to_obj() for mq in sorted(queues, key=MessageQueue.sort_key)]


@dataclass(slots=True, eq=False, repr=False)
class LockBatchRequestBody(FieldwiseEqRepr):
    """Also the shape of UnlockBatchRequestBody (UNLOCK_BATCH_MQ, 42)."""

    consumer_group: str | None = None
    client_id: str | None = None
    mq_set: set[MessageQueue] = field(default_factory=set)

    def to_json(self) -> bytes:
        obj: dict[str, Any] = {}
        if self.client_id is not None:
            obj["clientId"] = self.client_id
        if self.consumer_group is not None:
            obj["consumerGroup"] = self.consumer_group
        obj["mqSet"] = _sorted(self.mq_set)
        return fastjson.dumps(obj)

    @classmethod
    def from_json(cls, data: bytes | bytearray | memoryview | str | None) -> Self:
        obj = parse_object(data, "LockBatchRequestBody")
        return cls(get_str(obj, "consumerGroup"), get_str(obj, "clientId"), _queues(obj, "mqSet"))


UnlockBatchRequestBody = LockBatchRequestBody


@dataclass(slots=True, eq=False, repr=False)
class LockBatchResponseBody(FieldwiseEqRepr):
    lock_ok_mq_set: set[MessageQueue] = field(default_factory=set)

    def to_json(self) -> bytes:
        return fastjson.dumps({"lockOKMQSet": _sorted(self.lock_ok_mq_set)})

    @classmethod
    def from_json(cls, data: bytes | bytearray | memoryview | str | None) -> Self:
        return cls(_queues(parse_object(data, "LockBatchResponseBody"), "lockOKMQSet"))
