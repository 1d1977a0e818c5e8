"""Text as the Java tools print it: fastjson's PrettyFormat and UtilAll's time formats."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from rocketpy.common import fastjson

# Fields of the beans mqadmin prints that are java.util.Maps (fastjson lays maps out differently from beans).
MAP_FIELDS = frozenset({"brokerAddrs", "filterServerTable"})


def human_time(millis: int) -> str:
    """UtilAll.timeMillisToHumanString2: yyyy-MM-dd HH:mm:ss,SSS in local time."""
    moment = datetime.datetime.fromtimestamp(millis / 1000.0)
    return moment.strftime("%Y-%m-%d %H:%M:%S,") + f"{millis % 1000:03d}"


def pretty_json(value: Any) -> str:
    """JSON.toJSONString(bean, PrettyFormat) of fastjson 1.2.69 for bean trees given as dicts (see MAP_FIELDS)."""
    out: list[str] = []
    _write(value, 0, False, out)
    return "".join(out)


def _newline(depth: int) -> str:
    return "\n" + "\t" * depth


def _write(value: Any, depth: int, is_map: bool, out: list[str]) -> None:
    if isinstance(value, Mapping):
        if not value:
            out.append("{}")
            return
        if is_map:  # MapSerializer: the first entry stays on the brace's line
            out.append("{")
            for i, (key, item) in enumerate(value.items()):
                if i:
                    out.append("," + _newline(depth + 1))
                out.append(fastjson.dumps(key).decode() if isinstance(key, str) else str(key))
                out.append(":")
                _write(item, depth + 1, False, out)
            out.append(_newline(depth) + "}")
            return
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            out.append(("," if i else "") + _newline(depth + 1))
            out.append(fastjson.dumps(str(key)).decode() + ":")
            _write(item, depth + 1, key in MAP_FIELDS, out)
        out.append(_newline(depth) + "}")
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        out.append("[")
        for i, item in enumerate(value):
            out.append(("," if i else "") + _newline(depth + 1))
            _write(item, depth + 1, False, out)
        out.append(_newline(depth) + "]")
    else:
        out.append(fastjson.dumps(value).decode())
