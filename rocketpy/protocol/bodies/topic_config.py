"""TopicConfig and TopicConfigSerializeWrapper: a broker's topics as it reports them to the NameServer.

Mirrors org.apache.rocketmq.common.TopicConfig (bean properties from getters, so `isOrder()` is "order"; fastjson
sorts them) and protocol.body.TopicConfigSerializeWrapper (`{"dataVersion":..,"topicConfigTable":{name:config}}`).
`encode_line`/`decode_line` are TopicConfig.encode/decode, the space-separated form used inside the compressed
RegisterBrokerBody; that form carries no topicSysFlag and no order flag.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from rocketpy.common import fastjson
from rocketpy.common.records import FieldwiseEqRepr
from rocketpy.protocol.bodies._fields import (
    BodyError,
    as_int,
    get_bool,
    get_int,
    get_map,
    get_str,
    parse_object,
    str_key,
)
from rocketpy.protocol.bodies.data_version import DataVersion

PERM_PRIORITY = 8
PERM_READ = 4
PERM_WRITE = 2
PERM_INHERIT = 1
DEFAULT_QUEUE_NUMS = 16  # TopicConfig.defaultReadQueueNums / defaultWriteQueueNums


class TopicFilterType(enum.Enum):
    SINGLE_TAG = "SINGLE_TAG"
    MULTI_TAG = "MULTI_TAG"

    @classmethod
    def parse(cls, name: Any) -> TopicFilterType:
        try:
            return cls[str(name)]
        except KeyError:
            raise BodyError(f"No enum constant TopicFilterType.{name}") from None


@dataclass(slots=True, eq=False, repr=False)
class TopicConfig(FieldwiseEqRepr):
    topic_name: str | None = None
    read_queue_nums: int = DEFAULT_QUEUE_NUMS
    write_queue_nums: int = DEFAULT_QUEUE_NUMS
    perm: int = PERM_READ | PERM_WRITE
    topic_filter_type: TopicFilterType = TopicFilterType.SINGLE_TAG
    topic_sys_flag: int = 0
    order: bool = False

    def to_obj(self) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "order": self.order,
            "perm": self.perm,
            "readQueueNums": self.read_queue_nums,
            "topicFilterType": self.topic_filter_type,
        }
        if self.topic_name is not None:
            obj["topicName"] = self.topic_name
        obj["topicSysFlag"] = self.topic_sys_flag
        obj["writeQueueNums"] = self.write_queue_nums
        return obj

    @classmethod
    def from_obj(cls, obj: Mapping[Any, Any]) -> Self:
        filter_type = obj.get("topicFilterType")
        return cls(
            topic_name=get_str(obj, "topicName"),
            read_queue_nums=get_int(obj, "readQueueNums", DEFAULT_QUEUE_NUMS),
            write_queue_nums=get_int(obj, "writeQueueNums", DEFAULT_QUEUE_NUMS),
            perm=get_int(obj, "perm", PERM_READ | PERM_WRITE),
            topic_filter_type=TopicFilterType.SINGLE_TAG if filter_type is None else TopicFilterType.parse(filter_type),
            topic_sys_flag=get_int(obj, "topicSysFlag", 0),
            order=get_bool(obj, "order", False),
        )

    def encode_line(self) -> str:
        """TopicConfig.encode: `name readQ writeQ perm filterType`."""
        return (
            f"{self.topic_name} {self.read_queue_nums} {self.write_queue_nums} {self.perm} "
            f"{self.topic_filter_type.name}"
        )

    @classmethod
    def decode_line(cls, line: str) -> Self:
        """TopicConfig.decode; Java's split(" ") drops trailing empty parts, then needs exactly five."""
        parts = line.split(" ")
        while parts and parts[-1] == "":
            parts.pop()
        if len(parts) != 5:
            raise BodyError(f"bad topic config entry {line!r}")
        return cls(
            topic_name=parts[0],
            read_queue_nums=as_int(parts[1], "readQueueNums"),
            write_queue_nums=as_int(parts[2], "writeQueueNums"),
            perm=as_int(parts[3], "perm"),
            topic_filter_type=TopicFilterType.parse(parts[4]),
        )


@dataclass(slots=True, eq=False, repr=False)
class TopicConfigSerializeWrapper(FieldwiseEqRepr):
    topic_config_table: dict[str, TopicConfig] = field(default_factory=dict)
    data_version: DataVersion = field(default_factory=DataVersion)

    def to_obj(self) -> dict[str, Any]:
        return {
            "dataVersion": self.data_version.to_obj(),
            "topicConfigTable": {name: tc.to_obj() for name, tc in self.topic_config_table.items()},
        }

    @classmethod
    def from_obj(cls, obj: Mapping[Any, Any]) -> Self:
        table: dict[str, TopicConfig] = {}
        for key, value in get_map(obj, "topicConfigTable").items():
            if not isinstance(value, Mapping):
                raise BodyError("topicConfigTable: expected objects")
            table[str_key(key, "topicConfigTable")] = TopicConfig.from_obj(value)
        version = get_map(obj, "dataVersion")
        return cls(table, DataVersion.from_obj(version) if "dataVersion" in obj else DataVersion())

    def to_json(self) -> bytes:
        return fastjson.dumps(self.to_obj())

    @classmethod
    def from_json(cls, data: bytes | str | None) -> Self:
        return cls.from_obj(parse_object(data, "TopicConfigSerializeWrapper"))
