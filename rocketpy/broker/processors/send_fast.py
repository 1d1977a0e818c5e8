"""SEND_MESSAGE_V2's common case, from the decoded frame straight to the store and an encoded reply (issue 12).

What a 4.9.x producer sends nearly every time (a JSON header as the Java client writes it, a topic that already
exists and was sent to before, a queue it names, a plain message: not transactional, not delayed, not to a retry
topic, not a batch) is stored here without the general path's layers: no header object, no properties dict, no
MessageInner, no put results, no reply command; the reply frame comes from a template. Anything else, and anything
the store would refuse, returns None before a byte is written, and the connection hands the request to
SendMessageProcessor's handler, which judges it as it always did (same codes, same remarks, same statistics).

Same stored bytes and same reply bytes as the general path: tests/unit/broker/data/test_send_golden.py runs every
golden case through both. Used only where the general send is inline as well (ASYNC_FLUSH, no slave to wait for)
and on connections without an ACL hook.
"""

from __future__ import annotations

import re
import struct
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rocketpy.broker.config import BrokerRole
from rocketpy.broker.processors.send_support import (
    NAME_VALUE_SEPARATOR,
    PROPERTIES_MAX,
    PROPERTY_CLUSTER,
    PROPERTY_DELAY,
    PROPERTY_MSG_REGION,
    PROPERTY_SEPARATOR,
    PROPERTY_TRACE_SWITCH,
    PROPERTY_TRAN_MSG,
    PROPERTY_WAIT,
    hash_order,
    parse_host,
)
from rocketpy.broker.topic_validator import RETRY_GROUP_TOPIC_PREFIX
from rocketpy.protocol.bodies.topic_config import PERM_WRITE, TopicFilterType
from rocketpy.protocol.codes import LanguageCode, ResponseCode, SerializeType
from rocketpy.remoting.codec import header_template
from rocketpy.remoting.command import RESPONSE_FLAG, RemotingCommand
from rocketpy.store.format import BORNHOST_V6_FLAG, MULTI_TAGS_FLAG, STOREHOST_V6_FLAG, TRANSACTION_MASK, tags_code

if TYPE_CHECKING:
    from rocketpy.broker.processors.send import SendMessageProcessor
    from rocketpy.remoting.connection import Connection

try:  # the C version of this path over a whole read (setup.py builds it; optional: without it, frame by frame)
    from rocketpy.broker import _sendpath
except ImportError:  # pragma: no cover - a machine without a C compiler
    _sendpath = None  # type: ignore[assignment]

NATIVE = _sendpath is not None
_LANGUAGES = frozenset(lc.name.encode() for lc in LanguageCode)

# Name\x01value segments joined by \x02, each with exactly one \x01 and a non-empty name and value: what the Java
# client writes. Anything else (empty segments, a value holding \x01, ...) goes the general way.
_WELL_FORMED = re.compile(r"[^\x01\x02]+\x01[^\x01\x02]+(?:\x02[^\x01\x02]+\x01[^\x01\x02]+)*")
_PREFIX = struct.Struct(">ii")
_HOST_BITS = ~(BORNHOST_V6_FLAG | STOREHOST_V6_FLAG)
_CACHE_MAX = 4096  # topics and property-name sets remembered; past it the cache starts afresh
_OPAQUE_MARK = 2147480001  # placeholders of the reply template
_MARKS = ("\x00m", "\x00q", "\x00o")


@dataclass(slots=True, frozen=True)
class _Plan:
    """What to do with the properties of one set of names, in the order the producer sent them."""

    order: tuple[int, ...]  # indexes of the stored segments, in HashMap order: those sent, then CLUSTER's
    tags: int  # index of TAGS among the segments sent, -1 without
    keys: int
    uniq: int


_UNUSABLE = _Plan((), -1, -1, -1)  # names the general path must handle (duplicates, TRAN_MSG, DELAY)
_MULTI_TAG = TopicFilterType.MULTI_TAG
# what FastSend.batch's writer gives MessageStore.append_batch: (wrote, last store timestamp, consume-queue runs,
# records, bytes, send_batch's own tuple: (pos, done, replies, wrote, last store timestamp, runs, topics, batches))
_BatchResult = tuple[int, int, list[tuple[str, int, int, int, bytes, int]], int, int, tuple[Any, ...]]


class FastSend:
    """The fast handler of SEND_MESSAGE_V2 over one SendMessageProcessor (see the module docstring)."""

    def __init__(self, send: SendMessageProcessor) -> None:
        self.send = send
        self.settings = send.settings
        self.store = send.store
        self.topics = send.topics.table
        self.stats = send.stats
        self._topics: dict[str, bytes] = {}  # topic -> UTF-8, for topics the general path let through once
        self._plans: dict[tuple[str, ...], _Plan] = {}
        self._template_key: tuple[str, bool] | None = None
        self._template: tuple[str, str, str, str, str] | None = None
        self._cluster_segment = ""
        self._cluster = ""
        self._native_key: tuple[object, ...] = ()
        self._native_parts: tuple[tuple[bytes, bytes, bytes, bytes, bytes], bytes, bytes] | None = None
        self.now_ms = -1  # store timestamps from the clock; tests pin them

    def batch(self, conn: Connection, data: bytes, pos: int) -> tuple[int, bytes]:
        """The sends of ``data[pos:]`` this path would take, stored and answered in C (``_sendpath``) up to the first
        frame it leaves to the frame-by-frame paths: (where that frame starts, the replies)."""
        b = self.settings.broker
        if (not b.broker_permission & PERM_WRITE or b.start_accept_send_request_time_stamp > 0
                or self.settings.store.broker_role is BrokerRole.SLAVE):  # fmt: skip
            return pos, b""
        parts = self._native_constants(b.region_id, b.trace_on, b.broker_cluster_name)
        if parts is None:
            return pos, b""
        template, prefix, cluster = parts
        born = parse_host(conn.remote_addr)
        store_host = self.send.store_host
        max_body = self.settings.store.max_message_size
        now_ms = self.now_ms

        def write(view: memoryview, log_from: int, wrote: int, limit: int, max_total: int, file_size: int,
                  queue_offsets: dict[tuple[str, int], int], index: list[Any] | None) -> _BatchResult:  # fmt: skip
            r = _sendpath.send_batch(data, pos, conn.max_frame_length, self._topics, self.topics, _MULTI_TAG,
                                     _LANGUAGES, cluster, max_body, PROPERTIES_MAX, max_total, file_size, born.ip,
                                     born.port, store_host.ip, store_host.port, template, prefix, view, log_from,
                                     wrote, limit, queue_offsets, index, now_ms)  # fmt: skip
            records = sum(t[1] for t in r[6]) + sum(b[1] for b in r[7])
            return r[3], r[4], r[5], records, sum(t[2] for t in r[6]) + sum(b[2] for b in r[7]), r

        try:
            r = self.store.append_batch(write)
        except MemoryError:  # raised only before the first frame was written: the Python paths take it
            return pos, b""
        if r is None:
            return pos, b""
        stats = self.stats
        for topic, count, size in r[6]:
            stats.note_put_many(topic, count, size)
        for topic, count, size in r[7]:  # a SEND_BATCH_MESSAGE: one put of `count` records, as the general path
            stats.note_put(count, size, 0)
            stats.manager.on_put(topic, count, size)
        return r[0], r[2]

    def _native_constants(
        self, region: str, trace_on: bool, cluster: str
    ) -> tuple[tuple[bytes, bytes, bytes, bytes, bytes], bytes, bytes] | None:
        """The reply template's parts, the message id prefix and the CLUSTER segment, as bytes for ``_sendpath``."""
        key = (region, trace_on, cluster, self.send._msg_id_prefix)
        if key != self._native_key:
            template = self._reply_template(region, trace_on)
            segment = (PROPERTY_CLUSTER + NAME_VALUE_SEPARATOR + cluster).encode()
            self._native_parts = None
            if template is not None:
                p0, p1, p2, p3, p4 = (part.encode() for part in template)
                self._native_parts = ((p0, p1, p2, p3, p4), self.send._msg_id_prefix.encode(), segment)
            self._native_key = key
        return self._native_parts

    def __call__(self, conn: Connection, cmd: RemotingCommand) -> bytes | None:
        ext = cmd.ext_fields
        if ext is None or cmd.serialize_type != SerializeType.JSON:
            return None
        get = ext.get
        topic, e, f, g, h, d = get("b"), get("e"), get("f"), get("g"), get("h"), get("d")
        if topic is None or e is None or f is None or g is None or h is None or d is None:
            return None
        if get("a") is None or get("c") is None:  # required fields the general decoder would refuse without
            return None
        # non-negative decimals as the Java client writes them, short enough to be in range (else: general)
        if not (0 < len(e) < 10 and 0 < len(f) < 10 and 0 < len(g) < 19 and 0 < len(h) < 10 and 0 < len(d) < 10):
            return None
        j, m, l_ = get("j"), get("m"), get("l")
        if (j is not None and not 0 < len(j) < 10) or (l_ is not None and not 0 < len(l_) < 10):
            return None
        digits = e + f + g + h + d + (j or "") + (l_ or "")
        if not (digits.isdigit() and digits.isascii()):
            return None
        if m is not None and m.lower() == "true":
            return None
        topic_b = self._topics.get(topic) or self._learn_topic(topic)
        if topic_b is None:
            return None
        b = self.settings.broker
        if not b.broker_permission & PERM_WRITE or b.start_accept_send_request_time_stamp > 0:
            return None
        if self.settings.store.broker_role is BrokerRole.SLAVE:
            return None
        config = self.topics.get(topic)
        if config is None:
            return None
        queue_id = int(e)
        if queue_id >= config.write_queue_nums and queue_id >= config.read_queue_nums:
            return None
        sys_flag = int(f)
        if sys_flag & TRANSACTION_MASK:
            return None
        if config.topic_filter_type is TopicFilterType.MULTI_TAG:
            sys_flag |= MULTI_TAGS_FLAG
        # properties: the general path's parse, CLUSTER added, HashMap order, WAIT left out
        text = get("i")
        cluster = b.broker_cluster_name
        if cluster != self._cluster:
            self._cluster, self._cluster_segment = cluster, PROPERTY_CLUSTER + NAME_VALUE_SEPARATOR + cluster
        if text:
            if _WELL_FORMED.fullmatch(text) is None:
                return None
            segments = text.split(PROPERTY_SEPARATOR)
            names = tuple([segment[: segment.find(NAME_VALUE_SEPARATOR)] for segment in segments])
            plan = self._plans.get(names) or self._plan(names)
            if plan is _UNUSABLE:
                return None
            segments.append(self._cluster_segment)
            stored = PROPERTY_SEPARATOR.join([segments[i] for i in plan.order])
            tags = segments[plan.tags][5:] if plan.tags >= 0 else None
            keys = segments[plan.keys][5:] if plan.keys >= 0 else None
            uniq = segments[plan.uniq][9:] if plan.uniq >= 0 else None
        else:
            stored, tags, keys, uniq = self._cluster_segment, None, None, None
        props_b = stored.encode()
        body = cmd.body or b""
        if len(body) > self.settings.store.max_message_size or len(props_b) > PROPERTIES_MAX:
            return None
        template = self._reply_template(b.region_id, b.trace_on)
        if template is None:
            return None
        born = parse_host(conn.remote_addr)
        store_host = self.send.store_host
        sys_flag &= _HOST_BITS
        if len(born.ip) == 16:
            sys_flag |= BORNHOST_V6_FLAG
        if len(store_host.ip) == 16:
            sys_flag |= STOREHOST_V6_FLAG
        began = time.monotonic()
        put = self.store.put_parts(topic, topic_b, queue_id, bytes(body), props_b, int(h),
                                   sys_flag, int(g), born, store_host, int(j) if j else 0,
                                   tags_code(tags), keys, uniq)  # fmt: skip
        if put is None:
            return None
        phys, size, queue_offset, _ = put
        self.stats.note_put_one(topic, size, int((time.monotonic() - began) * 1000))
        p0, p1, p2, p3, p4 = template
        header = f"{p0}{self.send._msg_id_prefix}{phys:016X}{p1}{queue_id}{p2}{queue_offset}{p3}{cmd.opaque}{p4}"
        data = header.encode()
        return _PREFIX.pack(4 + len(data), len(data)) + data

    def _learn_topic(self, topic: str) -> bytes | None:
        """A topic the general path let through (validated, not refused as a system topic) and not a retry topic
        (those may turn into a DLQ): remembered with its UTF-8."""
        if topic not in self.send._sendable_topics or topic.startswith(RETRY_GROUP_TOPIC_PREFIX):
            return None
        topic_b = topic.encode()
        if len(topic_b) > 127:
            return None
        if len(self._topics) >= _CACHE_MAX:
            self._topics.clear()
        self._topics[topic] = topic_b
        return topic_b

    def _plan(self, names: tuple[str, ...]) -> _Plan:
        plan = _UNUSABLE
        if len(set(names)) == len(names) and PROPERTY_TRAN_MSG not in names and PROPERTY_DELAY not in names:
            insertion = names if PROPERTY_CLUSTER in names else (*names, PROPERTY_CLUSTER)
            where = {name: i for i, name in enumerate(names)}
            where[PROPERTY_CLUSTER] = len(names)  # the segment appended with the broker's cluster name
            order = tuple(where[k] for k in hash_order(insertion) if k != PROPERTY_WAIT)
            plan = _Plan(order, where.get("TAGS", -1), where.get("KEYS", -1), where.get("UNIQ_KEY", -1))
        if len(self._plans) >= _CACHE_MAX:
            self._plans.clear()
        self._plans[names] = plan
        return plan

    def _reply_template(self, region: str, trace_on: bool) -> tuple[str, str, str, str, str] | None:
        """The SUCCESS reply's JSON header cut around msgId, queueId, queueOffset and opaque: the general path's
        encoding of it, so the bytes are the same (None if a region id holding a placeholder makes that
        ambiguous: the general path then answers)."""
        key = (region, trace_on)
        if key != self._template_key:
            ext = {
                PROPERTY_MSG_REGION: region,
                PROPERTY_TRACE_SWITCH: "true" if trace_on else "false",
                "msgId": _MARKS[0],
                "queueId": _MARKS[1],
                "queueOffset": _MARKS[2],
            }
            reply = RemotingCommand(ResponseCode.SUCCESS, flag=RESPONSE_FLAG, ext_fields=ext, opaque=_OPAQUE_MARK)
            parts = header_template(reply, _MARKS)
            template = (parts[0], parts[1], parts[2], parts[3], parts[4]) if parts is not None else None
            self._template_key, self._template = key, template
        return self._template
