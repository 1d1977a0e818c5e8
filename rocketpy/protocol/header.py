"""Typed command headers that flatten to and from extFields exactly as Java does.

Java's RemotingCommand.makeCustomHeaderToNet writes every non-null field of a CommandCustomHeader as
`extFields[fieldName] = String.valueOf(value)`; decodeCommandCustomHeader parses each field by its declared type and
throws "the custom field <name> is null" for a missing @CFNotNull field. A header here is a dataclass whose fields
are named in snake_case; the wire key is the Java field name, derived by camel-casing unless the field's metadata
says otherwise (`field(metadata=java_name("isForce"))`). A field without a default is required (@CFNotNull).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Self, Union

from rocketpy.common.records import FieldwiseEqRepr
from rocketpy.protocol.codes import ResponseCode
from rocketpy.protocol.errors import RocketMQError

log = logging.getLogger("RocketmqRemoting")

_JAVA_KEY = "java"
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def java_name(name: str) -> dict[str, str]:
    """Metadata naming the Java field where camel-casing the Python name would not give it."""
    return {_JAVA_KEY: name}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _parse_int(text: str, low: int, high: int) -> int:
    # Java's Integer.parseInt / Long.parseLong: optional sign, ASCII digits only, range-checked.
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        raise ValueError(f'For input string: "{text}"')
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f'For input string: "{text}"')
    return value


def _parse_bool(text: str) -> bool:
    return text.lower() == "true"  # Boolean.parseBoolean


def _fmt_bool(value: Any) -> str:
    return "true" if value else "false"


def _fmt_float(value: Any) -> str:
    text = repr(float(value))
    return text if "e" not in text else text.replace("e", "E").replace("E+", "E")


@dataclasses.dataclass(frozen=True, slots=True)
class _FieldCodec:
    attr: str
    key: str
    required: bool
    parse: typing.Callable[[str], Any]
    fmt: typing.Callable[[Any], str]


def _codec_for(tp: Any) -> tuple[typing.Callable[[str], Any], typing.Callable[[Any], str], bool]:
    """(parser, formatter, is_optional) for a declared field type."""
    optional = False
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        optional = len(args) != len(typing.get_args(tp))
        tp = args[0]
    if tp is bool:
        return _parse_bool, _fmt_bool, optional
    if tp is int:
        return functools.partial(_parse_int, low=_INT64_MIN, high=_INT64_MAX), str, optional
    if tp is float:
        return float, _fmt_float, optional
    if tp is str:
        return str, str, optional
    raise TypeError(f"unsupported header field type {tp!r}")


class Header(FieldwiseEqRepr):
    """Base of all command headers: `to_ext()` and `from_ext()` with Java's flattening rules.

    Headers are declared `@dataclass(slots=True, eq=False, repr=False)`: FieldwiseEqRepr gives them the methods
    dataclass would generate, compiled once instead of for each of the ~70 classes at every start (issue 12)."""

    __codecs__: ClassVar[tuple[_FieldCodec, ...]]

    @classmethod
    def _codecs(cls) -> tuple[_FieldCodec, ...]:
        cached = cls.__dict__.get("__codecs__")
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        hints = typing.get_type_hints(cls)
        codecs = []
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            parse, fmt, _ = _codec_for(hints[f.name])
            required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
            key = f.metadata.get(_JAVA_KEY, _camel(f.name))
            codecs.append(_FieldCodec(f.name, key, required, parse, fmt))
        result = tuple(codecs)
        cls.__codecs__ = result
        return result

    def to_ext(self, into: dict[str, str] | None = None) -> dict[str, str]:
        """Flatten to extFields; None fields are left out as Java leaves out nulls."""
        ext = {} if into is None else into
        for c in self._codecs():
            value = getattr(self, c.attr)
            if value is not None:
                ext[c.key] = c.fmt(value)
        return ext

    @classmethod
    def from_ext_lenient(cls, ext: Mapping[str, str] | None) -> Self:
        """decodeCommandCustomHeader exactly as Java 4.9.x (and 5.x) behaves: a missing or unparsable field is only
        logged and keeps its default; the handler carries on. Fields decoded this way must be Optional."""
        kwargs: dict[str, Any] = {}
        for c in cls._codecs():
            raw = None if ext is None else ext.get(c.key)
            if raw is None:
                continue
            try:
                kwargs[c.attr] = c.parse(raw)
            except ValueError as exc:
                log.error("Failed field [%s] decoding: %s", c.key, exc)
        return cls(**kwargs)

    @classmethod
    def from_ext(cls, ext: Mapping[str, str] | None) -> Self:
        """Parse extFields strictly: a missing required field or a bad number is SYSTEM_ERROR with Java's message.

        Java would log and continue with null, then typically fail with a NullPointerException, which a client
        also sees as SYSTEM_ERROR; the strict form gives the same code with a remark that names the field.
        Every send and pull parses a header, so each class gets a straight-line decoder generated once."""
        decode = cls.__dict__.get("__from_ext__")
        if decode is None:
            decode = _compile_from_ext(cls, cls._codecs())
            cls.__from_ext__ = decode  # type: ignore[attr-defined]
        return decode(cls, ext or _EMPTY)  # type: ignore[no-any-return]


_EMPTY: Mapping[str, str] = {}


def _missing(key: str) -> RocketMQError:
    return RocketMQError(ResponseCode.SYSTEM_ERROR, f"the custom field <{key}> is null")


def _invalid(key: str, exc: ValueError) -> RocketMQError:
    return RocketMQError(ResponseCode.SYSTEM_ERROR, f"the custom field <{key}> is invalid: {exc}")


def _compile_from_ext(cls: type, codecs: tuple[_FieldCodec, ...]) -> Any:
    """Source for `decode(cls, ext)`: one get, check and parse per field, then a positional constructor call."""
    namespace: dict[str, Any] = {"_missing": _missing, "_invalid": _invalid}
    defaults = {f.name: f for f in dataclasses.fields(cls)}
    lines = ["def decode(cls, ext):", "    get = ext.get"]
    for i, c in enumerate(codecs):
        namespace[f"p{i}"] = c.parse
        lines.append(f"    v{i} = get({c.key!r})")
        if c.required:
            lines.append(f"    if v{i} is None: raise _missing({c.key!r})")
        else:
            f = defaults[c.attr]
            namespace[f"d{i}"] = f.default if f.default is not dataclasses.MISSING else f.default_factory
            factory = "()" if f.default is dataclasses.MISSING else ""
            lines.append(f"    if v{i} is None: v{i} = d{i}{factory}")
            lines.append("    else:")
            lines.append(f"        try: v{i} = p{i}(v{i})")
            lines.append(f"        except ValueError as e: raise _invalid({c.key!r}, e) from None")
            continue
        if c.parse is not str:
            lines.append(f"    try: v{i} = p{i}(v{i})")
            lines.append(f"    except ValueError as e: raise _invalid({c.key!r}, e) from None")
    lines.append("    return cls(" + ", ".join(f"v{i}" for i in range(len(codecs))) + ")")
    exec("\n".join(lines), namespace)
    return namespace["decode"]


@dataclasses.dataclass(slots=True, eq=False, repr=False)
class EmptyHeader(Header):
    """A header with no fields (Java requests that carry only a body)."""
