"""What one request asks for: PlainAccessValidator.parse (4.9.8).

The client address without its port, the code, AccessKey / Signature / SecurityToken from extFields, the resources
and permissions the code needs, and the signed content. A request without extFields carries no key at all (only a
global white address lets it through).
"""

from __future__ import annotations

from dataclasses import dataclass

from rocketpy.broker.acl.errors import AT_PARSE, AclError
from rocketpy.broker.acl.permission import PUB, SUB, is_retry_topic, retry_topic
from rocketpy.protocol.acl_signature import ACCESS_KEY, SECURITY_TOKEN, SIGNATURE, request_content
from rocketpy.protocol.bodies.heartbeat import HeartbeatData
from rocketpy.protocol.codes import RequestCode
from rocketpy.remoting.command import RemotingCommand


@dataclass(slots=True)
class AccessRequest:
    remote_ip: str | None
    code: int
    access_key: str | None = None
    signature: str | None = None
    token: str | None = None
    resources: dict[str, int] | None = None  # None: the code names no resource
    content: bytes = b""

    def add(self, resource: str | None, perm: int) -> None:
        if resource is None:
            return
        if self.resources is None:
            self.resources = {}
        self.resources[resource] = perm


def _resources(cmd: RemotingCommand, ext: dict[str, str]) -> list[tuple[str | None, int]]:
    code = cmd.code
    if code in (RequestCode.SEND_MESSAGE, RequestCode.SEND_MESSAGE_V2):
        topic_key, group_key = ("topic", "group") if code == RequestCode.SEND_MESSAGE else ("b", "a")
        topic = ext.get(topic_key)
        if is_retry_topic(topic):
            return [(retry_topic(ext.get(group_key)), SUB)]
        return [(topic, PUB)]
    if code == RequestCode.CONSUMER_SEND_MSG_BACK:
        return [(retry_topic(ext.get("group")), SUB)]
    if code == RequestCode.PULL_MESSAGE:
        return [(ext.get("topic"), SUB), (retry_topic(ext.get("consumerGroup")), SUB)]
    if code == RequestCode.QUERY_MESSAGE:
        return [(ext.get("topic"), SUB)]
    if code == RequestCode.HEART_BEAT:
        out: list[tuple[str | None, int]] = []
        for consumer in HeartbeatData.from_json(cmd.body).consumer_data_set:
            out.append((retry_topic(consumer.group_name), SUB))
            out.extend((sub.topic, SUB) for sub in consumer.subscription_data_set)
        return out
    if code in (RequestCode.UNREGISTER_CLIENT, RequestCode.GET_CONSUMER_LIST_BY_GROUP):
        # decodeCommandCustomHeader in 4.9.x only logs a missing field: the group is then null and names nothing
        return [(retry_topic(ext.get("consumerGroup")), SUB)]
    if code == RequestCode.UPDATE_CONSUMER_OFFSET:
        return [(retry_topic(ext.get("consumerGroup")), SUB), (ext.get("topic"), SUB)]
    return []


def parse_request(cmd: RemotingCommand, remote_addr: str | None) -> AccessRequest:
    """PlainAccessValidator.parse: an AclError (thrown at parse) when the code's body or header cannot be read."""
    ip = remote_addr[: remote_addr.rfind(":")] if remote_addr and ":" in remote_addr else remote_addr
    request = AccessRequest(remote_ip=ip, code=cmd.code)
    ext = cmd.ext_fields
    if ext is None:
        return request
    request.access_key = ext.get(ACCESS_KEY)
    request.signature = ext.get(SIGNATURE)
    request.token = ext.get(SECURITY_TOKEN)
    try:
        for resource, perm in _resources(cmd, ext):
            request.add(resource, perm)
    except Exception as exc:
        raise AclError(str(exc), AT_PARSE) from exc
    request.content = request_content(ext, cmd.body, null_keys=cmd.null_ext_keys)
    return request
