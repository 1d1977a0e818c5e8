"""SQL92 message filtering as the 4.9.8 broker does it (filter module: SqlFilter, SelectorParser).

Pure: no trio, no broker. `compile_sql92(text)` parses once (per subscription version) into a `SqlExpression`
whose `matches(properties)` is ExpressionMessageFilter.isMatchedByCommitLog's verdict: true only for a Boolean
TRUE; unknown (null) and any evaluation error mean no match. A refused expression raises `FilterCompileError`,
whose `str()` is the `e.getMessage()` the broker puts in the SUBSCRIPTION_PARSE_FAILED remark (MQFilterException
wraps the cause, so it is the cause's toString()).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rocketpy.filter.expressions import Expr

SQL92 = "SQL92"


class FilterCompileError(ValueError):
    """MQFilterException from SelectorParser.parse; the text is Java's getMessage()."""


@dataclass(frozen=True, slots=True)
class SqlExpression:
    text: str
    tree: Expr

    def evaluate(self, properties: Mapping[str, str]) -> object:
        """Expression.evaluate: True, False, None (unknown); raises where Java throws."""
        return self.tree.fn(properties)

    def matches(self, properties: Mapping[str, str]) -> bool:
        try:
            return self.tree.fn(properties) is True
        except Exception:  # ExpressionMessageFilter logs "Message Filter error" and does not match
            return False

    def __str__(self) -> str:
        return self.tree.text


def compile_sql92(text: str) -> SqlExpression:
    """SqlFilter.compile: the expression, or FilterCompileError with Java's message.

    Like SelectorParser's PARSE_CACHE, the last compiled expressions are kept (they are immutable), so pulls that
    carry their expression (the subscription flag) do not parse it each time.
    """
    return _compile(text)


@functools.lru_cache(maxsize=256)
def _compile(text: str) -> SqlExpression:
    # The grammar is imported on the first expression: a broker whose consumers filter by tag never needs it.
    from rocketpy.filter.parser import SelectorParser
    from rocketpy.filter.values import JavaError

    try:
        return SqlExpression(text, SelectorParser(text).parse())
    except JavaError as exc:
        raise FilterCompileError(str(exc)) from None
    except RecursionError:
        raise FilterCompileError("java.lang.StackOverflowError") from None


__all__ = ["SQL92", "FilterCompileError", "SqlExpression", "compile_sql92"]
