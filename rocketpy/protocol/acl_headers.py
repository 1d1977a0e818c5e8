"""Command headers of the ACL admin codes 50-53 (common.protocol.header.*AccessConfig*, *GlobalWhiteAddrs*,
GetBrokerAclConfigResponseHeader). topicPerms / groupPerms are comma-separated "res=PERM" lists.

Java marks accessKey, globalWhiteAddrs and aclFileFullPath @CFNotNull, but 4.9.x's decodeCommandCustomHeader only
logs a missing one: the handlers see null (mqadmin updateGlobalWhiteAddr without -p sends no aclFileFullPath), so
they are decoded leniently here."""

from __future__ import annotations

from dataclasses import dataclass

from rocketpy.protocol.header import Header


@dataclass(slots=True, eq=False, repr=False)
class CreateAccessConfigRequestHeader(Header):
    """UPDATE_AND_CREATE_ACL_CONFIG (50)."""

    access_key: str | None = None
    secret_key: str | None = None
    white_remote_address: str | None = None
    admin: bool = False
    default_topic_perm: str | None = None
    default_group_perm: str | None = None
    topic_perms: str | None = None
    group_perms: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class DeleteAccessConfigRequestHeader(Header):
    """DELETE_ACL_CONFIG (51)."""

    access_key: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class UpdateGlobalWhiteAddrsConfigRequestHeader(Header):
    """UPDATE_GLOBAL_WHITE_ADDRS_CONFIG (53)."""

    global_white_addrs: str | None = None
    acl_file_full_path: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class GetBrokerAclConfigResponseHeader(Header):
    """The answer to GET_BROKER_CLUSTER_ACL_INFO (52): data versions only, never an account."""

    version: str
    broker_name: str
    broker_addr: str
    cluster_name: str
    all_acl_file_version: str | None = None
