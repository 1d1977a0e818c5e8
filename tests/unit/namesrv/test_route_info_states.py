"""RouteInfo under random sequences of registrations, losses and admin calls: its tables stay consistent."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from rocketpy.namesrv.route_info import BROKER_CHANNEL_EXPIRED_TIME, RouteInfo
from rocketpy.protocol.bodies import DataVersion, TopicConfigSerializeWrapper

from .conftest import topic

NAMES = ("broker-a", "broker-b", "broker-c")
CLUSTER_OF = {"broker-a": "C1", "broker-b": "C1", "broker-c": "C2"}  # a broker name belongs to one cluster
ADDRS = ("10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1", "10.0.0.4:1")
TOPICS = ("T", "U", "V")


class RouteInfoMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.info = RouteInfo()
        self.now = 0.0
        self.channels: dict[str, object] = {addr: object() for addr in ADDRS}

    @rule(
        name=st.sampled_from(NAMES),
        addr=st.sampled_from(ADDRS),
        broker_id=st.integers(0, 2),
        topics=st.sets(st.sampled_from(TOPICS)),
        version=st.integers(0, 3),
    )
    def register(self, name: str, addr: str, broker_id: int, topics: set[str], version: int) -> None:
        wrapper = TopicConfigSerializeWrapper({t: topic(t) for t in topics}, DataVersion(version, version))
        known = self.info.broker_addr_table.get(name)
        first = known is None or known.broker_addrs.get(broker_id) is None
        refresh = first or self.info.is_broker_topic_config_changed(addr, wrapper.data_version)
        result = self.info.register_broker(
            CLUSTER_OF[name], addr, name, broker_id, addr + "-ha", wrapper, [], self.channels[addr], self.now
        )
        assert self.info.broker_addr_table[name].broker_addrs[broker_id] == addr
        if broker_id == 0:
            assert result.master_addr is None
        if broker_id == 0 and refresh:  # only a master with new topic configs refreshes queue data
            assert all(self.info.pickup_topic_route_data(t) is not None for t in topics)

    @rule(name=st.sampled_from(NAMES), addr=st.sampled_from(ADDRS), broker_id=st.integers(0, 2))
    def unregister(self, name: str, addr: str, broker_id: int) -> None:
        self.info.unregister_broker(CLUSTER_OF[name], addr, name, broker_id)
        assert addr not in self.info.broker_live_table

    @rule(addr=st.sampled_from(ADDRS))
    def connection_lost(self, addr: str) -> None:
        self.info.on_channel_destroy("192.168.0.1:9999", self.channels[addr])
        assert addr not in self.info.broker_live_table
        self.channels[addr] = object()  # a reconnecting broker comes back on a new connection

    @rule(seconds=st.floats(0, 200))
    def time_passes_and_scan(self, seconds: float) -> None:
        self.now += seconds
        self.info.scan_not_active_broker(self.now)
        for live in self.info.broker_live_table.values():
            assert live.last_update_timestamp + BROKER_CHANNEL_EXPIRED_TIME >= self.now

    @rule(name=st.sampled_from(NAMES), wipe=st.booleans())
    def write_perm(self, name: str, wipe: bool) -> None:
        count = (self.info.wipe_write_perm_of_broker if wipe else self.info.add_write_perm_of_broker)(name)
        assert count == sum(name in queues for queues in self.info.topic_queue_table.values())

    @rule(name=st.sampled_from(TOPICS), cluster=st.none() | st.sampled_from(("C1", "C2", "C3")))
    def delete_topic(self, name: str, cluster: str | None) -> None:
        self.info.delete_topic(name, cluster)
        if cluster is None:
            assert name not in self.info.topic_queue_table

    @invariant()
    def tables_are_consistent(self) -> None:
        info = self.info
        assert all(bd.broker_addrs for bd in info.broker_addr_table.values())
        assert all(info.topic_queue_table.values())
        for cluster, names in info.cluster_addr_table.items():
            assert names and all(CLUSTER_OF[n] == cluster for n in names)
        for name, bd in info.broker_addr_table.items():
            assert name in info.cluster_addr_table[CLUSTER_OF[name]]
            assert len(set(bd.broker_addrs.values())) == len(bd.broker_addrs)  # one entry per address

    @invariant()
    def routes_match_tables(self) -> None:
        for name, queues in self.info.topic_queue_table.items():
            route = self.info.pickup_topic_route_data(name)
            known = [n for n in queues if n in self.info.broker_addr_table]
            if not known:
                assert route is None
                continue
            assert route is not None
            assert sorted(b.broker_name or "" for b in route.broker_datas) == sorted(known)
            assert sorted(q.broker_name or "" for q in route.queue_datas) == sorted(queues)
            assert route.to_json(standard_json=True)  # always encodable


RouteInfoMachine.TestCase.settings = settings(max_examples=80, stateful_step_count=30, deadline=None)
TestRouteInfoStates = RouteInfoMachine.TestCase
