"""ClusterInfo: the GET_BROKER_CLUSTER_INFO reply (protocol.body.ClusterInfo).

`{"brokerAddrTable":{brokerName:BrokerData},"clusterAddrTable":{cluster:[brokerName,..]}}`. Java always encodes it
with plain fastjson, so brokerAddrs keys are *unquoted* (`{0:"ip:port"}`) whatever the client version; mqadmin and
the dashboard parse that with fastjson.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from rocketpy.common import fastjson
from rocketpy.protocol.bodies._fields import BodyError, as_str, get_map, parse_object, str_key
from rocketpy.protocol.bodies.route import BrokerData


@dataclass(slots=True)
class ClusterInfo:
    broker_addr_table: dict[str, BrokerData] = field(default_factory=dict)
    cluster_addr_table: dict[str, set[str]] = field(default_factory=dict)

    def to_obj(self) -> dict[str, Any]:
        return {
            "brokerAddrTable": {name: bd.to_obj() for name, bd in self.broker_addr_table.items()},
            "clusterAddrTable": {name: sorted(names) for name, names in self.cluster_addr_table.items()},
        }

    def to_json(self) -> bytes:
        return fastjson.dumps(self.to_obj())

    @classmethod
    def from_obj(cls, obj: Mapping[Any, Any]) -> Self:
        brokers: dict[str, BrokerData] = {}
        for key, value in get_map(obj, "brokerAddrTable").items():
            if not isinstance(value, Mapping):
                raise BodyError("brokerAddrTable: expected objects")
            brokers[str_key(key, "brokerAddrTable")] = BrokerData.from_obj(value)
        clusters: dict[str, set[str]] = {}
        for key, value in get_map(obj, "clusterAddrTable").items():
            if not isinstance(value, list | tuple):
                raise BodyError("clusterAddrTable: expected arrays")
            clusters[str_key(key, "clusterAddrTable")] = {as_str(v, "clusterAddrTable") for v in value}
        return cls(brokers, clusters)

    @classmethod
    def from_json(cls, data: bytes | str | None) -> Self:
        return cls.from_obj(parse_object(data, "ClusterInfo"))

    def all_addrs_of_cluster(self, cluster: str) -> list[str]:
        """ClusterInfo.retrieveAllAddrByCluster."""
        addrs: list[str] = []
        for name in sorted(self.cluster_addr_table.get(cluster, ())):
            data = self.broker_addr_table.get(name)
            if data is not None:
                addrs.extend(data.broker_addrs.values())
        return addrs
