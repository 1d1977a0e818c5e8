"""Command headers of the broker admin codes mqadmin and the dashboard send beyond the everyday ones.

Mirrors common.protocol.header.* of RocketMQ 4.9.8: ResetOffsetRequestHeader (222, 220), GetConsumerStatusRequestHeader
(223, 221), QueryConsumeTimeSpanRequestHeader (303), GetConsumerRunningInfoRequestHeader (307),
QueryCorrectionOffsetHeader (308), ConsumeMessageDirectlyResultRequestHeader (309), CloneGroupOffsetRequestHeader (314),
ViewBrokerStatsDataRequestHeader (315), GetConsumeStatsInBrokerHeader (317) and QueryConsumeQueueRequestHeader (321).
A field without a default is @CFNotNull; Java's unannotated primitives keep 0/false when absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rocketpy.protocol.header import Header, java_name


@dataclass(slots=True, eq=False, repr=False)
class ResetOffsetRequestHeader(Header):
    topic: str
    group: str
    timestamp: int
    is_force: bool = field(metadata=java_name("isForce"))


@dataclass(slots=True, eq=False, repr=False)
class ResetOffsetClientHeader(Header):
    """What Broker2Client.resetOffset sends to each consumer (isForce stays false there)."""

    topic: str
    group: str
    timestamp: int
    is_force: bool = field(default=False, metadata=java_name("isForce"))


@dataclass(slots=True, eq=False, repr=False)
class GetConsumerStatusRequestHeader(Header):
    topic: str
    group: str
    client_addr: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class QueryConsumeTimeSpanRequestHeader(Header):
    topic: str
    group: str


@dataclass(slots=True, eq=False, repr=False)
class GetConsumerRunningInfoRequestHeader(Header):
    consumer_group: str
    client_id: str
    jstack_enable: bool = False


@dataclass(slots=True, eq=False, repr=False)
class QueryCorrectionOffsetHeader(Header):
    compare_group: str
    topic: str
    filter_groups: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class ConsumeMessageDirectlyResultRequestHeader(Header):
    consumer_group: str
    client_id: str | None = None
    msg_id: str | None = None
    broker_name: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class CloneGroupOffsetRequestHeader(Header):
    src_group: str
    dest_group: str
    topic: str | None = None
    offline: bool = False


@dataclass(slots=True, eq=False, repr=False)
class ViewBrokerStatsDataRequestHeader(Header):
    stats_name: str
    stats_key: str


@dataclass(slots=True, eq=False, repr=False)
class GetConsumeStatsInBrokerHeader(Header):
    is_order: bool = field(metadata=java_name("isOrder"))


@dataclass(slots=True, eq=False, repr=False)
class QueryConsumeQueueRequestHeader(Header):
    topic: str | None = None
    queue_id: int = 0
    index: int = 0
    count: int = 0
    consumer_group: str | None = None
