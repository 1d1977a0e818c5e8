"""Topic and group names: legal characters, lengths, and the system topics (common.topic.TopicValidator).

Java keeps the system-topic set in a static that every broker start adds to (the cluster name, the broker name,
the reply topic, the trace topic). Here each broker owns a SystemTopics object, so two brokers in one process do
not share it. Remarks are Java's, so a client sees the same text.
"""

from __future__ import annotations

import re

from rocketpy.protocol.codes import ResponseCode
from rocketpy.protocol.errors import RocketMQError

AUTO_CREATE_TOPIC_KEY_TOPIC = "TBW102"
RMQ_SYS_SCHEDULE_TOPIC = "SCHEDULE_TOPIC_XXXX"
RMQ_SYS_BENCHMARK_TOPIC = "BenchmarkTest"
RMQ_SYS_TRANS_HALF_TOPIC = "RMQ_SYS_TRANS_HALF_TOPIC"
RMQ_SYS_TRACE_TOPIC = "RMQ_SYS_TRACE_TOPIC"
RMQ_SYS_TRANS_OP_HALF_TOPIC = "RMQ_SYS_TRANS_OP_HALF_TOPIC"
RMQ_SYS_TRANS_CHECK_MAX_TIME_TOPIC = "TRANS_CHECK_MAX_TIME_TOPIC"
RMQ_SYS_SELF_TEST_TOPIC = "SELF_TEST_TOPIC"
RMQ_SYS_OFFSET_MOVED_EVENT = "OFFSET_MOVED_EVENT"
SYSTEM_TOPIC_PREFIX = "rmq_sys_"

RETRY_GROUP_TOPIC_PREFIX = "%RETRY%"  # MixAll
DLQ_GROUP_TOPIC_PREFIX = "%DLQ%"
REPLY_TOPIC_POSTFIX = "REPLY_TOPIC"
CID_RMQ_SYS_PREFIX = "CID_RMQ_SYS_"

TOPIC_MAX_LENGTH = 127
GROUP_MAX_LENGTH = 255

BASE_SYSTEM_TOPICS = frozenset(
    {
        AUTO_CREATE_TOPIC_KEY_TOPIC,
        RMQ_SYS_SCHEDULE_TOPIC,
        RMQ_SYS_BENCHMARK_TOPIC,
        RMQ_SYS_TRANS_HALF_TOPIC,
        RMQ_SYS_TRACE_TOPIC,
        RMQ_SYS_TRANS_OP_HALF_TOPIC,
        RMQ_SYS_TRANS_CHECK_MAX_TIME_TOPIC,
        RMQ_SYS_SELF_TEST_TOPIC,
        RMQ_SYS_OFFSET_MOVED_EVENT,
    }
)
NOT_ALLOWED_SEND_TOPICS = frozenset(
    {
        RMQ_SYS_SCHEDULE_TOPIC,
        RMQ_SYS_TRANS_HALF_TOPIC,
        RMQ_SYS_TRANS_OP_HALF_TOPIC,
        RMQ_SYS_TRANS_CHECK_MAX_TIME_TOPIC,
        RMQ_SYS_SELF_TEST_TOPIC,
        RMQ_SYS_OFFSET_MOVED_EVENT,
    }
)

_LEGAL = re.compile(r"[%|a-zA-Z0-9_-]*")


def retry_topic(group: str) -> str:
    return RETRY_GROUP_TOPIC_PREFIX + group


def dlq_topic(group: str) -> str:
    return DLQ_GROUP_TOPIC_PREFIX + group


def reply_topic(cluster_name: str) -> str:
    return f"{cluster_name}_{REPLY_TOPIC_POSTFIX}"


def is_sys_consumer_group(group: str) -> bool:
    return group.startswith(CID_RMQ_SYS_PREFIX)


def is_topic_or_group_illegal(name: str) -> bool:
    """TopicValidator.isTopicOrGroupIllegal: anything outside ^[%|a-zA-Z0-9_-]+$ (ASCII only)."""
    return _LEGAL.fullmatch(name) is None


def validate_topic(topic: str | None) -> None:
    """TopicValidator.validateTopic; raises SYSTEM_ERROR with Java's remark."""
    if topic is None or not topic.strip():
        raise RocketMQError(ResponseCode.SYSTEM_ERROR, "The specified topic is blank.")
    if is_topic_or_group_illegal(topic):
        raise RocketMQError(
            ResponseCode.SYSTEM_ERROR,
            "The specified topic contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$",
        )
    if len(topic) > TOPIC_MAX_LENGTH:
        raise RocketMQError(ResponseCode.SYSTEM_ERROR, "The specified topic is longer than topic max length.")


def validate_group(group: str | None) -> None:
    """Validators.checkGroup's rules, enforced on the broker before a group becomes a key or a topic name."""
    if group is None or not group.strip():
        raise RocketMQError(ResponseCode.SYSTEM_ERROR, "the specified group is blank")
    if is_topic_or_group_illegal(group):
        raise RocketMQError(
            ResponseCode.SYSTEM_ERROR,
            f"the specified group[{group}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$",
        )
    if len(group) > GROUP_MAX_LENGTH:
        raise RocketMQError(ResponseCode.SYSTEM_ERROR, "the specified group is longer than group max length 255.")


class SystemTopics:
    """One broker's TopicValidator.SYSTEM_TOPIC_SET: the base set plus the names added at start."""

    def __init__(self) -> None:
        self._topics: set[str] = set(BASE_SYSTEM_TOPICS)

    def add(self, topic: str) -> None:
        self._topics.add(topic)

    def all(self) -> set[str]:
        return set(self._topics)

    def is_system_topic(self, topic: str) -> bool:
        return topic in self._topics or topic.startswith(SYSTEM_TOPIC_PREFIX)

    def refuse_system_topic(self, topic: str) -> None:
        """TopicValidator.isSystemTopic(topic, response): SYSTEM_ERROR for create and delete requests."""
        if self.is_system_topic(topic):
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, f"The topic[{topic}] is conflict with system topic.")


def refuse_not_allowed_send(topic: str) -> None:
    """TopicValidator.isNotAllowedSendTopic(topic, response): NO_PERMISSION for sends."""
    if topic in NOT_ALLOWED_SEND_TOPICS:
        raise RocketMQError(ResponseCode.NO_PERMISSION, f"Sending message to topic[{topic}] is forbidden.")
