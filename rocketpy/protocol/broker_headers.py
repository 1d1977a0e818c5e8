"""Command headers of the broker's control-plane requests (common.protocol.header.*).

Field names camel-case to the Java field names. A field without a default is @CFNotNull in Java: a request missing
it is refused with SYSTEM_ERROR "the custom field <name> is null", as RemotingCommand.decodeCommandCustomHeader
does. Headers extending RpcRequestHeader (4.9.5+) carry an optional `bname` that the broker ignores.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rocketpy.protocol.header import Header, java_name


@dataclass(slots=True, eq=False, repr=False)
class CreateTopicRequestHeader(Header):
    """UPDATE_AND_CREATE_TOPIC (17). topicFilterType is the enum name; Java's valueOf fails on anything else."""

    topic: str
    default_topic: str
    read_queue_nums: int
    write_queue_nums: int
    perm: int
    topic_filter_type: str
    order: bool = False
    topic_sys_flag: int | None = None


@dataclass(slots=True, eq=False, repr=False)
class DeleteTopicRequestHeader(Header):
    topic: str


@dataclass(slots=True, eq=False, repr=False)
class GetBrokerConfigResponseHeader(Header):
    version: str


@dataclass(slots=True, eq=False, repr=False)
class QueryConsumerOffsetRequestHeader(Header):
    consumer_group: str
    topic: str
    queue_id: int
    bname: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class QueryConsumerOffsetResponseHeader(Header):
    offset: int | None = None


@dataclass(slots=True, eq=False, repr=False)
class UpdateConsumerOffsetRequestHeader(Header):
    consumer_group: str
    topic: str
    queue_id: int
    commit_offset: int
    bname: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class GetConsumerListByGroupRequestHeader(Header):
    consumer_group: str


@dataclass(slots=True, eq=False, repr=False)
class UnregisterClientRequestHeader(Header):
    client_id: str = field(metadata=java_name("clientID"))
    producer_group: str | None = None
    consumer_group: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class NotifyConsumerIdsChangedRequestHeader(Header):
    """The header of the broker-to-client NOTIFY_CONSUMER_IDS_CHANGED (40)."""

    consumer_group: str


@dataclass(slots=True, eq=False, repr=False)
class DeleteSubscriptionGroupRequestHeader(Header):
    group_name: str
    remove_offset: bool = False


@dataclass(slots=True, eq=False, repr=False)
class GetConsumerConnectionListRequestHeader(Header):
    consumer_group: str


@dataclass(slots=True, eq=False, repr=False)
class GetProducerConnectionListRequestHeader(Header):
    producer_group: str


@dataclass(slots=True, eq=False, repr=False)
class QueryTopicConsumeByWhoRequestHeader(Header):
    topic: str
