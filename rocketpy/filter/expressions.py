"""The expression tree of the 4.9.8 SQL92 filter (filter.expression.*), compiled to closures.

Each node keeps Java's toString (error remarks quote it) and, built once at compile time, a closure from the
message properties to a Java value: `None` for SQL's unknown. The constructors are Java's `create*` factories with
their compile-time checks, raising JavaError("java.lang.RuntimeException: ...") with Java's text. Evaluation may
raise (a property that is not a number compared with a number, ...): ExpressionMessageFilter then does not match.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from rocketpy.common.java import java_hash_order
from rocketpy.filter.values import (
    ClassCastError,
    JavaError,
    JInt,
    JLong,
    Value,
    cast_message,
    compare,
    java_equals,
    negate,
    parse_double,
    to_string,
)

Properties = Mapping[str, str]
Evaluator = Callable[[Properties], Value]


@dataclass(slots=True, eq=False)
class Expr:
    render: Callable[[], str]  # Java's toString(), built on demand (an error remark, a log line)
    fn: Evaluator
    boolean: bool = False  # implements BooleanExpression
    constant: bool = False  # a ConstantExpression (value in `value`)
    value: Value = None
    prop: bool = False  # a PropertyExpression
    name: str = ""
    terms: tuple[str, list[Expr], list[Evaluator]] | None = None  # an AND/OR chain: operator, operands, their fns
    _text: str | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.render()
        return self._text

    def __str__(self) -> str:
        return self.text


def constant(value: Value, *, boolean: bool = False) -> Expr:
    """ConstantExpression / BooleanConstantExpression (TRUE, FALSE, NULL)."""
    if value is None:
        text = "NULL"
    elif type(value) is bool:
        text = "TRUE" if value else "FALSE"
    elif type(value) is str:
        text = "'" + value.replace("'", "''") + "'"
    else:
        text = to_string(value)
    return Expr(lambda: text, lambda props: value, boolean=boolean, constant=True, value=value)


def prop(name: str) -> Expr:
    def get(props: Properties) -> Value:
        return props.get(name)

    return Expr(lambda: name, get, prop=True, name=name)


def negate_of(right: Expr) -> Expr:
    rf = right.fn

    def run(props: Properties) -> Value:
        return negate(rf(props))

    return Expr(lambda: f"(- {right})", run)


def _boolean(value: Value) -> bool | None:
    """The `(Boolean) x.evaluate(...)` cast of LogicExpression and NOT."""
    if value is None or type(value) is bool:
        return value  # type: ignore[return-value]
    raise ClassCastError(cast_message(_java_class(value), "java.lang.Boolean"))


def _java_class(value: Value) -> str:
    return {"JInt": "java.lang.Integer", "JLong": "java.lang.Long", "float": "java.lang.Double",
            "str": "java.lang.String"}.get(type(value).__name__, "java.lang.Object")  # fmt: skip


def not_of(right: Expr) -> Expr:
    rf = right.fn

    def run(props: Properties) -> Value:
        v = _boolean(rf(props))
        return None if v is None else not v

    return Expr(lambda: f"(NOT {right})", run, boolean=True)


def boolean_cast(right: Expr) -> Expr:
    """UnaryExpression.createBooleanCast: a property used as a condition; only a Boolean value can be true."""
    rf = right.fn

    def run(props: Properties) -> Value:
        v = rf(props)
        if v is None:
            return None
        return v if type(v) is bool else False

    return Expr(lambda: right.text, run, boolean=True)


def logic(op: str, left: Expr, right: Expr) -> Expr:
    """LogicExpression.createOR / createAND: three-valued, later operands skipped once the answer is known.

    A left-nested chain ((a OR b) OR c) is kept as one n-ary node: the same evaluation order and answers as Java's
    nested nodes, without a Python frame per operand (a filter of a thousand ORs must not hit the recursion limit).
    """
    if left.terms is not None and left.terms[0] == op:  # the chain so far is referenced by nothing else
        left.terms[1].append(right)
        left.terms[2].append(right.fn)
        left._text = None
        return left
    operands = [left, right]
    fns = [left.fn, right.fn]
    symbol = "||" if op == "OR" else "&&"

    def render() -> str:
        text = operands[0].text
        for operand in operands[1:]:
            text = f"({text} {symbol} {operand.text})"
        return text

    if op == "OR":

        def run(props: Properties) -> Value:
            unknown = False
            for fn in fns:
                v = _boolean(fn(props))
                if v:
                    return True
                unknown = unknown or v is None
            return None if unknown else False

        return Expr(render, run, boolean=True, terms=(op, operands, fns))

    def run_and(props: Properties) -> Value:
        unknown = False
        for fn in fns:
            v = _boolean(fn(props))
            if v is False:
                return False
            unknown = unknown or v is None
        return None if unknown else True

    return Expr(render, run_and, boolean=True, terms=(op, operands, fns))


# -- ComparisonExpression --------------------------------------------------------------------------------------------

_TESTS: dict[str, Callable[[int], bool]] = {
    ">": lambda c: c > 0,
    ">=": lambda c: c >= 0,
    "<": lambda c: c < 0,
    "<=": lambda c: c <= 0,
}


def _check_less_than_operand(expr: Expr) -> None:
    if expr.constant:
        if type(expr.value) in (JInt, JLong, float):  # instanceof Number
            return
        raise JavaError(f"Value '{expr}' cannot be compared.")
    if expr.boolean:
        raise JavaError(f"Value '{expr}' cannot be compared.")


def _check_equal_operand(expr: Expr) -> None:
    if expr.constant and expr.value is None:
        raise JavaError(f"'{expr}' cannot be compared.")


def relation(op: str, left: Expr, right: Expr) -> Expr:
    """createGreaterThan & co.: two Strings are compared as doubles (or the evaluation fails)."""
    _check_less_than_operand(left)
    _check_less_than_operand(right)
    return _relation(op, left, right)


def _relation(op: str, left: Expr, right: Expr) -> Expr:
    lf, rf, test = left.fn, right.fn, _TESTS[op]

    def run(props: Properties) -> Value:
        lv = lf(props)
        if lv is None:
            return None
        rv = rf(props)
        if rv is None:
            return None
        if type(lv) is str and type(rv) is str:
            try:
                return test(compare(parse_double(lv), parse_double(rv)))
            except JavaError as exc:
                raise JavaError(f"It's illegal to compare string by '>=', '>', '<', '<='. lv={lv}, rv={rv}") from exc
        return test(compare(lv, rv))

    return Expr(lambda: f"({left} {op} {right})", run, boolean=True)


def _do_equal(left: Expr, right: Expr) -> Expr:
    lf, rf = left.fn, right.fn

    def run(props: Properties) -> Value:
        lv, rv = lf(props), rf(props)
        if (lv is None) != (rv is None):
            return None if lv is None else False
        if lv is rv or java_equals(lv, rv):
            return True
        return compare(lv, rv) == 0

    return Expr(lambda: f"({left} == {right})", run, boolean=True)


def equal(left: Expr, right: Expr) -> Expr:
    _check_equal_operand(left)
    _check_equal_operand(right)
    if left.constant and right.constant and left.boolean and not right.boolean:
        raise JavaError(f"'{left}' cannot be compared with '{right}'")
    return _do_equal(left, right)


def not_equal(left: Expr, right: Expr) -> Expr:
    return not_of(equal(left, right))


def is_null(left: Expr) -> Expr:
    return _do_equal(left, constant(None, boolean=True))


def is_not_null(left: Expr) -> Expr:
    return not_of(is_null(left))


def between(value: Expr, low: Expr, high: Expr) -> Expr:
    """createBetween: constant bounds are checked (non-null, low <= high) before the operands."""
    if low.constant and high.constant:
        lv, rv = low.value, high.value
        if lv is None or rv is None:
            raise JavaError("Illegal values of between, values can not be null!")
        if compare(rv, lv) < 0:
            raise JavaError(
                f"Illegal values of between, left value({to_string(lv)}) must less than or equal to right "
                f"value({to_string(rv)})"
            )
    return logic("AND", relation(">=", value, low), relation("<=", value, high))


def not_between(value: Expr, low: Expr, high: Expr) -> Expr:
    return logic("OR", relation("<", value, low), relation(">", value, high))


def in_list(left: Expr, items: list[str], negated: bool) -> Expr:
    """createInFilter / createNotInFilter: a property against string literals; anything else is unknown."""
    if not left.prop:
        raise JavaError(f"Expected a property for In expression, got: {left}")
    # UnaryExpression.createInExpression keeps a list below 5 elements, a HashSet from 5 on (toString order)
    shown = items if len(items) < 5 else java_hash_order(dict.fromkeys(items), max(int(len(items) / 0.75) + 1, 16))
    members = frozenset(items)
    name = left.name
    symbol = "NOT IN" if negated else "IN"

    def run(props: Properties) -> Value:
        v = props.get(name)
        if v is None:
            return None
        return (v in members) != negated

    return Expr(lambda: f"{left} {symbol} ( {', '.join(shown)} )", run, boolean=True)


def as_condition(expr: Expr) -> Expr:
    """SelectorParser.asBooleanExpression; the caller turns the JavaError into a ParseException."""
    if expr.boolean:
        return expr
    if expr.prop:
        return boolean_cast(expr)
    raise NotBoolean(f"Expression will not result in a boolean value: {expr}")


class NotBoolean(JavaError):
    java_class = "org.apache.rocketmq.filter.parser.ParseException"
