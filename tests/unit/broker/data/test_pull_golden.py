"""Golden PULL_MESSAGE reply frames (issue 12): the store's read loop and the reply built from its records.

Recorded from the pull path as it was before this work (commit 9e12e9a): a store filled through
the send handler under a frozen clock (three queues, tags, keys, a prepared record, 300-byte bodies so that the
batch byte limits bite), then pulls with tag expressions, batch sizes and every offset class (too small, found,
overflow), each reply encoded as the wire frame a Java consumer reads, header and record bytes included.

Regenerate only for an intended change of behaviour: ROCKETPY_REGEN_PULL_GOLDEN=1 pytest this file.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from rocketpy.protocol.codes import RequestCode
from tests.unit.broker.data.conftest import CONSUMER, PULL_SUBSCRIPTION, PlaneFactory, client_properties, pull_ext
from tests.unit.broker.data.pull_support import check_golden, digest, reply_frame, wire_pull

GOLDEN_PATH = Path(__file__).with_name("pull_golden.json")
REGEN = os.environ.get("ROCKETPY_REGEN_PULL_GOLDEN") == "1"
TAGS = ["TagA", "TagB", "TagC", "TagA", None]
EXPRESSIONS = ["*", "TagA", "TagB || TagC", "TagZ"]


async def test_pull_golden(make_plane: PlaneFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_700_000_123.456)
    plane = make_plane()
    plane.store.config.max_transfer_bytes_on_message_in_memory = 2000  # about six 300-byte records
    for i in range(60):
        props = client_properties(TAGS[i % 5], keys=f"k{i}" if i % 3 else None, uniq=f"7F00000100{i:022X}")
        sys_flag = 0x4 if i == 13 else 0  # a prepared record: in the log, not in a queue
        extra = {"properties": props + ("\x02TRAN_MSG\x01true\x02PGROUP\x01PG" if sys_flag else "")}
        reply = await plane.send_one(
            "TopicTest", bytes([65 + i % 26]) * 300, queue_id=i % 3, sys_flag=sys_flag, **extra
        )
        assert reply.code == 0, reply.remark
    frames: dict[str, str] = {}
    for qid in range(3):
        hi = plane.store.get_max_offset_in_queue("TopicTest", qid)
        for expr in EXPRESSIONS:
            for nums in (1, 5, 32):
                for offset in (-1, 0, 1, 7, hi - 1, hi, hi + 5):
                    ext = pull_ext("G1", "TopicTest", qid, offset, sys_flag=PULL_SUBSCRIPTION, subscription=expr,
                                   max_msg_nums=nums)  # fmt: skip
                    cmd = wire_pull(ext, 7)
                    reply = await plane.call(RequestCode.PULL_MESSAGE, cmd.ext_fields, conn=CONSUMER)
                    frames[f"q{qid} {expr} x{nums} @{offset}"] = digest(reply_frame(cmd, reply))
    check_golden(GOLDEN_PATH, frames, REGEN)
