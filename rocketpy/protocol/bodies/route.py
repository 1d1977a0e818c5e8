"""TopicRouteData, QueueData and BrokerData: the GET_ROUTEINFO_BY_TOPIC reply.

Mirrors protocol.route.{TopicRouteData,QueueData,BrokerData}. Properties are written sorted (fastjson SortField):

    {"brokerDatas":[{"brokerAddrs":{0:"10.0.0.1:10911"},"brokerName":"b","cluster":"C"}],
     "filterServerTable":{},"orderTopicConf":"b:4","queueDatas":[{"brokerName":"b","perm":6,
     "readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4}]}

brokerAddrs is a HashMap<Long,String>, so plain fastjson writes its keys unquoted, in HashMap order.
`to_json(standard_json=True)` is the encoding DefaultRequestProcessor uses for clients of version >= V4_9_4 or with
acceptStandardJsonOnly: BrowserCompatible + MapSortField, which quotes the keys. orderTopicConf is left out when
null.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from rocketpy.common import fastjson
from rocketpy.common.records import FieldwiseEqRepr
from rocketpy.protocol.bodies._fields import (
    BodyError,
    as_int,
    as_str,
    get_int,
    get_list,
    get_map,
    get_str,
    parse_object,
    str_key,
)

MASTER_ID = 0  # MixAll.MASTER_ID


@dataclass(slots=True, eq=False, repr=False)
class QueueData(FieldwiseEqRepr):
    broker_name: str | None = None
    read_queue_nums: int = 0
    write_queue_nums: int = 0
    perm: int = 0
    topic_sys_flag: int = 0

    def to_obj(self) -> dict[str, Any]:
        obj: dict[str, Any] = {}
        if self.broker_name is not None:
            obj["brokerName"] = self.broker_name
        obj.update(
            perm=self.perm,
            readQueueNums=self.read_queue_nums,
            topicSysFlag=self.topic_sys_flag,
            writeQueueNums=self.write_queue_nums,
        )
        return obj

    @classmethod
    def from_obj(cls, obj: Mapping[Any, Any]) -> Self:
        return cls(
            broker_name=get_str(obj, "brokerName"),
            read_queue_nums=get_int(obj, "readQueueNums", 0),
            write_queue_nums=get_int(obj, "writeQueueNums", 0),
            perm=get_int(obj, "perm", 0),
            topic_sys_flag=get_int(obj, "topicSysFlag", 0),
        )


@dataclass(slots=True, eq=False, repr=False)
class BrokerData(FieldwiseEqRepr):
    cluster: str | None = None
    broker_name: str | None = None
    broker_addrs: dict[int, str] = field(default_factory=dict)

    def to_obj(self) -> dict[str, Any]:
        addrs = self.broker_addrs
        obj: dict[str, Any] = {"brokerAddrs": {i: addrs[i] for i in fastjson.java_hash_order(addrs)}}
        if self.broker_name is not None:
            obj["brokerName"] = self.broker_name
        if self.cluster is not None:
            obj["cluster"] = self.cluster
        return obj

    @classmethod
    def from_obj(cls, obj: Mapping[Any, Any]) -> Self:
        addrs: dict[int, str] = {}
        for key, value in get_map(obj, "brokerAddrs").items():
            if value is not None:  # quoted ("0") or unquoted (0) keys
                addrs[as_int(key, "brokerAddrs key", bits=64)] = as_str(value, "brokerAddrs")
        return cls(cluster=get_str(obj, "cluster"), broker_name=get_str(obj, "brokerName"), broker_addrs=addrs)

    def select_broker_addr(self) -> str | None:
        """The master's address, else any slave's (BrokerData.selectBrokerAddr picks a random one)."""
        master = self.broker_addrs.get(MASTER_ID)
        if master is not None:
            return master
        return next(iter(self.broker_addrs.values()), None)


@dataclass(slots=True, eq=False, repr=False)
class TopicRouteData(FieldwiseEqRepr):
    queue_datas: list[QueueData] = field(default_factory=list)
    broker_datas: list[BrokerData] = field(default_factory=list)
    filter_server_table: dict[str, list[str]] = field(default_factory=dict)
    order_topic_conf: str | None = None

    def to_obj(self) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "brokerDatas": [b.to_obj() for b in self.broker_datas],
            "filterServerTable": {k: list(v) for k, v in self.filter_server_table.items()},
        }
        if self.order_topic_conf is not None:
            obj["orderTopicConf"] = self.order_topic_conf
        obj["queueDatas"] = [q.to_obj() for q in self.queue_datas]
        return obj

    def to_json(self, standard_json: bool = False) -> bytes:
        if standard_json:
            return fastjson.dumps(self.to_obj(), browser_compatible=True, sort_map_keys=True)
        return fastjson.dumps(self.to_obj())

    @classmethod
    def from_obj(cls, obj: Mapping[Any, Any]) -> Self:
        servers: dict[str, list[str]] = {}
        for key, value in get_map(obj, "filterServerTable").items():
            if not isinstance(value, list | tuple):
                raise BodyError("filterServerTable: expected arrays")
            servers[str_key(key, "filterServerTable")] = [as_str(s, "filterServerTable") for s in value]
        return cls(
            queue_datas=[QueueData.from_obj(_obj(q, "queueDatas")) for q in get_list(obj, "queueDatas")],
            broker_datas=[BrokerData.from_obj(_obj(b, "brokerDatas")) for b in get_list(obj, "brokerDatas")],
            filter_server_table=servers,
            order_topic_conf=get_str(obj, "orderTopicConf"),
        )

    @classmethod
    def from_json(cls, data: bytes | str | None) -> Self:
        return cls.from_obj(parse_object(data, "TopicRouteData"))


def _obj(value: Any, what: str) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        raise BodyError(f"{what}: expected objects")
    return value
