"""Java value semantics of the SQL92 filter: boxed number classes, valueOf parsing, compareTo, toString.

A message property is always a java.lang.String; constants are Integer, Long, Double, String, Boolean or null.
Python `int` cannot tell Integer from Long, and the coercions of filter.expression.ComparisonExpression depend on
the class (a String property compared with an Integer is parsed by Integer.valueOf, with a Long by Long.valueOf),
so the two are distinct int subclasses here; Double is `float`, Boolean `bool`, String `str`, null `None`.
"""

from __future__ import annotations

import math
import re
import struct
from decimal import Decimal


class JInt(int):
    """java.lang.Integer."""

    __slots__ = ()


class JLong(int):
    """java.lang.Long."""

    __slots__ = ()


Value = None | bool | str | JInt | JLong | float


class JavaError(Exception):
    """A Java exception: `str()` is its Throwable.toString(), "class.name: message"."""

    java_class = "java.lang.RuntimeException"

    def __init__(self, message: str | None) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.java_class if self.message is None else f"{self.java_class}: {self.message}"


class NumberFormatError(JavaError):
    java_class = "java.lang.NumberFormatException"


def wrapped(cause: JavaError) -> JavaError:
    """new RuntimeException(cause): its message is the cause's toString()."""
    return JavaError(str(cause))


def _for_input(s: str) -> NumberFormatError:
    return NumberFormatError(f'For input string: "{s}"')


_INT_RE = re.compile(r"[+-]?\d+\Z")  # Character.digit(c, 10): any Unicode decimal digit, no spaces or underscores


def parse_integral(s: str, bits: int) -> int:
    """Integer.valueOf / Long.valueOf (bits 32 / 64)."""
    if not _INT_RE.match(s) or "_" in s:
        raise _for_input(s)
    value = int(s)
    if not -(1 << (bits - 1)) <= value < 1 << (bits - 1):
        raise _for_input(s)
    return value


_DOUBLE_RE = re.compile(
    r"[+-]?(NaN|Infinity|((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)[fFdD]?|0[xX]([0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)[pP][+-]?\d+[fFdD]?)\Z",
    re.ASCII,
)


def parse_double(s: str) -> float:
    """Double.valueOf (FloatingDecimal.readJavaFormatString): trimmed, Java literal syntax, NaN/Infinity, hex."""
    text = s.strip("".join(map(chr, range(33))))
    if not text:
        raise NumberFormatError("empty String")
    if not _DOUBLE_RE.match(text):
        raise _for_input(text)
    body = text.rstrip("fFdD") if not text.lower().lstrip("+-").startswith("0x") else text
    if "x" in body.lower():
        sign = -1.0 if body.startswith("-") else 1.0
        hex_text = body.lstrip("+-").rstrip("fFdD")
        return sign * float.fromhex(hex_text)
    if body.lstrip("+-") == "NaN":
        return math.nan
    if body.lstrip("+-") == "Infinity":
        return -math.inf if body.startswith("-") else math.inf
    return float(body)


def java_bool(s: str) -> bool:
    """Boolean.valueOf(String)."""
    return s.lower() == "true"


def _bits(d: float) -> int:
    if d != d:
        return 0x7FF8000000000000  # doubleToLongBits collapses every NaN
    bits: int = struct.unpack(">q", struct.pack(">d", d))[0]
    return bits


def double_compare(a: float, b: float) -> int:
    """Double.compare: NaN above everything, -0.0 below 0.0."""
    if a < b:
        return -1
    if a > b:
        return 1
    x, y = _bits(a), _bits(b)
    return 0 if x == y else (-1 if x < y else 1)


def string_compare(a: str, b: str) -> int:
    """String.compareTo: lexicographic over UTF-16 code units."""
    if not (a.isascii() and b.isascii()):
        a, b = a.encode("utf-16-be"), b.encode("utf-16-be")  # type: ignore[assignment]
    return (a > b) - (a < b)


def java_equals(a: Value, b: Value) -> bool:
    """Object.equals of the boxed values: same class and same value (Double by its bits)."""
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return _bits(a) == _bits(b)  # type: ignore[arg-type]
    return a == b


def double_to_string(d: float) -> str:
    """Double.toString: plain between 10^-3 and 10^7, else computerized scientific notation."""
    if d != d:
        return "NaN"
    if math.isinf(d):
        return "Infinity" if d > 0 else "-Infinity"
    if d == 0:
        return "-0.0" if math.copysign(1.0, d) < 0 else "0.0"
    mag = abs(d)
    if mag == 5e-324:
        return f"{'-' if d < 0 else ''}4.9E-324"  # Double.MIN_VALUE: Java prints two digits
    if 1e-3 <= mag < 1e7:
        text = repr(d)  # shortest round-trip digits, never in exponent form in this range
        return text if "." in text else text + ".0"
    _, digits, exponent = Decimal(repr(mag)).as_tuple()
    text = "".join(map(str, digits)).rstrip("0") or "0"
    sci = len(digits) - 1 + int(exponent)
    head, tail = text[0], text[1:] or "0"
    return f"{'-' if d < 0 else ''}{head}.{tail}E{sci}"


def to_string(value: Value) -> str:
    """String.valueOf of a boxed value (String.format("%s") and string concatenation)."""
    if value is None:
        return "null"
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is float:
        return double_to_string(value)
    if isinstance(value, int):
        return str(int(value))
    return str(value)


def negate(value: Value) -> Value:
    """UnaryExpression.negate: the same class, Java overflow; anything not a number gives null."""
    t = type(value)
    if t is JInt:
        return JInt(((-value + (1 << 31)) % (1 << 32)) - (1 << 31))  # type: ignore[operator]
    if t is JLong:
        return JLong(((-value + (1 << 63)) % (1 << 64)) - (1 << 63))  # type: ignore[operator]
    if t is float:
        return -value  # type: ignore[operator]
    return None


def compare(lv: Value, rv: Value) -> int:
    """ComparisonExpression.__compare with convertStringExpressions (always set by SelectorParser.parse).

    Raises JavaError where Java throws: a NumberFormatException wrapped in a RuntimeException, or a
    ClassCastException for a Boolean on the left of a String.
    """
    lc, rc = type(lv), type(rv)
    if lc is not rc:
        try:
            if lc is bool:
                if rc is str:
                    raise ClassCastError(cast_message("java.lang.Boolean", "java.lang.String"))
                return -1
            if lc is JInt:
                if rc is JLong:
                    lc = JLong
                elif rc is float:
                    lv, lc = float(lv), float  # type: ignore[arg-type]
                elif rc is str:
                    rv, rc = JInt(parse_integral(rv, 32)), JInt  # type: ignore[arg-type]
                else:
                    return -1
            elif lc is JLong:
                if rc is JInt:
                    rc = JLong
                elif rc is float:
                    lv, lc = float(lv), float  # type: ignore[arg-type]
                elif rc is str:
                    rv, rc = JLong(parse_integral(rv, 64)), JLong  # type: ignore[arg-type]
                else:
                    return -1
            elif lc is float:
                if rc is JInt or rc is JLong:
                    rv, rc = float(rv), float  # type: ignore[arg-type]
                elif rc is str:
                    rv, rc = parse_double(rv), float  # type: ignore[arg-type]
                else:
                    return -1
            elif lc is str:
                if rc is bool:
                    lv, lc = java_bool(lv), bool  # type: ignore[arg-type]
                elif rc is JInt:
                    lv, lc = parse_integral(lv, 32), JInt  # type: ignore[arg-type]
                elif rc is JLong:
                    lv, lc = parse_integral(lv, 64), JLong  # type: ignore[arg-type]
                elif rc is float:
                    lv, lc = parse_double(lv), float  # type: ignore[arg-type]
                else:
                    return -1
            else:
                return -1
        except NumberFormatError as exc:
            raise wrapped(exc) from None
    if lc is float:
        return double_compare(lv, rv)  # type: ignore[arg-type]
    if lc is str:
        return string_compare(lv, rv)  # type: ignore[arg-type]
    return (lv > rv) - (lv < rv)  # type: ignore[operator]


class ClassCastError(JavaError):
    java_class = "java.lang.ClassCastException"


def cast_message(source: str, target: str) -> str:
    """The ClassCastException text of a JDK 11+ VM for two java.base classes."""
    return (
        f"class {source} cannot be cast to class {target} ({source} and {target} are in module java.base of "
        "loader 'bootstrap')"
    )
