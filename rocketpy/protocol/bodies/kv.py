"""KVTable: `{"table":{key:value}}` (protocol.body.KVTable), the body of GET_KVLIST_BY_NAMESPACE and of the
REGISTER_BROKER reply (namespace ORDER_TOPIC_CONFIG)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from rocketpy.common import fastjson
from rocketpy.common.records import FieldwiseEqRepr
from rocketpy.protocol.bodies._fields import as_str, get_map, parse_object, str_key


@dataclass(slots=True, eq=False, repr=False)
class KVTable(FieldwiseEqRepr):
    table: dict[str, str] = field(default_factory=dict)

    def to_obj(self) -> dict[str, Any]:
        return {"table": {k: self.table[k] for k in fastjson.java_hash_order(self.table)}}  # a HashMap in Java

    @classmethod
    def from_obj(cls, obj: Mapping[Any, Any]) -> Self:
        return cls({str_key(k, "table"): as_str(v, "table") for k, v in get_map(obj, "table").items() if v is not None})

    def to_json(self) -> bytes:
        return fastjson.dumps(self.to_obj())

    @classmethod
    def from_json(cls, data: bytes | str | None) -> Self:
        return cls.from_obj(parse_object(data, "KVTable"))
