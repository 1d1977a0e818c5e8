"""PULL_MESSAGE's everyday case, answered in the read loop from the decoded frame to an encoded reply (issue 12).

What a 4.9.x push consumer sends nearly every time (a JSON header as the Java client writes it, the subscription
its heartbeat registered with a TAG expression, a topic and group that exist, a master) is served here without
the general path's layers: no header object, no PullPlan, no reply command, no handler task and no wake-up of the
connection's writer (the reply joins the write of the read it came in). The reply header comes from a template of
the general path's own encoding; the store's reader walks and joins the records (in C where built: _readpath.c).

A pull to be held (PULL_NOT_FOUND with the suspend flag) is parked with the hold service (longpolling.park: no
task, as Java parks the request object); when released, its second pass (no suspending, no commit) runs here
again, or in the general handler where this one declines, and the replies of one turn of releases leave with one
write per connection.

Anything else returns None before anything changed, and the connection hands the request to
PullMessageProcessor.pull_message, which answers it as it always did: a moved offset (which writes an
OffsetMovedEvent), SQL92 and retry-topic filters, flagged subscriptions (lite pull), a slave, a group or
subscription to create or refuse, any header the Java client would not write. Same reply bytes and same effects
(statistics, committed offsets) as the general path: tests/unit/broker/data/test_pull_golden_cases.py runs its
cases through both routes, test_pull_parked.py the parked one.
"""

from __future__ import annotations

import struct
import time
from functools import partial
from typing import TYPE_CHECKING

from rocketpy.broker.config import BrokerRole
from rocketpy.broker.longpolling import match_all
from rocketpy.broker.processors.pull import FLAG_COMMIT_OFFSET, FLAG_SUSPEND, status_code, tags_codes
from rocketpy.broker.processors.send_fast import _LANGUAGES, NATIVE
from rocketpy.broker.topic_validator import RETRY_GROUP_TOPIC_PREFIX
from rocketpy.protocol.bodies.heartbeat import MessageModel, is_tag_type
from rocketpy.protocol.bodies.topic_config import PERM_READ
from rocketpy.protocol.codes import ResponseCode, SerializeType
from rocketpy.protocol.message_headers import PullMessageRequestHeader, PullMessageResponseHeader
from rocketpy.remoting.codec import decode_frame, header_template
from rocketpy.remoting.command import RESPONSE_FLAG, RemotingCommand
from rocketpy.remoting.connection import RequestContext
from rocketpy.store.reader import codes_matcher

if NATIVE:
    from rocketpy.broker import _sendpath

if TYPE_CHECKING:
    from rocketpy.broker.processors.pull import PullMessageProcessor
    from rocketpy.remoting.connection import Connection

_PREFIX = struct.Struct(">ii")
_OPAQUE_MARK = 2147480001  # placeholders of the reply template
_MARKS = ("\x00s", "\x00n", "\x00l", "\x00h")  # suggestWhichBrokerId, nextBeginOffset, minOffset, maxOffset
_FLAGS_TAKEN = FLAG_COMMIT_OFFSET | FLAG_SUSPEND  # with FLAG_SUBSCRIPTION or FLAG_CLASS_FILTER: the general path
_SUCCESS, _RETRY, _NOT_FOUND = ResponseCode.SUCCESS, ResponseCode.PULL_RETRY_IMMEDIATELY, ResponseCode.PULL_NOT_FOUND
_Template = tuple[str, str, str, str, str, str]
_Fields = tuple[int, str, str, int, int, int, int, int, int, int]  # _serve_fields' request fields, opaque first


class FastPull:
    """The fast handler of PULL_MESSAGE over one PullMessageProcessor (see the module docstring)."""

    def __init__(self, pull: PullMessageProcessor) -> None:
        self.pull = pull
        self.settings = pull.settings
        self.store = pull.store
        self.topics = pull.topics.table
        self.groups = pull.groups.table
        self.consumers = pull.consumers.groups
        self.offsets = pull.offsets
        self.stats = pull.stats
        self.holds = pull.holds
        self._unflushed: dict[Connection, None] = {}  # connections with second-pass replies queued, in order
        self.holds.after_resume.append(self._flush)
        self._templates: dict[tuple[int, str], _Template | None] = {}

    def __call__(self, conn: Connection, cmd: RemotingCommand) -> bytes | None:
        return self._serve(conn, cmd, True)

    def _serve(self, conn: Connection, cmd: RemotingCommand, first: bool) -> bytes | None:
        """One pass: `first` the request's own (may commit, may park), else the pass after a parked pull's release
        (executeRequestWhenWakeup: brokerAllowSuspend false, so no commit and no holding)."""
        ext = cmd.ext_fields
        if ext is None or cmd.serialize_type != SerializeType.JSON:
            return None
        get = ext.get
        group_name, topic = get("consumerGroup"), get("topic")
        q, o, n, f = get("queueId"), get("queueOffset"), get("maxMsgNums"), get("sysFlag")
        c, t, v = get("commitOffset"), get("suspendTimeoutMillis"), get("subVersion")
        if group_name is None or topic is None or q is None or o is None or n is None or f is None or c is None:
            return None
        if t is None or v is None:
            return None
        # non-negative decimals as the Java client writes them, short enough to be in range (else: general)
        if not (0 < len(q) < 10 and 0 < len(n) < 10 and 0 < len(f) < 10 and 0 < len(o) < 19 and 0 < len(c) < 19
                and 0 < len(t) < 19 and 0 < len(v) < 19):  # fmt: skip
            return None
        digits = q + o + n + f + c + t + v
        if not (digits.isdigit() and digits.isascii()):
            return None
        return self._serve_fields(conn, cmd, cmd.opaque, group_name, topic, int(q), int(o), int(n), int(f), int(c),
                                  int(t), int(v), first)  # fmt: skip

    def _serve_fields(
        self, conn: Connection, source: RemotingCommand | memoryview | bytes, opaque: int, group_name: str, topic: str,
        queue_id: int, offset: int, nums: int, sys_flag: int, commit: int, suspend_ms: int, sub_version: int,
        first: bool,
    ) -> bytes | None:  # fmt: skip
        """`_serve` past the request's own checks (`source`: the request, or its frame when `batch` parsed it)."""
        if sys_flag & ~_FLAGS_TAKEN:
            return None
        # _check_group_and_topic, where everything passes
        b = self.settings.broker
        if not b.broker_permission & PERM_READ or self.settings.store.broker_role is BrokerRole.SLAVE:
            return None
        group = self.groups.get(group_name)
        config = self.topics.get(topic)
        if group is None or not group.consume_enable or config is None or not config.perm & PERM_READ:
            return None
        if queue_id >= config.read_queue_nums:
            return None
        # _subscription and _filter without the subscription flag: a TAG subscription its heartbeat registered
        info = self.consumers.get(group_name)
        if info is None or (not group.consume_broadcast_enable and info.message_model is MessageModel.BROADCASTING):
            return None
        data = info.subscriptions.get(topic)
        if data is None or data.sub_version < sub_version or not is_tag_type(data.expression_type):
            return None
        if data.class_filter_mode or (b.filter_support_retry and topic.startswith(RETRY_GROUP_TOPIC_PREFIX)):
            return None
        began = time.monotonic()
        codes = tags_codes(data)
        result = self.store.get_message_joined(topic, queue_id, offset, nums, codes)
        elapsed = int((time.monotonic() - began) * 1000)
        code = status_code(result.status, offset)
        held = first and code == _NOT_FOUND and sys_flag & FLAG_SUSPEND
        template = None
        if not held:
            if code != _SUCCESS and code != _RETRY and code != _NOT_FOUND:
                return None  # PULL_OFFSET_MOVED and its event
            remark = result.status.name
            template = self._templates.get((code, remark)) or self._template(code, remark)
            if template is None:
                return None
        # from here on the request is answered (or held): the general path's effects, in its order
        stats = self.stats
        count = result.message_count
        stats.note_get(group_name, topic, count, elapsed, result.total, b.transfer_msg_by_heap)
        suggest = self.pull._suggest_broker(result, group)
        if first and sys_flag & FLAG_COMMIT_OFFSET:
            self.offsets.commit(conn.remote_addr, group_name, topic, queue_id, commit)
        if template is None:  # held, as the general path holds it, then re-run by it without suspending
            millis = suspend_ms if b.long_polling_enable else b.short_polling_time_mills
            matcher = codes_matcher(codes) or match_all
            request = source if isinstance(source, RemotingCommand) else bytes(source)  # not the whole read's buffer
            fields = (opaque, group_name, topic, queue_id, offset, nums, sys_flag, commit, suspend_ms, sub_version)
            self.holds.park(
                topic, queue_id, offset, millis / 1000, matcher, partial(self._resume, conn, request, fields)
            )
            return b""
        p0, p1, p2, p3, p4, p5 = template
        header = (f"{p0}{suggest}{p1}{result.next_begin_offset}{p2}{result.min_offset}{p3}{result.max_offset}"
                  f"{p4}{opaque}{p5}").encode()  # fmt: skip
        return b"".join((_PREFIX.pack(4 + len(header) + result.total, len(header)), header, result.body))

    def batch(self, conn: Connection, data: bytes, pos: int) -> tuple[int, bytes]:
        """The pulls of ``data[pos:]`` this path takes, parsed in C (``_sendpath.pull_frame``) and served as
        `__call__` serves them, up to the first frame it leaves to the frame decoder: (where that frame starts, the
        replies)."""
        replies: list[bytes] = []
        max_frame = conn.max_frame_length
        while (got := _sendpath.pull_frame(data, pos, max_frame, _LANGUAGES)) is not None:
            end, opaque, group, topic, q, o, n, f, c, t, v = got
            try:
                reply = self._serve_fields(conn, memoryview(data)[pos + 4 : end], opaque, group, topic, q, o, n, f, c,
                                           t, v, True)  # fmt: skip
            except Exception:  # left to the connection, which answers a failing fast handler (SYSTEM_ERROR)
                reply = None
            if reply is None:
                break
            if reply:
                replies.append(reply)
            pos = end
        return pos, b"".join(replies)

    def _resume(self, conn: Connection, request: RemotingCommand | bytes, fields: _Fields) -> None:
        """executeRequestWhenWakeup: the second pass, answered (the general path's where this one declines, from
        the request decoded now if it was parked as its frame)."""
        if conn.closed:
            return
        data = self._serve_fields(conn, request, *fields, False)
        if data is not None:
            if conn.send_frame_nowait(data):
                self._unflushed[conn] = None
            return
        cmd = request if isinstance(request, RemotingCommand) else decode_frame(request)
        header = PullMessageRequestHeader.from_ext(cmd.ext_fields)
        ctx = RequestContext(conn, None, cmd)  # type: ignore[arg-type]  # the pass uses the connection only
        reply = self.pull._counted(ctx, header, allow_suspend=False).reply
        assert reply is not None
        conn.send_response_nowait(cmd, reply)

    def _flush(self) -> None:
        """After a turn of second passes: one write per connection for the replies queued to it."""
        unflushed, self._unflushed = self._unflushed, {}
        for conn in unflushed:
            conn.flush_nowait()

    def _template(self, code: int, remark: str) -> _Template | None:
        """The reply's JSON header, as the general path encodes it, cut around the four numbers and the opaque
        (None if a remark holding a placeholder made that ambiguous: the general path then answers)."""
        header = PullMessageResponseHeader(0, 0, 0, 0).to_ext()
        ext = dict(zip(header, _MARKS, strict=True))  # the keys in the general path's order
        reply = RemotingCommand(code, flag=RESPONSE_FLAG, remark=remark, ext_fields=ext, opaque=_OPAQUE_MARK)
        parts = header_template(reply, _MARKS)
        template = (parts[0], parts[1], parts[2], parts[3], parts[4], parts[5]) if parts is not None else None
        self._templates[(code, remark)] = template
        return template
