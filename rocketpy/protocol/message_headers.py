"""Command headers of the broker's data plane: send, pull, query and the queue-offset requests.

Mirrors common.protocol.header.* of RocketMQ 4.9.8. The wire keys are the Java field names; SEND_MESSAGE_V2 (310)
and SEND_BATCH_MESSAGE (320) use SendMessageRequestHeaderV2, whose fields are the single letters a..n
(`createSendMessageRequestHeaderV1` maps them back to the long names). A field without a default is @CFNotNull.
Headers that extend RpcRequestHeader (4.9.5+) carry an optional `bname` the broker ignores.

Java parses the Integer fields with Integer.parseInt, so a value outside the int32 range is refused there; the
`int32` helper below applies the same limit after `from_ext` (which accepts any int64).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rocketpy.protocol.codes import ResponseCode
from rocketpy.protocol.errors import RocketMQError
from rocketpy.protocol.header import Header

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def int32(name: str, value: int) -> int:
    """Integer.parseInt's range: a header int outside int32 is the SYSTEM_ERROR a Java broker reports."""
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise RocketMQError(
            ResponseCode.SYSTEM_ERROR, f'the custom field <{name}> is invalid: For input string: "{value}"'
        )
    return value


# -- send ------------------------------------------------------------------------------------------------------------


@dataclass(slots=True, eq=False, repr=False)
class SendMessageRequestHeader(Header):
    """SEND_MESSAGE (10): the long field names; also the form the V2 header is converted to."""

    producer_group: str
    topic: str
    default_topic: str
    default_topic_queue_nums: int
    queue_id: int
    sys_flag: int
    born_timestamp: int
    flag: int
    properties: str | None = None
    reconsume_times: int | None = None
    unit_mode: bool = False
    batch: bool = False
    max_reconsume_times: int | None = None
    bname: str | None = None

    def check_ranges(self) -> None:
        for name in ("default_topic_queue_nums", "queue_id", "sys_flag", "flag"):
            int32(name, getattr(self, name))
        for name in ("reconsume_times", "max_reconsume_times"):
            value = getattr(self, name)
            if value is not None:
                int32(name, value)


@dataclass(slots=True, eq=False, repr=False)
class SendMessageRequestHeaderV2(Header):
    """SEND_MESSAGE_V2 (310) / SEND_BATCH_MESSAGE (320): a producerGroup, b topic, c defaultTopic,
    d defaultTopicQueueNums, e queueId, f sysFlag, g bornTimestamp, h flag, i properties, j reconsumeTimes,
    k unitMode, l maxReconsumeTimes, m batch, n brokerName."""

    a: str
    b: str
    c: str
    d: int
    e: int
    f: int
    g: int
    h: int
    i: str | None = None
    j: int | None = None
    k: bool = False
    l: int | None = None  # noqa: E741 - the Java field name
    m: bool = False
    n: str | None = None
    bname: str | None = None

    def to_v1(self) -> SendMessageRequestHeader:
        """SendMessageRequestHeaderV2.createSendMessageRequestHeaderV1."""
        return SendMessageRequestHeader(
            producer_group=self.a,
            topic=self.b,
            default_topic=self.c,
            default_topic_queue_nums=self.d,
            queue_id=self.e,
            sys_flag=self.f,
            born_timestamp=self.g,
            flag=self.h,
            properties=self.i,
            reconsume_times=self.j,
            unit_mode=self.k,
            batch=self.m,
            max_reconsume_times=self.l,
            bname=self.n,
        )

    @classmethod
    def from_v1(cls, v1: SendMessageRequestHeader) -> SendMessageRequestHeaderV2:
        """SendMessageRequestHeaderV2.createSendMessageRequestHeaderV2 (what the Java client sends)."""
        return cls(
            a=v1.producer_group,
            b=v1.topic,
            c=v1.default_topic,
            d=v1.default_topic_queue_nums,
            e=v1.queue_id,
            f=v1.sys_flag,
            g=v1.born_timestamp,
            h=v1.flag,
            i=v1.properties,
            j=v1.reconsume_times,
            k=v1.unit_mode,
            l=v1.max_reconsume_times,
            m=v1.batch,
            n=v1.bname,
        )


def _plain_int(text: str, digits: int) -> int | None:
    """`text` as an int when it is the canonical decimal a Java client writes (optional '-', at most `digits` ASCII
    digits, so always in range); None for anything else, which the general decoder then judges."""
    body = text[1:] if text[:1] == "-" else text
    if 0 < len(body) <= digits and body.isascii() and body.isdigit():
        return int(text)
    return None


def send_header_v2(ext: Mapping[str, str] | None) -> SendMessageRequestHeader:
    """`SendMessageRequestHeaderV2.from_ext(ext).to_v1()` plus `check_ranges()` in one pass (the send hot path).

    Every field a 4.9.x client writes is read straight into the V1 header; the first field that is missing or not
    a plain decimal hands the whole header to the general decoder, so that errors and their remarks stay the same.
    """
    if ext is not None:
        get = ext.get
        a, b, c, d, e, f, g, h = get("a"), get("b"), get("c"), get("d"), get("e"), get("f"), get("g"), get("h")
        if a is not None and b is not None and c is not None and d and e and f and g and h:
            nums = _plain_int(d, 9), _plain_int(e, 9), _plain_int(f, 9), _plain_int(g, 18), _plain_int(h, 9)
            j, l_ = get("j"), get("l")
            rj = None if j is None else _plain_int(j, 9)
            rl = None if l_ is None else _plain_int(l_, 9)
            if None not in nums and (j is None or rj is not None) and (l_ is None or rl is not None):
                k, m = get("k"), get("m")
                return SendMessageRequestHeader(
                    a, b, c, nums[0], nums[1], nums[2], nums[3], nums[4],  # type: ignore[arg-type]
                    get("i"), rj, k is not None and k.lower() == "true", m is not None and m.lower() == "true",
                    rl, get("n"),
                )  # fmt: skip
    header = SendMessageRequestHeaderV2.from_ext(ext).to_v1()
    header.check_ranges()
    return header


@dataclass(slots=True, eq=False, repr=False)
class ConsumerSendMsgBackRequestHeader(Header):
    """CONSUMER_SEND_MSG_BACK (36): `offset` is the commit-log offset of the message that failed."""

    offset: int
    group: str
    delay_level: int
    origin_msg_id: str | None = None
    origin_topic: str | None = None
    unit_mode: bool = False
    max_reconsume_times: int | None = None
    bname: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class SendMessageResponseHeader(Header):
    msg_id: str
    queue_id: int
    queue_offset: int
    transaction_id: str | None = None


# -- pull ------------------------------------------------------------------------------------------------------------


@dataclass(slots=True, eq=False, repr=False)
class PullMessageRequestHeader(Header):
    consumer_group: str
    topic: str
    queue_id: int
    queue_offset: int
    max_msg_nums: int
    sys_flag: int
    commit_offset: int
    suspend_timeout_millis: int
    sub_version: int
    subscription: str | None = None
    expression_type: str | None = None
    bname: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class PullMessageResponseHeader(Header):
    suggest_which_broker_id: int
    next_begin_offset: int
    min_offset: int
    max_offset: int


# -- query -----------------------------------------------------------------------------------------------------------


@dataclass(slots=True, eq=False, repr=False)
class QueryMessageRequestHeader(Header):
    topic: str
    key: str
    max_num: int
    begin_timestamp: int
    end_timestamp: int


@dataclass(slots=True, eq=False, repr=False)
class QueryMessageResponseHeader(Header):
    index_last_update_timestamp: int
    index_last_update_phyoffset: int


@dataclass(slots=True, eq=False, repr=False)
class ViewMessageRequestHeader(Header):
    offset: int


# -- queue offsets and stats -----------------------------------------------------------------------------------------


@dataclass(slots=True, eq=False, repr=False)
class SearchOffsetRequestHeader(Header):
    topic: str
    queue_id: int
    timestamp: int
    bname: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class QueueRequestHeader(Header):
    """GetMaxOffsetRequestHeader, GetMinOffsetRequestHeader and GetEarliestMsgStoretimeRequestHeader: the same
    two fields."""

    topic: str
    queue_id: int
    bname: str | None = None


@dataclass(slots=True, eq=False, repr=False)
class OffsetResponseHeader(Header):
    """SearchOffsetResponseHeader, GetMaxOffsetResponseHeader, GetMinOffsetResponseHeader."""

    offset: int


@dataclass(slots=True, eq=False, repr=False)
class GetEarliestMsgStoretimeResponseHeader(Header):
    timestamp: int


@dataclass(slots=True, eq=False, repr=False)
class GetTopicStatsInfoRequestHeader(Header):
    topic: str


@dataclass(slots=True, eq=False, repr=False)
class GetConsumeStatsRequestHeader(Header):
    consumer_group: str
    topic: str | None = None
