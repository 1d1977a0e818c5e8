"""Crash-safe config files and the fastjson shapes Java writes (``ConfigManager``, ``MixAll.string2File``).

Java writes ``<file>.tmp``, copies the previous content to ``<file>.bak``, deletes the file and renames the tmp
into place, without fsync; ``ConfigManager.load`` falls back to the ``.bak`` when the file is missing or bad.
Here the tmp and the ``.bak`` are fsynced and ``os.replace`` swaps the file atomically (there is never a moment
without it), then the directory is fsynced.

consumerOffset.json and delayOffset.json use fastjson's unquoted integer map keys, which strict JSON rejects::

    {"offsetTable":{"TopicTest@group":{0:12,1:7}}}      consumerOffset.json (topic@group -> queueId -> offset)
    {"offsetTable":{1:100,3:5}}                          delayOffset.json (delay level -> offset)

``loads_tolerant`` reads them with ``rocketpy.common.fastjson``; the writers below produce Java's layout.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson

from rocketpy.common import fastjson
from rocketpy.common.files import write_atomically

T = TypeVar("T")


def write_config_file(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that a crash leaves either the old or the new content, plus a .bak."""
    write_atomically(path, text.encode())


def read_config_file(path: Path, parse: Callable[[str], T]) -> T | None:
    """Parse ``path``, or its ``.bak`` if the file is missing, empty or unparseable; None if neither works."""
    for candidate in (path, path.with_name(path.name + ".bak")):
        try:
            text = candidate.read_text(encoding="utf-8")
        except (FileNotFoundError, UnicodeDecodeError):
            continue
        if not text.strip():
            continue
        try:
            return parse(text)
        except ValueError:
            continue
    return None


def loads_tolerant(text: str) -> Any:
    """JSON that may carry fastjson's unquoted integer keys (``rocketpy.common.fastjson``)."""
    return fastjson.loads(text)


def dumps_consumer_offsets(table: dict[str, dict[int, int]]) -> str:
    """consumerOffset.json exactly as the Java 4.9.7 broker writes it::

    {
    \t"offsetTable":{
    \t\t"RTopic@g1":{0:2,1:1
    \t\t}
    \t}
    }
    """
    return dumps_json({"offsetTable": table})


def loads_consumer_offsets(text: str) -> dict[str, dict[int, int]]:
    data = loads_tolerant(text)
    table = data.get("offsetTable") if isinstance(data, dict) else None
    if not isinstance(table, dict):
        raise ValueError("consumerOffset.json has no offsetTable object")
    return {str(k): {int(q): int(o) for q, o in v.items()} for k, v in table.items() if isinstance(v, dict)}


def dumps_delay_offsets(table: dict[int, int]) -> str:
    """delayOffset.json (``{"offsetTable":{1:100,3:5\n\t}}`` in fastjson's pretty layout)."""
    return dumps_json({"offsetTable": table})


def loads_delay_offsets(text: str) -> dict[int, int]:
    data = loads_tolerant(text)
    table = data.get("offsetTable") if isinstance(data, dict) else None
    if not isinstance(table, dict):
        raise ValueError("delayOffset.json has no offsetTable object")
    return {int(k): int(v) for k, v in table.items()}


def dumps_json(obj: Any) -> str:
    """topics.json / subscriptionGroup.json / consumerFilter.json as fastjson's pretty format writes them.

    Checked byte for byte against a Java 4.9.7 topics.json: tabs, no space after ':', string-keyed objects
    one entry per line, empty objects as ``{}``, integer-keyed maps inline and closed on a new line.  Dict order
    is kept (fastjson sorts bean properties; map order is the Java map's, which callers should preserve).
    Arrays are written inline; no Java sample with an array was available to check their pretty layout.
    """
    out: list[str] = []
    _pretty(obj, 0, out)
    return "".join(out)


def _pretty(value: Any, depth: int, out: list[str]) -> None:
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inline = not all(isinstance(k, str) for k in value)
        out.append("{")
        for i, (k, v) in enumerate(value.items()):
            out.append("," if i else "")
            if not inline:
                out.append("\n" + "\t" * (depth + 1))
            out.append(orjson.dumps(k).decode() if isinstance(k, str) else str(k))
            out.append(":")
            _pretty(v, depth + 1, out)
        out.append("\n" + "\t" * depth + "}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, v in enumerate(value):
            out.append("," if i else "")
            _pretty(v, depth + 1, out)
        out.append("]")
    else:
        out.append(orjson.dumps(value).decode())
