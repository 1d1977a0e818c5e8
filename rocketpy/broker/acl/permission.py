"""Permission bits and their parsing (acl.common.Permission, AclConstants).

DENY=1, ANY=2, PUB=4, SUB=8. A perm string other than PUB, SUB, PUB|SUB, SUB|PUB or DENY is DENY (parsing is lenient
when a file is loaded; UPDATE_AND_CREATE_ACL_CONFIG checks the strings first). Group resources are kept under their
retry topic, so `%RETRY%g` in a request is checked against the groupPerms of `g`.
"""

from __future__ import annotations

from collections.abc import Iterable

from rocketpy.broker.acl.errors import AclError
from rocketpy.protocol.codes import RequestCode

DENY = 1
ANY = 1 << 1
PUB = 1 << 2
SUB = 1 << 3

RETRY_GROUP_TOPIC_PREFIX = "%RETRY%"

# Permission.ADMIN_CODE: refused to accounts without admin: true.
ADMIN_CODES = frozenset(
    {
        int(RequestCode.UPDATE_AND_CREATE_TOPIC),
        int(RequestCode.UPDATE_BROKER_CONFIG),
        int(RequestCode.DELETE_TOPIC_IN_BROKER),
        int(RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP),
        int(RequestCode.DELETE_SUBSCRIPTIONGROUP),
    }
)


def check_permission(needed: int, owned: int) -> bool:
    if owned & DENY:
        return False
    if needed & ANY:
        return bool(owned & PUB) or bool(owned & SUB)
    return bool(needed & owned)


def parse_perm(text: str | None) -> int:
    """Permission.parsePermFromString."""
    if text is None:
        return DENY
    value = text.strip()
    if value == "PUB":
        return PUB
    if value == "SUB":
        return SUB
    if value in ("PUB|SUB", "SUB|PUB"):
        return PUB | SUB
    return DENY


def java_split(text: str, sep: str) -> list[str]:
    """commons-lang StringUtils.split(text, sepChars): separators are characters, empty tokens are dropped."""
    tokens: list[str] = []
    current: list[str] = []
    for ch in text:
        if ch in sep:
            if current:
                tokens.append("".join(current))
                current = []
        else:
            current.append(ch)
    if current:
        tokens.append("".join(current))
    return tokens


def is_retry_topic(topic: str | None) -> bool:
    return topic is not None and topic.startswith(RETRY_GROUP_TOPIC_PREFIX)


def retry_topic(group: str | None) -> str | None:
    return None if group is None else RETRY_GROUP_TOPIC_PREFIX + group


def print_resource(resource: str, is_group: bool) -> str:
    """PlainAccessResource.printStr."""
    return f"group:{resource[len(RETRY_GROUP_TOPIC_PREFIX) :]}" if is_group else f"topic:{resource}"


def parse_resource_perms(resources: Iterable[str] | None, is_topic: bool, into: dict[str, int]) -> None:
    """Permission.parseResourcePerms: "res=PERM" entries; group names are stored as their retry topic."""
    for resource in resources or ():
        items = java_split(str(resource), "=")
        if len(items) != 2:
            kind = "topic" if is_topic else "group"
            raise AclError(f"Parse resource permission failed for {kind}:{resource}")
        name = items[0].strip()
        into[name if is_topic else RETRY_GROUP_TOPIC_PREFIX + name] = parse_perm(items[1].strip())


def check_resource_perms(resources: Iterable[str] | None) -> None:
    """Permission.checkResourcePerms: the strict check UPDATE_AND_CREATE_ACL_CONFIG applies."""
    for resource in resources or ():
        items = java_split(resource, "=")
        if len(items) != 2:
            raise AclError(
                f"Parse Resource format error for {resource}.\n"
                "The expected resource format is 'Res=Perm'. For example: topicA=SUB"
            )
        perm = items[1].strip()
        if perm != "DENY" and parse_perm(perm) == DENY:
            raise AclError(
                f"Parse resource permission error for {resource}.\n"
                "The expected permissions are 'SUB' or 'PUB' or 'SUB|PUB' or 'PUB|SUB'."
            )
