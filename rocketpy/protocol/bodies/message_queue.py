"""MessageQueue: `{"brokerName":"b","queueId":0,"topic":"T"}` (common.message.MessageQueue).

Frozen so that it keys dicts and sets, as Java's equals/hashCode over (topic, brokerName, queueId) allow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from rocketpy.protocol.bodies._fields import BodyError, get_int, get_str


@dataclass(frozen=True, slots=True)
class MessageQueue:
    topic: str | None = None
    broker_name: str | None = None
    queue_id: int = 0

    def to_obj(self) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        if self.broker_name is not None:
            obj["brokerName"] = self.broker_name
        obj["queueId"] = self.queue_id
        if self.topic is not None:
            obj["topic"] = self.topic
        return obj

    @classmethod
    def from_obj(cls, obj: Any) -> Self:
        if not isinstance(obj, Mapping):
            raise BodyError("MessageQueue: expected an object")
        return cls(
            topic=get_str(obj, "topic"), broker_name=get_str(obj, "brokerName"), queue_id=get_int(obj, "queueId", 0)
        )

    def sort_key(self) -> tuple[str, str, int]:
        """MessageQueue.compareTo: topic, then brokerName, then queueId."""
        return (self.topic or "", self.broker_name or "", self.queue_id)
