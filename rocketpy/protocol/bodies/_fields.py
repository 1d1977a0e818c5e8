"""Typed access to decoded JSON objects, with the coercions fastjson applies when it binds JSON to a Java bean.

fastjson is lenient on read: a quoted number binds to an int field, a missing property keeps the Java default and
unknown properties are ignored. It is not lenient about shapes (an object where a list is declared fails), and
neither are we: every mismatch raises BodyError, which a processor reports as SYSTEM_ERROR.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rocketpy.common import fastjson

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


class BodyError(ValueError):
    """A request body that does not decode to the Java class it should hold."""


def parse_object(data: bytes | bytearray | memoryview | str | None, what: str) -> Mapping[Any, Any]:
    """Parse a body into a JSON object; empty or `null` text is an empty object, as fastjson returns null."""
    if data is None or len(data) == 0:
        return {}
    try:
        value = fastjson.loads(data)
    except fastjson.FastJsonError as exc:
        raise BodyError(f"{what}: {exc}") from None
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BodyError(f"{what}: expected a JSON object, got {type(value).__name__}")
    return value


def get_map(obj: Mapping[Any, Any], name: str) -> Mapping[Any, Any]:
    value = obj.get(name)
    if value is None:
        return {}
    if isinstance(value, fastjson.ObjectKey):
        return value.to_dict()
    if not isinstance(value, Mapping):
        raise BodyError(f"property {name!r}: expected an object")
    return value


def get_list(obj: Mapping[Any, Any], name: str) -> list[Any]:
    value = obj.get(name)
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise BodyError(f"property {name!r}: expected an array")
    return list(value)


def as_int(value: Any, what: str, *, bits: int = 32) -> int:
    low, high = _INT32 if bits == 32 else _INT64
    if isinstance(value, bool):
        raise BodyError(f"{what}: expected a number, got a boolean")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise BodyError(f"{what}: {value!r} is not a number") from None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise BodyError(f"{what}: expected a number")
    if not low <= value <= high:
        raise BodyError(f"{what}: {value} out of range")
    return value


def get_int(obj: Mapping[Any, Any], name: str, default: int, *, bits: int = 32) -> int:
    value = obj.get(name)
    return default if value is None else as_int(value, f"property {name!r}", bits=bits)


def get_bool(obj: Mapping[Any, Any], name: str, default: bool) -> bool:
    value = obj.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0  # fastjson binds 1/0 to booleans
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise BodyError(f"property {name!r}: expected a boolean")


def as_str(value: Any, what: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # fastjson binds numbers to String fields by their text
    raise BodyError(f"{what}: expected a string")


def get_str(obj: Mapping[Any, Any], name: str, default: str | None = None) -> str | None:
    value = obj.get(name)
    return default if value is None else as_str(value, f"property {name!r}")


def str_key(key: Any, what: str) -> str:
    """A String map key: fastjson accepts unquoted numbers there too, as their text."""
    if isinstance(key, str):
        return key
    if isinstance(key, int) and not isinstance(key, bool):
        return str(key)
    raise BodyError(f"{what}: map key {key!r} is not a string")
