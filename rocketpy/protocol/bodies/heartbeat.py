"""HeartbeatData and its parts, SubscriptionData and CheckClientRequestBody (common.protocol.heartbeat.*).

What a client sends with HEART_BEAT (34):

    {"clientID":"10.0.0.5@12345","producerDataSet":[{"groupName":"G"}],
     "consumerDataSet":[{"groupName":"CG","consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING",
       "consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","unitMode":false,
       "subscriptionDataSet":[{"classFilterMode":false,"topic":"T","subString":"*","tagsSet":[],"codeSet":[],
                               "subVersion":1700000000000,"expressionType":"TAG"}]}]}

Enums travel by name. fastjson binds a name it does not know to null rather than failing, so an unknown name reads
as None here too. SubscriptionData.filterClassSource is @JSONField(serialize=false) and never written.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self, TypeVar

from rocketpy.common import fastjson
from rocketpy.common.records import FieldwiseEqRepr
from rocketpy.protocol.bodies._fields import (
    BodyError,
    as_int,
    as_str,
    get_bool,
    get_int,
    get_list,
    get_map,
    get_str,
    parse_object,
)

EXPRESSION_TAG = "TAG"  # filter.ExpressionType
EXPRESSION_SQL92 = "SQL92"
SUB_ALL = "*"

E = TypeVar("E", bound=enum.Enum)


class ConsumeType(enum.Enum):
    CONSUME_ACTIVELY = "CONSUME_ACTIVELY"  # pull
    CONSUME_PASSIVELY = "CONSUME_PASSIVELY"  # push


class MessageModel(enum.Enum):
    BROADCASTING = "BROADCASTING"
    CLUSTERING = "CLUSTERING"


class ConsumeFromWhere(enum.Enum):
    CONSUME_FROM_LAST_OFFSET = "CONSUME_FROM_LAST_OFFSET"
    CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST = "CONSUME_FROM_LAST_OFFSET_AND_FROM_MIN_WHEN_BOOT_FIRST"
    CONSUME_FROM_MIN_OFFSET = "CONSUME_FROM_MIN_OFFSET"
    CONSUME_FROM_MAX_OFFSET = "CONSUME_FROM_MAX_OFFSET"
    CONSUME_FROM_FIRST_OFFSET = "CONSUME_FROM_FIRST_OFFSET"
    CONSUME_FROM_TIMESTAMP = "CONSUME_FROM_TIMESTAMP"


def parse_enum(cls: type[E], value: Any) -> E | None:
    """fastjson's EnumDeserializer: by name, null for an unknown name; an ordinal number also binds."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        members = list(cls)
        return members[value] if 0 <= value < len(members) else None
    try:
        return cls[str(value)]
    except KeyError:
        return None


def is_tag_type(expression_type: str | None) -> bool:
    """ExpressionType.isTagType: null, empty or "TAG"."""
    return not expression_type or expression_type == EXPRESSION_TAG


def _obj(value: Any, what: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise BodyError(f"{what}: expected objects")
    return value


@dataclass(slots=True, eq=False, repr=False)
class SubscriptionData(FieldwiseEqRepr):
    topic: str | None = None
    sub_string: str | None = None
    tags_set: set[str] = field(default_factory=set)
    code_set: set[int] = field(default_factory=set)
    sub_version: int = 0
    expression_type: str | None = EXPRESSION_TAG
    class_filter_mode: bool = False

    def to_obj(self) -> dict[str, Any]:
        obj: dict[str, Any] = {"classFilterMode": self.class_filter_mode, "codeSet": sorted(self.code_set)}
        if self.expression_type is not None:
            obj["expressionType"] = self.expression_type
        if self.sub_string is not None:
            obj["subString"] = self.sub_string
        obj["subVersion"] = self.sub_version
        obj["tagsSet"] = sorted(self.tags_set)
        if self.topic is not None:
            obj["topic"] = self.topic
        return obj

    @classmethod
    def from_obj(cls, obj: Mapping[Any, Any]) -> Self:
        return cls(
            topic=get_str(obj, "topic"),
            sub_string=get_str(obj, "subString"),
            tags_set={as_str(t, "tagsSet") for t in get_list(obj, "tagsSet")},
            code_set={as_int(c, "codeSet") for c in get_list(obj, "codeSet")},
            sub_version=get_int(obj, "subVersion", 0, bits=64),
            expression_type=get_str(obj, "expressionType", EXPRESSION_TAG),
            class_filter_mode=get_bool(obj, "classFilterMode", False),
        )


@dataclass(slots=True, eq=False, repr=False)
class ConsumerData(FieldwiseEqRepr):
    group_name: str | None = None
    consume_type: ConsumeType | None = None
    message_model: MessageModel | None = None
    consume_from_where: ConsumeFromWhere | None = None
    subscription_data_set: list[SubscriptionData] = field(default_factory=list)
    unit_mode: bool = False

    @classmethod
    def from_obj(cls, obj: Mapping[Any, Any]) -> Self:
        subs = [SubscriptionData.from_obj(_obj(s, "subscriptionDataSet")) for s in get_list(obj, "subscriptionDataSet")]
        return cls(
            group_name=get_str(obj, "groupName"),
            consume_type=parse_enum(ConsumeType, obj.get("consumeType")),
            message_model=parse_enum(MessageModel, obj.get("messageModel")),
            consume_from_where=parse_enum(ConsumeFromWhere, obj.get("consumeFromWhere")),
            subscription_data_set=subs,
            unit_mode=get_bool(obj, "unitMode", False),
        )

    def to_obj(self) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        if self.consume_from_where is not None:
            obj["consumeFromWhere"] = self.consume_from_where
        if self.consume_type is not None:
            obj["consumeType"] = self.consume_type
        if self.group_name is not None:
            obj["groupName"] = self.group_name
        if self.message_model is not None:
            obj["messageModel"] = self.message_model
        obj["subscriptionDataSet"] = [s.to_obj() for s in self.subscription_data_set]
        obj["unitMode"] = self.unit_mode
        return obj


@dataclass(slots=True, eq=False, repr=False)
class HeartbeatData(FieldwiseEqRepr):
    client_id: str | None = None
    producer_groups: list[str] = field(default_factory=list)
    consumer_data_set: list[ConsumerData] = field(default_factory=list)

    @classmethod
    def from_obj(cls, obj: Mapping[Any, Any]) -> Self:
        producers = []
        for p in get_list(obj, "producerDataSet"):
            name = get_str(_obj(p, "producerDataSet"), "groupName")
            if name is not None:
                producers.append(name)
        consumers = [ConsumerData.from_obj(_obj(c, "consumerDataSet")) for c in get_list(obj, "consumerDataSet")]
        return cls(get_str(obj, "clientID"), producers, consumers)

    @classmethod
    def from_json(cls, data: bytes | bytearray | memoryview | str | None) -> Self:
        return cls.from_obj(parse_object(data, "HeartbeatData"))

    def to_obj(self) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        if self.client_id is not None:
            obj["clientID"] = self.client_id
        obj["consumerDataSet"] = [c.to_obj() for c in self.consumer_data_set]
        obj["producerDataSet"] = [{"groupName": g} for g in self.producer_groups]
        return obj

    def to_json(self) -> bytes:
        return fastjson.dumps(self.to_obj())


@dataclass(slots=True, eq=False, repr=False)
class CheckClientRequestBody(FieldwiseEqRepr):
    client_id: str | None = None
    group: str | None = None
    subscription_data: SubscriptionData | None = None

    @classmethod
    def from_json(cls, data: bytes | bytearray | memoryview | str | None) -> Self:
        obj = parse_object(data, "CheckClientRequestBody")
        sub = obj.get("subscriptionData")
        return cls(
            client_id=get_str(obj, "clientId"),
            group=get_str(obj, "group"),
            subscription_data=None if sub is None else SubscriptionData.from_obj(get_map(obj, "subscriptionData")),
        )

    def to_json(self) -> bytes:
        obj: dict[str, Any] = {}
        if self.client_id is not None:
            obj["clientId"] = self.client_id
        if self.group is not None:
            obj["group"] = self.group
        if self.subscription_data is not None:
            obj["subscriptionData"] = self.subscription_data.to_obj()
        return fastjson.dumps(obj)
