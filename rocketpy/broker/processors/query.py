"""QUERY_MESSAGE (12) and VIEW_MESSAGE_BY_ID (33): broker.processor.QueryMessageProcessor.

Wiring::

    query = QueryMessageProcessor(settings, store, stats)
    table.update(query.handlers())

QUERY_MESSAGE looks `topic#key` up in the index (a KEYS value or, with extField `_UNIQUE_KEY_QUERY=true`, a
UNIQ_KEY, when Java forces maxNum to defaultQueryMaxNum); the reply body is the stored records concatenated,
newest first, with indexLastUpdateTimestamp / indexLastUpdatePhyoffset, or QUERY_NOT_FOUND (same headers). The
index walk can touch many pages, so it runs in a worker thread. VIEW_MESSAGE_BY_ID returns the one record at a
commit-log offset (the offset a client decodes from an offsetMsgId), or SYSTEM_ERROR.
"""

from __future__ import annotations

import trio

from rocketpy.broker.config import BrokerSettings
from rocketpy.broker.stats import BrokerStats
from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.protocol.message_headers import (
    QueryMessageRequestHeader,
    QueryMessageResponseHeader,
    ViewMessageRequestHeader,
)
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import Handler, RequestContext, inline
from rocketpy.store.message_store import MessageStore

UNIQUE_MSG_QUERY_FLAG = "_UNIQUE_KEY_QUERY"  # MixAll.UNIQUE_MSG_QUERY_FLAG


class QueryMessageProcessor:
    def __init__(self, settings: BrokerSettings, store: MessageStore, stats: BrokerStats) -> None:
        self.settings = settings
        self.store = store
        self.stats = stats

    def handlers(self) -> dict[int, Handler]:
        return {RequestCode.QUERY_MESSAGE: self.query_message, RequestCode.VIEW_MESSAGE_BY_ID: self.view_message_by_id}

    async def query_message(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = QueryMessageRequestHeader.from_ext(cmd.ext_fields)
        if (cmd.ext_fields or {}).get(UNIQUE_MSG_QUERY_FLAG) == "true":
            h.max_num = self.settings.store.default_query_max_num
        self.stats.in_flight["query"] += 1
        try:
            body, ext = await trio.to_thread.run_sync(self._query, h)
        finally:
            self.stats.in_flight["query"] -= 1
        if body:
            return RemotingCommand.response(ResponseCode.SUCCESS, None, ext, body)
        return RemotingCommand.response(
            ResponseCode.QUERY_NOT_FOUND, "can not find message, maybe time range not correct", ext
        )

    def _query(self, h: QueryMessageRequestHeader) -> tuple[bytes, dict[str, str]]:
        """In a worker thread: the index walk and the copy out of the mapped files (no view outlives it)."""
        result = self.store.query_message(h.topic, h.key, h.max_num, h.begin_timestamp, h.end_timestamp)
        header = QueryMessageResponseHeader(result.index_last_update_timestamp, result.index_last_update_phyoffset)
        return b"".join(result.buffers), header.to_ext()

    @inline
    async def view_message_by_id(self, ctx: RequestContext, cmd: RemotingCommand) -> RemotingCommand:
        h = ViewMessageRequestHeader.from_ext(cmd.ext_fields)
        record = self.store.select_one_message_by_offset(h.offset) if h.offset >= 0 else None
        if record is None:
            return RemotingCommand.response(
                ResponseCode.SYSTEM_ERROR, f"can not find message by the offset, {h.offset}"
            )
        return RemotingCommand.response(ResponseCode.SUCCESS, None, None, bytes(record))
