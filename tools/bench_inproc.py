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
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))

import trio  # noqa: E402

from rocketpy.broker.config import BrokerSettings, finish_startup  # noqa: E402
from rocketpy.broker.controller import BrokerController  # noqa: E402
from rocketpy.broker.persistence import MemoryConfigStore  # noqa: E402
from rocketpy.broker.processors.data_plane import build_data_plane  # noqa: E402
from rocketpy.protocol.codes import RequestCode  # noqa: E402
from rocketpy.remoting.codec import FrameDecoder, encode  # noqa: E402
from rocketpy.remoting.connection import RequestContext, _as_reply  # noqa: E402
from rocketpy.store.config import FlushDiskType, StoreConfig  # noqa: E402
from rocketpy.store.message_store import MessageStore  # noqa: E402
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
    tmp = Path(tempfile.mkdtemp(prefix="rocketpy-benchinproc-"))
    try:
        settings = BrokerSettings()
        settings.broker.broker_name, settings.broker.namesrv_addr = "broker-a", None
        settings.broker.broker_ip1 = settings.broker.broker_ip2 = "127.0.0.1"
        settings.store.store_path_root_dir = str(tmp / "store")
        settings.config_path = str(tmp / "broker.properties")
        finish_startup(settings)
        store = MessageStore(
            StoreConfig(tmp / "store", mapped_file_size_commit_log=256 << 20, mapped_file_size_consume_queue=6000000,
                        max_hash_slot_num=500000, max_index_num=2000000, flush_disk_type=FlushDiskType.ASYNC_FLUSH)
        )  # fmt: skip
        store.open()
        try:
            plane = build_data_plane(BrokerController(settings, config_store=MemoryConfigStore()), store,
                                     rng=random.Random(7))  # fmt: skip
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
                for cmd in decoder.feed(data):  # as Connection._process does
                    data = fast(peer, cmd) if fast is not None else None  # type: ignore[arg-type]
                    if data is None:
                        reply = await handler(RequestContext(peer, None, cmd), cmd)  # type: ignore[arg-type]
                        data = encode(_as_reply(cmd, reply))  # type: ignore[arg-type]
                    last = data
                done += PER_READ
            if b'"code":0,' not in last:
                raise SystemExit(f"the last reply is not SUCCESS: {last[:300]!r}")
            return time.process_time() - began
        finally:
            store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def instructions(messages: int, general_only: bool = False, native: bool = False) -> int:
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
         "--messages", str(messages), *(["--general"] if general_only else []), *(["--native"] if native else [])],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    match = re.search(r"Collected : (\d+)", out.stderr)
    if match is None:
        raise SystemExit(f"no instruction count from valgrind:\n{out.stderr[-2000:]}")
    return int(match.group(1))


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
