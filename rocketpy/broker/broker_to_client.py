"""Broker-to-client calls made on behalf of an admin: broker.client.net.Broker2Client and the relay of
AdminBrokerProcessor.callConsumer (4.9.8).

Everything the broker asks of a consumer's own connection goes through here:

* `call_consumer` relays GET_CONSUMER_RUNNING_INFO (307) and CONSUME_MESSAGE_DIRECTLY (309) to the channel of
  (group, clientId), waits 10 s (callClient's invokeSync) and returns the client's answer as the admin's; a client
  not online, too old, gone mid-call or silent gets Java's SYSTEM_ERROR / CONSUME_MSG_TIMEOUT remarks.
* `reset_offset` (INVOKE_BROKER_TO_RESET_OFFSET, 222) computes the offsets by time and pushes
  RESET_CONSUMER_CLIENT_OFFSET (220) oneway to every member of the group; the clients then commit them.
* `get_consume_status` (INVOKE_BROKER_TO_GET_CONSUMER_STATUS, 223) asks each member with
  GET_CONSUMER_STATUS_FROM_CLIENT (221, 5 s) and gathers their tables.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol, cast

import trio

from rocketpy.broker.client_manager import ClientChannelInfo
from rocketpy.broker.config import BrokerSettings
from rocketpy.broker.consumer_manager import ConsumerManager
from rocketpy.broker.offsets import ConsumerOffsetManager
from rocketpy.broker.processors.offsets_stats import MQ, hash_map_order, mq_key
from rocketpy.broker.topic_config import TopicConfigManager
from rocketpy.common import fastjson
from rocketpy.common.fastjson import ObjectKey, java_hash_order
from rocketpy.protocol.admin_headers import GetConsumerStatusRequestHeader, ResetOffsetClientHeader
from rocketpy.protocol.codes import RequestCode, ResponseCode, Version
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import ConnectionClosedError, RemotingTimeoutError
from rocketpy.store.message_store import MessageStore

log = logging.getLogger("RocketmqBroker")

CALL_CLIENT_TIMEOUT = 10.0  # Broker2Client.callClient: invokeSync(channel, request, 10000)
CONSUMER_STATUS_TIMEOUT = 5.0  # Broker2Client.getConsumeStatus: invokeSync(..., 5000)
_INVOKE = "org.apache.rocketmq.remoting.netty.NettyRemotingAbstract.invokeSyncImpl(NettyRemotingAbstract.java:{})"
_NPE_STATUS = (
    "java.lang.NullPointerException, "
    "org.apache.rocketmq.broker.client.net.Broker2Client.getConsumeStatus(Broker2Client.java:243)"
)
_GONE = (ConnectionClosedError, trio.BrokenResourceError, trio.ClosedResourceError)


class ClientConnection(Protocol):
    remote_addr: str

    async def invoke(self, cmd: RemotingCommand, timeout: float) -> RemotingCommand: ...

    async def invoke_oneway(self, cmd: RemotingCommand) -> None: ...


def version_desc(version: int) -> str:
    """MQVersion.getVersionDesc: the enum name of an ordinal, the highest for a newer one."""
    try:
        return Version(version).name
    except ValueError:
        return max(Version).name if version > max(Version) else "V3_0_0_SNAPSHOT"


def timeout_desc(addr: str, timeout: float) -> str:
    """RemotingHelper.exceptionSimpleDesc of the RemotingTimeoutException invokeSyncImpl throws."""
    return (
        "org.apache.rocketmq.remoting.exception.RemotingTimeoutException: wait response on the channel "
        f"<{addr}> timeout, {int(timeout * 1000)}(ms), " + _INVOKE.format(438)
    )


def send_failed_desc(addr: str) -> str:
    """exceptionSimpleDesc of RemotingSendRequestException (the channel was closed under the call)."""
    return (
        f"org.apache.rocketmq.remoting.exception.RemotingSendRequestException: send request to <{addr}> failed, "
        + _INVOKE.format(441)
    )


def _response(code: int, remark: str | None = None, body: bytes | None = None) -> RemotingCommand:
    return RemotingCommand.response(code, remark, None, body)


def _mq(key: Any) -> MQ | None:
    if not isinstance(key, ObjectKey):
        return None
    topic, broker, queue_id = key.get("topic"), key.get("brokerName"), key.get("queueId")
    if not isinstance(topic, str) or not isinstance(broker, str) or not isinstance(queue_id, int):
        return None
    return topic, broker, queue_id


def mq_offset_map(table: dict[MQ, int]) -> dict[ObjectKey, int]:
    """A Map<MessageQueue, Long> as fastjson writes it, in HashMap order."""
    return {mq_key(mq): table[mq] for mq in hash_map_order(list(table))}


class Broker2Client:
    def __init__(
        self,
        settings: BrokerSettings,
        store: MessageStore,
        topics: TopicConfigManager,
        consumers: ConsumerManager,
        offsets: ConsumerOffsetManager,
    ) -> None:
        self.settings = settings
        self.store = store
        self.topics = topics
        self.consumers = consumers
        self.offsets = offsets

    # -- relay ---------------------------------------------------------------------------------------------------

    async def call_consumer(self, code: int, request: RemotingCommand, group: str, client_id: str) -> RemotingCommand:
        """AdminBrokerProcessor.callConsumer: the request's extFields and body, re-sent with `code`."""
        info = self.consumers.find_channel(group, client_id)
        if info is None:
            return _response(ResponseCode.SYSTEM_ERROR, f"The Consumer <{group}> <{client_id}> not online")
        if info.version < Version.V3_1_8_SNAPSHOT:
            return _response(
                ResponseCode.SYSTEM_ERROR,
                f"The Consumer <{client_id}> Version <{version_desc(info.version)}> too low to finish, please "
                "upgrade it to V3_1_8_SNAPSHOT",
            )
        body = bytes(request.body) if request.body is not None else None
        relayed = RemotingCommand.request(code, dict(request.ext_fields or {}), body)
        channel = cast(ClientConnection, info.channel)
        try:
            return await channel.invoke(relayed, CALL_CLIENT_TIMEOUT)
        except RemotingTimeoutError:
            desc = timeout_desc(channel.remote_addr, CALL_CLIENT_TIMEOUT)
            return _response(ResponseCode.CONSUME_MSG_TIMEOUT, f"consumer <{group}> <{client_id}> Timeout: {desc}")
        except _GONE:
            desc = send_failed_desc(channel.remote_addr)
            return _response(ResponseCode.SYSTEM_ERROR, f"invoke consumer <{group}> <{client_id}> Exception: {desc}")

    # -- reset offset --------------------------------------------------------------------------------------------

    async def reset_offset(self, topic: str, group: str, timestamp: int, force: bool) -> RemotingCommand:
        """Broker2Client.resetOffset (the Java client form of the body; C++ clients are not served here)."""
        config = self.topics.select(topic)
        if config is None:
            log.error("[reset-offset] reset offset failed, no topic in this broker. topic=%s", topic)
            return _response(
                ResponseCode.SYSTEM_ERROR, f"[reset-offset] reset offset failed, no topic in this broker. topic={topic}"
            )
        broker = self.settings.broker.broker_name
        table: dict[MQ, int] = {}
        for qid in range(config.write_queue_nums):
            consumer_offset = self.offsets.query(group, topic, qid)
            if consumer_offset == -1:
                return _response(ResponseCode.SYSTEM_ERROR, f"THe consumer group <{group}> not exist")
            if timestamp == -1:
                target = self.store.get_max_offset_in_queue(topic, qid)
            else:
                target = self.store.get_offset_in_queue_by_time(topic, qid, timestamp)
            if target < 0:
                log.warning("reset offset is invalid. topic=%s, queueId=%d, timeStampOffset=%d", topic, qid, target)
                target = 0
            table[(topic, broker, qid)] = target if force or target < consumer_offset else consumer_offset
        body = fastjson.dumps({"offsetTable": mq_offset_map(table)})
        header = ResetOffsetClientHeader(topic, group, timestamp).to_ext()
        group_info = self.consumers.get(group)
        members: list[ClientChannelInfo] = list(group_info.channels.values()) if group_info is not None else []
        if not members:
            remark = (
                f"Consumer not online, so can not reset offset, Group: {group} Topic: {topic} Timestamp: {timestamp}"
            )
            log.error(remark)
            return _response(ResponseCode.CONSUMER_NOT_ONLINE, remark)
        for member in members:
            if member.version < Version.V3_0_7_SNAPSHOT:
                return _response(
                    ResponseCode.SYSTEM_ERROR,
                    f"the client does not support this feature. version={version_desc(member.version)}",
                )
            request = RemotingCommand.request(RequestCode.RESET_CONSUMER_CLIENT_OFFSET, dict(header), body)
            try:
                await cast(ClientConnection, member.channel).invoke_oneway(request)
                log.info("[reset-offset] reset offset success. topic=%s, group=%s, clientId=%s", topic, group,
                         member.client_id)  # fmt: skip
            except (*_GONE, RemotingTimeoutError) as exc:
                log.error("[reset-offset] reset offset exception. topic=%s, group=%s ,error=%s", topic, group, exc)
        return _response(ResponseCode.SUCCESS, None, body)

    # -- consumer status -----------------------------------------------------------------------------------------

    async def get_consume_status(self, topic: str, group: str, client_addr: str | None) -> RemotingCommand:
        """Broker2Client.getConsumeStatus: each member's (or the named client's) offsets of `topic`."""
        group_info = self.consumers.get(group)
        if group_info is None:  # Java dereferences the missing group: the NullPointerException's description
            return _response(ResponseCode.SYSTEM_ERROR, _NPE_STATUS)
        members = list(group_info.channels.values())
        if not members:
            return _response(ResponseCode.SYSTEM_ERROR, f"No Any Consumer online in the consumer group: [{group}]")
        wanted = client_addr if client_addr is not None and client_addr.strip() else None
        header = GetConsumerStatusRequestHeader(topic, group).to_ext()
        tables: dict[str, dict[ObjectKey, int]] = {}
        for member in members:
            if member.version < Version.V3_0_7_SNAPSHOT:
                return _response(
                    ResponseCode.SYSTEM_ERROR,
                    f"the client does not support this feature. version={version_desc(member.version)}",
                )
            if wanted is not None and wanted != member.client_id:
                continue
            request = RemotingCommand.request(RequestCode.GET_CONSUMER_STATUS_FROM_CLIENT, dict(header))
            try:
                answer = await cast(ClientConnection, member.channel).invoke(request, CONSUMER_STATUS_TIMEOUT)
                if answer.code == ResponseCode.SUCCESS and answer.body is not None:
                    tables[member.client_id] = self._client_table(bytes(answer.body))
            except (*_GONE, RemotingTimeoutError, fastjson.FastJsonError) as exc:
                log.error("[get-consumer-status] get consumer status exception. topic=%s, group=%s, error=%s",
                          topic, group, exc)  # fmt: skip
            if wanted is not None:
                break
        consumer_table = {cid: tables[cid] for cid in java_hash_order(list(tables))}
        body = fastjson.dumps({"consumerTable": consumer_table, "messageQueueTable": {}})
        return _response(ResponseCode.SUCCESS, None, body)

    @staticmethod
    def _client_table(body: bytes) -> dict[ObjectKey, int]:
        """GetConsumerStatusBody.messageQueueTable of a client's answer, re-keyed in HashMap order."""
        data = fastjson.loads(body)
        raw = data.get("messageQueueTable") if isinstance(data, dict) else None
        table: dict[MQ, int] = {}
        for key, value in (raw or {}).items():
            mq = _mq(key)
            if mq is not None and isinstance(value, int):
                table[mq] = value
        return mq_offset_map(table)
