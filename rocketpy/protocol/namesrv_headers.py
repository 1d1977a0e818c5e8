"""Command headers of the NameServer requests (common.protocol.header.namesrv.* and GetTopicsByClusterRequestHeader).

Field names camel-case to the Java field names. Requests are decoded with `decode_request`, which does what
RemotingCommand.decodeCommandCustomHeader really does in 4.9.7 and 4.9.8: the @CFNotNull check throws inside a
per-field try/catch that only logs, so a missing or unparsable field is simply left null (or at its primitive
default) and the processor carries on with it; with no extFields at all nothing is decoded. Request fields are
therefore Optional here, and each handler deals with None as Java deals with null. Nullable response fields
(haServerAddr, masterAddr, value) are omitted when None, as Java omits nulls; the @CFNotNull response fields
(wipeTopicCount, addTopicCount, changed) are always present.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from rocketpy.protocol.header import Header

log = logging.getLogger("RocketmqRemoting")
H = TypeVar("H", bound=Header)


def decode_request(cls: type[H], ext: Mapping[str, str] | None) -> H:
    """decodeCommandCustomHeader as Java behaves: missing or unparsable fields keep their default, never an error."""
    return cls.from_ext_lenient(ext)


@dataclass(slots=True, eq=False, repr=False)
class PutKVConfigRequestHeader(Header):
    namespace: str | None = None
    key: str | None = None
    value: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class GetKVConfigRequestHeader(Header):
    namespace: str | None = None
    key: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class GetKVConfigResponseHeader(Header):
    value: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class DeleteKVConfigRequestHeader(Header):
    namespace: str | None = None
    key: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class GetKVListByNamespaceRequestHeader(Header):
    namespace: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class RegisterBrokerRequestHeader(Header):
    broker_name: str | None = None
    broker_addr: str | None = None
    cluster_name: str | None = None
    ha_server_addr: str | None = None
    broker_id: int | None = None
    compressed: bool = False
    body_crc32: int = 0


@dataclass(slots=True, eq=False, repr=False)
class RegisterBrokerResponseHeader(Header):
    ha_server_addr: str | None = None
    master_addr: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class UnRegisterBrokerRequestHeader(Header):
    broker_name: str | None = None
    broker_addr: str | None = None
    cluster_name: str | None = None
    broker_id: int | None = None


@dataclass(slots=True, eq=False, repr=False)
class GetRouteInfoRequestHeader(Header):
    topic: str | None = None
    accept_standard_json_only: bool | None = None


@dataclass(slots=True, eq=False, repr=False)
class WipeWritePermOfBrokerRequestHeader(Header):
    broker_name: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class WipeWritePermOfBrokerResponseHeader(Header):
    wipe_topic_count: int


@dataclass(slots=True, eq=False, repr=False)
class AddWritePermOfBrokerRequestHeader(Header):
    broker_name: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class AddWritePermOfBrokerResponseHeader(Header):
    add_topic_count: int


@dataclass(slots=True, eq=False, repr=False)
class DeleteTopicFromNamesrvRequestHeader(Header):
    topic: str | None = None
    cluster_name: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class GetTopicsByClusterRequestHeader(Header):
    cluster: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class QueryDataVersionRequestHeader(Header):
    broker_name: str | None = None
    broker_addr: str | None = None
    cluster_name: str | None = None
    broker_id: int | None = None


@dataclass(slots=True, eq=False, repr=False)
class QueryDataVersionResponseHeader(Header):
    changed: bool


@dataclass(slots=True, eq=False, repr=False)
class RegisterOrderTopicRequestHeader(Header):
    """Defined in Java (REGISTER_ORDER_TOPIC) but handled by no 4.9.8 processor; kept for completeness."""

    topic: str | None = None
    order_topic_string: str | None = None
