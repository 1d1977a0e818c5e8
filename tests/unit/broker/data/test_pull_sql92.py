"""PULL_MESSAGE with SQL92 subscriptions (PullMessageProcessor + ExpressionMessageFilter, 4.9.8)."""

from __future__ import annotations

from rocketpy.broker.consumer_filter import ConsumerFilterManager
from rocketpy.protocol.bodies.heartbeat import SubscriptionData
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.store.format import decode_records
from tests.unit.broker.conftest import heartbeat, subscription
from tests.unit.broker.data.conftest import CONSUMER, DataPlane, PlaneFactory, client_properties, pull_ext

PULL = RequestCode.PULL_MESSAGE
PROPS = [{"a": "1"}, {"a": "5", "s": "x"}, {"a": "10"}, {}, {"a": "abc"}, {"a": "7", "s": "y"}]


async def fill(plane: DataPlane) -> None:
    for i, extra in enumerate(PROPS):
        props = client_properties(f"Tag{i % 2}", **extra)
        reply = await plane.send_one("TopicTest", f"m{i}".encode(), queue_id=0, properties=props)
        assert reply.code == ResponseCode.SUCCESS


async def pulled(plane: DataPlane, **kw: object) -> tuple[int, str, list[int]]:
    reply = await plane.call(PULL, pull_ext("G1", "TopicTest", 0, 0, **kw), conn=CONSUMER)  # type: ignore[arg-type]
    offsets = [r.queue_offset for r in decode_records(bytes(reply.body or b""))] if reply.code == 0 else []
    return reply.code, reply.remark or "", offsets


async def register(plane: DataPlane, expression: str, version: int) -> None:
    sub = subscription("TopicTest", expression, expression_type="SQL92", version=version)
    reply = await plane.call(
        RequestCode.HEART_BEAT, None, heartbeat("10.0.0.8@1", consumers={"G1": [sub]}), conn=CONSUMER
    )
    assert reply.code == ResponseCode.SUCCESS  # never refused for its expression


async def test_pull_with_subscription_flag_filters_on_properties(make_plane: PlaneFactory) -> None:
    plane = make_plane(enable_property_filter=True)
    await fill(plane)
    assert await pulled(plane, subscription="a > 4", expression_type="SQL92") == (0, "FOUND", [1, 2, 5])
    assert (await pulled(plane, subscription="a IS NULL OR s = 'x'", expression_type="SQL92"))[2] == [1, 3]
    assert (await pulled(plane, subscription="TAGS = 'Tag1'", expression_type="SQL92"))[2] == [1, 3, 5]
    nothing = await pulled(plane, subscription="a > 100", expression_type="SQL92")
    assert nothing[:2] == (ResponseCode.PULL_RETRY_IMMEDIATELY, "NO_MATCHED_MESSAGE")
    # a flagged pull whose expression does not compile filters nothing: Java's assert is off in production
    assert (await pulled(plane, subscription="a >", expression_type="SQL92"))[2] == [0, 1, 2, 3, 4, 5]


async def test_heartbeat_registered_expression(make_plane: PlaneFactory) -> None:
    plane = make_plane(enable_property_filter=True)
    await fill(plane)
    await register(plane, "a BETWEEN 2 AND 9", version=100)
    assert await pulled(plane, sys_flag=0, sub_version=100) == (0, "FOUND", [1, 5])
    compiled = plane.controller.consumers.filters.get("TopicTest", "G1")
    await register(plane, "a BETWEEN 2 AND 9", version=101)  # same expression, newer version: not recompiled
    assert plane.controller.consumers.filters.get("TopicTest", "G1") is compiled
    await register(plane, "a = 10", version=102)
    assert (await pulled(plane, sys_flag=0, sub_version=102))[2] == [2]
    await register(plane, "a = ", version=103)  # a changed expression that fails removes the old one
    code, remark, _ = await pulled(plane, sys_flag=0, sub_version=103)
    assert (code, remark) == (
        ResponseCode.FILTER_DATA_NOT_EXIST,
        "The broker's consumer filter data is not exist!Your expression may be wrong!",
    )


async def test_checks_before_the_property_filter_switch(make_plane: PlaneFactory) -> None:
    plane = make_plane()  # enablePropertyFilter=false: the filter data is still registered and checked first
    await fill(plane)
    await register(plane, "a > 1", version=100)
    code, remark, _ = await pulled(plane, sys_flag=0, sub_version=100)
    assert (code, remark) == (
        ResponseCode.SYSTEM_ERROR,
        "The broker does not support consumer to filter message by SQL92",
    )
    await register(plane, "a >", version=101)
    assert (await pulled(plane, sys_flag=0, sub_version=101))[0] == ResponseCode.FILTER_DATA_NOT_EXIST


def test_filter_versions_like_filter_data_map_by_topic() -> None:
    manager = ConsumerFilterManager()

    def sub(expression: str, version: int, kind: str = "SQL92") -> SubscriptionData:
        return SubscriptionData(topic="T", sub_string=expression, expression_type=kind, sub_version=version)

    manager.register("G", [sub("a > 1", 10)])
    first = manager.get("T", "G")
    assert first is not None and first.client_version == 10
    manager.register("G", [sub("a > 2", 9)])  # an older version is ignored
    assert manager.get("T", "G") is first and first.expression == "a > 1"
    manager.register("G", [sub("a > 1", 11)])
    assert manager.get("T", "G") is first and first.client_version == 11
    manager.register("G", [sub("TagA", 12, "TAG")])  # TAG subscriptions have no filter data
    assert manager.get("T", "G") is first
    manager.register("H", [sub("(", 1)])
    assert manager.get("T", "H") is None


async def test_filter_support_retry_matches_retry_records_with_the_original_topic_filter(
    make_plane: PlaneFactory,
) -> None:
    """ExpressionForRetryMessageFilter: %RETRY%G1 (subscribed with TAG *) filtered by G1's TopicTest expression."""
    for support, expected in ((True, [1]), (False, [0, 1])):
        plane = make_plane(enable_property_filter=True, filter_support_retry=support)
        retry = subscription("%RETRY%G1", "*", version=100)
        sql = subscription("TopicTest", "a > 4", expression_type="SQL92", version=100)
        body = heartbeat("10.0.0.8@1", consumers={"G1": [sql, retry]})
        assert (await plane.call(RequestCode.HEART_BEAT, None, body, conn=CONSUMER)).code == ResponseCode.SUCCESS
        for i, a in enumerate(("1", "5")):
            props = client_properties("TagA", a=a, RETRY_TOPIC="TopicTest")
            reply = await plane.send_one("%RETRY%G1", f"r{i}".encode(), queue_id=0, properties=props)
            assert reply.code == ResponseCode.SUCCESS, reply.remark
        ext = pull_ext("G1", "%RETRY%G1", 0, 0, sys_flag=0, sub_version=100)
        reply = await plane.call(PULL, ext, conn=CONSUMER)
        assert [r.queue_offset for r in decode_records(bytes(reply.body or b""))] == expected, support
