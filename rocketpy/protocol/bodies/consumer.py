"""Client-connection bodies of the broker's admin replies (common.protocol.body.*).

    Connection                       {"clientAddr","clientId","language":"JAVA","version":409}
    ConsumerConnection (203)         {"connectionSet":[..],"consumeFromWhere","consumeType","messageModel",
                                      "subscriptionTable":{topic:SubscriptionData}}
    ProducerConnection (204)         {"connectionSet":[..]}
    ProducerTableInfo (328)          {"data":{group:[{"clientId","language","lastUpdateTimestamp","remoteIP",
                                      "version"}]}}
    GroupList (300)                  {"groupList":[..]}
    GetConsumerListByGroupResponseBody (38)  {"consumerIdList":[..]}

Properties are written sorted, as fastjson's SortField does; enums and LanguageCode by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from rocketpy.common import fastjson
from rocketpy.common.records import FieldwiseEqRepr
from rocketpy.protocol.bodies._fields import (
    BodyError,
    as_str,
    get_int,
    get_list,
    get_map,
    get_str,
    parse_object,
    str_key,
)
from rocketpy.protocol.bodies.heartbeat import (
    ConsumeFromWhere,
    ConsumeType,
    MessageModel,
    SubscriptionData,
    parse_enum,
)
from rocketpy.protocol.codes import LanguageCode


def language_name(code: int) -> str:
    try:
        return LanguageCode(code).name
    except ValueError:
        return LanguageCode.OTHER.name


def _language_code(value: Any) -> int:
    if isinstance(value, str) and value in LanguageCode.__members__:
        return int(LanguageCode[value])
    return int(LanguageCode.OTHER)


@dataclass(frozen=True, slots=True)
class Connection:
    client_id: str
    client_addr: str
    language: int
    version: int

    def to_obj(self) -> dict[str, Any]:
        return {
            "clientAddr": self.client_addr,
            "clientId": self.client_id,
            "language": language_name(self.language),
            "version": self.version,
        }

    @classmethod
    def from_obj(cls, obj: Mapping[Any, Any]) -> Self:
        return cls(
            client_id=get_str(obj, "clientId") or "",
            client_addr=get_str(obj, "clientAddr") or "",
            language=_language_code(obj.get("language")),
            version=get_int(obj, "version", 0),
        )


def _connections(obj: Mapping[Any, Any]) -> list[Connection]:
    result = []
    for item in get_list(obj, "connectionSet"):
        if not isinstance(item, Mapping):
            raise BodyError("connectionSet: expected objects")
        result.append(Connection.from_obj(item))
    return result


@dataclass(slots=True, eq=False, repr=False)
class ConsumerConnection(FieldwiseEqRepr):
    connection_set: list[Connection] = field(default_factory=list)
    subscription_table: dict[str, SubscriptionData] = field(default_factory=dict)
    consume_type: ConsumeType | None = None
    message_model: MessageModel | None = None
    consume_from_where: ConsumeFromWhere | None = None

    def to_json(self) -> bytes:
        obj: dict[str, Any] = {"connectionSet": [c.to_obj() for c in self.connection_set]}
        if self.consume_from_where is not None:
            obj["consumeFromWhere"] = self.consume_from_where
        if self.consume_type is not None:
            obj["consumeType"] = self.consume_type
        if self.message_model is not None:
            obj["messageModel"] = self.message_model
        obj["subscriptionTable"] = {t: s.to_obj() for t, s in self.subscription_table.items()}
        return fastjson.dumps(obj)

    @classmethod
    def from_json(cls, data: bytes | str | None) -> Self:
        obj = parse_object(data, "ConsumerConnection")
        table = {}
        for key, value in get_map(obj, "subscriptionTable").items():
            if not isinstance(value, Mapping):
                raise BodyError("subscriptionTable: expected objects")
            table[str_key(key, "subscriptionTable")] = SubscriptionData.from_obj(value)
        return cls(
            connection_set=_connections(obj),
            subscription_table=table,
            consume_type=parse_enum(ConsumeType, obj.get("consumeType")),
            message_model=parse_enum(MessageModel, obj.get("messageModel")),
            consume_from_where=parse_enum(ConsumeFromWhere, obj.get("consumeFromWhere")),
        )


@dataclass(slots=True, eq=False, repr=False)
class ProducerConnection(FieldwiseEqRepr):
    connection_set: list[Connection] = field(default_factory=list)

    def to_json(self) -> bytes:
        return fastjson.dumps({"connectionSet": [c.to_obj() for c in self.connection_set]})

    @classmethod
    def from_json(cls, data: bytes | str | None) -> Self:
        return cls(_connections(parse_object(data, "ProducerConnection")))


@dataclass(frozen=True, slots=True)
class ProducerInfo:
    client_id: str
    remote_ip: str
    language: int
    version: int
    last_update_timestamp: int

    def to_obj(self) -> dict[str, Any]:
        return {
            "clientId": self.client_id,
            "language": language_name(self.language),
            "lastUpdateTimestamp": self.last_update_timestamp,
            "remoteIP": self.remote_ip,
            "version": self.version,
        }


@dataclass(slots=True, eq=False, repr=False)
class ProducerTableInfo(FieldwiseEqRepr):
    data: dict[str, list[ProducerInfo]] = field(default_factory=dict)

    def to_json(self) -> bytes:
        return fastjson.dumps({"data": {g: [p.to_obj() for p in infos] for g, infos in self.data.items()}})


@dataclass(slots=True, eq=False, repr=False)
class GroupList(FieldwiseEqRepr):
    group_list: set[str] = field(default_factory=set)

    def to_json(self) -> bytes:
        return fastjson.dumps({"groupList": sorted(self.group_list)})

    @classmethod
    def from_json(cls, data: bytes | str | None) -> Self:
        obj = parse_object(data, "GroupList")
        return cls({as_str(g, "groupList") for g in get_list(obj, "groupList")})


@dataclass(slots=True, eq=False, repr=False)
class ConsumerListByGroup(FieldwiseEqRepr):
    """GetConsumerListByGroupResponseBody."""

    consumer_id_list: list[str] = field(default_factory=list)

    def to_json(self) -> bytes:
        return fastjson.dumps({"consumerIdList": list(self.consumer_id_list)})

    @classmethod
    def from_json(cls, data: bytes | str | None) -> Self:
        obj = parse_object(data, "GetConsumerListByGroupResponseBody")
        return cls([as_str(c, "consumerIdList") for c in get_list(obj, "consumerIdList")])
