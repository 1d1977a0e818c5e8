"""The Java text layouts `rocketpy admin` reproduces (fastjson PrettyFormat, printf, toString forms)."""

from __future__ import annotations

import io

from rocketpy.admin.broker_commands import subscription_group_text
from rocketpy.admin.command import front_at_least, perm_to_string, printf
from rocketpy.admin.java_format import human_time, pretty_json
from rocketpy.admin.topic_commands import topic_config_text
from rocketpy.protocol.bodies.route import BrokerData, QueueData, TopicRouteData
from rocketpy.protocol.bodies.subscription_group import SubscriptionGroupConfig
from rocketpy.protocol.bodies.topic_config import TopicConfig

# mqadmin 4.9.8 topicRoute against the Java reference (captured from the interop driver)
JAVA_ROUTE = (
    '{\n\t"brokerDatas":[\n\t\t{\n\t\t\t"brokerAddrs":{0:"127.0.0.1:12334"\n\t\t\t},\n\t\t\t"brokerName":"broker-a",'
    '\n\t\t\t"cluster":"DefaultCluster"\n\t\t}\n\t],\n\t"filterServerTable":{},\n\t"queueDatas":[\n\t\t{\n\t\t\t'
    '"brokerName":"broker-a",\n\t\t\t"perm":6,\n\t\t\t"readQueueNums":3,\n\t\t\t"topicSysFlag":0,\n\t\t\t'
    '"writeQueueNums":3\n\t\t}\n\t]\n}'
)


def test_topic_route_pretty_json_is_fastjson_pretty_format() -> None:
    route = TopicRouteData(
        queue_datas=[QueueData("broker-a", 3, 3, 6, 0)],
        broker_datas=[BrokerData("DefaultCluster", "broker-a", {0: "127.0.0.1:12334"})],
    )
    assert pretty_json(route.to_obj()) == JAVA_ROUTE


def test_printf_java_conversions() -> None:
    out = io.StringIO()
    printf(out, "%-6s|%4d|%s|%s%n", "ab", 7, True, None)
    assert out.getvalue() == "ab    |   7|true|null\n"


def test_small_java_helpers() -> None:
    assert front_at_least("abcdef", 3) == "abc" and front_at_least("ab", 3) == "ab"
    assert [perm_to_string(p) for p in (6, 4, 2, 7, 0)] == ["RW-", "R--", "-W-", "RWX", "---"]
    assert human_time(1_700_000_000_123).endswith(",123")


def test_to_string_forms() -> None:
    config = TopicConfig(topic_name="T", read_queue_nums=3, write_queue_nums=3)
    assert topic_config_text(config) == (
        "TopicConfig [topicName=T, readQueueNums=3, writeQueueNums=3, perm=RW-, topicFilterType=SINGLE_TAG, "
        "topicSysFlag=0, order=false]"
    )
    group = SubscriptionGroupConfig(group_name="G", consume_from_min_enable=False, consume_broadcast_enable=False)
    assert subscription_group_text(group) == (
        "SubscriptionGroupConfig [groupName=G, consumeEnable=true, consumeFromMinEnable=false, "
        "consumeBroadcastEnable=false, retryQueueNums=1, retryMaxTimes=16, brokerId=0, whichBrokerWhenConsumeSlowly=1, "
        "notifyConsumerIdsChangedEnable=true]"
    )


def test_allocate_averagely_and_message_queue_hash() -> None:
    from rocketpy.admin.topic_commands import allocate_averagely, message_queue_hash

    queues = ["q0", "q1", "q2", "q3"]
    clients = ["a", "b", "c"]
    assert [allocate_averagely(c, queues, clients) for c in clients] == [["q0", "q1"], ["q2"], ["q3"]]
    assert allocate_averagely("x", ["q0"], ["x", "y"]) == ["q0"] and allocate_averagely("y", ["q0"], ["x", "y"]) == []
    # MessageQueue("T", "b", 0).hashCode() == 31 * (31 * (31 + "b".hashCode()) + 0) + "T".hashCode()
    assert message_queue_hash("T", "b", 0) == (31 * (31 * (31 + 98)) + 84) & 0xFFFFFFFF
