"""A broker under pipelined sends never blocks its event loop while its files roll over (issue 12 acceptance).

A whole broker (`run_broker`, store, processors, remoting) runs in this trio loop with tiny files: a 1 MiB commit
log, consume-queue files of 50 entries and index files of 400 entries, so that all three roll over many times in a
few seconds. A thread keeps 256 SEND_MESSAGE_V2 frames of 1 KiB in flight on one connection (as a pipelining
producer does), and the disk is made slow (every fsync, fdatasync and posix_fallocate takes 20 ms more).

A trio Instrument times every task step, the unit the loop cannot interrupt: its thread CPU time, which the OS's
preemption on a loaded machine does not inflate, must stay under 50 ms (the inline handlers of one read yield every
5 ms, so a step is a few ms of work); and no slowed disk call may run on the loop's thread (a blocking call costs
wall time, not CPU, so it is caught by thread instead). The longest step in wall time is printed, not asserted: on
this shared 2-core machine the OS alone leaves the process unscheduled for 100 ms and more now and then.

The objects alive before the load (in a full test run, those of every earlier test) are frozen out of the cyclic
garbage collector for the load: a full collection of the test runner's heap took one step to 104 ms of CPU in a full
run, and that is pytest's heap, not the broker's work.
"""

from __future__ import annotations

import gc
import socket
import struct
import threading
import time
from pathlib import Path

import pytest
import trio

from rocketpy.broker.processors.send_support import properties_string
from rocketpy.broker.startup import run_broker
from rocketpy.protocol.codes import RequestCode
from rocketpy.remoting.codec import encode
from rocketpy.remoting.command import RemotingCommand
from tests.integration.test_cli_serve import _free_port
from tests.unit.broker.conftest import make_settings
from tests.unit.slow_disk import SlowDisk, install_slow_disk

SLOW = 0.02  # seconds added to every sync call
STEP_CPU_BOUND = 0.05  # the longest task step's CPU time
LOAD_S = 4.0
DEPTH = 256
_LEN = struct.Struct(">i")


class StepTimer(trio.abc.Instrument):
    """The wall and thread-CPU duration of every task step."""

    def __init__(self) -> None:
        self.started: tuple[float, float] | None = None  # None: the step began before the instrument was added
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def before_task_step(self, task: trio.lowlevel.Task) -> None:
        self.started = (time.perf_counter(), time.thread_time())

    def after_task_step(self, task: trio.lowlevel.Task) -> None:
        if self.started is None:
            return
        wall, cpu = self.started
        self.started = None
        self.wall.append(time.perf_counter() - wall)
        self.cpu.append(time.thread_time() - cpu)


def send_frames(n: int) -> list[bytes]:
    """SEND_MESSAGE_V2 frames as a 4.9.8 producer writes them (TAGS, KEYS, WAIT, UNIQ_KEY; 1 KiB bodies)."""
    frames = []
    for i in range(n):
        props = properties_string({"TAGS": "TagA", "KEYS": f"K{i}", "WAIT": "true", "UNIQ_KEY": f"7F00000100{i:022X}"})
        ext = {"a": "RollGroup", "b": "RollTopic", "c": "TBW102", "d": "4", "e": str(i % 4), "f": "0", "g": "1",
               "h": "0", "i": props, "j": "0", "k": "false", "m": "false", "n": "broker-a"}  # fmt: skip
        cmd = RemotingCommand.request(RequestCode.SEND_MESSAGE_V2, ext, bytes(1024))
        cmd.opaque = i + 1
        frames.append(encode(cmd))
    return frames


class PipelinedSender:
    """One connection keeping DEPTH requests in flight, from a thread (so its work is not in the loop's steps)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.frames = send_frames(1024)
        self.replies = self.failed = 0
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.first_reply = threading.Event()
        self.go = threading.Event()

    def run(self) -> None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
                # One message first, before the disk is made slow: the broker's start-up (the store's open, in a
                # worker thread, builds the first commit-log file) is not what this test measures.
                frames, nxt = self.frames, DEPTH
                sock.sendall(frames[-1])
                buf = bytearray()
                while len(buf) < 4 or len(buf) - 4 < _LEN.unpack_from(buf, 0)[0]:
                    buf += sock.recv(1 << 16)
                del buf[:]
                self.first_reply.set()
                self.go.wait(30)
                sock.sendall(b"".join(frames[:DEPTH]))
                while not self.stop.is_set():
                    data = sock.recv(1 << 20)
                    if not data:
                        raise ConnectionError("the broker closed the connection")
                    buf += data
                    pos = got = 0
                    while len(buf) - pos >= 4 and len(buf) - pos - 4 >= _LEN.unpack_from(buf, pos)[0]:
                        total = _LEN.unpack_from(buf, pos)[0]
                        self.failed += buf.find(b'"code":0,', pos + 8, pos + 4 + total) < 0
                        got += 1
                        pos += 4 + total
                    del buf[:pos]
                    self.replies += got
                    if got:
                        sock.sendall(b"".join(frames[(nxt + i) % len(frames)] for i in range(got)))
                        nxt += got
        except BaseException as exc:  # reported by the test
            self.error = exc


@pytest.fixture
def slow_disk(monkeypatch: pytest.MonkeyPatch) -> SlowDisk:
    return install_slow_disk(monkeypatch, SLOW, enabled=False)


async def test_roll_overs_under_pipelined_sends_do_not_block_the_loop(tmp_path: Path, slow_disk: SlowDisk) -> None:
    settings = make_settings()
    settings.store.store_path_root_dir = str(tmp_path / "store")
    settings.config_path = str(tmp_path / "broker.properties")
    settings.netty.listen_port = _free_port(gap=1)
    for key, value in {
        "mappedFileSizeCommitLog": 1024 * 1024,
        "mappedFileSizeConsumeQueue": 20 * 50,
        "maxHashSlotNum": 100,
        "maxIndexNum": 400,
        "flushIntervalCommitLog": 50,
        "flushIntervalConsumeQueue": 100,
    }.items():
        settings.set(key, value)
    timer = StepTimer()
    async with trio.open_nursery() as nursery:
        broker = await nursery.start(run_broker, settings)
        sender = PipelinedSender(broker.port)
        thread = threading.Thread(target=sender.run, daemon=True)
        thread.start()
        await trio.to_thread.run_sync(sender.first_reply.wait, 30)
        slow_disk.enabled = True
        gc.collect()
        gc.freeze()
        trio.lowlevel.add_instrument(timer)
        try:
            sender.go.set()
            await trio.sleep(LOAD_S)
        finally:
            trio.lowlevel.remove_instrument(timer)
            gc.unfreeze()
            slow_disk.enabled = False
            sender.stop.set()
            sender.go.set()
        await trio.to_thread.run_sync(thread.join, 10)
        store_dir = Path(broker.store.config.store_path_root_dir)
        nursery.cancel_scope.cancel()
    commitlog_files = len(list((store_dir / "commitlog").iterdir()))
    cq_files = sum(1 for p in (store_dir / "consumequeue").rglob("*") if p.is_file())
    index_files = len(list((store_dir / "index").iterdir()))
    wall, cpu = sorted(timer.wall), sorted(timer.cpu)
    print(f"{sender.replies} replies ({sender.failed} not SUCCESS), {commitlog_files} commit-log files, "
          f"{cq_files} consume-queue files, {index_files} index files, {slow_disk.slowed} slowed syncs "
          f"({slow_disk.on_loop} on the loop), {len(wall)} task steps: CPU max {cpu[-1] * 1000:.1f} ms, "
          f"wall p99 {wall[len(wall) * 99 // 100] * 1000:.1f} ms, max {wall[-1] * 1000:.1f} ms")  # fmt: skip
    assert sender.error is None, sender.error
    assert sender.failed == 0
    assert commitlog_files >= 4
    assert cq_files >= 40
    assert index_files >= 3
    assert slow_disk.on_loop == 0
    assert cpu[-1] < STEP_CPU_BOUND
