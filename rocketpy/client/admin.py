"""An async admin client: the NameServer and broker calls behind mqadmin (tools.admin.DefaultMQAdminExtImpl and
client.impl.MQClientAPIImpl).

Every call sends one request and turns a non-SUCCESS answer into `RocketMQError(code, remark)`, as MQClientAPIImpl
throws MQClientException / MQBrokerException with the response code and remark. NameServer calls go to the first
address that answers, in the order given (Java picks one at random; scripts see the same data either way).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import trio

from rocketpy.client.acl import SessionCredentials
from rocketpy.common import fastjson
from rocketpy.common import properties as java_properties
from rocketpy.common.java import java_hash_order
from rocketpy.protocol.acl_headers import CreateAccessConfigRequestHeader
from rocketpy.protocol.bodies.cluster import ClusterInfo
from rocketpy.protocol.bodies.consumer import ConsumerConnection, GroupList, ProducerConnection
from rocketpy.protocol.bodies.kv import KVTable
from rocketpy.protocol.bodies.route import TopicRouteData
from rocketpy.protocol.bodies.subscription_group import SubscriptionGroupConfig, SubscriptionGroupWrapper
from rocketpy.protocol.bodies.topic_config import TopicConfig
from rocketpy.protocol.bodies.topic_list import TopicList
from rocketpy.protocol.codes import LanguageCode, RequestCode, ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.message_headers import (
    PullMessageRequestHeader,
    PullMessageResponseHeader,
    SendMessageRequestHeaderV2,
    SendMessageResponseHeader,
)
from rocketpy.protocol.message_record import MessageExt, decode_all
from rocketpy.remoting.client import RemotingClient
from rocketpy.remoting.command import RemotingCommand

DEFAULT_TIMEOUT = 5.0  # DefaultMQAdminExt's timeoutMillis
# MQClientAPIImpl.processSendResponse: the codes a sync send reports as a send status instead of an exception
SEND_OK_CODES = {
    ResponseCode.SUCCESS: "SEND_OK",
    ResponseCode.FLUSH_DISK_TIMEOUT: "FLUSH_DISK_TIMEOUT",
    ResponseCode.FLUSH_SLAVE_TIMEOUT: "FLUSH_SLAVE_TIMEOUT",
    ResponseCode.SLAVE_NOT_AVAILABLE: "SLAVE_NOT_AVAILABLE",
}
# MQClientAPIImpl.processPullResponse: the codes that become a PullStatus instead of an exception
PULL_CODES = {
    ResponseCode.SUCCESS: "FOUND",
    ResponseCode.PULL_NOT_FOUND: "NO_NEW_MSG",
    ResponseCode.PULL_RETRY_IMMEDIATELY: "NO_MATCHED_MSG",
    ResponseCode.PULL_OFFSET_MOVED: "OFFSET_ILLEGAL",
}


class AdminClient:
    """`async with AdminClient(["127.0.0.1:9876"]) as admin:`; one connection per address, reused."""

    def __init__(
        self,
        namesrv_addrs: Sequence[str],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        credentials: SessionCredentials | None = None,
    ) -> None:
        if not namesrv_addrs:
            raise ValueError("no NameServer address: give -n ADDR or set NAMESRV_ADDR")
        self.namesrv_addrs = list(namesrv_addrs)
        self.timeout = timeout
        self.credentials = credentials  # mqadmin's AclClientRPCHook from tools.yml: every request is signed
        self._remoting = RemotingClient()

    async def __aenter__(self) -> AdminClient:
        await self._remoting.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> bool | None:
        return await self._remoting.__aexit__(*exc)

    # -- transport ---------------------------------------------------------------------------------------------

    def request(self, code: int, ext: Mapping[str, str] | None = None, body: bytes | None = None) -> RemotingCommand:
        """A request command, signed as AclClientRPCHook.doBeforeRequest does when there are credentials."""
        fields = dict(ext) if ext else {}
        if self.credentials is not None:
            self.credentials.sign(fields, body)
        return RemotingCommand.request(code, fields or None, body)

    async def _invoke(self, addr: str, request: RemotingCommand, timeout: float) -> RemotingCommand:
        """One request, its transport failures as MQClientAPIImpl words them (RemotingTimeoutException,
        RemotingConnectException), both as SYSTEM_ERROR."""
        try:
            return await self._remoting.invoke(addr, request, timeout)
        except trio.TooSlowError:
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, f"wait response on the channel <{addr}> timeout") from None
        except OSError as exc:
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, f"connect to <{addr}> failed: {exc}") from None

    async def call(
        self,
        addr: str,
        code: int,
        ext: Mapping[str, str] | None = None,
        body: bytes | None = None,
        *,
        broker_error: bool = False,
    ) -> RemotingCommand:
        """One request; SUCCESS answers are returned, anything else raises RocketMQError(code, remark).

        `broker_error`: the calls where MQClientAPIImpl throws MQBrokerException(code, remark, addr), whose message
        ends with " BROKER: addr"."""
        response = await self._invoke(addr, self.request(code, ext, body), self.timeout)
        if response.code != ResponseCode.SUCCESS:
            remark = f"{response.remark} BROKER: {addr}" if broker_error else response.remark
            raise RocketMQError(response.code, remark)
        return response

    async def call_namesrv(
        self, code: int, ext: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> RemotingCommand:
        """To the first NameServer that can be reached (a refusal from a reachable one is final)."""
        last: RocketMQError | None = None
        for addr in self.namesrv_addrs:
            try:
                return await self.call(addr, code, ext, body)
            except RocketMQError as exc:
                if not (exc.remark or "").startswith(("connect to <", "wait response")):
                    raise
                last = exc
        assert last is not None
        raise last

    # -- NameServer ----------------------------------------------------------------------------------------------

    async def cluster_info(self) -> ClusterInfo:
        return ClusterInfo.from_json(_body(await self.call_namesrv(RequestCode.GET_BROKER_CLUSTER_INFO)))

    async def topic_list(self) -> TopicList:
        reply = await self.call_namesrv(RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER)
        return TopicList.from_json(_body(reply))

    async def topic_route(self, topic: str) -> TopicRouteData:
        reply = await self.call_namesrv(RequestCode.GET_ROUTEINFO_BY_TOPIC, {"topic": topic})
        return TopicRouteData.from_json(_body(reply))

    async def topic_route_raw(self, topic: str) -> Any:
        """The route as the NameServer encoded it (kept as parsed fastjson, for printing)."""
        reply = await self.call_namesrv(RequestCode.GET_ROUTEINFO_BY_TOPIC, {"topic": topic})
        return fastjson.loads(_body(reply) or b"{}")

    async def namesrv_config(self, addr: str) -> dict[str, str]:
        return _properties(_body(await self.call(addr, RequestCode.GET_NAMESRV_CONFIG)))

    async def update_namesrv_config(self, addr: str, properties: Mapping[str, str]) -> None:
        await self.call(addr, RequestCode.UPDATE_NAMESRV_CONFIG, body=java_properties.dumps(properties).encode())

    async def put_kv_config(self, namespace: str, key: str, value: str) -> None:
        """createAndUpdateKvConfig: every NameServer, as MQClientAPIImpl.putKVConfigValue."""
        for addr in self.namesrv_addrs:
            await self.call(addr, RequestCode.PUT_KV_CONFIG, {"namespace": namespace, "key": key, "value": value})

    async def get_kv_config(self, namespace: str, key: str) -> str | None:
        reply = await self.call_namesrv(RequestCode.GET_KV_CONFIG, {"namespace": namespace, "key": key})
        return (reply.ext_fields or {}).get("value")

    async def delete_kv_config(self, namespace: str, key: str) -> None:
        for addr in self.namesrv_addrs:
            await self.call(addr, RequestCode.DELETE_KV_CONFIG, {"namespace": namespace, "key": key})

    async def wipe_write_perm(self, addr: str, broker_name: str) -> int:
        reply = await self.call(addr, RequestCode.WIPE_WRITE_PERM_OF_BROKER, {"brokerName": broker_name})
        return int((reply.ext_fields or {}).get("wipeTopicCount", "0"))

    async def add_write_perm(self, addr: str, broker_name: str) -> int:
        reply = await self.call(addr, RequestCode.ADD_WRITE_PERM_OF_BROKER, {"brokerName": broker_name})
        return int((reply.ext_fields or {}).get("addTopicCount", "0"))

    async def delete_topic_in_namesrv(self, topic: str, cluster: str | None = None) -> None:
        ext = {"topic": topic} if cluster is None else {"topic": topic, "clusterName": cluster}
        for addr in self.namesrv_addrs:
            await self.call(addr, RequestCode.DELETE_TOPIC_IN_NAMESRV, ext)

    # -- brokers -------------------------------------------------------------------------------------------------

    async def create_topic(self, broker_addr: str, config: TopicConfig) -> None:
        ext = {
            "topic": config.topic_name or "",
            "defaultTopic": "TBW102",
            "readQueueNums": str(config.read_queue_nums),
            "writeQueueNums": str(config.write_queue_nums),
            "perm": str(config.perm),
            "topicFilterType": config.topic_filter_type.name,
            "topicSysFlag": str(config.topic_sys_flag),
            "order": "true" if config.order else "false",
        }
        await self.call(broker_addr, RequestCode.UPDATE_AND_CREATE_TOPIC, ext)

    async def delete_topic_in_broker(self, broker_addr: str, topic: str) -> None:
        await self.call(broker_addr, RequestCode.DELETE_TOPIC_IN_BROKER, {"topic": topic})

    async def create_subscription_group(self, broker_addr: str, config: SubscriptionGroupConfig) -> None:
        await self.call(broker_addr, RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, body=config.to_json())

    async def delete_subscription_group(self, broker_addr: str, group: str, remove_offset: bool) -> None:
        ext = {"groupName": group, "removeOffset": "true" if remove_offset else "false"}
        await self.call(broker_addr, RequestCode.DELETE_SUBSCRIPTIONGROUP, ext)

    async def broker_config(self, broker_addr: str) -> dict[str, str]:
        return _properties(_body(await self.call(broker_addr, RequestCode.GET_BROKER_CONFIG, broker_error=True)))

    async def update_broker_config(self, broker_addr: str, properties: Mapping[str, str]) -> None:
        await self.call(
            broker_addr,
            RequestCode.UPDATE_BROKER_CONFIG,
            body=java_properties.dumps(properties).encode(),
            broker_error=True,
        )

    async def broker_runtime_info(self, broker_addr: str) -> dict[str, str]:
        return KVTable.from_json(
            _body(await self.call(broker_addr, RequestCode.GET_BROKER_RUNTIME_INFO, broker_error=True))
        ).table

    async def topic_stats(self, broker_addr: str, topic: str) -> Any:
        """GET_TOPIC_STATS_INFO: the TopicStatsTable as parsed fastjson (MessageQueue object keys)."""
        reply = await self.call(broker_addr, RequestCode.GET_TOPIC_STATS_INFO, {"topic": topic}, broker_error=True)
        return fastjson.loads(_body(reply) or b"{}")

    async def topic_consumed_by(self, broker_addr: str, topic: str) -> list[str]:
        """QUERY_TOPIC_CONSUME_BY_WHO: the groups of a GroupList body."""
        reply = await self.call(
            broker_addr, RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, {"topic": topic}, broker_error=True
        )
        return java_hash_order(GroupList.from_json(_body(reply)).group_list)

    async def consumer_connection(self, broker_addr: str, group: str) -> ConsumerConnection:
        reply = await self.call(
            broker_addr, RequestCode.GET_CONSUMER_CONNECTION_LIST, {"consumerGroup": group}, broker_error=True
        )
        return ConsumerConnection.from_json(_body(reply))

    async def producer_connection(self, broker_addr: str, group: str) -> ProducerConnection:
        reply = await self.call(
            broker_addr, RequestCode.GET_PRODUCER_CONNECTION_LIST, {"producerGroup": group}, broker_error=True
        )
        return ProducerConnection.from_json(_body(reply))

    async def consume_stats(self, broker_addr: str, group: str, topic: str | None = None) -> Any:
        """GET_CONSUME_STATS: the ConsumeStats as parsed fastjson (MessageQueue object keys)."""
        ext = {"consumerGroup": group} if topic is None else {"consumerGroup": group, "topic": topic}
        reply = await self.call(broker_addr, RequestCode.GET_CONSUME_STATS, ext, broker_error=True)
        return fastjson.loads(_body(reply) or b"{}")

    async def subscription_groups(self, broker_addr: str) -> SubscriptionGroupWrapper:
        reply = await self.call(broker_addr, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, broker_error=True)
        return SubscriptionGroupWrapper.from_json(_body(reply))

    async def send_message(
        self, broker_addr: str, header: SendMessageRequestHeaderV2, body: bytes
    ) -> tuple[int, SendMessageResponseHeader]:
        """SEND_MESSAGE_V2 (MQClientAPIImpl.sendMessage, sync): the response code (SUCCESS or one of the
        FLUSH_*_TIMEOUT / SLAVE_NOT_AVAILABLE codes Java maps to a send status) and the response header."""
        request = self.request(RequestCode.SEND_MESSAGE_V2, header.to_ext(), body)
        response = await self._invoke(broker_addr, request, self.timeout)
        if response.code not in SEND_OK_CODES:
            raise RocketMQError(response.code, f"{response.remark} BROKER: {broker_addr}")
        return response.code, SendMessageResponseHeader.from_ext_lenient(response.ext_fields)

    async def query_message(
        self, broker_addr: str, topic: str, key: str, max_num: int, unique: bool = False
    ) -> list[MessageExt]:
        """QUERY_MESSAGE over the whole time range (MQAdminImpl.queryMessage; `unique`: by unique key, as
        queryMessageByUniqKey); a broker's refusal is skipped, as Java only logs it."""
        ext = {
            "topic": topic,
            "key": key,
            "maxNum": str(max_num),
            "beginTimestamp": "0",
            "endTimestamp": str(2**63 - 1),
            "_UNIQUE_KEY_QUERY": "true" if unique else "false",
        }
        try:
            reply = await self.call(broker_addr, RequestCode.QUERY_MESSAGE, ext)
        except RocketMQError:
            return []
        return decode_all(_body(reply))

    async def _invoke_with_body(self, addr: str, request: RemotingCommand, timeout: float) -> RemotingCommand:
        """The calls where MQClientAPIImpl needs a body: anything but a SUCCESS with a body is an
        MQClientException(code, remark) (a bodiless SUCCESS too, with code 0)."""
        response = await self._invoke(addr, request, timeout)
        if response.code != ResponseCode.SUCCESS or response.body is None:
            raise RocketMQError(response.code, response.remark)
        return response

    # -- offsets, consume and producer stats (resetOffsetByTime, brokerConsumeStats, statsAll, ...) ---------------

    async def update_consumer_offset(self, broker_addr: str, group: str, mq: tuple[str, str, int], offset: int) -> None:
        """UPDATE_CONSUMER_OFFSET (MQClientAPIImpl.updateConsumerOffset, sync; MQBrokerException on refusal)."""
        topic, _, queue_id = mq
        ext = {"consumerGroup": group, "topic": topic, "queueId": str(queue_id), "commitOffset": str(offset)}
        await self.call(broker_addr, RequestCode.UPDATE_CONSUMER_OFFSET, ext, broker_error=True)

    async def search_offset(self, broker_addr: str, mq: tuple[str, str, int], timestamp: int) -> int:
        topic, _, queue_id = mq
        ext = {"topic": topic, "queueId": str(queue_id), "timestamp": str(timestamp)}
        reply = await self.call(broker_addr, RequestCode.SEARCH_OFFSET_BY_TIMESTAMP, ext, broker_error=True)
        return int((reply.ext_fields or {}).get("offset", "0"))

    async def max_offset(self, broker_addr: str, mq: tuple[str, str, int]) -> int:
        topic, _, queue_id = mq
        ext = {"topic": topic, "queueId": str(queue_id)}
        reply = await self.call(broker_addr, RequestCode.GET_MAX_OFFSET, ext, broker_error=True)
        return int((reply.ext_fields or {}).get("offset", "0"))

    async def reset_offset_by_time(
        self, broker_addr: str, topic: str, group: str, timestamp: int, force: bool, cplus: bool = False
    ) -> Any:
        """INVOKE_BROKER_TO_RESET_OFFSET: the ResetOffsetBody's offsetTable as parsed fastjson (MessageQueue
        keys); `cplus` sends the request with language CPP, as mqadmin -c. A SUCCESS without a body is an error
        with code 0, as in MQClientAPIImpl.invokeBrokerToResetOffset."""
        ext = {"topic": topic, "group": group, "timestamp": str(timestamp), "isForce": "true" if force else "false"}
        request = RemotingCommand.request(RequestCode.INVOKE_BROKER_TO_RESET_OFFSET, ext)
        if cplus:
            request.language = LanguageCode.CPP
        response = await self._invoke_with_body(broker_addr, request, self.timeout)
        return (fastjson.loads(bytes(response.body or b"")) or {}).get("offsetTable") or {}

    async def consume_stats_in_broker(self, broker_addr: str, is_order: bool, timeout: float) -> Any:
        """GET_BROKER_CONSUME_STATS: the ConsumeStatsList as parsed fastjson."""
        request = RemotingCommand.request(
            RequestCode.GET_BROKER_CONSUME_STATS, {"isOrder": "true" if is_order else "false"}
        )
        response = await self._invoke_with_body(broker_addr, request, timeout)
        return fastjson.loads(bytes(response.body or b"")) or {}

    async def all_producer_info(self, broker_addr: str) -> Any:
        """GET_ALL_PRODUCER_INFO: the ProducerTableInfo's data (group -> [ProducerInfo]) as parsed fastjson."""
        reply = await self.call(broker_addr, RequestCode.GET_ALL_PRODUCER_INFO, broker_error=True)
        return (fastjson.loads(_body(reply) or b"{}") or {}).get("data") or {}

    async def clean_expired_consume_queue(self, broker_addr: str) -> bool:
        await self.call(broker_addr, RequestCode.CLEAN_EXPIRED_CONSUMEQUEUE)
        return True

    async def broker_stats_data(self, broker_addr: str, stats_name: str, stats_key: str) -> Any:
        """VIEW_BROKER_STATS_DATA: the BrokerStatsData (statsMinute/Hour/Day of sum, tps, avgpt) as parsed fastjson."""
        ext = {"statsName": stats_name, "statsKey": stats_key}
        reply = await self.call(broker_addr, RequestCode.VIEW_BROKER_STATS_DATA, ext)
        if reply.body is None:
            raise RocketMQError(reply.code, reply.remark)
        return fastjson.loads(bytes(reply.body)) or {}

    async def consumer_running_info(self, broker_addr: str, group: str, client_id: str, jstack: bool) -> Any:
        """GET_CONSUMER_RUNNING_INFO relayed by the broker to the client: the ConsumerRunningInfo as parsed
        fastjson (the timeout is DefaultMQAdminExt's times 3, as getConsumerRunningInfo)."""
        ext = {"consumerGroup": group, "clientId": client_id, "jstackEnable": "true" if jstack else "false"}
        request = RemotingCommand.request(RequestCode.GET_CONSUMER_RUNNING_INFO, ext)
        response = await self._invoke_with_body(broker_addr, request, self.timeout * 3)
        return fastjson.loads(bytes(response.body or b"")) or {}

    async def all_topic_config(self, broker_addr: str) -> Any:
        """GET_ALL_TOPIC_CONFIG: the TopicConfigSerializeWrapper as parsed fastjson."""
        reply = await self.call(broker_addr, RequestCode.GET_ALL_TOPIC_CONFIG, broker_error=True)
        return fastjson.loads(_body(reply) or b"{}")

    async def all_subscription_groups_raw(self, broker_addr: str) -> Any:
        """GET_ALL_SUBSCRIPTIONGROUP_CONFIG: the SubscriptionGroupWrapper as parsed fastjson."""
        reply = await self.call(broker_addr, RequestCode.GET_ALL_SUBSCRIPTIONGROUP_CONFIG, broker_error=True)
        return fastjson.loads(_body(reply) or b"{}")

    async def system_topics_of_broker(self, broker_addr: str) -> list[str]:
        """GET_SYSTEM_TOPIC_LIST_FROM_BROKER (MQClientAPIImpl.getSystemTopicListFromBroker)."""
        reply = await self.call(broker_addr, RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_BROKER)
        return list(TopicList.from_json(_body(reply)).topic_list)

    # -- ACL (MQClientAPIImpl.createPlainAccessConfig and friends) -----------------------------------------------

    async def create_plain_access_config(self, broker_addr: str, header: CreateAccessConfigRequestHeader) -> None:
        await self.call(broker_addr, RequestCode.UPDATE_AND_CREATE_ACL_CONFIG, header.to_ext())

    async def delete_plain_access_config(self, broker_addr: str, access_key: str) -> None:
        await self.call(broker_addr, RequestCode.DELETE_ACL_CONFIG, {"accessKey": access_key})

    async def update_global_white_addrs(self, broker_addr: str, addrs: str, acl_file: str | None) -> None:
        ext = {"globalWhiteAddrs": addrs}
        if acl_file is not None:
            ext["aclFileFullPath"] = acl_file
        await self.call(broker_addr, RequestCode.UPDATE_GLOBAL_WHITE_ADDRS_CONFIG, ext)

    async def acl_version_info(self, broker_addr: str) -> dict[str, str]:
        """GET_BROKER_CLUSTER_ACL_INFO: the GetBrokerAclConfigResponseHeader's fields (clusterName, brokerName,
        brokerAddr, version, allAclFileVersion); MQBrokerException when refused."""
        reply = await self.call(broker_addr, RequestCode.GET_BROKER_CLUSTER_ACL_INFO, broker_error=True)
        return dict(reply.ext_fields or {})

    # -- messages (issue 9: the message subcommands) -------------------------------------------------------------

    async def view_message(self, broker_addr: str, commit_log_offset: int) -> MessageExt:
        """VIEW_MESSAGE_BY_ID (MQClientAPIImpl.viewMessage): the record at a commit-log offset."""
        reply = await self.call(
            broker_addr, RequestCode.VIEW_MESSAGE_BY_ID, {"offset": str(commit_log_offset)}, broker_error=True
        )
        return decode_all(_body(reply))[0]

    async def pull_message(
        self, broker_addr: str, header: PullMessageRequestHeader
    ) -> tuple[int, PullMessageResponseHeader, list[MessageExt]]:
        """PULL_MESSAGE, sync (MQClientAPIImpl.pullMessageSync): the response code (SUCCESS, PULL_NOT_FOUND,
        PULL_RETRY_IMMEDIATELY or PULL_OFFSET_MOVED; anything else raises as MQBrokerException), the header and
        the decoded messages."""
        request = RemotingCommand.request(RequestCode.PULL_MESSAGE, header.to_ext(), None)
        response = await self._invoke(broker_addr, request, self.timeout)
        if response.code not in PULL_CODES:
            raise RocketMQError(response.code, f"{response.remark} BROKER: {broker_addr}")
        reply = PullMessageResponseHeader.from_ext_lenient(response.ext_fields)
        found = decode_all(_body(response)) if response.code == ResponseCode.SUCCESS else []
        return response.code, reply, found

    async def queue_offset(self, broker_addr: str, code: int, topic: str, queue_id: int, timestamp: int = 0) -> int:
        """GET_MAX_OFFSET / GET_MIN_OFFSET / SEARCH_OFFSET_BY_TIMESTAMP (MQAdminImpl.maxOffset, minOffset,
        searchOffset): the `offset` of the answer."""
        ext = {"topic": topic, "queueId": str(queue_id)}
        if code == RequestCode.SEARCH_OFFSET_BY_TIMESTAMP:
            ext["timestamp"] = str(timestamp)
        reply = await self.call(broker_addr, code, ext, broker_error=True)
        return int((reply.ext_fields or {}).get("offset", "0"))

    async def query_consume_queue(
        self, broker_addr: str, topic: str, queue_id: int, index: int, count: int, group: str | None
    ) -> Any:
        """QUERY_CONSUME_QUEUE (MQClientAPIImpl.queryConsumeQueue): the QueryConsumeQueueResponseBody as parsed
        fastjson."""
        ext = {"topic": topic, "queueId": str(queue_id), "index": str(index), "count": str(count)}
        if group is not None:
            ext["consumerGroup"] = group
        reply = await self.call(broker_addr, RequestCode.QUERY_CONSUME_QUEUE, ext)
        return fastjson.loads(_body(reply) or b"{}")

    async def consume_message_directly(
        self, broker_addr: str, group: str, client_id: str, msg_id: str, topic: str | None = None
    ) -> Any:
        """CONSUME_MESSAGE_DIRECTLY through the broker to a live client: the ConsumeMessageDirectlyResult as parsed
        fastjson."""
        ext = {"consumerGroup": group, "clientId": client_id, "msgId": msg_id}
        if topic is not None:
            ext["topic"] = topic
        reply = await self.call(broker_addr, RequestCode.CONSUME_MESSAGE_DIRECTLY, ext)  # MQClientException
        return fastjson.loads(_body(reply) or b"{}")

    # -- what several commands share (tools.command.CommandUtil) -------------------------------------------------

    async def master_addrs_of_cluster(self, cluster: str) -> list[str] | None:
        """CommandUtil.fetchMasterAddrByClusterName: the broker id 0 address of each broker of the cluster (None
        for an unknown cluster), in the order of Java's HashSet."""
        return await self._cluster_addrs(cluster, masters_only=True)

    async def addrs_of_cluster(self, cluster: str) -> list[str] | None:
        """CommandUtil.fetchMasterAndSlaveAddrByClusterName."""
        return await self._cluster_addrs(cluster, masters_only=False)

    async def _cluster_addrs(self, cluster: str, *, masters_only: bool) -> list[str] | None:
        info = await self.cluster_info()
        names = info.cluster_addr_table.get(cluster)
        if names is None:
            return None
        addrs: set[str] = set()
        for name in names:
            data = info.broker_addr_table.get(name)
            if data is None:
                continue
            if masters_only:
                if 0 in data.broker_addrs:
                    addrs.add(data.broker_addrs[0])
            else:
                addrs.update(data.broker_addrs.values())
        return java_hash_order(addrs)


def _body(reply: RemotingCommand) -> bytes | None:
    return None if reply.body is None else bytes(reply.body)


def _properties(body: bytes | None) -> dict[str, str]:
    """A properties2String body (GET_NAMESRV_CONFIG, GET_BROKER_CONFIG) as MixAll.string2Properties reads it."""
    return java_properties.loads((body or b"").decode("utf-8", "replace"))
