"""java.util.Properties text: the format of broker.conf, namesrv config files and config-update bodies.

Mirrors Properties.load (comments `#`/`!`, separators `=`, `:` or whitespace, backslash line continuations,
`\\uXXXX` and the usual escapes, leading whitespace dropped) and MixAll.properties2String for the way back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}
_UNICODE = re.compile(r"[0-9a-fA-F]{4}")


class PropertiesError(ValueError):
    """A malformed properties text (Java throws IllegalArgumentException on a bad \\u escape)."""


def _logical_lines(text: str) -> list[str]:
    lines: list[str] = []
    current: str | None = None
    for raw in text.splitlines():
        line = raw.lstrip(" \t\f")
        if current is None and (not line or line[0] in "#!"):
            continue
        trailing = len(line) - len(line.rstrip("\\"))
        continued = trailing % 2 == 1
        piece = line[:-1] if continued else line
        current = piece if current is None else current + piece
        if not continued:
            lines.append(current)
            current = None
    if current is not None:
        lines.append(current)
    return lines


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "\\" or i + 1 == len(text):
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "u":
            digits = text[i + 2 : i + 6]
            if not _UNICODE.fullmatch(digits):
                raise PropertiesError(f"Malformed \\uxxxx encoding: {text[i : i + 6]!r}")
            out.append(chr(int(digits, 16)))
            i += 6
        else:
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
    return "".join(out)


def _split(line: str) -> tuple[str, str]:
    i, escaped = 0, False
    while i < len(line):
        ch = line[i]
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in "=: \t\f":
            break
        i += 1
    key, rest = line[:i], line[i:]
    rest = rest.lstrip(" \t\f")
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(" \t\f")
    return key, rest


def loads(text: str) -> dict[str, str]:
    """Parse properties text; later keys win, as in Java."""
    result: dict[str, str] = {}
    for line in _logical_lines(text):
        key, value = _split(line)
        result[_unescape(key)] = _unescape(value)
    return result


def load_file(path: str) -> dict[str, str]:
    with open(path, encoding="utf-8") as fh:  # Java 9+ reads .properties as UTF-8 through Properties.load(Reader)
        return loads(fh.read())


def dumps(props: Mapping[str, object]) -> str:
    """`key=value` lines as MixAll.properties2String writes them (no escaping, one per line)."""
    return "".join(f"{k}={_java_str(v)}\n" for k, v in props.items())


def _java_str(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def escape(text: str, is_key: bool) -> str:
    """java.util.Properties.store escaping, so that no value written to a file can inject a second key."""
    out = []
    for i, ch in enumerate(text):
        if ch == "\\":
            out.append("\\\\")
        elif ch in "\t\n\r\f":
            out.append({"\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f"}[ch])
        elif ch in "=:#!" or (ch == " " and (is_key or i == 0)):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or 0x7E < ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)
