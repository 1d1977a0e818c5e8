"""DataVersion: the (timestamp, counter) pair a broker bumps whenever its topic configs change.

Mirrors org.apache.rocketmq.common.DataVersion. fastjson writes the AtomicLong counter as a plain number and sorts the
properties: `{"counter":3,"timestamp":1700000000000}`. Equality compares both fields (DataVersion.equals), which is
how the NameServer decides whether a registration carries new topic configs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from rocketpy.common import fastjson
from rocketpy.common.records import FieldwiseEqRepr
from rocketpy.protocol.bodies._fields import get_int, parse_object


@dataclass(slots=True, eq=False, repr=False)
class DataVersion(FieldwiseEqRepr):
    timestamp: int = 0
    counter: int = 0

    def next_version(self, now_ms: int) -> None:
        """DataVersion.nextVersion: new timestamp, counter + 1."""
        self.timestamp = now_ms
        self.counter += 1

    def to_obj(self) -> dict[str, Any]:
        return {"counter": self.counter, "timestamp": self.timestamp}

    @classmethod
    def from_obj(cls, obj: Mapping[Any, Any]) -> Self:
        return cls(timestamp=get_int(obj, "timestamp", 0, bits=64), counter=get_int(obj, "counter", 0, bits=64))

    def to_json(self) -> bytes:
        return fastjson.dumps(self.to_obj())

    @classmethod
    def from_json(cls, data: bytes | str | None) -> Self:
        return cls.from_obj(parse_object(data, "DataVersion"))
