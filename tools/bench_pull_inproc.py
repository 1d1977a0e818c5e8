#!/usr/bin/env python3
"""The pull hot path in process, without sockets: PULL_MESSAGE frames -> FrameDecoder -> handler -> reply bytes.

    python tools/bench_pull_inproc.py [--pulls 20000] [--per-pull 8] [--general|--native]   CPU us per message (noisy)
    python tools/bench_pull_inproc.py --callgrind [--per-pull 8] [--general|--native]       instructions per message

A store with the benchmark's geometry holds 128-byte messages on 8 queues (sent through the send handler); a push
consumer's heartbeat registers `*`; then pulls shaped as DefaultMQPushConsumerImpl sends them (commit and suspend
flags, the offset to commit, subVersion) each take `--per-pull` messages (the benchmark's consumer gets about 8-10 a
pull), through the connection's route (pull_fast first, the general handler when it declines) or with `--general`
the general handler alone, or with `--native` through the data plane's C batch handler first (the pull frame parsed
by _sendpath.pull_frame, as a connection's reads are). Held pulls are not in it. `--callgrind` counts executed
instructions under valgrind as the difference between two runs (a count a busy machine does not disturb). This is a
tool, not a test.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))

import orjson  # noqa: E402
import trio  # noqa: E402

from rocketpy.broker.processors.data_plane import build_data_plane  # noqa: E402
from rocketpy.protocol.bodies.topic_config import TopicConfig  # noqa: E402
from rocketpy.protocol.codes import LanguageCode, RequestCode  # noqa: E402
from rocketpy.remoting.codec import FrameDecoder, encode  # noqa: E402
from rocketpy.remoting.command import RemotingCommand  # noqa: E402
from rocketpy.remoting.connection import RequestContext  # noqa: E402
from tools.bench.inproc import callgrind_instructions, inproc_broker, serve_read  # noqa: E402
from tools.bench_raw import request_frame  # noqa: E402

TOPIC, GROUP, QUEUES = "BenchMixed", "benchmark_consumer", 8
WARMUP = 256


@dataclass(eq=False)
class _Peer:
    remote_addr: str = "10.0.0.8:50001"
    closed: bool = False
    max_frame_length: int = 16 << 20


def pull_frame(queue_id: int, offset: int, nums: int, opaque: int) -> bytes:
    ext = {
        "consumerGroup": GROUP, "topic": TOPIC, "queueId": str(queue_id), "queueOffset": str(offset),
        "maxMsgNums": str(nums), "sysFlag": "3", "commitOffset": str(offset), "suspendTimeoutMillis": "15000",
        "subscription": "*", "subVersion": "1700000000000", "expressionType": "TAG",
    }  # fmt: skip
    cmd = RemotingCommand.request(RequestCode.PULL_MESSAGE, ext)
    cmd.language, cmd.version, cmd.opaque = LanguageCode.JAVA, 409, opaque
    return encode(cmd)


def heartbeat() -> bytes:
    sub = {"classFilterMode": False, "codeSet": [], "expressionType": "TAG", "subString": "*",
           "subVersion": 1700000000000, "tagsSet": [], "topic": TOPIC}  # fmt: skip
    group = {"consumeFromWhere": "CONSUME_FROM_LAST_OFFSET", "consumeType": "CONSUME_PASSIVELY", "groupName": GROUP,
             "messageModel": "CLUSTERING", "subscriptionDataSet": [sub], "unitMode": False}  # fmt: skip
    return orjson.dumps({"clientID": "10.0.0.8@1", "consumerDataSet": [group], "producerDataSet": []})


async def run(pulls: int, per_pull: int, general_only: bool, fill_for: int = 0, native: bool = False) -> float:
    """Serve WARMUP + `pulls` pulls; the process CPU seconds of the last `pulls`."""
    with inproc_broker("rocketpy-benchpull-") as (controller, store):
        controller.topics.update_topic_config(TopicConfig(TOPIC, QUEUES, QUEUES, 6))
        plane = build_data_plane(controller, store, rng=random.Random(7))
        handlers = {**controller.handlers(), **plane.handlers()}
        peer = _Peer()
        beat = RemotingCommand.request(RequestCode.HEART_BEAT, None, heartbeat())
        await handlers[RequestCode.HEART_BEAT](RequestContext(peer, None, beat), beat)  # type: ignore[arg-type]
        send = handlers[RequestCode.SEND_MESSAGE_V2]
        total = (WARMUP + max(pulls, fill_for)) * per_pull  # the same store for both callgrind runs
        per_queue = total // QUEUES + per_pull
        for cmd in FrameDecoder().feed(b"".join(request_frame(TOPIC, i % QUEUES, i + 1, 128, i)
                                                for i in range(per_queue * QUEUES))):  # fmt: skip
            await send(RequestContext(peer, None, cmd), cmd)  # type: ignore[arg-type]
        handler = handlers[RequestCode.PULL_MESSAGE]
        fast = None if general_only else plane.fast_handlers().get(RequestCode.PULL_MESSAGE)
        frames = [pull_frame(n % QUEUES, (n // QUEUES) * per_pull, per_pull, n)
                  for n in range(WARMUP + max(pulls, fill_for))][: WARMUP + pulls]  # fmt: skip
        batch = plane.batch_handler() if native else None
        if native and batch is None:
            raise SystemExit("bench_pull_inproc: --native needs the C extension (pip install -e .)")
        decoder, began, last = FrameDecoder(), 0.0, b""
        for n, frame in enumerate(frames):
            if n == WARMUP:
                began = time.process_time()
            if batch is not None:  # the connection's batch handler first (Connection._reader), then the route
                pos, replies = batch(peer, frame, 0)  # type: ignore[arg-type]
                last = replies or last
                frame = frame[pos:]
            last = await serve_read(decoder, frame, peer, fast, handler) or last  # type: ignore[arg-type]
        spent = time.process_time() - began
        if b'"code":0,' not in last:
            raise SystemExit(f"the last reply is not SUCCESS: {last[:300]!r}")
        return spent


def instructions(pulls: int, fill_for: int, per_pull: int, general_only: bool, native: bool) -> int:
    args = ["--pulls", str(pulls), "--fill-for", str(fill_for), "--per-pull", str(per_pull)]
    return callgrind_instructions(__file__, [*args, *(["--general"] if general_only else []),
                                             *(["--native"] if native else [])])  # fmt: skip


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--pulls", type=int, default=20000, help="measured pulls (20000)")
    p.add_argument("--per-pull", type=int, default=8, help="messages each pull takes (8)")
    p.add_argument("--callgrind", action="store_true", help="instructions per message under valgrind")
    p.add_argument("--general", action="store_true", help="the general pull handler only, not the fast path")
    p.add_argument("--native", action="store_true", help="whole reads through the C batch first (_sendpath)")
    p.add_argument("--fill-for", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.callgrind:
        if shutil.which("valgrind") is None:
            print("bench_pull_inproc: valgrind is not installed", file=sys.stderr)
            return 2
        low, high = 64, 576
        counts = [instructions(n, high, args.per_pull, args.general, args.native) for n in (high, low)]
        diff = counts[0] - counts[1]
        per = diff / ((high - low) * args.per_pull)
        print(f"pull path in process: {per:,.0f} instructions per message ({args.per_pull} a pull)")
        return 0
    cpu = trio.run(run, args.pulls, args.per_pull, args.general, args.fill_for, args.native)
    per = cpu * 1e6 / (args.pulls * args.per_pull)
    print(f"pull path in process: {per:.2f} us CPU per message, {per * args.per_pull:.1f} us a pull")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
