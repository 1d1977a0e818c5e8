"""JSON as Alibaba fastjson 1.2.69 (the library inside RocketMQ 4.9.x) reads and writes it.

Java encodes every RemotingSerializable body with `JSON.toJSONString`, which departs from RFC 8259 in ways a Java
peer relies on:

* map keys that are not strings are written *unquoted*: `{"brokerAddrs":{0:"10.0.0.1:10911"}}`;
* map keys that are beans are written as bare objects: `{{"brokerName":"b","queueId":0,"topic":"T"}:{...}}`
  (ConsumeStats, TopicStatsTable, ResetOffsetBody, GetConsumerStatusBody, ConsumerRunningInfo);
* doubles follow `Double.toString`: `0.0`, `1.0E-4`, `1.2345678E7`;
* enums are written by name; null map values and null bean properties are left out.

With `SerializerFeature.BrowserCompatible` (the route reply to clients of version >= V4_9_4, see
DefaultRequestProcessor.getRouteInfoByTopic) non-string keys are quoted, '/' and non-ASCII characters are escaped
and longs beyond +-2^53 become strings.

`loads` tries orjson first (standard JSON is the common case) and only falls back to the tolerant parser below for
fastjson's extensions (unquoted number or identifier keys, object keys, single-quoted strings, `\\x` escapes).
An object used as a key is returned as a hashable `ObjectKey`. `dumps` writes the forms Java decodes.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from rocketpy.common.java import java_hash_order, java_string_hash  # re-exported: bodies order maps with them

__all__ = ["FastJsonError", "ObjectKey", "dumps", "java_double", "java_hash_order", "java_string_hash", "loads"]

MAX_DEPTH = 256
_JS_SAFE_LONG = 9007199254740991  # fastjson quotes longs beyond this under BrowserCompatible


class FastJsonError(ValueError):
    """Malformed JSON text (the peer misbehaved)."""


@dataclass(frozen=True, slots=True)
class ObjectKey:
    """A JSON object used as a map key, frozen so that it can key a dict.

    `items` keeps the wire order; nested objects become ObjectKey and arrays tuples, so the whole key is hashable.
    Two keys compare equal only with the same order, which is fine because fastjson always writes bean
    properties sorted.
    """

    items: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, mapping: Mapping[str, Any]) -> ObjectKey:
        return cls(tuple((str(k), _freeze(v)) for k, v in mapping.items()))

    def get(self, name: str, default: Any = None) -> Any:
        for key, value in self.items:
            if key == name:
                return value
        return default

    def to_dict(self) -> dict[str, Any]:
        return dict(self.items)


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return ObjectKey.of(value)
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


# ---------------------------------------------------------------------------------------------------------------
# Reading


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse JSON text as fastjson would; raise FastJsonError on malformed input."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        pass
    if isinstance(data, str):
        text = data
    else:
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FastJsonError(f"invalid UTF-8 in JSON: {exc}") from None
    return _Parser(text).parse_document()


_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_WS = re.compile(r"[ \t\n\r\f\b]*")
_PLAIN = {'"': re.compile(r'[^"\\]*'), "'": re.compile(r"[^'\\]*")}
_SIMPLE_ESCAPES = {
    '"': '"',
    "'": "'",
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "0": "\0",
}
_LITERALS = {"true": True, "false": False, "null": None}


class _Parser:
    """Recursive-descent reader for fastjson's superset of JSON, with a depth limit for hostile input."""

    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> FastJsonError:
        return FastJsonError(f"{what} at offset {self.pos}")

    def skip_ws(self) -> None:
        match = _WS.match(self.text, self.pos)
        assert match is not None
        self.pos = match.end()

    def peek(self) -> str:
        self.skip_ws()
        if self.pos >= len(self.text):
            raise self.fail("unexpected end of JSON")
        return self.text[self.pos]

    def parse_document(self) -> Any:
        value = self.value(0)
        self.skip_ws()
        if self.pos != len(self.text):
            raise self.fail("trailing data after JSON value")
        return value

    def value(self, depth: int) -> Any:
        ch = self.peek()
        if ch == "{":
            return self.obj(depth)
        if ch == "[":
            return self.array(depth)
        if ch in "\"'":
            return self.string(ch)
        if ch == "-" or ch.isdigit():
            return self.number()
        match = _IDENT.match(self.text, self.pos)
        if match and match.group() in _LITERALS:
            self.pos = match.end()
            return _LITERALS[match.group()]
        raise self.fail(f"unexpected character {ch!r}")

    def enter(self, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise self.fail("JSON nested too deeply")
        self.pos += 1

    def obj(self, depth: int) -> dict[Any, Any]:
        self.enter(depth)
        result: dict[Any, Any] = {}
        if self.peek() == "}":
            self.pos += 1
            return result
        while True:
            key = self.key(depth)
            if self.peek() != ":":
                raise self.fail("expected ':'")
            self.pos += 1
            result[key] = self.value(depth + 1)
            ch = self.peek()
            self.pos += 1
            if ch == "}":
                return result
            if ch != ",":
                raise self.fail("expected ',' or '}'")

    def key(self, depth: int) -> Any:
        ch = self.peek()
        if ch in "\"'":
            return self.string(ch)
        if ch == "{":
            return ObjectKey.of(self.obj(depth + 1))
        if ch == "[":
            return _freeze(self.array(depth + 1))
        if ch == "-" or ch.isdigit():
            return self.number()
        match = _IDENT.match(self.text, self.pos)
        if match is None:
            raise self.fail(f"unexpected character {ch!r} in object key")
        self.pos = match.end()
        return _LITERALS.get(match.group(), match.group())

    def array(self, depth: int) -> list[Any]:
        self.enter(depth)
        result: list[Any] = []
        if self.peek() == "]":
            self.pos += 1
            return result
        while True:
            result.append(self.value(depth + 1))
            ch = self.peek()
            self.pos += 1
            if ch == "]":
                return result
            if ch != ",":
                raise self.fail("expected ',' or ']'")

    def number(self) -> int | float:
        match = _NUMBER.match(self.text, self.pos)
        if match is None:
            raise self.fail("malformed number")
        self.pos = match.end()
        if match.group(1) is None and match.group(2) is None:
            return int(match.group())
        value = float(match.group())
        if math.isinf(value):
            raise self.fail("number out of range")
        return value

    def string(self, quote: str) -> str:
        self.pos += 1
        text, plain, parts = self.text, _PLAIN[quote], []
        while True:
            match = plain.match(text, self.pos)
            assert match is not None
            parts.append(match.group())
            self.pos = match.end()
            if self.pos >= len(text):
                raise self.fail("unterminated string")
            if text[self.pos] == quote:
                self.pos += 1
                return _join_utf16("".join(parts))
            parts.append(self.escape())

    def escape(self) -> str:
        self.pos += 1  # the backslash
        if self.pos >= len(self.text):
            raise self.fail("unterminated escape")
        ch = self.text[self.pos]
        self.pos += 1
        if ch in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[ch]
        width = {"u": 4, "x": 2}.get(ch)
        digits = self.text[self.pos : self.pos + width] if width else ""
        if width is None or len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
            raise self.fail(f"invalid escape \\{ch}")
        self.pos += width
        return chr(int(digits, 16))


def _join_utf16(text: str) -> str:
    """Combine \\uD83D\\uDE00-style surrogate pairs the way Java's UTF-16 strings hold them."""
    if not any("\ud800" <= c <= "\udfff" for c in text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


# ---------------------------------------------------------------------------------------------------------------
# Writing


def java_double(value: float) -> str:
    """Format like java.lang.Double.toString: fixed in [1e-3, 1e7), else `d.dddE<n>`; always a fraction digit.

    Digits are the shortest that round-trip, which is what JDK 17 prints for every magnitude below 1e16 (checked
    on random doubles). For integral values in [1e16, 1e19) JDK 17's FloatingDecimal sometimes adds a 17th digit
    (3.3601020173166172E18 for 3.360102017316617E18); both parse to the same double, and 4.9E-324 is printed
    5.0E-324 here.
    """
    if math.isnan(value) or math.isinf(value):
        raise ValueError("fastjson writes NaN and Infinity as null; pass None instead")
    if value == 0.0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        text = repr(value)  # Python uses fixed notation for this whole range
        return text if "." in text else text + ".0"
    digits, exponent = _shortest_digits(magnitude)
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return ("-" if value < 0 else "") + f"{mantissa}E{exponent}"


def _shortest_digits(magnitude: float) -> tuple[str, int]:
    """(significant digits, decimal exponent of the first digit) of the shortest round-tripping repr."""
    from decimal import Decimal  # only doubles outside [1e-3, 1e7) come here: not loaded at every start

    sign_digits_exp = Decimal(repr(magnitude)).normalize().as_tuple()
    digits = "".join(str(d) for d in sign_digits_exp.digits)
    exponent = int(sign_digits_exp.exponent) + len(digits) - 1
    return digits, exponent


_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f-\xa0\u2028]')
# '"', '\\', '/', controls and everything from DEL up, written as the complement of what is kept: the same set,
# but a class spanning the whole of Unicode takes milliseconds to compile at every start.
_NEEDS_ESCAPE_BROWSER = re.compile(r"[^\x20\x21\x23-\x2e\x30-\x5b\x5d-\x7e]")
_SHORT = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "/": "\\/"}


def _escape_default(match: re.Match[str]) -> str:
    ch = match.group()
    return _SHORT.get(ch) or f"\\u{ord(ch):04X}"


def _escape_browser(match: re.Match[str]) -> str:
    ch = match.group()
    short = _SHORT.get(ch)
    if short is not None:
        return short
    units = ch.encode("utf-16-be", "surrogatepass")
    return "".join(f"\\u{int.from_bytes(units[i : i + 2], 'big'):04X}" for i in range(0, len(units), 2))


@dataclass(frozen=True, slots=True)
class _Options:
    quote_keys: bool
    browser: bool
    sort_maps: bool


def dumps(
    value: Any,
    *,
    quote_non_string_keys: bool = False,
    browser_compatible: bool = False,
    sort_map_keys: bool = False,
) -> bytes:
    """Encode like `JSON.toJSONString(value, features)`; return UTF-8 bytes.

    Dicts keep their insertion order (bodies build bean dicts with sorted property names, as fastjson's SortField
    does), unless `sort_map_keys` (MapSortField). `browser_compatible` implies quoted keys.
    """
    opts = _Options(quote_non_string_keys or browser_compatible, browser_compatible, sort_map_keys)
    out: list[str] = []
    _write(value, opts, out)
    return "".join(out).encode("utf-8", "surrogatepass")


def _write(value: Any, opts: _Options, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_quote(value, opts))
    elif isinstance(value, enum.Enum):
        out.append(_quote(value.name, opts))
    elif isinstance(value, int):
        out.append(_write_long(value, opts))
    elif isinstance(value, float):
        out.append("null" if math.isnan(value) or math.isinf(value) else java_double(value))
    elif isinstance(value, Mapping):
        _write_map(value, opts, out)
    elif isinstance(value, ObjectKey):
        _write_map(dict(value.items), opts, out)
    elif isinstance(value, set | frozenset):
        _write_array(_sorted_if_possible(value), opts, out)
    elif isinstance(value, list | tuple):
        _write_array(value, opts, out)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as fastjson")


def _write_long(value: int, opts: _Options) -> str:
    text = str(value)
    if opts.browser and abs(value) > _JS_SAFE_LONG:
        return f'"{text}"'
    return text


def _quote(text: str, opts: _Options) -> str:
    if opts.browser:
        return '"' + _NEEDS_ESCAPE_BROWSER.sub(_escape_browser, text) + '"'
    return '"' + _NEEDS_ESCAPE.sub(_escape_default, text) + '"'


def _sorted_if_possible(items: Iterable[Any]) -> list[Any]:
    values = list(items)
    try:
        return sorted(values)
    except TypeError:
        return values


def _write_array(items: Iterable[Any], opts: _Options, out: list[str]) -> None:
    out.append("[")
    first = True
    for item in items:
        if not first:
            out.append(",")
        first = False
        _write(item, opts, out)
    out.append("]")


def _map_items(value: Mapping[Any, Any], opts: _Options) -> Iterator[tuple[Any, Any]]:
    items: Iterable[tuple[Any, Any]] = value.items()
    if opts.sort_maps:
        items = sorted(items, key=lambda kv: (type(kv[0]).__name__, kv[0]))
    for key, item in items:
        if item is not None:  # fastjson skips null map values unless WriteMapNullValue
            yield key, item


def _write_map(value: Mapping[Any, Any], opts: _Options, out: list[str]) -> None:
    out.append("{")
    first = True
    for key, item in _map_items(value, opts):
        if not first:
            out.append(",")
        first = False
        _write_key(key, opts, out)
        out.append(":")
        _write(item, opts, out)
    out.append("}")


def _write_key(key: Any, opts: _Options, out: list[str]) -> None:
    if isinstance(key, str):
        out.append(_quote(key, opts))
    elif isinstance(key, enum.Enum):
        out.append(_quote(key.name, opts))
    elif opts.quote_keys:
        # MapSerializer: JSON.toJSONString(key) then written as a string value.
        inner: list[str] = []
        _write(key, _Options(False, False, opts.sort_maps), inner)
        out.append(_quote("".join(inner), opts))
    else:
        _write(key, opts, out)


# ---------------------------------------------------------------------------------------------------------------
# Java collection order
