"""The NameServer's routing state, mirroring namesrv.routeinfo.RouteInfoManager of RocketMQ 4.9.8.

Pure state: no sockets, no trio. Time is passed in (`now`, seconds from the controller's clock) and a broker's
connection is an opaque `channel` object compared by identity, so tests drive expiry with any clock and any object.

Tables, as in Java:
    topic_queue_table   topic -> {brokerName: QueueData}
    broker_addr_table   brokerName -> BrokerData (cluster, name, {brokerId: addr})
    cluster_addr_table  cluster -> {brokerName}
    broker_live_table   brokerAddr -> BrokerLiveInfo (last registration, DataVersion, channel, haServerAddr)
    filter_server_table brokerAddr -> [filter server addr]

Rules kept from Java: queue data is refreshed only from the master (brokerId 0) and only when its DataVersion
changed or this is its first registration; the same address under a new id replaces the old id (slave promoted to
master); a broker expires 120 s after its last registration, or at once when its connection closes
(BrokerHousekeepingService -> onChannelDestroy).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rocketpy.common.fastjson import java_hash_order
from rocketpy.protocol.bodies import (
    BrokerData,
    ClusterInfo,
    DataVersion,
    QueueData,
    RegisterBrokerResult,
    TopicConfig,
    TopicConfigSerializeWrapper,
    TopicList,
    TopicRouteData,
)
from rocketpy.protocol.bodies.topic_config import PERM_READ, PERM_WRITE

log = logging.getLogger("RocketmqNamesrv")

BROKER_CHANNEL_EXPIRED_TIME = 120.0  # RouteInfoManager.BROKER_CHANNEL_EXPIRED_TIME, in seconds
MASTER_ID = 0
FLAG_UNIT = 0x1  # TopicSysFlag
FLAG_UNIT_SUB = 0x2


@dataclass(slots=True)
class BrokerLiveInfo:
    last_update_timestamp: float
    data_version: DataVersion
    channel: Any
    ha_server_addr: str | None


@dataclass(slots=True)
class RouteInfo:
    topic_queue_table: dict[str, dict[str, QueueData]] = field(default_factory=dict)
    broker_addr_table: dict[str, BrokerData] = field(default_factory=dict)
    cluster_addr_table: dict[str, set[str]] = field(default_factory=dict)
    broker_live_table: dict[str, BrokerLiveInfo] = field(default_factory=dict)
    filter_server_table: dict[str, list[str]] = field(default_factory=dict)
    # Bumped by every method that may change a route: the processor keeps encoded route answers per generation.
    generation: int = 0

    # -- registration ---------------------------------------------------------------------------------------------

    def register_broker(
        self,
        cluster_name: str,
        broker_addr: str,
        broker_name: str,
        broker_id: int,
        ha_server_addr: str | None,
        topic_config_wrapper: TopicConfigSerializeWrapper,
        filter_server_list: list[str] | None,
        channel: Any,
        now: float,
    ) -> RegisterBrokerResult:
        """RouteInfoManager.registerBroker."""
        self.generation += 1
        self.cluster_addr_table.setdefault(cluster_name, set()).add(broker_name)
        broker_data = self.broker_addr_table.get(broker_name)
        register_first = broker_data is None
        if broker_data is None:
            broker_data = BrokerData(cluster_name, broker_name, {})
            self.broker_addr_table[broker_name] = broker_data
        addrs = broker_data.broker_addrs
        # Slave promoted to master: drop the old <id, addr> so one address has one entry.
        for stale_id in [bid for bid, addr in addrs.items() if addr == broker_addr and bid != broker_id]:
            del addrs[stale_id]
        old_addr = addrs.get(broker_id)
        addrs[broker_id] = broker_addr
        register_first = register_first or old_addr is None

        if broker_id == MASTER_ID and (
            register_first or self.is_broker_topic_config_changed(broker_addr, topic_config_wrapper.data_version)
        ):
            for topic_config in topic_config_wrapper.topic_config_table.values():
                self._create_and_update_queue_data(broker_name, topic_config)

        previous = self.broker_live_table.get(broker_addr)
        self.broker_live_table[broker_addr] = BrokerLiveInfo(
            now, topic_config_wrapper.data_version, channel, ha_server_addr
        )
        if previous is None:
            log.info("new broker registered, %s HAServer: %s", broker_addr, ha_server_addr)

        if filter_server_list is not None:
            if filter_server_list:
                self.filter_server_table[broker_addr] = list(filter_server_list)
            else:
                self.filter_server_table.pop(broker_addr, None)

        result = RegisterBrokerResult()
        if broker_id != MASTER_ID:
            master_addr = addrs.get(MASTER_ID)
            master_live = self.broker_live_table.get(master_addr) if master_addr is not None else None
            if master_live is not None:
                result.ha_server_addr = master_live.ha_server_addr
                result.master_addr = master_addr
        return result

    def _create_and_update_queue_data(self, broker_name: str, topic_config: TopicConfig) -> None:
        queue_data = QueueData(
            broker_name=broker_name,
            read_queue_nums=topic_config.read_queue_nums,
            write_queue_nums=topic_config.write_queue_nums,
            perm=topic_config.perm,
            topic_sys_flag=topic_config.topic_sys_flag,
        )
        topic = topic_config.topic_name or ""
        queue_map = self.topic_queue_table.setdefault(topic, {})
        old = queue_map.get(broker_name)
        queue_map[broker_name] = queue_data
        if old is None:
            log.info("new topic registered, %s %s", topic, queue_data)
        elif old != queue_data:
            log.info("topic changed, %s OLD: %s NEW: %s", topic, old, queue_data)

    def is_broker_topic_config_changed(self, broker_addr: str | None, data_version: DataVersion) -> bool:
        previous = self.query_broker_topic_config(broker_addr)
        return previous is None or previous != data_version

    def query_broker_topic_config(self, broker_addr: str | None) -> DataVersion | None:
        live = self.broker_live_table.get(broker_addr) if broker_addr is not None else None
        return live.data_version if live is not None else None

    def update_broker_info_update_timestamp(self, broker_addr: str | None, now: float) -> None:
        live = self.broker_live_table.get(broker_addr) if broker_addr is not None else None
        if live is not None:
            live.last_update_timestamp = now

    # -- removal --------------------------------------------------------------------------------------------------

    def unregister_broker(
        self, cluster_name: str | None, broker_addr: str | None, broker_name: str | None, broker_id: int
    ) -> None:
        """RouteInfoManager.unregisterBroker; null names (a sloppy request) match nothing, as in Java."""
        self.generation += 1
        if broker_addr is not None:
            self.broker_live_table.pop(broker_addr, None)
            self.filter_server_table.pop(broker_addr, None)
        if broker_name is None:
            return
        broker_data = self.broker_addr_table.get(broker_name)
        if broker_data is None:
            return
        broker_data.broker_addrs.pop(broker_id, None)
        if broker_data.broker_addrs:
            return
        del self.broker_addr_table[broker_name]
        names = self.cluster_addr_table.get(cluster_name) if cluster_name is not None else None
        if cluster_name is not None and names is not None:
            names.discard(broker_name)
            if not names:
                del self.cluster_addr_table[cluster_name]
        self._remove_topics_of_broker(broker_name)

    def _remove_topics_of_broker(self, broker_name: str) -> None:
        for topic in list(self.topic_queue_table):
            queue_map = self.topic_queue_table[topic]
            queue_map.pop(broker_name, None)
            if not queue_map:
                del self.topic_queue_table[topic]

    def scan_not_active_broker(self, now: float) -> list[Any]:
        """RouteInfoManager.scanNotActiveBroker: drop brokers silent for 120 s; return their channels to close."""
        expired = [
            (addr, live)
            for addr, live in self.broker_live_table.items()
            if live.last_update_timestamp + BROKER_CHANNEL_EXPIRED_TIME < now
        ]
        channels = []
        for addr, live in expired:
            log.warning("The broker channel expired, %s %.0fms", addr, BROKER_CHANNEL_EXPIRED_TIME * 1000)
            del self.broker_live_table[addr]
            self.on_channel_destroy(addr, live.channel)
            channels.append(live.channel)
        return channels

    def on_channel_destroy(self, remote_addr: str, channel: Any) -> None:
        """RouteInfoManager.onChannelDestroy: find the broker by its channel, else by the remote address."""
        self.generation += 1
        broker_addr = remote_addr
        if channel is not None:
            for addr, live in self.broker_live_table.items():
                if live.channel is channel:
                    broker_addr = addr
                    log.info("the broker's channel destroyed, %s, clean it's data structure at once", addr)
                    break
        if not broker_addr:
            return
        self.broker_live_table.pop(broker_addr, None)
        self.filter_server_table.pop(broker_addr, None)
        broker_name, name_removed = self._remove_addr(broker_addr)
        if broker_name is None or not name_removed:
            return
        for cluster, names in list(self.cluster_addr_table.items()):
            if broker_name in names:
                names.discard(broker_name)
                if not names:
                    del self.cluster_addr_table[cluster]
                break
        self._remove_topics_of_broker(broker_name)

    def _remove_addr(self, broker_addr: str) -> tuple[str | None, bool]:
        """Remove the first <id, addr> entry holding this address; (its broker name, whether the name emptied)."""
        for name, broker_data in list(self.broker_addr_table.items()):
            for bid, addr in list(broker_data.broker_addrs.items()):
                if addr == broker_addr:
                    del broker_data.broker_addrs[bid]
                    if not broker_data.broker_addrs:
                        del self.broker_addr_table[name]
                        return name, True
                    return name, False
        return None, False

    # -- queries --------------------------------------------------------------------------------------------------

    def pickup_topic_route_data(self, topic: str | None) -> TopicRouteData | None:
        """RouteInfoManager.pickupTopicRouteData: None unless both queue data and broker data exist."""
        queue_map = self.topic_queue_table.get(topic) if topic is not None else None
        if queue_map is None:
            return None
        # Java lists queue data in the queue map's HashMap order and broker data in a HashSet's: the same order.
        names = java_hash_order(queue_map)
        route = TopicRouteData(queue_datas=[_copy_queue(queue_map[name]) for name in names])
        for broker_name in names:
            broker_data = self.broker_addr_table.get(broker_name)
            if broker_data is None:
                continue
            route.broker_datas.append(BrokerData(broker_data.cluster, broker_name, dict(broker_data.broker_addrs)))
            for addr in broker_data.broker_addrs.values():
                servers = self.filter_server_table.get(addr)
                if servers is not None:
                    route.filter_server_table[addr] = list(servers)
        return route if route.broker_datas else None

    def get_all_cluster_info(self) -> ClusterInfo:
        return ClusterInfo(
            {
                name: BrokerData(bd.cluster, bd.broker_name, dict(bd.broker_addrs))
                for name, bd in self.broker_addr_table.items()
            },
            {cluster: set(names) for cluster, names in self.cluster_addr_table.items()},
        )

    def get_all_topic_list(self) -> TopicList:
        return TopicList(set(self.topic_queue_table))

    def get_topics_by_cluster(self, cluster: str | None) -> TopicList:
        # Java NPEs on an unknown (or null) cluster, logs it and returns the empty list.
        names = self.cluster_addr_table.get(cluster, set()) if cluster is not None else set()
        return TopicList({topic for topic, queues in self.topic_queue_table.items() if names & queues.keys()})

    def get_system_topic_list(self) -> TopicList:
        """Cluster names and broker names, with brokerAddr set to one broker's address (getSystemTopicList)."""
        topics: set[str] = set()
        for cluster, names in self.cluster_addr_table.items():
            topics.add(cluster)
            topics.update(names)
        result = TopicList(topics)
        for name in java_hash_order(self.broker_addr_table, 128):  # the first broker in Java's HashMap order
            addrs = self.broker_addr_table[name].broker_addrs
            if addrs:
                result.broker_addr = addrs[java_hash_order(addrs)[0]]
                break
        return result

    def get_unit_topics(self) -> TopicList:
        return self._topics_where(lambda flag: bool(flag & FLAG_UNIT))

    def get_has_unit_sub_topic_list(self) -> TopicList:
        return self._topics_where(lambda flag: bool(flag & FLAG_UNIT_SUB))

    def get_has_unit_sub_ununit_topic_list(self) -> TopicList:
        return self._topics_where(lambda flag: not flag & FLAG_UNIT and bool(flag & FLAG_UNIT_SUB))

    def _topics_where(self, test: Callable[[int], bool]) -> TopicList:
        # Java looks at the first QueueData of each topic only.
        return TopicList(
            {
                topic
                for topic, queues in self.topic_queue_table.items()
                if queues and test(next(iter(queues.values())).topic_sys_flag)
            }
        )

    # -- admin ----------------------------------------------------------------------------------------------------

    def wipe_write_perm_of_broker(self, broker_name: str | None) -> int:
        """Clear the write bit of every queue data of this broker; the number of topics touched."""
        return self._update_perm(broker_name, lambda perm: perm & ~PERM_WRITE)

    def add_write_perm_of_broker(self, broker_name: str | None) -> int:
        """Java sets perm to READ|WRITE outright (dropping other bits); so do we."""
        return self._update_perm(broker_name, lambda _perm: PERM_READ | PERM_WRITE)

    def _update_perm(self, broker_name: str | None, change: Callable[[int], int]) -> int:
        self.generation += 1
        count = 0
        if broker_name is None:
            return count
        for queues in self.topic_queue_table.values():
            queue_data = queues.get(broker_name)
            if queue_data is not None:
                queue_data.perm = change(queue_data.perm)
                count += 1
        return count

    def delete_topic(self, topic: str | None, cluster_name: str | None = None) -> None:
        """deleteTopic(topic) or deleteTopic(topic, clusterName): the latter drops only that cluster's brokers."""
        self.generation += 1
        if topic is None:
            return
        if cluster_name is None:
            self.topic_queue_table.pop(topic, None)
            return
        names = self.cluster_addr_table.get(cluster_name)
        queue_map = self.topic_queue_table.get(topic)
        if not names or queue_map is None:
            return
        for name in names:
            queue_map.pop(name, None)
        if not queue_map:
            del self.topic_queue_table[topic]

    def brokers_of_channel(self, channel: Any) -> Iterable[str]:
        """Addresses registered over this channel (for logs and tests)."""
        return [addr for addr, live in self.broker_live_table.items() if live.channel is channel]


def _copy_queue(queue: QueueData) -> QueueData:
    return QueueData(queue.broker_name, queue.read_queue_nums, queue.write_queue_nums, queue.perm, queue.topic_sys_flag)
