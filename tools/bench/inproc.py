"""What the in-process benchmarks (tools/bench_inproc.py, tools/bench_pull_inproc.py) share: a broker's controller
over a MessageStore with the benchmark's store geometry, the connection's route for the frames of a read, and the
callgrind instruction count of a run.

The route mirrors rocketpy.remoting.connection.Connection._process (itself NettyRemotingServer's request dispatch):
the request code's fast handler first, the general handler when it declines, the reply encoded as a frame.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from rocketpy.broker.config import BrokerSettings, finish_startup
from rocketpy.broker.controller import BrokerController
from rocketpy.broker.persistence import MemoryConfigStore
from rocketpy.remoting.codec import FrameDecoder, encode
from rocketpy.remoting.command import RemotingCommand
from rocketpy.remoting.connection import RequestContext, _as_reply
from rocketpy.store.config import FlushDiskType, StoreConfig
from rocketpy.store.message_store import MessageStore

FastHandler = Callable[[Any, RemotingCommand], bytes | None]
GeneralHandler = Callable[[Any, RemotingCommand], Awaitable[RemotingCommand | None]]


@contextlib.contextmanager
def inproc_broker(prefix: str) -> Iterator[tuple[BrokerController, MessageStore]]:
    """broker-a's controller (no NameServer, in-memory config) and an open ASYNC_FLUSH MessageStore with the
    benchmark's geometry (256 MiB commit-log files), in a fresh temporary directory removed afterwards."""
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
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
            yield BrokerController(settings, config_store=MemoryConfigStore()), store
        finally:
            store.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


async def serve_read(
    decoder: FrameDecoder, data: bytes, peer: object, fast: FastHandler | None, handler: GeneralHandler
) -> bytes | None:
    """The frames of one read as the connection serves them; the last reply frame, None when the read completes
    no frame."""
    last = None
    for cmd in decoder.feed(data):
        out = fast(peer, cmd) if fast is not None else None
        if out is None:
            reply = await handler(RequestContext(peer, None, cmd), cmd)  # type: ignore[arg-type]
            out = encode(_as_reply(cmd, reply))  # type: ignore[arg-type]
        last = out
    return last


def callgrind_instructions(script: str, args: list[str]) -> int:
    """Instructions `python script args...` executes under valgrind --tool=callgrind (its "Collected" count)."""
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, script, *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    match = re.search(r"Collected : (\d+)", out.stderr)
    if match is None:
        raise SystemExit(f"no instruction count from valgrind:\n{out.stderr[-2000:]}")
    return int(match.group(1))
