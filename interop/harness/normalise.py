"""Normalise observations before comparing Java and rocketpy runs: only addresses, times, ids and temp paths.

Each run gets fresh ports and a fresh temp home, so those are replaced by role names (`<namesrv>`, `<broker>`,
`<home>`...). Nothing else is touched: a difference in any other value is a real behavioural difference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_ADDR = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}\b")


@dataclass
class Normaliser:
    """Exact-string replacements (longest first), then any leftover ip:port becomes `<addr>`."""

    replacements: dict[str, str] = field(default_factory=dict)

    def add_addr(self, addr: str, role: str) -> None:
        self.replacements[addr] = f"<{role}>"

    def add_broker(self, addr: str, role: str = "broker") -> None:
        """A Java broker listens on P (main), P-2 (fast/VIP) and P+1 (HA); name all three."""
        host, port = addr.rsplit(":", 1)
        self.add_addr(addr, role)
        self.add_addr(f"{host}:{int(port) - 2}", f"{role}-vip")
        self.add_addr(f"{host}:{int(port) + 1}", f"{role}-ha")

    def add_path(self, path: str, role: str) -> None:
        self.replacements[path] = f"<{role}>"

    def text(self, value: str) -> str:
        for old in sorted(self.replacements, key=len, reverse=True):
            value = value.replace(old, self.replacements[old])
        return _ADDR.sub("<addr>", value)

    def __call__(self, value: Any) -> Any:
        """Recursively normalise strings (and dict keys) inside JSON-like data."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(k) if isinstance(k, str) else k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        return value


def diff_paths(left: Any, right: Any, path: str = "$") -> list[str]:
    """Human-readable list of JSON paths where `left` and `right` differ (for cross-target failure reports)."""
    if isinstance(left, dict) and isinstance(right, dict):
        out: list[str] = []
        for key in sorted(set(left) | set(right), key=str):
            sub = f"{path}.{key}"
            if key not in left:
                out.append(f"{sub}: missing on the left, right={right[key]!r}")
            elif key not in right:
                out.append(f"{sub}: left={left[key]!r}, missing on the right")
            else:
                out += diff_paths(left[key], right[key], sub)
        return out
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return [d for i, (a, b) in enumerate(zip(left, right, strict=True)) for d in diff_paths(a, b, f"{path}[{i}]")]
    return [] if left == right else [f"{path}: left={left!r}, right={right!r}"]
