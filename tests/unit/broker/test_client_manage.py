"""HEART_BEAT, UNREGISTER_CLIENT, CHECK_CLIENT_CONFIG and the group/connection queries a client or mqadmin makes."""

from __future__ import annotations

import orjson

from rocketpy.broker.controller import BrokerController
from rocketpy.protocol.codes import RequestCode, ResponseCode

from .conftest import Clock, FakeConnection, call, heartbeat, make_controller, subscription

G = "please_rename_unique_group_name_4"


async def beat(controller: BrokerController, conn: FakeConnection, body: bytes) -> int:
    reply = await call(controller, RequestCode.HEART_BEAT, body=body, conn=conn)
    return reply.code


async def test_heartbeat_reply_carries_the_broker_version(controller: BrokerController) -> None:
    reply = await call(controller, RequestCode.HEART_BEAT, body=heartbeat("10.0.0.5@1", producers=("P",)))
    assert reply.code == ResponseCode.SUCCESS
    assert reply.version == 409  # V4_9_8: the client takes it as the broker version (SQL92 needs >= 232)


async def test_consumer_heartbeat_creates_group_and_retry_topic_and_asks_to_register(
    controller: BrokerController,
) -> None:
    asked: list[bool] = []
    controller.registration.request_register = lambda: asked.append(True)  # type: ignore[method-assign]
    conn = FakeConnection("10.0.0.5:50001")
    body = heartbeat("10.0.0.5@1", consumers={G: [subscription("TopicTest"), subscription(f"%RETRY%{G}")]})
    assert await beat(controller, conn, body) == ResponseCode.SUCCESS

    groups = orjson.loads((await call(controller, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG)).body or b"")
    assert groups["subscriptionGroupTable"][G]["retryQueueNums"] == 1
    topics = orjson.loads((await call(controller, RequestCode.GET_ALL_TOPIC_CONFIG)).body or b"")
    retry = topics["topicConfigTable"][f"%RETRY%{G}"]
    assert (retry["readQueueNums"], retry["writeQueueNums"], retry["perm"]) == (1, 1, 6)
    assert asked  # the %RETRY% route must reach the NameServer at once
    assert conn.notified_groups() == [G]  # a new member: rebalance now


async def test_unchanged_heartbeat_notifies_nobody(controller: BrokerController) -> None:
    conn = FakeConnection("10.0.0.5:50001")
    body = heartbeat("10.0.0.5@1", consumers={G: [subscription("TopicTest")]})
    await beat(controller, conn, body)
    await beat(controller, conn, body)
    assert conn.notified_groups() == [G]


async def test_new_member_and_subscription_change_notify_every_member(controller: BrokerController) -> None:
    a, b = FakeConnection("10.0.0.5:50001"), FakeConnection("10.0.0.6:50002")
    await beat(controller, a, heartbeat("10.0.0.5@1", consumers={G: [subscription("T1")]}))
    await beat(controller, b, heartbeat("10.0.0.6@1", consumers={G: [subscription("T1")]}))
    assert (a.notified_groups(), b.notified_groups()) == ([G, G], [G])
    await beat(controller, b, heartbeat("10.0.0.6@1", consumers={G: [subscription("T1"), subscription("T2")]}))
    assert (len(a.notified_groups()), len(b.notified_groups())) == (3, 2)


async def test_notifications_off_per_group_and_broker_wide(clock: Clock) -> None:
    controller = make_controller(clock, notify_consumer_ids_changed_enable=False)
    conn = FakeConnection("10.0.0.5:50001")
    await beat(controller, conn, heartbeat("10.0.0.5@1", consumers={G: [subscription("T1")]}))
    assert conn.oneway == []

    controller = make_controller(clock)
    config = b'{"groupName":"quiet","notifyConsumerIdsChangedEnable":false}'
    assert (await call(controller, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, body=config)).code == 0
    await beat(controller, conn, heartbeat("10.0.0.5@1", consumers={"quiet": [subscription("T1")]}))
    assert conn.oneway == []


async def test_no_auto_create_means_no_group_and_no_retry_topic(clock: Clock) -> None:
    controller = make_controller(clock, auto_create_subscription_group=False)
    await beat(controller, FakeConnection("a:1"), heartbeat("c@1", consumers={G: [subscription("T")]}))
    assert controller.groups.get(G) is None
    assert controller.topics.select(f"%RETRY%{G}") is None
    assert controller.consumers.get(G) is not None  # the client is still tracked


async def test_illegal_group_name_is_refused_before_anything_changes(controller: BrokerController) -> None:
    bad = "../../etc"
    reply = await call(controller, RequestCode.HEART_BEAT, body=heartbeat("c@1", consumers={bad: [subscription("T")]}))
    assert reply.code == ResponseCode.SYSTEM_ERROR
    assert "illegal characters" in (reply.remark or "")
    assert controller.topics.select(f"%RETRY%{bad}") is None
    assert controller.consumers.get(bad) is None


async def test_malformed_heartbeat_is_a_system_error(controller: BrokerController) -> None:
    for body in (b"{not json", b'{"clientID":"c@1","consumerDataSet":{"x":1}}', b"{}"):
        reply = await call(controller, RequestCode.HEART_BEAT, body=body)
        assert reply.code == ResponseCode.SYSTEM_ERROR, body


async def test_subscription_types_are_recorded_and_shown_by_consumer_connection(controller: BrokerController) -> None:
    conn = FakeConnection("10.0.0.5:50001")
    subs = [subscription("T1", "TagA || TagB"), subscription("T2", "a > 5", expression_type="SQL92")]
    await beat(controller, conn, heartbeat("10.0.0.5@1", consumers={G: subs}))
    reply = await call(controller, RequestCode.GET_CONSUMER_CONNECTION_LIST, {"consumerGroup": G})
    assert reply.code == ResponseCode.SUCCESS
    body = orjson.loads(reply.body or b"")
    assert body["consumeType"] == "CONSUME_PASSIVELY" and body["messageModel"] == "CLUSTERING"
    assert body["connectionSet"] == [
        {"clientAddr": "10.0.0.5:50001", "clientId": "10.0.0.5@1", "language": "JAVA", "version": 409}
    ]
    assert body["subscriptionTable"]["T1"]["tagsSet"] == ["TagA", "TagB"]
    assert body["subscriptionTable"]["T2"]["expressionType"] == "SQL92"
    missing = await call(controller, RequestCode.GET_CONSUMER_CONNECTION_LIST, {"consumerGroup": "nobody"})
    assert (missing.code, missing.remark) == (ResponseCode.CONSUMER_NOT_ONLINE, "the consumer group[nobody] not online")


async def test_consumer_list_by_group(controller: BrokerController) -> None:
    await beat(controller, FakeConnection("a:1"), heartbeat("10.0.0.5@1", consumers={G: [subscription("T")]}))
    await beat(controller, FakeConnection("b:2"), heartbeat("10.0.0.6@1", consumers={G: [subscription("T")]}))
    reply = await call(controller, RequestCode.GET_CONSUMER_LIST_BY_GROUP, {"consumerGroup": G})
    assert sorted(orjson.loads(reply.body or b"")["consumerIdList"]) == ["10.0.0.5@1", "10.0.0.6@1"]
    none = await call(controller, RequestCode.GET_CONSUMER_LIST_BY_GROUP, {"consumerGroup": "x"})
    assert (none.code, none.remark) == (ResponseCode.SYSTEM_ERROR, "no consumer for this group, x")


async def test_unregister_consumer_notifies_the_rest(controller: BrokerController) -> None:
    a, b = FakeConnection("a:1"), FakeConnection("b:2")
    await beat(controller, a, heartbeat("A@1", consumers={G: [subscription("T")]}))
    await beat(controller, b, heartbeat("B@1", consumers={G: [subscription("T")]}))
    before = len(a.notified_groups())
    reply = await call(controller, RequestCode.UNREGISTER_CLIENT, {"clientID": "B@1", "consumerGroup": G}, conn=b)
    assert reply.code == ResponseCode.SUCCESS
    assert len(a.notified_groups()) == before + 1
    ids = await call(controller, RequestCode.GET_CONSUMER_LIST_BY_GROUP, {"consumerGroup": G})
    assert orjson.loads(ids.body or b"")["consumerIdList"] == ["A@1"]


async def test_unregister_without_client_id_is_refused(controller: BrokerController) -> None:
    reply = await call(controller, RequestCode.UNREGISTER_CLIENT, {"producerGroup": "P"})
    assert (reply.code, reply.remark) == (ResponseCode.SYSTEM_ERROR, "the custom field <clientID> is null")


async def test_producers_connections_and_producer_info(controller: BrokerController) -> None:
    conn = FakeConnection("10.0.0.7:40000")
    await beat(controller, conn, heartbeat("10.0.0.7@9", producers=("PG", "CLIENT_INNER_PRODUCER")))
    reply = await call(controller, RequestCode.GET_PRODUCER_CONNECTION_LIST, {"producerGroup": "PG"})
    assert orjson.loads(reply.body or b"")["connectionSet"][0]["clientId"] == "10.0.0.7@9"
    missing = await call(controller, RequestCode.GET_PRODUCER_CONNECTION_LIST, {"producerGroup": "nope"})
    assert (missing.code, missing.remark) == (ResponseCode.SYSTEM_ERROR, "the producer group[nope] not exist")
    info = orjson.loads((await call(controller, RequestCode.GET_ALL_PRODUCER_INFO)).body or b"")
    assert info["data"]["PG"][0]["remoteIP"] == "/10.0.0.7:40000"
    await call(controller, RequestCode.UNREGISTER_CLIENT, {"clientID": "10.0.0.7@9", "producerGroup": "PG"}, conn=conn)
    gone = await call(controller, RequestCode.GET_PRODUCER_CONNECTION_LIST, {"producerGroup": "PG"})
    assert gone.code == ResponseCode.SYSTEM_ERROR


async def test_connection_close_forgets_clients(controller: BrokerController) -> None:
    a, b = FakeConnection("a:1"), FakeConnection("b:2")
    await beat(controller, a, heartbeat("A@1", producers=("PG",), consumers={G: [subscription("T")]}))
    await beat(controller, b, heartbeat("B@1", consumers={G: [subscription("T")]}))
    controller.on_connection_closed(a)
    ids = await call(controller, RequestCode.GET_CONSUMER_LIST_BY_GROUP, {"consumerGroup": G})
    assert orjson.loads(ids.body or b"")["consumerIdList"] == ["B@1"]
    assert (await call(controller, RequestCode.GET_PRODUCER_CONNECTION_LIST, {"producerGroup": "PG"})).code == 0
    assert controller.producers.connections("PG") == []


async def test_query_topic_consume_by_who_merges_live_groups_and_offsets(controller: BrokerController) -> None:
    await beat(controller, FakeConnection("a:1"), heartbeat("A@1", consumers={"live": [subscription("T")]}))
    ext = {"consumerGroup": "offline", "topic": "T", "queueId": "0", "commitOffset": "5"}
    await call(controller, RequestCode.UPDATE_CONSUMER_OFFSET, ext)
    reply = await call(controller, RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, {"topic": "T"})
    assert sorted(orjson.loads(reply.body or b"")["groupList"]) == ["live", "offline"]


def check_body(sub: str) -> bytes:
    return b'{"clientId":"c@1","group":"' + G.encode() + b'","subscriptionData":' + sub.encode() + b"}"


async def test_check_client_config(clock: Clock) -> None:
    controller = make_controller(clock)
    ok = await call(controller, RequestCode.CHECK_CLIENT_CONFIG, body=check_body(subscription("T", "TagA")))
    assert ok.code == ResponseCode.SUCCESS
    sql = check_body(subscription("T", "a > 1", expression_type="SQL92"))
    refused = await call(controller, RequestCode.CHECK_CLIENT_CONFIG, body=sql)
    assert (refused.code, refused.remark) == (
        ResponseCode.SYSTEM_ERROR,
        "The broker does not support consumer to filter message by SQL92",
    )

    enabled = make_controller(clock, enable_property_filter=True)
    assert (await call(enabled, RequestCode.CHECK_CLIENT_CONFIG, body=sql)).code == ResponseCode.SUCCESS
    bad = check_body(subscription("T", "a > 1 AND", expression_type="SQL92"))
    reply = await call(enabled, RequestCode.CHECK_CLIENT_CONFIG, body=bad)
    assert reply.code == ResponseCode.SUBSCRIPTION_PARSE_FAILED
    assert (reply.remark or "").startswith(
        'org.apache.rocketmq.filter.parser.ParseException: Encountered "<EOF>" at line 1, column 9.'
    )
    semantic = check_body(subscription("T", "NOT a > 1", expression_type="SQL92"))
    reply = await call(enabled, RequestCode.CHECK_CLIENT_CONFIG, body=semantic)
    assert reply.remark == "java.lang.RuntimeException: Value '(NOT a)' cannot be compared."
    unknown = check_body(subscription("T", "a > 1", expression_type="XPATH"))
    reply = await call(enabled, RequestCode.CHECK_CLIENT_CONFIG, body=unknown)
    assert reply.code == ResponseCode.SUBSCRIPTION_PARSE_FAILED and "FilterFactory.get" in (reply.remark or "")
    # a heartbeat is never refused for its expression (Java compiles it in the REGISTER listener and logs)
    bad_sub = subscription("T", "a >", expression_type="SQL92")
    beat = await call(enabled, RequestCode.HEART_BEAT, body=heartbeat("c@1", consumers={G: [bad_sub]}))
    assert beat.code == ResponseCode.SUCCESS
    assert enabled.consumers.filters.get("T", G) is None
