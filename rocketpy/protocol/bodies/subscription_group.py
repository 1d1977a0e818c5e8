"""SubscriptionGroupConfig and the subscriptionGroup.json / GET_ALL_SUBSCRIPTIONGROUP_CONFIG (201) wrapper.

Mirrors common.subscription.SubscriptionGroupConfig (fastjson, properties sorted):

    {"brokerId":0,"consumeBroadcastEnable":true,"consumeEnable":true,"consumeFromMinEnable":true,"groupName":"G",
     "notifyConsumerIdsChangedEnable":true,"retryMaxTimes":16,"retryQueueNums":1,"whichBrokerWhenConsumeSlowly":1}

and the serialised SubscriptionGroupManager (also the body of 201, SubscriptionGroupWrapper's shape):

    {"dataVersion":{"counter":1,"timestamp":..},"subscriptionGroupTable":{"G":{..}}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from rocketpy.common import fastjson
from rocketpy.common.records import FieldwiseEqRepr
from rocketpy.protocol.bodies._fields import BodyError, get_bool, get_int, get_map, get_str, parse_object, str_key
from rocketpy.protocol.bodies.data_version import DataVersion


@dataclass(slots=True, eq=False, repr=False)
class SubscriptionGroupConfig(FieldwiseEqRepr):
    group_name: str | None = None
    consume_enable: bool = True
    consume_from_min_enable: bool = True
    consume_broadcast_enable: bool = True
    retry_queue_nums: int = 1
    retry_max_times: int = 16
    broker_id: int = 0
    which_broker_when_consume_slowly: int = 1
    notify_consumer_ids_changed_enable: bool = True

    def to_obj(self) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "brokerId": self.broker_id,
            "consumeBroadcastEnable": self.consume_broadcast_enable,
            "consumeEnable": self.consume_enable,
            "consumeFromMinEnable": self.consume_from_min_enable,
        }
        if self.group_name is not None:
            obj["groupName"] = self.group_name
        obj.update(
            notifyConsumerIdsChangedEnable=self.notify_consumer_ids_changed_enable,
            retryMaxTimes=self.retry_max_times,
            retryQueueNums=self.retry_queue_nums,
            whichBrokerWhenConsumeSlowly=self.which_broker_when_consume_slowly,
        )
        return obj

    @classmethod
    def from_obj(cls, obj: Mapping[Any, Any]) -> Self:
        return cls(
            group_name=get_str(obj, "groupName"),
            consume_enable=get_bool(obj, "consumeEnable", True),
            consume_from_min_enable=get_bool(obj, "consumeFromMinEnable", True),
            consume_broadcast_enable=get_bool(obj, "consumeBroadcastEnable", True),
            retry_queue_nums=get_int(obj, "retryQueueNums", 1),
            retry_max_times=get_int(obj, "retryMaxTimes", 16),
            broker_id=get_int(obj, "brokerId", 0, bits=64),
            which_broker_when_consume_slowly=get_int(obj, "whichBrokerWhenConsumeSlowly", 1, bits=64),
            notify_consumer_ids_changed_enable=get_bool(obj, "notifyConsumerIdsChangedEnable", True),
        )

    def to_json(self) -> bytes:
        return fastjson.dumps(self.to_obj())

    @classmethod
    def from_json(cls, data: bytes | bytearray | memoryview | str | None) -> Self:
        return cls.from_obj(parse_object(data, "SubscriptionGroupConfig"))


@dataclass(slots=True, eq=False, repr=False)
class SubscriptionGroupWrapper(FieldwiseEqRepr):
    subscription_group_table: dict[str, SubscriptionGroupConfig] = field(default_factory=dict)
    data_version: DataVersion = field(default_factory=DataVersion)

    def to_obj(self) -> dict[str, Any]:
        return {
            "dataVersion": self.data_version.to_obj(),
            "subscriptionGroupTable": {k: v.to_obj() for k, v in self.subscription_group_table.items()},
        }

    def to_json(self) -> bytes:
        return fastjson.dumps(self.to_obj())

    @classmethod
    def from_json(cls, data: bytes | bytearray | memoryview | str | None) -> Self:
        obj = parse_object(data, "SubscriptionGroupWrapper")
        table: dict[str, SubscriptionGroupConfig] = {}
        for key, value in get_map(obj, "subscriptionGroupTable").items():
            if not isinstance(value, Mapping):
                raise BodyError("subscriptionGroupTable: expected objects")
            table[str_key(key, "subscriptionGroupTable")] = SubscriptionGroupConfig.from_obj(value)
        version = DataVersion.from_obj(get_map(obj, "dataVersion"))
        return cls(table, version)
