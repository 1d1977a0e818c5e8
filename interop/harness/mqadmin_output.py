"""Parse the text mqadmin prints into comparable structures (the 4.9.8 tools' formats)."""

from __future__ import annotations

import re
from typing import Any

# clusterList columns after the version come from the broker's GET_BROKER_RUNTIME_INFO (TPS, page-cache wait,
# hours since the earliest message, disk ratio): runtime figures of the (same, Java) broker, not NameServer data.
_CLUSTER_LIST_STATS = 5


def cluster_list(stdout: str) -> dict[str, Any]:
    """{"header": first line, "rows": [{cluster, brokerName, bid, addr, version, statColumns}]}."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    rows = []
    for line in lines[1:]:
        cols = line.split()
        rows.append(
            {
                "cluster": cols[0],
                "brokerName": cols[1] if len(cols) > 1 else None,
                "bid": cols[2] if len(cols) > 2 else None,
                "addr": cols[3] if len(cols) > 3 else None,
                "version": cols[4] if len(cols) > 4 else None,
                "statColumns": len(cols) - 5,
            }
        )
    return {"header": lines[0].split() if lines else [], "rows": rows}


def namesrv_config(stdout: str) -> dict[str, dict[str, str]]:
    """getNamesrvConfig: "============ADDR============" then "key<pad>=  value" lines, per NameServer."""
    out: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in stdout.splitlines():
        if line.startswith("====") and line.endswith("===="):
            current = out.setdefault(line.strip("="), {})
        elif current is not None and "=" in line:
            key, value = line.split("=", 1)
            current[key.strip()] = value.strip()
    return out


def sorted_lines(stdout: str) -> list[str]:
    """Set-valued listings (topicList, topicClusterList) come from Java HashSets: order carries no meaning."""
    return sorted(line.strip() for line in stdout.splitlines() if line.strip())


_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:,\d{3})?")
HEX_ID = re.compile(r"\b[0-9A-F]{24,}\b")
_DECIMAL = re.compile(r"-?\d+\.\d+")


def text_shape(stdout: str) -> list[list[str]]:
    """Lines of mqadmin text as token lists, with times, message ids and decimals (rates) replaced by markers.

    Integers (offsets, counts, queue ids) are kept: they are deterministic for a given scenario.
    """
    out = []
    for line in stdout.splitlines():
        if not line.strip():
            continue
        line = _TIME.sub("<time>", line)
        line = HEX_ID.sub("<msgid>", line)
        line = _DECIMAL.sub("<decimal>", line)
        out.append(line.split())
    return out


_DIGITS = re.compile(r"\d+")
_NUMBER = re.compile(r"9(?:\.9)?")


def value_shape(value: str) -> str:
    """The shape of a runtime figure: every number becomes N (as BrokerAdmin.shape does in the driver)."""
    return _NUMBER.sub("N", _DIGITS.sub("9", value))


def broker_status(stdout: str) -> dict[str, str]:
    """brokerStatus prints "key<pad>: value" per GET_BROKER_RUNTIME_INFO entry: keys with the shape of the value."""
    out: dict[str, str] = {}
    for line in stdout.splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            out[key.strip()] = value_shape(value.strip())
    return out
