"""NameServer request handlers, mirroring namesrv.processor.DefaultRequestProcessor (and ClusterTestRequestProcessor)
of RocketMQ 4.9.8: same codes, response codes, remarks, header fields and body encodings.

Handlers are `async (ctx, request) -> response`. Those that never wait are marked `inline` (they run in the read
loop and their replies are batched); the ones that persist a file run in a task of their own. Header decoding
errors surface as RocketMQError(SYSTEM_ERROR, "the custom field <x> is null") exactly as
decodeCommandCustomHeader's exception does. Blocking file writes (KV table, config file) run in a worker thread, one
at a time and always writing the newest state.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import trio

from rocketpy.common import properties
from rocketpy.common.files import write_atomically as write_file_atomically
from rocketpy.namesrv.config import ConfigUpdateRefused, NamesrvSettings, java_key
from rocketpy.namesrv.kvconfig import NAMESPACE_ORDER_TOPIC_CONFIG, KVConfigManager
from rocketpy.namesrv.route_cache import RouteCache
from rocketpy.namesrv.route_info import RouteInfo
from rocketpy.protocol.bodies import BodyError, DataVersion, RegisterBrokerBody, TopicConfigSerializeWrapper, body_crc32
from rocketpy.protocol.codes import RequestCode, ResponseCode, Version
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.header import Header
from rocketpy.protocol.namesrv_headers import (
    AddWritePermOfBrokerRequestHeader,
    AddWritePermOfBrokerResponseHeader,
    DeleteKVConfigRequestHeader,
    DeleteTopicFromNamesrvRequestHeader,
    GetKVConfigRequestHeader,
    GetKVConfigResponseHeader,
    GetKVListByNamespaceRequestHeader,
    GetTopicsByClusterRequestHeader,
    PutKVConfigRequestHeader,
    QueryDataVersionRequestHeader,
    QueryDataVersionResponseHeader,
    RegisterBrokerRequestHeader,
    RegisterBrokerResponseHeader,
    UnRegisterBrokerRequestHeader,
    WipeWritePermOfBrokerRequestHeader,
    WipeWritePermOfBrokerResponseHeader,
    decode_request,
)
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler, RequestContext, inline

log = logging.getLogger("RocketmqNamesrv")

APPLY_TOPIC_TIP = "\nSee http://rocketmq.apache.org/docs/faq/ for further details."  # FAQUrl.suggestTodo
_NPE = "java.lang.NullPointerException"
_NULL_BODY_NPE = (  # as the JDK 17 reference reports it
    'java.lang.NullPointerException: Cannot read the array length because "bytes" is null, '
    "java.base/java.lang.String.<init>(String.java:1387)"
)
# RemotingHelper.exceptionSimpleDesc of the exception registerBrokerWithFilterServer throws (4.9.8 line numbers).
_REGISTER_DECODE_FAILED = (
    "org.apache.rocketmq.remoting.exception.RemotingCommandException: Failed to decode RegisterBrokerBody, "
    "org.apache.rocketmq.namesrv.processor.DefaultRequestProcessor.registerBrokerWithFilterServer("
    "DefaultRequestProcessor.java:241)"
)


def _ok(header: Header | None = None, body: bytes | None = None) -> RemotingCommand:
    """A SUCCESS reply; with a response header class Java always sends extFields, `{}` when every field is null
    (RemotingCommand.makeCustomHeaderToNet)."""
    ext = header.to_ext() if header is not None else None
    return RemotingCommand.response(ResponseCode.SUCCESS, None, ext, body)


def _body(request: RemotingCommand) -> bytes | None:
    """Java's decoder yields a null body for a zero-length one."""
    return bytes(request.body) if request.body else None


_V4_9_4 = int(Version.V4_9_4)


class NamesrvProcessor:
    """The handler table of a NameServer; state lives in RouteInfo, KVConfigManager and NamesrvSettings."""

    def __init__(
        self,
        route_info: RouteInfo,
        kv: KVConfigManager,
        settings: NamesrvSettings,
        clock: Callable[[], float],
        config_store_path: str | None = None,
    ) -> None:
        self.route_info = route_info
        self.kv = kv
        self.settings = settings
        self.clock = clock
        # The path is fixed at start-up; no request can move it (CVE-2023-37582).
        self.config_store_path = Path(config_store_path or settings.namesrv.config_store_path)
        self._write_lock = trio.Lock()
        self._routes = RouteCache()  # GET_ROUTEINFO_BY_TOPIC answers, encoded

    def handlers(self) -> dict[int, Handler]:
        return {
            RequestCode.PUT_KV_CONFIG: self.put_kv_config,
            RequestCode.GET_KV_CONFIG: self.get_kv_config,
            RequestCode.DELETE_KV_CONFIG: self.delete_kv_config,
            RequestCode.QUERY_DATA_VERSION: self.query_data_version,
            RequestCode.REGISTER_BROKER: self.register_broker,
            RequestCode.UNREGISTER_BROKER: self.unregister_broker,
            RequestCode.GET_ROUTEINFO_BY_TOPIC: self.get_route_info_by_topic,
            RequestCode.GET_BROKER_CLUSTER_INFO: self.get_broker_cluster_info,
            RequestCode.WIPE_WRITE_PERM_OF_BROKER: self.wipe_write_perm_of_broker,
            RequestCode.ADD_WRITE_PERM_OF_BROKER: self.add_write_perm_of_broker,
            RequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER: self.get_all_topic_list,
            RequestCode.DELETE_TOPIC_IN_NAMESRV: self.delete_topic_in_namesrv,
            RequestCode.GET_KVLIST_BY_NAMESPACE: self.get_kv_list_by_namespace,
            RequestCode.GET_TOPICS_BY_CLUSTER: self.get_topics_by_cluster,
            RequestCode.GET_SYSTEM_TOPIC_LIST_FROM_NS: self._topic_list(self.route_info.get_system_topic_list),
            RequestCode.GET_UNIT_TOPIC_LIST: self._topic_list(self.route_info.get_unit_topics),
            RequestCode.GET_HAS_UNIT_SUB_TOPIC_LIST: self._topic_list(self.route_info.get_has_unit_sub_topic_list),
            RequestCode.GET_HAS_UNIT_SUB_UNUNIT_TOPIC_LIST: self._topic_list(
                self.route_info.get_has_unit_sub_ununit_topic_list
            ),
            RequestCode.UPDATE_NAMESRV_CONFIG: self.update_config,
            RequestCode.GET_NAMESRV_CONFIG: self.get_config,
        }

    async def _write(self, path: Path, render: Callable[[], bytes]) -> None:
        """Persist off the event loop; the newest state is rendered once the previous write finished."""
        async with self._write_lock:
            content = render()
            try:
                await trio.to_thread.run_sync(write_file_atomically, path, content)
            except OSError as exc:  # Java logs persist failures and still answers SUCCESS
                log.error("persist %s failed: %s", path, exc)

    # -- KV config ------------------------------------------------------------------------------------------------

    async def put_kv_config(self, ctx: RequestContext | None, request: RemotingCommand) -> RemotingCommand:
        header = decode_request(PutKVConfigRequestHeader, request.ext_fields)
        if header.namespace is None or header.key is None:
            return RemotingCommand.response(ResponseCode.SYSTEM_ERROR, "namespace or key is null")
        self.kv.put(header.namespace, header.key, header.value)  # a null value is stored, as Java does
        await self._write(self.kv.path, self.kv.to_json)
        return _ok()

    @inline
    async def get_kv_config(self, ctx: RequestContext | None, request: RemotingCommand) -> RemotingCommand:
        header = decode_request(GetKVConfigRequestHeader, request.ext_fields)
        value = self.kv.get(header.namespace, header.key)
        if value is not None:
            return _ok(GetKVConfigResponseHeader(value))
        remark = f"No config item, Namespace: {_j(header.namespace)} Key: {_j(header.key)}"
        return RemotingCommand.response(ResponseCode.QUERY_NOT_FOUND, remark, {})

    async def delete_kv_config(self, ctx: RequestContext | None, request: RemotingCommand) -> RemotingCommand:
        header = decode_request(DeleteKVConfigRequestHeader, request.ext_fields)
        self.kv.delete(header.namespace, header.key)
        await self._write(self.kv.path, self.kv.to_json)
        return _ok()

    @inline
    async def get_kv_list_by_namespace(self, ctx: RequestContext | None, request: RemotingCommand) -> RemotingCommand:
        header = decode_request(GetKVListByNamespaceRequestHeader, request.ext_fields)
        table = self.kv.get_kv_list_by_namespace(header.namespace)
        if table is not None:
            return _ok(body=table.to_json())
        return RemotingCommand.response(
            ResponseCode.QUERY_NOT_FOUND, f"No config item, Namespace: {_j(header.namespace)}"
        )

    # -- brokers --------------------------------------------------------------------------------------------------

    @inline
    async def register_broker(self, ctx: RequestContext | None, request: RemotingCommand) -> RemotingCommand:
        """registerBrokerWithFilterServer (version >= V3_0_11) or the older registerBroker."""
        header = decode_request(RegisterBrokerRequestHeader, request.ext_fields)
        body = _body(request)
        if header.body_crc32 != 0 and body_crc32(body) != header.body_crc32:
            log.warning("receive registerBroker request,crc32 not match,from %s", _remote(ctx))
            return RemotingCommand.response(ResponseCode.SYSTEM_ERROR, "crc32 not match", {})
        wrapper, filter_servers = self._decode_registration(request.version, body, header.compressed)
        if header.broker_id is None:  # Java unboxes the null Long here
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, _NPE)
        for name in ("cluster_name", "broker_addr", "broker_name"):
            if getattr(header, name) is None:  # Java would register null keys; refused here (documented deviation)
                raise RocketMQError(ResponseCode.SYSTEM_ERROR, f"the custom field <{java_key(name)}> is null")
        assert header.cluster_name is not None and header.broker_addr is not None and header.broker_name is not None
        result = self.route_info.register_broker(
            header.cluster_name,
            header.broker_addr,
            header.broker_name,
            header.broker_id,
            header.ha_server_addr,
            wrapper,
            filter_servers,
            ctx.connection if ctx is not None else None,
            self.clock(),
        )
        order_conf = self.kv.get_kv_list_by_namespace(NAMESPACE_ORDER_TOPIC_CONFIG)
        response_header = RegisterBrokerResponseHeader(result.ha_server_addr, result.master_addr)
        return _ok(response_header, order_conf.to_json() if order_conf is not None else None)

    @staticmethod
    def _decode_registration(
        version: int, body: bytes | None, compressed: bool
    ) -> tuple[TopicConfigSerializeWrapper, list[str] | None]:
        with_filter_servers = version >= Version.V3_0_11
        if body is None:
            return TopicConfigSerializeWrapper(), [] if with_filter_servers else None
        try:
            if with_filter_servers:
                decoded = RegisterBrokerBody.decode(body, compressed)
                return decoded.topic_config_serialize_wrapper, decoded.filter_server_list
            return TopicConfigSerializeWrapper.from_json(body), None
        except BodyError as exc:
            log.warning("Failed to decode RegisterBrokerBody: %s", exc)
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, _REGISTER_DECODE_FAILED) from None

    @inline
    async def unregister_broker(self, ctx: RequestContext | None, request: RemotingCommand) -> RemotingCommand:
        header = decode_request(UnRegisterBrokerRequestHeader, request.ext_fields)
        if header.broker_id is None:  # Java unboxes the null Long here
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, _NPE)
        self.route_info.unregister_broker(header.cluster_name, header.broker_addr, header.broker_name, header.broker_id)
        return _ok()

    @inline
    async def query_data_version(self, ctx: RequestContext | None, request: RemotingCommand) -> RemotingCommand:
        """queryBrokerTopicConfig: compare the broker's DataVersion; an unchanged one counts as a keepalive."""
        header = decode_request(QueryDataVersionRequestHeader, request.ext_fields)
        body = _body(request)
        if body is None:  # Java: new String(null) inside DataVersion.decode
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, _NULL_BODY_NPE)
        try:
            version = DataVersion.from_json(body)
        except BodyError as exc:
            raise RocketMQError(ResponseCode.SYSTEM_ERROR, f"com.alibaba.fastjson.JSONException: {exc}") from None
        changed = self.route_info.is_broker_topic_config_changed(header.broker_addr, version)
        if not changed:
            self.route_info.update_broker_info_update_timestamp(header.broker_addr, self.clock())
        current = self.route_info.query_broker_topic_config(header.broker_addr)
        return _ok(QueryDataVersionResponseHeader(changed), current.to_json() if current is not None else None)

    # -- routes and topics ----------------------------------------------------------------------------------------

    @inline
    async def get_route_info_by_topic(self, ctx: RequestContext | None, request: RemotingCommand) -> RemotingCommand:
        """DefaultRequestProcessor.getRouteInfoByTopic (ClusterTestRequestProcessor's when clusterTest is on).

        Clients ask every 30 s for each topic they use, and a busy client fleet far more often: the encoded answer
        is kept per (topic, JSON form) and served while no route changed (the route info's generation) and the
        order conf is the same, as the same bytes a fresh pickup would give. Only the two header fields are read,
        as decodeCommandCustomHeader does (a missing topic is null, acceptStandardJsonOnly is Boolean.parseBoolean).
        """
        ext = request.ext_fields
        topic = ext.get("topic") if ext is not None else None
        ns = self.settings.namesrv
        # ClusterTestRequestProcessor always encodes plain fastjson; the default one quotes keys for new clients.
        if ns.cluster_test:
            standard = False
        elif request.version >= _V4_9_4:
            standard = True
        else:
            accept = ext.get("acceptStandardJsonOnly") if ext is not None else None
            standard = accept is not None and accept.lower() == "true"
        order_conf = None
        if topic is not None and (ns.cluster_test or ns.order_message_enable):
            order_conf = self.kv.get(NAMESPACE_ORDER_TOPIC_CONFIG, topic)
        generation = self.route_info.generation
        if topic is not None:
            reply = self._routes.reply(topic, standard, generation, order_conf)
            if reply is not None:
                return reply
        route = self.route_info.pickup_topic_route_data(topic)
        if route is None:
            remark = f"No topic route info in name server for the topic: {_j(topic)}{APPLY_TOPIC_TIP}"
            return RemotingCommand.response(ResponseCode.TOPIC_NOT_EXIST, remark)
        route.order_topic_conf = order_conf
        body = route.to_json(standard_json=standard)
        if topic is not None:
            self._routes.put(topic, standard, generation, order_conf, body)
        return _ok(body=body)

    @inline
    async def get_broker_cluster_info(self, ctx: RequestContext | None, request: RemotingCommand) -> RemotingCommand:
        return _ok(body=self.route_info.get_all_cluster_info().to_json())

    @inline
    async def wipe_write_perm_of_broker(self, ctx: RequestContext | None, request: RemotingCommand) -> RemotingCommand:
        header = decode_request(WipeWritePermOfBrokerRequestHeader, request.ext_fields)
        count = self.route_info.wipe_write_perm_of_broker(header.broker_name)
        log.info("wipe write perm of broker[%s], client: %s, %d", header.broker_name, _remote(ctx), count)
        return _ok(WipeWritePermOfBrokerResponseHeader(count))

    @inline
    async def add_write_perm_of_broker(self, ctx: RequestContext | None, request: RemotingCommand) -> RemotingCommand:
        header = decode_request(AddWritePermOfBrokerRequestHeader, request.ext_fields)
        count = self.route_info.add_write_perm_of_broker(header.broker_name)
        log.info("add write perm of broker[%s], client: %s, %d", header.broker_name, _remote(ctx), count)
        return _ok(AddWritePermOfBrokerResponseHeader(count))

    @inline
    async def get_all_topic_list(self, ctx: RequestContext | None, request: RemotingCommand) -> RemotingCommand:
        return _ok(body=self.route_info.get_all_topic_list().to_json())

    @inline
    async def delete_topic_in_namesrv(self, ctx: RequestContext | None, request: RemotingCommand) -> RemotingCommand:
        header = decode_request(DeleteTopicFromNamesrvRequestHeader, request.ext_fields)
        self.route_info.delete_topic(header.topic, header.cluster_name or None)
        return _ok()

    @inline
    async def get_topics_by_cluster(self, ctx: RequestContext | None, request: RemotingCommand) -> RemotingCommand:
        header = decode_request(GetTopicsByClusterRequestHeader, request.ext_fields)
        return _ok(body=self.route_info.get_topics_by_cluster(header.cluster).to_json())

    def _topic_list(self, query: Callable[[], Any]) -> Callable[[Any, RemotingCommand], Awaitable[RemotingCommand]]:
        @inline
        async def handler(ctx: Any, request: RemotingCommand) -> RemotingCommand:
            return _ok(body=query().to_json())

        return handler

    # -- configuration --------------------------------------------------------------------------------------------

    async def update_config(self, ctx: RequestContext | None, request: RemotingCommand) -> RemotingCommand:
        """UPDATE_NAMESRV_CONFIG: all-or-nothing through the allow-list; persisted only to the start-up path."""
        log.info("updateConfig called by %s", _remote(ctx))
        body = _body(request)
        if body is not None:
            try:
                props = properties.loads(body.decode("utf-8", "replace"))
            except properties.PropertiesError:
                return RemotingCommand.response(ResponseCode.SYSTEM_ERROR, "string2Properties error")
            try:
                self.settings.update_at_runtime(props)
            except ConfigUpdateRefused as exc:
                log.warning("updateConfig refused from %s: %s (%s)", _remote(ctx), exc.remark, sorted(props))
                return RemotingCommand.response(exc.code, exc.remark)
            await self._write(self.config_store_path, self._render_config_file)
        return _ok()

    def _render_config_file(self) -> bytes:
        return self.settings.format_properties_for_file().encode("utf-8")

    @inline
    async def get_config(self, ctx: RequestContext | None, request: RemotingCommand) -> RemotingCommand:
        content = self.settings.format_properties()
        return _ok(body=content.encode("utf-8") if content else None)


def _j(value: object) -> str:
    """String concatenation as Java does it: null is "null"."""
    return "null" if value is None else str(value)


def _remote(ctx: RequestContext | None) -> str:
    return ctx.connection.remote_addr if ctx is not None else "-"
