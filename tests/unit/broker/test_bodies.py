"""The broker's JSON bodies: round trips (hypothesis), fastjson's lenient reads, and hostile input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rocketpy.protocol.bodies._fields import BodyError
from rocketpy.protocol.bodies.heartbeat import (
    ConsumeFromWhere,
    ConsumerData,
    ConsumeType,
    HeartbeatData,
    MessageModel,
    SubscriptionData,
)
from rocketpy.protocol.bodies.lock import LockBatchRequestBody, LockBatchResponseBody
from rocketpy.protocol.bodies.message_queue import MessageQueue
from rocketpy.protocol.bodies.subscription_group import SubscriptionGroupConfig, SubscriptionGroupWrapper

names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)
ints = st.integers(-(2**31), 2**31 - 1)
longs = st.integers(-(2**63), 2**63 - 1)

subscriptions = st.builds(
    SubscriptionData,
    topic=names,
    sub_string=names,
    tags_set=st.sets(names, max_size=3),
    code_set=st.sets(ints, max_size=3),
    sub_version=longs,
    expression_type=st.sampled_from(["TAG", "SQL92"]),
    class_filter_mode=st.booleans(),
)
consumers = st.builds(
    ConsumerData,
    group_name=names,
    consume_type=st.sampled_from(list(ConsumeType)),
    message_model=st.sampled_from(list(MessageModel)),
    consume_from_where=st.sampled_from(list(ConsumeFromWhere)),
    subscription_data_set=st.lists(subscriptions, max_size=3),
    unit_mode=st.booleans(),
)
heartbeats = st.builds(
    HeartbeatData,
    client_id=names,
    producer_groups=st.lists(names, max_size=3),
    consumer_data_set=st.lists(consumers, max_size=3),
)
queues = st.builds(MessageQueue, topic=names, broker_name=names, queue_id=ints)


@given(heartbeats)
def test_heartbeat_round_trip(data: HeartbeatData) -> None:
    assert HeartbeatData.from_json(data.to_json()) == data


@given(st.builds(LockBatchRequestBody, consumer_group=names, client_id=names, mq_set=st.sets(queues, max_size=5)))
def test_lock_request_round_trip(body: LockBatchRequestBody) -> None:
    assert LockBatchRequestBody.from_json(body.to_json()) == body


@given(st.sets(queues, max_size=5))
def test_lock_response_round_trip(mqs: set[MessageQueue]) -> None:
    assert LockBatchResponseBody.from_json(LockBatchResponseBody(mqs).to_json()).lock_ok_mq_set == mqs


group_configs = st.builds(
    SubscriptionGroupConfig,
    group_name=names,
    consume_enable=st.booleans(),
    consume_from_min_enable=st.booleans(),
    consume_broadcast_enable=st.booleans(),
    retry_queue_nums=ints,
    retry_max_times=ints,
    broker_id=longs,
    which_broker_when_consume_slowly=longs,
    notify_consumer_ids_changed_enable=st.booleans(),
)


@given(st.dictionaries(names, group_configs, max_size=4))
def test_subscription_group_wrapper_round_trip(table: dict[str, SubscriptionGroupConfig]) -> None:
    wrapper = SubscriptionGroupWrapper(table)
    assert SubscriptionGroupWrapper.from_json(wrapper.to_json()) == wrapper


def test_fastjson_leniency_matches_java() -> None:
    # Unknown enum names bind to null, quoted numbers to ints, unknown properties are ignored.
    body = (
        b'{"clientID":"c","consumerDataSet":[{"groupName":"G","consumeType":"CONSUME_POP","messageModel":"CLUSTERING",'
        b'"subscriptionDataSet":[{"topic":"T","subVersion":"17","brandNew":1}]}],"producerDataSet":[]}'
    )
    data = HeartbeatData.from_json(body)
    consumer = data.consumer_data_set[0]
    assert consumer.consume_type is None and consumer.message_model is MessageModel.CLUSTERING
    assert consumer.subscription_data_set[0].sub_version == 17
    assert consumer.subscription_data_set[0].expression_type == "TAG"  # the Java field default


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'{"consumerDataSet":[1]}',
        b'{"consumerDataSet":[{"subscriptionDataSet":[{"codeSet":["x"]}]}]}',
        b'{"producerDataSet":"G"}',
        b"[" * 10000,
    ],
)
def test_malformed_heartbeats_raise_body_error(body: bytes) -> None:
    with pytest.raises(BodyError):
        HeartbeatData.from_json(body)
