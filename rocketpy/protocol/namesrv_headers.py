"""Command headers of the NameServer requests (common.protocol.header.namesrv.* and GetTopicsByClusterRequestHeader).

Field names camel-case to the Java field names. A field without a default is @CFNotNull in Java: a request missing
it is refused with SYSTEM_ERROR "the custom field <name> is null", as RemotingCommand.decodeCommandCustomHeader
does. Nullable response fields (haServerAddr, masterAddr, value) are omitted when None, as Java omits nulls; the
@CFNotNull response fields (wipeTopicCount, addTopicCount, changed) are always present.
"""

from __future__ import annotations

from dataclasses import dataclass

from rocketpy.protocol.header import Header


@dataclass(slots=True)
class PutKVConfigRequestHeader(Header):
    namespace: str
    key: str
    value: str


@dataclass(slots=True)
class GetKVConfigRequestHeader(Header):
    namespace: str
    key: str


@dataclass(slots=True)
class GetKVConfigResponseHeader(Header):
    value: str | None = None


@dataclass(slots=True)
class DeleteKVConfigRequestHeader(Header):
    namespace: str
    key: str


@dataclass(slots=True)
class GetKVListByNamespaceRequestHeader(Header):
    namespace: str


@dataclass(slots=True)
class RegisterBrokerRequestHeader(Header):
    broker_name: str
    broker_addr: str
    cluster_name: str
    ha_server_addr: str
    broker_id: int
    compressed: bool = False
    body_crc32: int = 0


@dataclass(slots=True)
class RegisterBrokerResponseHeader(Header):
    ha_server_addr: str | None = None
    master_addr: str | None = None


@dataclass(slots=True)
class UnRegisterBrokerRequestHeader(Header):
    broker_name: str
    broker_addr: str
    cluster_name: str
    broker_id: int


@dataclass(slots=True)
class GetRouteInfoRequestHeader(Header):
    topic: str
    accept_standard_json_only: bool | None = None


@dataclass(slots=True)
class WipeWritePermOfBrokerRequestHeader(Header):
    broker_name: str


@dataclass(slots=True)
class WipeWritePermOfBrokerResponseHeader(Header):
    wipe_topic_count: int


@dataclass(slots=True)
class AddWritePermOfBrokerRequestHeader(Header):
    broker_name: str


@dataclass(slots=True)
class AddWritePermOfBrokerResponseHeader(Header):
    add_topic_count: int


@dataclass(slots=True)
class DeleteTopicFromNamesrvRequestHeader(Header):
    topic: str
    cluster_name: str | None = None


@dataclass(slots=True)
class GetTopicsByClusterRequestHeader(Header):
    cluster: str


@dataclass(slots=True)
class QueryDataVersionRequestHeader(Header):
    broker_name: str
    broker_addr: str
    cluster_name: str
    broker_id: int


@dataclass(slots=True)
class QueryDataVersionResponseHeader(Header):
    changed: bool


@dataclass(slots=True)
class RegisterOrderTopicRequestHeader(Header):
    """Defined in Java (REGISTER_ORDER_TOPIC) but handled by no 4.9.8 processor; kept for completeness."""

    topic: str
    order_topic_string: str
