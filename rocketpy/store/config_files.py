"""Crash-safe config files and the fastjson shapes Java writes (``ConfigManager``, ``MixAll.string2File``).

Java writes ``<file>.tmp``, copies the previous content to ``<file>.bak``, deletes the file and renames the tmp
into place, without fsync; ``ConfigManager.load`` falls back to the ``.bak`` when the file is missing or bad.
Here the tmp and the ``.bak`` are fsynced and ``os.replace`` swaps the file atomically (there is never a moment
without it), then the directory is fsynced.

consumerOffset.json and delayOffset.json use fastjson's unquoted integer map keys, which strict JSON rejects::

    {"offsetTable":{"TopicTest@group":{0:12,1:7}}}      consumerOffset.json (topic@group -> queueId -> offset)
    {"offsetTable":{1:100,3:5}}                          delayOffset.json (delay level -> offset)

``loads_tolerant`` quotes such keys before parsing.  (A shared fastjson reader is planned in
``rocketpy.common.fastjson``; this one is private to the store until it lands.)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson

T = TypeVar("T")


def write_config_file(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` so that a crash leaves either the old or the new content, plus a .bak."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    _write_synced(tmp, text.encode())
    if path.exists():
        _write_synced(path.with_name(path.name + ".bak"), path.read_bytes())
    os.replace(tmp, path)
    fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


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


def quote_numeric_keys(text: str) -> str:
    """Quote bare numeric object keys (``{0:12}`` -> ``{"0":12}``) outside strings."""
    out: list[str] = []
    i, n = 0, len(text)
    expect_key = False
    stack: list[str] = []
    while i < n:
        c = text[i]
        if c == '"':
            j = _string_end(text, i)
            out.append(text[i:j])
            i, expect_key = j, False
            continue
        if c in "{[":
            stack.append(c)
            expect_key = c == "{"
        elif c in "}]":
            if stack:
                stack.pop()
            expect_key = False
        elif c == ",":
            expect_key = bool(stack) and stack[-1] == "{"
        elif expect_key and (c.isdigit() or c == "-"):
            j = i + 1
            while j < n and text[j].isdigit():
                j += 1
            out.append(f'"{text[i:j]}"')
            i, expect_key = j, False
            continue
        elif not c.isspace():
            expect_key = False
        out.append(c)
        i += 1
    return "".join(out)


def _string_end(text: str, start: int) -> int:
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i + 1
        i += 1
    raise ValueError("unterminated string in JSON")


def loads_tolerant(text: str) -> Any:
    """JSON that may carry fastjson's unquoted integer keys."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return orjson.loads(quote_numeric_keys(text))


def dumps_int_key_map(table: dict[int, int]) -> str:
    return "{" + ",".join(f"{k}:{v}" for k, v in table.items()) + "}"


def dumps_consumer_offsets(table: dict[str, dict[int, int]]) -> str:
    """consumerOffset.json as fastjson's pretty format writes it (tabs, unquoted queue ids)."""
    rows = [f"\t\t{orjson.dumps(k).decode()}:{dumps_int_key_map(v)}" for k, v in table.items()]
    return '{\n\t"offsetTable":{\n' + ",\n".join(rows) + ("\n" if rows else "") + "\t}\n}"


def loads_consumer_offsets(text: str) -> dict[str, dict[int, int]]:
    data = loads_tolerant(text)
    table = data.get("offsetTable") if isinstance(data, dict) else None
    if not isinstance(table, dict):
        raise ValueError("consumerOffset.json has no offsetTable object")
    return {str(k): {int(q): int(o) for q, o in v.items()} for k, v in table.items() if isinstance(v, dict)}


def dumps_delay_offsets(table: dict[int, int]) -> str:
    return '{\n\t"offsetTable":' + dumps_int_key_map(table) + "\n}"


def loads_delay_offsets(text: str) -> dict[int, int]:
    data = loads_tolerant(text)
    table = data.get("offsetTable") if isinstance(data, dict) else None
    if not isinstance(table, dict):
        raise ValueError("delayOffset.json has no offsetTable object")
    return {int(k): int(v) for k, v in table.items()}


def dumps_json(obj: Any) -> str:
    """topics.json / subscriptionGroup.json: ordinary JSON (Java reads any valid JSON here)."""
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2).decode()
