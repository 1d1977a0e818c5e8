"""TopicList: `{"brokerAddr":"..","topicList":[..]}` (protocol.body.TopicList); brokerAddr is left out when null.

The reply of 206, 224, 304 and 311-313. topicList is a HashSet in Java and is written in HashSet order; the order of
colliding names within a bucket is approximated by sorting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from rocketpy.common import fastjson
from rocketpy.common.records import FieldwiseEqRepr
from rocketpy.protocol.bodies._fields import as_str, get_list, get_str, parse_object


@dataclass(slots=True, eq=False, repr=False)
class TopicList(FieldwiseEqRepr):
    topic_list: set[str] = field(default_factory=set)
    broker_addr: str | None = None

    def to_obj(self) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        if self.broker_addr is not None:
            obj["brokerAddr"] = self.broker_addr
        obj["topicList"] = fastjson.java_hash_order(sorted(self.topic_list))  # a HashSet in Java
        return obj

    def to_json(self) -> bytes:
        return fastjson.dumps(self.to_obj())

    @classmethod
    def from_obj(cls, obj: Mapping[Any, Any]) -> Self:
        return cls({as_str(t, "topicList") for t in get_list(obj, "topicList")}, get_str(obj, "brokerAddr"))

    @classmethod
    def from_json(cls, data: bytes | str | None) -> Self:
        return cls.from_obj(parse_object(data, "TopicList"))
