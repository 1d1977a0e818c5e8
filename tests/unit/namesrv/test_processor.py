"""NameServer handlers driven with requests shaped like a Java client's; assertions on what that client observes."""

from __future__ import annotations

import json
from pathlib import Path

from rocketpy.common import fastjson, properties
from rocketpy.namesrv.controller import NamesrvController
from rocketpy.protocol.bodies import (
    ClusterInfo,
    DataVersion,
    KVTable,
    TopicConfigSerializeWrapper,
    TopicList,
    TopicRouteData,
)
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.namesrv_headers import QueryDataVersionRequestHeader

from ..protocol.bodies.golden_bodies import golden
from .conftest import Clock, FakeConnection, call, register, register_request, topic

A, A_SLAVE = "10.0.0.1:10911", "10.0.0.2:10911"
JAVA_CODES = {100, 101, 102, 103, 104, 105, 106, 205, 206, 216, 219, 224, 304, 311, 312, 313, 318, 319, 322, 327}


def test_every_code_of_the_java_namesrv_is_handled(controller: NamesrvController) -> None:
    assert set(controller.handlers()) == JAVA_CODES


async def route(controller: NamesrvController, name: str, **kw: object) -> tuple[int, bytes | None, str | None]:
    ext = {"topic": name}
    if "accept_standard" in kw:
        ext["acceptStandardJsonOnly"] = str(kw["accept_standard"]).lower()
    response = await call(controller, RequestCode.GET_ROUTEINFO_BY_TOPIC, ext, version=kw.get("version"))  # type: ignore[arg-type]
    return response.code, bytes(response.body) if response.body else None, response.remark


async def test_register_then_route_in_both_json_forms(controller: NamesrvController) -> None:
    response = await register(controller, topics=(topic("T"),))
    # Java sends the (empty) extFields of RegisterBrokerResponseHeader even for a master.
    assert (response.code, response.remark, response.ext_fields, response.body) == (0, None, {}, None)

    code, body, _ = await route(controller, "T")  # a 4.9.8 client (version 409): standard JSON
    assert code == ResponseCode.SUCCESS and body is not None
    assert b'"brokerAddrs":{"0":"10.0.0.1:10911"}' in body
    assert json.loads(body)["queueDatas"] == [
        {"brokerName": "broker-a", "perm": 6, "readQueueNums": 4, "topicSysFlag": 0, "writeQueueNums": 4}
    ]
    _, old_body, _ = await route(controller, "T", version=399)  # V4_9_3: fastjson's unquoted keys
    assert old_body is not None and b'"brokerAddrs":{0:"10.0.0.1:10911"}' in old_body
    assert TopicRouteData.from_json(old_body) == TopicRouteData.from_json(body)
    _, asked, _ = await route(controller, "T", version=399, accept_standard=True)
    assert asked == body


async def test_unknown_topic_is_topic_not_exist_with_javas_remark(controller: NamesrvController) -> None:
    code, body, remark = await route(controller, "Nope")
    assert (code, body) == (ResponseCode.TOPIC_NOT_EXIST, None)
    assert remark == (
        "No topic route info in name server for the topic: Nope\nSee http://rocketmq.apache.org/docs/faq/ "
        "for further details."
    )


async def test_missing_header_fields_are_null_as_java_decodes_them(controller: NamesrvController) -> None:
    # decodeCommandCustomHeader logs a missing @CFNotNull field and leaves it null (observed on the reference too).
    tip = "\nSee http://rocketmq.apache.org/docs/faq/ for further details."
    for ext in ({}, None, {"other": "x"}):
        response = await call(controller, RequestCode.GET_ROUTEINFO_BY_TOPIC, ext)
        assert (response.code, response.remark) == (17, "No topic route info in name server for the topic: null" + tip)
    missing = await call(controller, RequestCode.GET_KV_CONFIG, {"namespace": "ns"})
    assert (missing.code, missing.remark) == (22, "No config item, Namespace: ns Key: null")
    listed = await call(controller, RequestCode.GET_KVLIST_BY_NAMESPACE, {})
    assert (listed.code, listed.remark) == (22, "No config item, Namespace: null")
    by_cluster = await call(controller, RequestCode.GET_TOPICS_BY_CLUSTER, {})
    assert (by_cluster.code, by_cluster.body) == (0, b'{"topicList":[]}')
    wipe = await call(controller, RequestCode.WIPE_WRITE_PERM_OF_BROKER, {})
    assert (wipe.code, wipe.ext_fields) == (0, {"wipeTopicCount": "0"})
    assert (await call(controller, RequestCode.DELETE_TOPIC_IN_NAMESRV, {})).code == 0
    no_key = await call(controller, RequestCode.PUT_KV_CONFIG, {"namespace": "ns"})
    assert (no_key.code, no_key.remark) == (1, "namespace or key is null")


async def test_registration_without_broker_id_is_an_npe(controller: NamesrvController) -> None:
    ext, body = register_request(topics=(topic("T"),))
    del ext["brokerId"]
    response = await call(controller, RequestCode.REGISTER_BROKER, ext, body)
    assert (response.code, response.remark) == (1, "java.lang.NullPointerException")
    assert (await route(controller, "T"))[0] == ResponseCode.TOPIC_NOT_EXIST
    ext["brokerId"] = "0"
    del ext["brokerName"]  # Java would register a broker named null; refused here
    assert (await call(controller, RequestCode.REGISTER_BROKER, ext, body)).code == 1
    unregister = await call(controller, RequestCode.UNREGISTER_BROKER, {"brokerName": "b"})
    assert unregister.code == 1


async def test_crc_mismatch_refused_and_zero_crc_skips_the_check(controller: NamesrvController) -> None:
    ext, body = register_request(topics=(topic("T"),))
    ext["bodyCrc32"] = str(int(ext["bodyCrc32"]) ^ 1)
    response = await call(controller, RequestCode.REGISTER_BROKER, ext, body)
    assert (response.code, response.remark, response.ext_fields) == (ResponseCode.SYSTEM_ERROR, "crc32 not match", {})
    assert (await route(controller, "T"))[0] == ResponseCode.TOPIC_NOT_EXIST
    ext["bodyCrc32"] = "0"
    assert (await call(controller, RequestCode.REGISTER_BROKER, ext, body)).code == ResponseCode.SUCCESS
    assert (await route(controller, "T"))[0] == ResponseCode.SUCCESS


async def test_compressed_body_from_a_java_broker(controller: NamesrvController) -> None:
    ext, _ = register_request()
    body = golden("register_body_compressed")
    ext.update(compressed="true", bodyCrc32=golden("register_body_compressed_crc").decode())
    assert (await call(controller, RequestCode.REGISTER_BROKER, ext, body)).code == ResponseCode.SUCCESS
    code, data, _ = await route(controller, "TopicTest")
    assert code == ResponseCode.SUCCESS and data is not None
    assert TopicRouteData.from_json(data).queue_datas[0].write_queue_nums == 4


async def test_old_broker_sends_a_bare_topic_config_wrapper(controller: NamesrvController) -> None:
    ext, _ = register_request()
    ext["bodyCrc32"] = "0"
    body = TopicConfigSerializeWrapper({"Old": topic("Old")}, DataVersion(1, 1)).to_json()
    response = await call(controller, RequestCode.REGISTER_BROKER, ext, body, version=36)  # below V3_0_11
    assert response.code == ResponseCode.SUCCESS
    assert (await route(controller, "Old"))[0] == ResponseCode.SUCCESS


async def test_undecodable_body_is_system_error(controller: NamesrvController) -> None:
    ext, _ = register_request()
    ext["bodyCrc32"] = "0"
    response = await call(controller, RequestCode.REGISTER_BROKER, ext, b"{not json")
    assert response.code == ResponseCode.SYSTEM_ERROR
    assert response.remark is not None and "Failed to decode RegisterBrokerBody" in response.remark
    ext["compressed"] = "true"
    response = await call(controller, RequestCode.REGISTER_BROKER, ext, b"\x78\x9c garbage")
    assert response.code == ResponseCode.SYSTEM_ERROR


async def test_slave_learns_master_and_ha_addresses(controller: NamesrvController) -> None:
    await register(controller, topics=(topic("T"),))
    response = await register(controller, addr=A_SLAVE, broker_id=1)
    assert response.ext_fields == {"haServerAddr": "10.0.0.1:10912", "masterAddr": A}


async def test_register_reply_carries_order_topic_config(controller: NamesrvController) -> None:
    put = {"namespace": "ORDER_TOPIC_CONFIG", "key": "T", "value": "broker-a:4"}
    assert (await call(controller, RequestCode.PUT_KV_CONFIG, put)).code == ResponseCode.SUCCESS
    response = await register(controller)
    assert response.body is not None and KVTable.from_json(response.body) == KVTable({"T": "broker-a:4"})


async def test_order_topic_conf_only_when_enabled(controller: NamesrvController) -> None:
    await register(controller, topics=(topic("T"),))
    await call(controller, RequestCode.PUT_KV_CONFIG, {"namespace": "ORDER_TOPIC_CONFIG", "key": "T", "value": "b:4"})
    _, body, _ = await route(controller, "T")
    assert body is not None and TopicRouteData.from_json(body).order_topic_conf is None
    controller.settings.namesrv.order_message_enable = True
    _, body, _ = await route(controller, "T")
    assert body is not None and TopicRouteData.from_json(body).order_topic_conf == "b:4"


async def test_cluster_test_mode_always_adds_order_conf_and_writes_plain_json(controller: NamesrvController) -> None:
    controller.settings.namesrv.cluster_test = True
    await register(controller, topics=(topic("T"),))
    await call(controller, RequestCode.PUT_KV_CONFIG, {"namespace": "ORDER_TOPIC_CONFIG", "key": "T", "value": "b:4"})
    _, body, _ = await route(controller, "T")
    assert body is not None and b"{0:" in body and b'"orderTopicConf":"b:4"' in body


async def test_kv_commands_and_persistence(controller: NamesrvController, tmp_path: Path) -> None:
    ns = {"namespace": "ns"}
    assert (await call(controller, RequestCode.PUT_KV_CONFIG, {**ns, "key": "k", "value": "v"})).code == 0
    got = await call(controller, RequestCode.GET_KV_CONFIG, {**ns, "key": "k"})
    assert (got.code, got.ext_fields) == (0, {"value": "v"})
    listed = await call(controller, RequestCode.GET_KVLIST_BY_NAMESPACE, ns)
    assert listed.body is not None and KVTable.from_json(listed.body).table == {"k": "v"}
    on_disk = json.loads((tmp_path / "namesrv" / "kvConfig.json").read_bytes())
    assert on_disk == {"configTable": {"ns": {"k": "v"}}}

    assert (await call(controller, RequestCode.DELETE_KV_CONFIG, {**ns, "key": "k"})).code == 0
    missing = await call(controller, RequestCode.GET_KV_CONFIG, {**ns, "key": "k"})
    assert (missing.code, missing.remark, missing.ext_fields) == (22, "No config item, Namespace: ns Key: k", {})
    unknown = await call(controller, RequestCode.GET_KVLIST_BY_NAMESPACE, {"namespace": "zz"})
    assert (unknown.code, unknown.remark) == (22, "No config item, Namespace: zz")
    assert json.loads((tmp_path / "namesrv" / "kvConfig.json").read_bytes()) == {"configTable": {"ns": {}}}


async def test_put_kv_without_value_stores_null_like_java(controller: NamesrvController, tmp_path: Path) -> None:
    ns = {"namespace": "ns"}
    assert (await call(controller, RequestCode.PUT_KV_CONFIG, {**ns, "key": "k"})).code == 0
    got = await call(controller, RequestCode.GET_KV_CONFIG, {**ns, "key": "k"})
    assert (got.code, got.remark) == (22, "No config item, Namespace: ns Key: k")
    listed = await call(controller, RequestCode.GET_KVLIST_BY_NAMESPACE, ns)
    assert (listed.code, listed.body) == (0, b'{"table":{}}')
    assert json.loads((tmp_path / "namesrv" / "kvConfig.json").read_bytes()) == {"configTable": {"ns": {}}}


async def test_unregister(controller: NamesrvController) -> None:
    await register(controller, topics=(topic("T"),))
    ext = {"brokerName": "broker-a", "brokerAddr": A, "clusterName": "DefaultCluster", "brokerId": "0"}
    assert (await call(controller, RequestCode.UNREGISTER_BROKER, ext)).code == 0
    assert (await route(controller, "T"))[0] == ResponseCode.TOPIC_NOT_EXIST


async def test_cluster_info_is_unquoted_fastjson(controller: NamesrvController) -> None:
    await register(controller)
    await register(controller, addr=A_SLAVE, broker_id=1)
    response = await call(controller, RequestCode.GET_BROKER_CLUSTER_INFO)
    assert response.body is not None
    assert b'"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"}' in response.body
    info = ClusterInfo.from_json(response.body)
    assert info.cluster_addr_table == {"DefaultCluster": {"broker-a"}}


async def test_write_perm_counts_in_headers(controller: NamesrvController) -> None:
    await register(controller, topics=(topic("T"), topic("U")))
    wipe = await call(controller, RequestCode.WIPE_WRITE_PERM_OF_BROKER, {"brokerName": "broker-a"})
    assert (wipe.code, wipe.ext_fields) == (0, {"wipeTopicCount": "2"})
    _, body, _ = await route(controller, "T")
    assert body is not None and TopicRouteData.from_json(body).queue_datas[0].perm == 4
    add = await call(controller, RequestCode.ADD_WRITE_PERM_OF_BROKER, {"brokerName": "broker-a"})
    assert (add.code, add.ext_fields) == (0, {"addTopicCount": "2"})
    none = await call(controller, RequestCode.WIPE_WRITE_PERM_OF_BROKER, {"brokerName": "ghost"})
    assert none.ext_fields == {"wipeTopicCount": "0"}  # the @CFNotNull field is always sent


async def test_topic_lists_and_delete(controller: NamesrvController) -> None:
    await register(controller, topics=(topic("T"), topic("Unit", sys_flag=1)))
    await register(controller, "broker-b", "10.0.0.3:10911", topics=(topic("T"),), cluster="Other")

    async def topics(code: int, ext: dict[str, str] | None = None) -> TopicList:
        response = await call(controller, code, ext)
        assert response.code == 0 and response.body is not None
        return TopicList.from_json(response.body)

    assert (await topics(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER)).topic_list == {"T", "Unit"}
    assert (await topics(RequestCode.GET_TOPICS_BY_CLUSTER, {"cluster": "Other"})).topic_list == {"T"}
    assert (await topics(RequestCode.GET_UNIT_TOPIC_LIST)).topic_list == {"Unit"}
    assert (await topics(RequestCode.GET_HAS_UNIT_SUB_TOPIC_LIST)).topic_list == set()
    assert (await topics(RequestCode.GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST)).topic_list == set()
    system = await topics(RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS)
    assert system.topic_list == {"DefaultCluster", "Other", "broker-a", "broker-b"} and system.broker_addr

    delete = {"topic": "T", "clusterName": "Other"}
    assert (await call(controller, RequestCode.DELETE_TOPIC_IN_NAMESRV, delete)).code == 0
    _, body, _ = await route(controller, "T")
    assert body is not None and [q.broker_name for q in TopicRouteData.from_json(body).queue_datas] == ["broker-a"]
    assert (await call(controller, RequestCode.DELETE_TOPIC_IN_NAMESRV, {"topic": "T", "clusterName": ""})).code == 0
    assert (await route(controller, "T"))[0] == ResponseCode.TOPIC_NOT_EXIST


async def test_query_data_version(controller: NamesrvController, clock: Clock) -> None:
    version = DataVersion(5, 5)
    await register(controller, topics=(topic("T"),), version=version)
    ext = QueryDataVersionRequestHeader("broker-a", A, "DefaultCluster", 0).to_ext()
    clock.now += 100
    same = await call(controller, RequestCode.QUERY_DATA_VERSION, ext, version.to_json())
    assert (same.code, same.ext_fields) == (0, {"changed": "false"})
    assert same.body is not None and DataVersion.from_json(same.body) == version
    assert controller.route_info.broker_live_table[A].last_update_timestamp == clock.now  # counts as a keepalive
    clock.now += 100
    other = await call(controller, RequestCode.QUERY_DATA_VERSION, ext, DataVersion(6, 6).to_json())
    assert other.ext_fields == {"changed": "true"}
    assert controller.route_info.broker_live_table[A].last_update_timestamp == clock.now - 100
    unknown = QueryDataVersionRequestHeader("x", "9.9.9.9:1", "C", 0).to_ext()
    fresh = await call(controller, RequestCode.QUERY_DATA_VERSION, unknown, version.to_json())
    assert (fresh.ext_fields, fresh.body) == ({"changed": "true"}, None)
    assert (await call(controller, RequestCode.QUERY_DATA_VERSION, ext)).code == ResponseCode.SYSTEM_ERROR


async def test_get_config_returns_properties_text(controller: NamesrvController) -> None:
    response = await call(controller, RequestCode.GET_NAMESRV_CONFIG)
    assert response.code == 0 and response.body is not None
    props = properties.loads(bytes(response.body).decode())
    assert props["listenPort"] == "9876" and props["orderMessageEnable"] == "false"
    assert props["kvConfigPath"] == controller.settings.namesrv.kv_config_path


async def test_update_config_applies_allowed_keys_and_persists(controller: NamesrvController, tmp_path: Path) -> None:
    body = b"orderMessageEnable=true\nserverWorkerThreads=4\n"
    response = await call(controller, RequestCode.UPDATE_NAMESRV_CONFIG, body=body)
    assert (response.code, response.remark) == (0, None)
    assert controller.settings.namesrv.order_message_enable is True
    stored = properties.loads((tmp_path / "namesrv" / "namesrv.properties").read_text())
    assert stored["orderMessageEnable"] == "true" and stored["serverWorkerThreads"] == "4"
    got = await call(controller, RequestCode.GET_NAMESRV_CONFIG)
    assert got.body is not None and b"orderMessageEnable=true\n" in bytes(got.body)
    assert (await call(controller, RequestCode.UPDATE_NAMESRV_CONFIG)).code == 0  # no body: nothing to do


async def test_update_config_refuses_the_cve_2023_37582_class(controller: NamesrvController, tmp_path: Path) -> None:
    store = tmp_path / "namesrv" / "namesrv.properties"
    for key in ("configStorePath", "kvConfigPath", "rocketmqHome", "configBlackList"):
        body = f"orderMessageEnable=true\n{key}=/tmp/evil\n".encode()
        response = await call(controller, RequestCode.UPDATE_NAMESRV_CONFIG, body=body)
        assert (response.code, response.remark) == (16, "Can not update config in black list.")
        assert controller.settings.namesrv.order_message_enable is False
        assert controller.processor.config_store_path == store
        assert not store.exists()
    assert controller.settings.namesrv.kv_config_path == str(tmp_path / "namesrv" / "kvConfig.json")


async def test_connection_of_a_registration_is_remembered(controller: NamesrvController) -> None:
    conn = FakeConnection("10.0.0.1:54321")
    await register(controller, topics=(topic("T"),), conn=conn)
    controller.on_connection_closed(conn)
    assert (await route(controller, "T"))[0] == ResponseCode.TOPIC_NOT_EXIST
    assert fastjson.loads((await call(controller, RequestCode.GET_BROKER_CLUSTER_INFO)).body or b"{}") == {
        "brokerAddrTable": {},
        "clusterAddrTable": {},
    }


# Observed from the Java reference NameServer (4.9.7 on JDK 17) after registering broker-a and broker-b in
# DefaultCluster, then broker-c in C2, in that order: maps and sets come out in Java's HashMap order.
JAVA_CLUSTER_INFO = (
    b'{"brokerAddrTable":{"broker-b":{"brokerAddrs":{0:"10.0.0.3:10911"},"brokerName":"broker-b",'
    b'"cluster":"DefaultCluster"},"broker-c":{"brokerAddrs":{0:"10.0.0.4:10911"},"brokerName":"broker-c",'
    b'"cluster":"C2"},"broker-a":{"brokerAddrs":{0:"10.0.0.1:10911",1:"10.0.0.2:10911"},"brokerName":"broker-a",'
    b'"cluster":"DefaultCluster"}},"clusterAddrTable":{"C2":["broker-c"],"DefaultCluster":["broker-b","broker-a"]}}'
)
JAVA_ROUTE_T = (
    b'{"brokerDatas":[{"brokerAddrs":{"0":"10.0.0.3:10911"},"brokerName":"broker-b","cluster":"DefaultCluster"},'
    b'{"brokerAddrs":{"0":"10.0.0.1:10911","1":"10.0.0.2:10911"},"brokerName":"broker-a",'
    b'"cluster":"DefaultCluster"}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-b","perm":6,'
    b'"readQueueNums":4,"topicSysFlag":0,"writeQueueNums":4},{"brokerName":"broker-a","perm":6,"readQueueNums":4,'
    b'"topicSysFlag":0,"writeQueueNums":4}]}'
)
JAVA_SYSTEM_TOPICS = (
    b'{"brokerAddr":"10.0.0.3:10911","topicList":["broker-b","broker-c","broker-a","C2","DefaultCluster"]}'
)


async def test_multi_broker_replies_are_byte_identical_to_java(controller: NamesrvController) -> None:
    await register(controller, topics=(topic("T"),))
    await register(controller, addr=A_SLAVE, broker_id=1)
    await register(controller, "broker-b", "10.0.0.3:10911", topics=(topic("T"),))
    await register(controller, "broker-c", "10.0.0.4:10911", cluster="C2")
    assert (await call(controller, RequestCode.GET_BROKER_CLUSTER_INFO)).body == JAVA_CLUSTER_INFO
    assert (await route(controller, "T"))[1] == JAVA_ROUTE_T
    assert (await call(controller, RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS)).body == JAVA_SYSTEM_TOPICS


async def test_cached_route_answers_equal_a_fresh_pickup_after_every_change(controller: NamesrvController) -> None:
    """Route answers are kept encoded per route generation: after each kind of change the answer must be what a
    fresh pickupTopicRouteData would encode (and a second ask, served from the cache, the same bytes)."""

    async def check() -> None:
        for name in ("T", "U"):
            for version in (409, 399):
                code, body, _ = await route(controller, name, version=version)
                fresh = controller.route_info.pickup_topic_route_data(name)
                if fresh is None:
                    assert code == ResponseCode.TOPIC_NOT_EXIST
                    continue
                assert body == fresh.to_json(standard_json=version >= 403)
                assert (await route(controller, name, version=version))[1] == body

    slave = FakeConnection("10.0.0.2:40000")
    await register(controller, topics=(topic("T"), topic("U")))
    await check()
    await register(controller, "broker-a", "10.0.0.2:10911", 1, topics=(topic("T"),), conn=slave)  # a slave
    await check()
    new_version = DataVersion(2, 2)
    await register(controller, topics=(topic("T", queues=8),), version=new_version)  # queue numbers change
    await check()
    await call(controller, RequestCode.WIPE_WRITE_PERM_OF_BROKER, {"brokerName": "broker-a"})
    await check()
    await call(controller, RequestCode.ADD_WRITE_PERM_OF_BROKER, {"brokerName": "broker-a"})
    await check()
    controller.on_connection_closed(slave)  # the slave's channel closes
    await check()
    await call(controller, RequestCode.DELETE_TOPIC_IN_NAMESRV, {"topic": "U"})
    await check()
    unregister = {"brokerName": "broker-a", "brokerAddr": "10.0.0.1:10911", "clusterName": "DefaultCluster"}
    await call(controller, RequestCode.UNREGISTER_BROKER, {**unregister, "brokerId": "0"})
    await check()
