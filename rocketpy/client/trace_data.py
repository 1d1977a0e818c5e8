"""Message trace records as clients write them to the trace topic (client.trace.TraceDataEncoder.
decoderFromTraceDataString and TraceView.decodeFromTraceTransData), read back for `queryMsgTraceById`.

A trace message body is a run of records ended by \\x02, each a \\x01-separated list whose first field is the trace
type: Pub (a send), SubBefore / SubAfter (a consume). Only what TraceView keeps is decoded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

CONTENT_SPLITOR = "\x01"  # TraceConstants.CONTENT_SPLITOR
FIELD_SPLITOR = "\x02"  # TraceConstants.FIELD_SPLITOR


class TraceDecodeError(ValueError):
    """A trace record whose numbers do not parse (Java throws out of the command)."""


@dataclass(slots=True)
class TraceView:
    msg_type: str
    msg_id: str
    group_name: str
    time_stamp: int
    cost_time: int
    success: bool
    client_host: str | None

    @property
    def status(self) -> str:
        return "success" if self.success else "failed"


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise TraceDecodeError(f'For input string: "{text}"') from None


def decode_trace_views(key: str, body: bytes, born_ip: str | None) -> list[TraceView]:
    """The records of one trace message about message `key` (TraceView.decodeFromTraceTransData)."""
    text = body.decode("utf-8", "replace")
    views: list[TraceView] = []
    for context in text.split(FIELD_SPLITOR) if text else []:
        line = context.split(CONTENT_SPLITOR)
        try:
            kind = line[0]
            if kind == "Pub":
                msg_id, stamp, group, cost = line[5], _int(line[1]), line[3], _int(line[10])
                _int(line[9]), _int(line[11])  # bodyLength, messageType: parsed (and checked) as Java does
                success = (
                    line[13].lower() == "true"
                    if len(line) >= 14
                    else (line[12].lower() == "true" if len(line) == 13 else True)
                )
            elif kind == "SubBefore":
                msg_id, stamp, group, cost, success = line[5], _int(line[1]), line[3], 0, True
            elif kind == "SubAfter":
                msg_id, cost, success = line[2], _int(line[3]), line[4].lower() == "true"
                stamp, group = (int(time.time() * 1000), "") if len(line) < 9 else (_int(line[7]), line[8])
            else:
                continue
        except IndexError:
            raise TraceDecodeError(f"a {line[0]} trace record with {len(line)} fields") from None
        if msg_id != key:
            continue
        views.append(TraceView(kind, msg_id, group, stamp, cost, success, born_ip))
    return views
