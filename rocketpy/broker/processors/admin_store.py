"""Store admin codes of broker.processor.AdminBrokerProcessor (4.9.8): mqadmin's queryCq, cleanExpiredCQ,
deleteExpiredCommitLog and cleanUnusedTopic.

QUERY_CONSUME_QUEUE (321) reads consume-queue entries (there is no consume-queue ext here, so no entry carries a
bit map or an ext unit, as on a Java broker with enableConsumeQueueExt=false); CLEAN_EXPIRED_CONSUMEQUEUE (306),
CLEAN_UNUSED_TOPIC (316) and DELETE_EXPIRED_COMMITLOG (329) run rocketpy.store.maintenance off the event loop.
REGISTER_FILTER_SERVER (301) stays unanswered ("request type 301 not supported"), as on a 4.9.8 broker, whose
AdminBrokerProcessor has no case for it.
"""

from __future__ import annotations

import logging
from typing import Any

import trio

from rocketpy.broker.consumer_manager import ConsumerManager
from rocketpy.broker.topic_config import TopicConfigManager
from rocketpy.common import fastjson
from rocketpy.protocol.admin_headers import QueryConsumeQueueRequestHeader
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.message_headers import int32
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler, RequestContext, inline
from rocketpy.store import maintenance
from rocketpy.store.consumequeue import UNIT, UNIT_SIZE
from rocketpy.store.message_store import MessageStore

log = logging.getLogger("RocketmqBroker")


def _ok(body: bytes | None = None, remark: str | None = None) -> RemotingCommand:
    return RemotingCommand.response(ResponseCode.SUCCESS, remark, None, body)


def pretty_json(value: Any, depth: int = 0) -> str:
    """JSON.toJSONString(value, true): fastjson's PrettyFormat, tab-indented, one property a line."""
    if isinstance(value, dict) and value:
        pad = "\t" * (depth + 1)
        items = [f"{pad}{fastjson.dumps(str(k)).decode()}:{pretty_json(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "\t" * depth + "}"
    if isinstance(value, list) and value:
        pad = "\t" * (depth + 1)
        return "[\n" + ",\n".join(pad + pretty_json(v, depth + 1) for v in value) + "\n" + "\t" * depth + "]"
    return fastjson.dumps(value).decode()


class AdminStoreProcessor:
    def __init__(self, store: MessageStore, topics: TopicConfigManager, consumers: ConsumerManager) -> None:
        self.store = store
        self.topics = topics
        self.consumers = consumers

    def handlers(self) -> dict[int, Handler]:
        return {
            RequestCode.QUERY_CONSUME_QUEUE: self.query_consume_queue,
            RequestCode.CLEAN_EXPIRED_CONSUMEQUEUE: self.clean_expired_consume_queue,
            RequestCode.CLEAN_UNUSED_TOPIC: self.clean_unused_topic,
            RequestCode.DELETE_EXPIRED_COMMITLOG: self.delete_expired_commit_log,
        }

    async def clean_expired_consume_queue(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        log.warning("invoke cleanExpiredConsumeQueue start.")
        await trio.to_thread.run_sync(maintenance.clean_expired_consume_queues, self.store)
        log.warning("invoke cleanExpiredConsumeQueue end.")
        return _ok()

    async def clean_unused_topic(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        log.warning("invoke cleanUnusedTopic start.")
        await trio.to_thread.run_sync(maintenance.clean_unused_topics, self.store, set(self.topics.table))
        log.warning("invoke cleanUnusedTopic end.")
        return _ok()

    @inline
    async def delete_expired_commit_log(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        log.warning("invoke deleteExpiredCommitLog start.")
        maintenance.request_manual_delete(self.store)
        log.warning("invoke deleteExpiredCommitLog end.")
        return _ok()

    def _filter_data(self, group: str, topic: str) -> tuple[dict[str, Any] | None, str]:
        subscription = self.consumers.find_subscription_data(group, topic)
        if subscription is None:
            return None, f"{group}@{topic} is not online!"
        data = self.consumers.filters.get(topic, group)
        if data is None:
            return subscription.to_obj(), "null"
        fields = {
            "clientVersion": data.client_version,
            "consumerGroup": data.group,
            "dead": False,
            "deadTime": 0,
            "expression": data.expression,
            "expressionType": data.expression_type,
            "topic": data.topic,
        }
        return subscription.to_obj(), pretty_json(fields)

    @inline
    async def query_consume_queue(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = QueryConsumeQueueRequestHeader.from_ext(cmd.ext_fields)
        for name, value in (("queueId", h.queue_id), ("count", h.count)):
            int32(name, value)  # Integer.parseInt's range
        topic = h.topic or ""
        cq = self.store.find_queue(topic, h.queue_id)
        if cq is None:
            return RemotingCommand.response(ResponseCode.SYSTEM_ERROR, f"{h.queue_id}@{topic} is not exist!")
        body: dict[str, Any] = {}
        if h.consumer_group is not None:
            subscription, filter_data = self._filter_data(h.consumer_group, topic)
            body["filterData"] = filter_data
            if subscription is not None:
                body["subscriptionData"] = subscription
        body["maxQueueIndex"] = cq.max_offset
        body["minQueueIndex"] = cq.min_offset
        entries = cq.entries_from(h.index) if h.index >= 0 else None
        if entries is None:
            return _ok(remark=f"Index {h.index} of {h.queue_id}@{topic} is not exist!")
        limit = min(len(entries), max(h.count, 0) * UNIT_SIZE)
        body["queueData"] = [
            {"eval": False, "physicOffset": phys, "physicSize": size, "tagsCode": code}
            for phys, size, code in UNIT.iter_unpack(entries[: limit - limit % UNIT_SIZE])
        ]
        return _ok(fastjson.dumps(dict(sorted(body.items()))))
