"""Issue 8: topic creation at a flat cost per create up to 50,000 topics (persistence batched, off the hot path).

`rocketpy serve` gets 50,000 UPDATE_AND_CREATE_TOPIC requests, 32 in flight as a pipelining admin tool sends them;
the server's own CPU time (utime + stime from /proc, which a busy shared machine does not distort as it does wall
time) of each thousand is recorded and the typical (median) thousand at the end is compared with the one at the
start, as a ratio measured in this one run. Before the fix each create rebuilt the whole topic table twice (a deep
copy for the NameServer increment and a full topics.json encode on the event loop), and the ratio grew past 7.
The run also checks that every topic is in topics.json after a clean stop.
"""

from __future__ import annotations

import os
import signal
import statistics
from pathlib import Path

import orjson
import pytest
import trio

from rocketpy.protocol.codes import RequestCode, ResponseCode
from rocketpy.remoting.client import RemotingClient
from rocketpy.remoting.command import RemotingCommand
from tests.integration.test_cli_serve import _free_port, _start

pytestmark = pytest.mark.slow

TOPICS = 50_000
WINDOW = 32
SAMPLE = 7  # thousands at each end whose median is compared


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


async def _create_all(addr: str, pid: int) -> list[float]:
    per_thousand: list[float] = []
    failures: list[int] = []
    async with RemotingClient() as client:
        slots = trio.Semaphore(WINDOW)

        async def create(i: int) -> None:
            try:
                ext = {
                    "topic": f"ScaleTopic{i}", "defaultTopic": "TBW102", "readQueueNums": "4", "writeQueueNums": "4",
                    "perm": "6", "topicFilterType": "SINGLE_TAG", "topicSysFlag": "0", "order": "false",
                }  # fmt: skip
                cmd = RemotingCommand.request(RequestCode.UPDATE_AND_CREATE_TOPIC, ext)
                reply = await client.invoke(addr, cmd, timeout=60)
                if reply.code != ResponseCode.SUCCESS:
                    failures.append(reply.code)
            finally:
                slots.release()

        async with trio.open_nursery() as nursery:
            start = _cpu_seconds(pid)
            for i in range(TOPICS):
                await slots.acquire()
                nursery.start_soon(create, i)
                if (i + 1) % 1000 == 0:
                    now = _cpu_seconds(pid)
                    per_thousand.append(now - start)
                    start = now
    assert not failures, f"{len(failures)} creates failed, first code {failures[0]}"
    return per_thousand


def test_topic_creation_cost_stays_flat_up_to_50000_topics(tmp_path: Path) -> None:
    ns_port, port = _free_port(), _free_port(gap=2)
    proc, lines = _start(tmp_path, ns_port, port)
    try:
        assert any("boot success" in line for line in lines), lines
        per_thousand = trio.run(_create_all, f"127.0.0.1:{port}", proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        if proc.stdout is not None:
            proc.stdout.close()
    first, last = statistics.median(per_thousand[:SAMPLE]), statistics.median(per_thousand[-SAMPLE:])
    ratio = last / first
    print(
        f"\ntopic creation, server CPU per thousand (median): first {first:.2f} s, last {last:.2f} s, ratio {ratio:.2f}"
    )
    print("server CPU s per thousand:", " ".join(f"{t:.2f}" for t in per_thousand))
    assert ratio <= 2.0, per_thousand
    table = orjson.loads((tmp_path / "store" / "config" / "topics.json").read_bytes())["topicConfigTable"]
    assert all(f"ScaleTopic{i}" in table for i in range(TOPICS))
