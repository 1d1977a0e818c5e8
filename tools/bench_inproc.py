#!/usr/bin/env python3
"""The send hot path in process, without sockets: frames -> FrameDecoder -> SEND_MESSAGE_V2 handler -> reply encode.

    python tools/bench_inproc.py [--messages 60000]          CPU us per message (process time, noisy when shared)
    python tools/bench_inproc.py --callgrind                   instructions per message under valgrind (issue 12)
    python tools/bench_inproc.py --native [--callgrind]        the same through the C send path (_sendpath)

The handler is the broker's own (build_data_plane over a MessageStore with the benchmark's store geometry, ASYNC_FLUSH),
fed the frames tools/bench_raw.py sends, 64 per read. `--callgrind` runs this script twice under
`valgrind --tool=callgrind` (128 and 1,152 messages) and prints the difference per message: a count of executed
instructions that does not depend on what else the machine is doing, so two revisions can be compared on a shared
machine (run it with PYTHONPATH pointing at each revision's rocketpy/). This is a tool, not a test.
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

import trio  # noqa: E402

from rocketpy.broker.processors.data_plane import build_data_plane  # noqa: E402
from rocketpy.protocol.codes import RequestCode  # noqa: E402
from rocketpy.remoting.codec import FrameDecoder  # noqa: E402
from tools.bench.inproc import callgrind_instructions, inproc_broker, serve_read  # noqa: E402
from tools.bench_raw import request_frame  # noqa: E402

WARMUP = 512
PER_READ = 64


@dataclass
class _Peer:
    """What the send handler reads of its connection."""

    remote_addr: str = "10.0.0.9:50000"
    max_frame_length: int = 16 * 1024 * 1024


async def run(messages: int, general_only: bool = False, native: bool = False) -> float:
    """Serve WARMUP + `messages` requests; the process CPU seconds of the last `messages`."""
    with inproc_broker("rocketpy-benchinproc-") as (controller, store):
        plane = build_data_plane(controller, store, rng=random.Random(7))
        handler = plane.handlers()[RequestCode.SEND_MESSAGE_V2]
        fast = None if general_only else plane.fast_handlers().get(RequestCode.SEND_MESSAGE_V2)
        batch = plane.batch_handler() if native else None
        if native and batch is None:
            raise SystemExit("the C extension rocketpy.broker._sendpath is not built (pip install -e .)")
        frames = [request_frame("BenchSend", i % 4, i + 1, 128, i) for i in range(4096)]  # TBW102: 4 queues
        reads = [b"".join(frames[i : i + PER_READ]) for i in range(0, len(frames), PER_READ)]
        peer, decoder = _Peer(), FrameDecoder()
        done, began, last = 0, 0.0, b""
        while done < WARMUP + messages:
            if done == WARMUP:
                began = time.process_time()
            data = reads[(done // PER_READ) % len(reads)]
            if batch is not None:  # as Connection._reader does: the C path first, the rest frame by frame
                pos, out = batch(peer, data, 0)  # type: ignore[arg-type]
                last = out or last
                data = data[pos:]
            last = await serve_read(decoder, data, peer, fast, handler) or last  # type: ignore[arg-type]
            done += PER_READ
        if b'"code":0,' not in last:
            raise SystemExit(f"the last reply is not SUCCESS: {last[:300]!r}")
        return time.process_time() - began


def instructions(messages: int, general_only: bool = False, native: bool = False) -> int:
    flags = [*(["--general"] if general_only else []), *(["--native"] if native else [])]
    return callgrind_instructions(__file__, ["--messages", str(messages), *flags])


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--messages", type=int, default=60000, help="measured messages, a multiple of 64 (60000)")
    p.add_argument("--callgrind", action="store_true", help="instructions per message under valgrind")
    p.add_argument("--general", action="store_true", help="the general send handler only, not the fast path")
    p.add_argument("--native", action="store_true", help="whole reads through the C send path first (_sendpath)")
    args = p.parse_args(argv)
    if args.callgrind:
        if shutil.which("valgrind") is None:
            print("bench_inproc: valgrind is not installed", file=sys.stderr)
            return 2
        low, high = 128, 1152
        per = (instructions(high, args.general, args.native) - instructions(low, args.general, args.native)) / (
            high - low
        )
        print(f"send path in process: {per:,.0f} instructions per message")
        return 0
    cpu = trio.run(run, args.messages, args.general, args.native)
    print(f"send path in process: {cpu * 1e6 / args.messages:.1f} us CPU per message ({args.messages:,} messages)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
