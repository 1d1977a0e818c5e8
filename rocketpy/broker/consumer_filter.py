"""ConsumerFilterManager (broker.filter): the compiled SQL92 expression of each (topic, consumer group).

Heartbeats register every subscription (ConsumerManager.registerConsumer fires REGISTER each time), but an
expression is compiled only when it is new or changed under a newer subscription version, so pulls evaluate a
tree built once per version. Java's rules (FilterDataMapByTopic.register): a version not above the stored one is
ignored; a changed expression that does not compile removes the stored one (the next pull gets
FILTER_DATA_NOT_EXIST, "let client report error"); a first expression that does not compile is not stored.
Heartbeats themselves are never refused for a bad expression: the client hears of it from CHECK_CLIENT_CONFIG at
start and from its pulls. There is no bloom filter / consume-queue bit map (enableCalcFilterBitMap), so every
candidate record is matched on its properties, as Java does whenever the bit map is absent.
"""

from __future__ import annotations

import logging
import math
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rocketpy.filter import SQL92, FilterCompileError, SqlExpression, compile_sql92
from rocketpy.protocol.bodies.heartbeat import SubscriptionData, is_tag_type
from rocketpy.store.format import HEADERS, header_index, parse_properties

log = logging.getLogger("RocketmqFilter")

# expression type -> compile(expression); raises ValueError (FilterCompileError) with Java's message (FilterFactory)
ExpressionCompilers = dict[str, Callable[[str], object]]
PROPERTY_RETRY_TOPIC = "RETRY_TOPIC"
RETRY_GROUP_TOPIC_PREFIX = "%RETRY%"
_I32 = struct.Struct(">i")
_I16 = struct.Struct(">h")


def default_compilers() -> ExpressionCompilers:
    """FilterFactory.INSTANCE: SqlFilter is the one registered filter."""
    return {SQL92: compile_sql92}


@dataclass(slots=True)
class ConsumerFilterData:
    topic: str
    group: str
    expression: str
    expression_type: str
    client_version: int
    compiled: object


def record_properties(rec: memoryview | bytes) -> dict[str, str]:
    """MessageDecoder.decodeProperties of a stored record: the property string, without decoding the rest."""
    sys_flag = _I32.unpack_from(rec, 36)[0]
    pos = HEADERS[header_index(sys_flag)].size
    body_len = _I32.unpack_from(rec, pos - 4)[0]
    pos += body_len
    pos += 1 + rec[pos]
    length = _I16.unpack_from(rec, pos)[0]
    return parse_properties(bytes(rec[pos + 2 : pos + 2 + length]).decode("utf-8", "replace"))


def matches(compiled: object, properties: dict[str, str]) -> bool:
    if isinstance(compiled, SqlExpression):
        return compiled.matches(properties)
    evaluate = getattr(compiled, "matches", None)
    return bool(evaluate(properties)) if evaluate is not None else True


class ConsumerFilterManager:
    def __init__(self, compilers: ExpressionCompilers | None = None) -> None:
        self.compilers = compilers if compilers is not None else default_compilers()
        self._by_topic: dict[str, dict[str, ConsumerFilterData]] = {}

    def compile(self, expression_type: str | None, expression: str | None) -> object:
        """FilterFactory.get(type).compile(expression): ValueError with Java's getMessage() (None for an NPE)."""
        compile_expression = self.compilers.get(expression_type or "")
        if compile_expression is None:  # a NullPointerException with the JVM's helpful message (JDK 15+)
            raise FilterCompileError(
                'Cannot invoke "org.apache.rocketmq.filter.FilterSpi.compile(String)" because the return value of '
                '"org.apache.rocketmq.filter.FilterFactory.get(String)" is null'
            )
        if expression is None:
            raise FilterCompileError(None)  # Guava's checkNotNull in SelectorParser.parse: no message
        return compile_expression(expression)

    def build(
        self, topic: str, group: str, expression: str | None, kind: str | None, version: int
    ) -> ConsumerFilterData | None:
        """ConsumerFilterManager.build: None for TAG and for an expression that does not compile."""
        if is_tag_type(kind):
            return None
        try:
            compiled = self.compile(kind, expression)
        except ValueError as exc:
            log.error("parse error: expr=%s, topic=%s, group=%s, error=%s", expression, topic, group, exc)
            return None
        return ConsumerFilterData(topic, group, expression or "", kind or "", version, compiled)

    def register(self, group: str, subscriptions: Iterable[SubscriptionData]) -> None:
        for sub in subscriptions:
            self._register(sub.topic or "", group, sub.sub_string, sub.expression_type, sub.sub_version)

    def _register(self, topic: str, group: str, expression: str | None, kind: str | None, version: int) -> None:
        if is_tag_type(kind) or not expression:
            return
        by_group = self._by_topic.setdefault(topic, {})
        old = by_group.get(group)
        if old is not None:
            if version <= old.client_version:
                return
            if old.expression == expression and old.expression_type == kind:
                old.client_version = version
                return
        data = self.build(topic, group, expression, kind, version)
        if data is None:
            by_group.pop(group, None)
            return
        log.info("New consumer filter registered: %s %s %s", topic, group, expression)
        by_group[group] = data

    def get(self, topic: str, group: str) -> ConsumerFilterData | None:
        by_group = self._by_topic.get(topic)
        return None if by_group is None else by_group.get(group)


def record_filter(
    data: SubscriptionData,
    filter_data: ConsumerFilterData | None,
    manager: ConsumerFilterManager,
    group: str,
    *,
    support_retry: bool,
) -> Callable[[memoryview], bool] | None:
    """ExpressionMessageFilter.isMatchedByCommitLog (ExpressionForRetryMessageFilter with filterSupportRetry).

    None when every record matches: a TAG subscription, or no compiled expression. With filterSupportRetry a
    %RETRY% topic's records are matched by the filter of the topic they were first sent to.
    """
    if data.class_filter_mode:
        return None
    if support_retry and (data.topic or "").startswith(RETRY_GROUP_TOPIC_PREFIX):

        def retry_matches(rec: memoryview) -> bool:
            props = record_properties(rec)
            real = manager.get(props.get(PROPERTY_RETRY_TOPIC, ""), group)
            return real is None or matches(real.compiled, props)

        return retry_matches
    if is_tag_type(data.expression_type) or filter_data is None:
        return None
    compiled = filter_data.compiled
    if isinstance(compiled, SqlExpression):
        evaluate = compiled.matches
        return lambda rec: evaluate(record_properties(rec))
    return lambda rec: matches(compiled, record_properties(rec))


def bloom_filter_bits(error_rate_percent: int, expected: int) -> int:
    """BloomFilter.createByFn(f, n).getM(): the bit count for n members at f% false positives, a multiple of 8.
    ConsumerFilterManager's constructor stores it as the store's bitMapLengthConsumeQueueExt (112 by default)."""
    if not 1 <= error_rate_percent < 100:
        raise ValueError("f must be greater or equal than 1 and less than 100")
    rate = error_rate_percent / 100
    bits = math.ceil(expected * math.log2(1 / rate) * math.log2(math.e))
    return 8 * math.ceil(bits / 8)
