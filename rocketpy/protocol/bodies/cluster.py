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
from rocketpy.common.fastjson import java_hash_order
from rocketpy.common.records import FieldwiseEqRepr
from rocketpy.protocol.bodies._fields import BodyError, as_str, get_map, parse_object, str_key
from rocketpy.protocol.bodies.route import BrokerData


@dataclass(slots=True, eq=False, repr=False)
class ClusterInfo(FieldwiseEqRepr):
    broker_addr_table: dict[str, BrokerData] = field(default_factory=dict)
    cluster_addr_table: dict[str, set[str]] = field(default_factory=dict)

    def to_obj(self) -> dict[str, Any]:
        """Maps in the order of RouteInfoManager's tables: brokerAddrTable is a HashMap(128), clusterAddrTable a
        HashMap(32) filled by computeIfAbsent, each cluster's names a HashSet."""
        brokers, clusters = self.broker_addr_table, self.cluster_addr_table
        return {
            "brokerAddrTable": {n: brokers[n].to_obj() for n in java_hash_order(brokers, 128)},
            "clusterAddrTable": {
                c: java_hash_order(sorted(clusters[c])) for c in java_hash_order(clusters, 32, newest_first=True)
            },
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
