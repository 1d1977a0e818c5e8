"""JSON.toJSONString(value, true) (fastjson 1.2, SerializerFeature.PrettyFormat): one member per line, indented by
tabs, `"key":value` without a space; empty objects and arrays stay `{}` / `[]`; null map values are left out.

Dict order is the caller's (beans: sorted property names; HashMaps: rocketpy.common.java.java_hash_order)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rocketpy.common import fastjson


def pretty(value: Any) -> str:
    out: list[str] = []
    _write(value, 0, out)
    return "".join(out)


def _write(value: Any, depth: int, out: list[str]) -> None:
    if isinstance(value, Mapping):
        items = [(k, v) for k, v in value.items() if v is not None]
        if not items:
            out.append("{}")
            return
        out.append("{")
        for i, (key, item) in enumerate(items):
            out.append(("," if i else "") + "\n" + "\t" * (depth + 1))
            out.append(fastjson.dumps(str(key)).decode() + ":")
            _write(item, depth + 1, out)
        out.append("\n" + "\t" * depth + "}")
    elif isinstance(value, list | tuple | set | frozenset):
        values = list(value)
        if not values:
            out.append("[]")
            return
        out.append("[")
        for i, item in enumerate(values):
            out.append(("," if i else "") + "\n" + "\t" * (depth + 1))
            _write(item, depth + 1, out)
        out.append("\n" + "\t" * depth + "]")
    else:
        out.append(fastjson.dumps(value).decode())
