"""RouteInfo as pure state: registration, versions, master/slave, expiry and channel loss (RouteInfoManager)."""

from __future__ import annotations

from rocketpy.namesrv.route_info import BROKER_CHANNEL_EXPIRED_TIME, RouteInfo
from rocketpy.protocol.bodies import DataVersion, QueueData, TopicConfigSerializeWrapper

from .conftest import topic

A_ADDR, A_SLAVE, B_ADDR = "10.0.0.1:10911", "10.0.0.2:10911", "10.0.0.3:10911"


def wrapper(*topics: object, version: DataVersion | None = None) -> TopicConfigSerializeWrapper:
    return TopicConfigSerializeWrapper({t.topic_name: t for t in topics}, version or DataVersion(1, 1))  # type: ignore[attr-defined]


def register(
    info: RouteInfo,
    name: str = "broker-a",
    addr: str = A_ADDR,
    broker_id: int = 0,
    w: TopicConfigSerializeWrapper | None = None,
    *,
    cluster: str = "C",
    channel: object = None,
    now: float = 0.0,
) -> None:
    info.register_broker(cluster, addr, name, broker_id, addr + "-ha", w or wrapper(), [], channel, now)


def test_master_registration_creates_route() -> None:
    info = RouteInfo()
    register(info, w=wrapper(topic("T", queues=8)))
    route = info.pickup_topic_route_data("T")
    assert route is not None
    assert route.queue_datas == [QueueData("broker-a", 8, 8, 6, 0)]
    assert [(b.cluster, b.broker_name, b.broker_addrs) for b in route.broker_datas] == [("C", "broker-a", {0: A_ADDR})]
    assert info.pickup_topic_route_data("unknown") is None
    assert info.get_all_cluster_info().cluster_addr_table == {"C": {"broker-a"}}


def test_queue_data_refreshed_only_when_data_version_changes() -> None:
    info = RouteInfo()
    register(info, w=wrapper(topic("T", queues=4), version=DataVersion(1, 1)))
    register(info, w=wrapper(topic("T", queues=16), version=DataVersion(1, 1)))  # same version: ignored
    assert info.topic_queue_table["T"]["broker-a"].read_queue_nums == 4
    register(info, w=wrapper(topic("T", queues=16), version=DataVersion(2, 2)))
    assert info.topic_queue_table["T"]["broker-a"].read_queue_nums == 16


def test_slave_topics_never_touch_queue_data_but_slave_learns_master() -> None:
    info = RouteInfo()
    register(info, w=wrapper(topic("T")))
    result = info.register_broker(
        "C", A_SLAVE, "broker-a", 1, "slave-ha", wrapper(topic("T", queues=1), topic("S")), [], None, 0.0
    )
    assert result.master_addr == A_ADDR and result.ha_server_addr == A_ADDR + "-ha"
    assert "S" not in info.topic_queue_table
    assert info.topic_queue_table["T"]["broker-a"].read_queue_nums == 4
    assert info.broker_addr_table["broker-a"].broker_addrs == {0: A_ADDR, 1: A_SLAVE}


def test_slave_without_live_master_gets_no_master_addr() -> None:
    info = RouteInfo()
    result = info.register_broker("C", A_SLAVE, "broker-a", 1, "ha", wrapper(), [], None, 0.0)
    assert result.master_addr is None and result.ha_server_addr is None


def test_same_addr_under_new_id_replaces_old_id() -> None:
    info = RouteInfo()
    register(info, w=wrapper(topic("T")))
    register(info, addr=A_SLAVE, broker_id=1)
    register(info, addr=A_SLAVE, broker_id=0, w=wrapper(topic("T")))  # slave promoted
    assert info.broker_addr_table["broker-a"].broker_addrs == {0: A_SLAVE}


def test_first_registration_of_a_new_id_refreshes_even_with_known_version() -> None:
    info = RouteInfo()
    version = DataVersion(7, 7)
    register(info, addr=A_SLAVE, broker_id=1, w=wrapper(topic("T"), version=version))
    # A master whose addr already sent this version (as a slave) still counts as a first registration.
    register(info, addr=A_SLAVE, broker_id=0, w=wrapper(topic("T"), version=version))
    assert "T" in info.topic_queue_table


def test_expiry_after_120_seconds_and_channels_returned() -> None:
    info = RouteInfo()
    channel = object()
    register(info, w=wrapper(topic("T")), channel=channel, now=0.0)
    register(info, "broker-b", B_ADDR, w=wrapper(topic("T")), now=100.0)
    assert info.scan_not_active_broker(BROKER_CHANNEL_EXPIRED_TIME) == []  # exactly 120 s: not yet (strict >)
    assert info.scan_not_active_broker(BROKER_CHANNEL_EXPIRED_TIME + 0.001) == [channel]
    assert "broker-a" not in info.broker_addr_table
    route = info.pickup_topic_route_data("T")
    assert route is not None and [q.broker_name for q in route.queue_datas] == ["broker-b"]
    assert info.scan_not_active_broker(221.0) == [None]
    assert info.pickup_topic_route_data("T") is None
    assert info.cluster_addr_table == {} and info.topic_queue_table == {}


def test_refreshing_timestamp_keeps_broker_alive() -> None:
    info = RouteInfo()
    register(info, now=0.0)
    info.update_broker_info_update_timestamp(A_ADDR, 100.0)
    assert info.scan_not_active_broker(200.0) == []
    assert A_ADDR in info.broker_live_table


def test_channel_destroy_removes_only_that_broker_at_once() -> None:
    info = RouteInfo()
    master, slave = object(), object()
    register(info, w=wrapper(topic("T")), channel=master)
    info.register_broker("C", A_SLAVE, "broker-a", 1, "ha", wrapper(), [], slave, 0.0)
    info.on_channel_destroy("10.9.9.9:1234", slave)
    assert info.broker_addr_table["broker-a"].broker_addrs == {0: A_ADDR}
    assert info.pickup_topic_route_data("T") is not None
    info.on_channel_destroy("10.9.9.9:1235", master)
    assert info.pickup_topic_route_data("T") is None
    assert info.broker_addr_table == {} and info.cluster_addr_table == {}


def test_channel_destroy_falls_back_to_remote_addr() -> None:
    info = RouteInfo()
    register(info, w=wrapper(topic("T")), channel=None)
    info.on_channel_destroy(A_ADDR, object())  # unknown channel: Java uses the remote address as broker address
    assert info.broker_addr_table == {}


def test_unregister_master_then_slave() -> None:
    info = RouteInfo()
    register(info, w=wrapper(topic("T")))
    register(info, addr=A_SLAVE, broker_id=1)
    info.unregister_broker("C", A_ADDR, "broker-a", 0)
    route = info.pickup_topic_route_data("T")
    assert route is not None and route.broker_datas[0].broker_addrs == {1: A_SLAVE}
    info.unregister_broker("C", A_SLAVE, "broker-a", 1)
    assert info.pickup_topic_route_data("T") is None and info.cluster_addr_table == {}


def test_write_perm_wipe_and_add() -> None:
    info = RouteInfo()
    register(info, w=wrapper(topic("T", perm=7), topic("U", perm=4)))
    register(info, "broker-b", B_ADDR, w=wrapper(topic("T")))
    assert info.wipe_write_perm_of_broker("broker-a") == 2
    assert info.topic_queue_table["T"]["broker-a"].perm == 5
    assert info.topic_queue_table["T"]["broker-b"].perm == 6
    assert info.add_write_perm_of_broker("broker-a") == 2
    assert info.topic_queue_table["U"]["broker-a"].perm == 6  # Java sets READ|WRITE outright
    assert info.wipe_write_perm_of_broker("nobody") == 0


def test_delete_topic_everywhere_or_per_cluster() -> None:
    info = RouteInfo()
    register(info, w=wrapper(topic("T"), topic("U")), cluster="C1")
    register(info, "broker-b", B_ADDR, w=wrapper(topic("T")), cluster="C2")
    info.delete_topic("T", "C1")
    assert set(info.topic_queue_table["T"]) == {"broker-b"}
    info.delete_topic("T", "unknown-cluster")
    assert "T" in info.topic_queue_table
    info.delete_topic("T", "C2")
    assert "T" not in info.topic_queue_table
    info.delete_topic("U")
    assert info.topic_queue_table == {}


def test_topic_lists() -> None:
    info = RouteInfo()
    topics = (topic("plain"), topic("unit", sys_flag=1), topic("sub", sys_flag=2), topic("both", sys_flag=3))
    register(info, w=wrapper(*topics), cluster="C1")
    register(info, "broker-b", B_ADDR, w=wrapper(topic("other")), cluster="C2")
    assert info.get_all_topic_list().topic_list == {"plain", "unit", "sub", "both", "other"}
    assert info.get_topics_by_cluster("C2").topic_list == {"other"}
    assert info.get_topics_by_cluster("nope").topic_list == set()
    assert info.get_unit_topics().topic_list == {"unit", "both"}
    assert info.get_has_unit_sub_topic_list().topic_list == {"sub", "both"}
    assert info.get_has_unit_sub_ununit_topic_list().topic_list == {"sub"}
    system = info.get_system_topic_list()
    assert system.topic_list == {"C1", "C2", "broker-a", "broker-b"}
    assert system.broker_addr in (A_ADDR, B_ADDR)


def test_filter_servers_reported_in_route() -> None:
    info = RouteInfo()
    info.register_broker("C", A_ADDR, "broker-a", 0, "ha", wrapper(topic("T")), ["fs:1"], None, 0.0)
    route = info.pickup_topic_route_data("T")
    assert route is not None and route.filter_server_table == {A_ADDR: ["fs:1"]}
    info.register_broker("C", A_ADDR, "broker-a", 0, "ha", wrapper(topic("T")), [], None, 0.0)
    route = info.pickup_topic_route_data("T")
    assert route is not None and route.filter_server_table == {}
