#!/usr/bin/env python3
"""The per-read cost of a connection: rocketpy's remoting Connection answering with a trivial batch handler.

    python tools/bench_read.py [--seconds 10] [--connections 16] [--depth 1] [--rounds 1]
    python tools/bench_read.py --callgrind [--depth 1] [--fast]     server instructions per message (valgrind)

A RemotingServer in a process of its own (`--serve`, the code on PYTHONPATH) takes every frame of a read in a batch
handler that does no work beyond counting and answers each frame with the same pre-encoded reply, so what its CPU
time measures is the read loop itself: recv, the handler call, the reply's send, trio's wait and scheduler pass.
Senders are threads of this process (blocking sockets, `--depth` SEND_MESSAGE_V2 frames in flight per connection);
with `--depth 1` nearly every read holds one frame. `--fast` answers each frame from a fast handler after the
codec has decoded it into a RemotingCommand, the path of pulls and of every request the batch handler leaves.

Printed per round: server user and system CPU us per message (utime, stime from /proc over the measured window),
their sum, frames per read (from the server's own counts; 1.00 with `--fast`, which counts calls) and TPS. User
time is what the Python code costs; the system time is mostly the loopback TCP stack. Compare two revisions in the
same minutes on a shared machine, several rounds each (PYTHONPATH pointing at each).

`--callgrind` runs the server under `valgrind --tool=callgrind` twice, for 500 and 2,500 messages over one
connection, and prints the difference per message: the instructions the server executes per message, a figure that
does not depend on the machine's load. Under valgrind the server is far slower than its peer, so every read finds
its data there at once (the path of a busy server: recv, handler, send, one scheduler pass). This is a tool, not a
test.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

WARMUP_S = 2.0


def serve(connections: int, fast: bool) -> None:
    """The server side: port on stdout, then on each line of stdin the batch handler's `calls frames`; it exits
    once `connections` connections have closed (0: never)."""
    import trio

    from rocketpy.protocol.codes import RequestCode, ResponseCode
    from rocketpy.remoting.codec import encode
    from rocketpy.remoting.command import RESPONSE_FLAG, RemotingCommand
    from rocketpy.remoting.connection import Connection
    from rocketpy.remoting.server import RemotingServer

    answer = RemotingCommand.response(ResponseCode.SUCCESS)
    answer.flag |= RESPONSE_FLAG
    one = encode(answer)
    counts = [0, 0]

    def batch(conn: Connection, data: bytes, pos: int) -> tuple[int, bytes]:
        n, end = 0, len(data)
        while end - pos >= 4:
            stop = pos + 4 + int.from_bytes(data[pos : pos + 4], "big")
            if stop > end:
                break
            pos, n = stop, n + 1
        counts[0] += 1
        counts[1] += n
        return pos, one * n

    code = RequestCode.SEND_MESSAGE_V2

    def one_fast(conn: Connection, cmd: RemotingCommand) -> bytes:
        counts[0] += 1  # calls, not reads, on this path
        counts[1] += 1
        return one

    def report() -> None:
        for _ in sys.stdin:
            print(counts[0], counts[1], flush=True)

    async def main() -> None:
        # --fast: frame by frame, each decoded into a RemotingCommand and answered by a fast handler (as pulls are)
        server = RemotingServer({}, fast_handlers={code: one_fast}) if fast else RemotingServer({}, batch_handler=batch)
        closed = [0]
        async with trio.open_nursery() as nursery:

            def on_close(conn: Connection) -> None:
                closed[0] += 1
                if closed[0] == connections:
                    nursery.cancel_scope.cancel()

            server.on_close(on_close)
            port = await nursery.start(server.serve, 0, "127.0.0.1")
            print(port, len(one), flush=True)
            threading.Thread(target=report, daemon=True).start()

    trio.run(main)


def cpu(pid: int) -> tuple[float, float]:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


class Sender(threading.Thread):
    def __init__(self, port: int, frame: bytes, reply_size: int, depth: int) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.frame, self.reply_size, self.depth = frame, reply_size, depth
        self.replies = 0
        self.stop = False
        self.limit = 1 << 62  # replies after which it closes the connection

    def run(self) -> None:
        sock, frame, size = self.sock, self.frame, self.reply_size
        sock.sendall(frame * self.depth)
        partial = 0
        while not self.stop:
            try:
                data = sock.recv(65536)
            except OSError:  # the server was stopped
                return
            if not data:
                return
            got, partial = divmod(partial + len(data), size)
            self.replies += got
            if self.replies >= self.limit:
                self.sock.close()
                return
            if got:
                sock.sendall(frame * min(got, self.limit - self.replies))


def instructions(messages: int, depth: int, frame: bytes, path: list[str]) -> int:
    """The server's instructions (valgrind) while it answers `messages` on one connection, start-up included."""
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__, "--serve",
           "--connections", "1", *path]  # fmt: skip
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    port, reply_size = map(int, proc.stdout.readline().split())
    sender = Sender(port, frame, reply_size, depth)
    sender.limit = messages
    sender.start()
    sender.join()
    _, err = proc.communicate(timeout=600)
    match = re.search(r"Collected : (\d+)", err)
    if match is None:
        raise SystemExit(f"no instruction count from valgrind:\n{err[-2000:]}")
    return int(match.group(1))


def round_once(args: argparse.Namespace, frame: bytes) -> str:
    cmd = [sys.executable, __file__, "--serve", "--connections", "0", *(["--fast"] if args.fast else [])]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None and proc.stdout is not None
    try:
        port, reply_size = map(int, proc.stdout.readline().split())
        senders = [Sender(port, frame, reply_size, args.depth) for _ in range(args.connections)]
        for s in senders:
            s.start()
        time.sleep(WARMUP_S)

        def sample() -> tuple[float, float, int, int, int, float]:
            proc.stdin.write("\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
            calls, frames = map(int, proc.stdout.readline().split())  # type: ignore[union-attr]
            return (*cpu(proc.pid), sum(s.replies for s in senders), calls, frames, time.monotonic())

        u0, s0, n0, c0, f0, t0 = sample()
        time.sleep(args.seconds)
        u1, s1, n1, c1, f1, t1 = sample()
        for s in senders:
            s.stop = True
        n = max(1, n1 - n0)
        user, system = (u1 - u0) * 1e6 / n, (s1 - s0) * 1e6 / n
        return (f"{user:8.2f} {system:8.2f} {user + system:8.2f} {(f1 - f0) / max(1, c1 - c0):10.2f} "
                f"{n / (t1 - t0):10,.0f}  load {os.getloadavg()[0]:.1f}")  # fmt: skip
    finally:
        proc.kill()
        proc.wait()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured window after a 2 s warm-up (10)")
    parser.add_argument("--connections", type=int, default=16, help="sender connections (16)")
    parser.add_argument("--depth", type=int, default=1, help="requests in flight per connection (1)")
    parser.add_argument("--rounds", type=int, default=1, help="server processes started one after the other (1)")
    parser.add_argument("--callgrind", action="store_true", help="server instructions per message under valgrind")
    parser.add_argument("--fast", action="store_true", help="a fast handler per decoded frame, not a batch handler")
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.connections, args.fast)
        return 0
    from tools.bench_raw import request_frame

    frame = request_frame("BenchReadTopic", 0, 1, 128, 0)
    if args.callgrind:
        if shutil.which("valgrind") is None:
            print("bench_read: valgrind is not installed", file=sys.stderr)
            return 2
        low, high = 500, 2500
        path = ["--fast"] if args.fast else []
        per = (instructions(high, args.depth, frame, path) - instructions(low, args.depth, frame, path)) / (high - low)
        print(f"server, one connection x {args.depth} deep: {per:,.0f} instructions per message")
        return 0
    print(f"{args.connections} connections x {args.depth} deep, {len(frame)}-byte frames, {args.seconds:.0f} s")
    print(f"{'user us':>8} {'sys us':>8} {'cpu us':>8} {'frames/read':>10} {'TPS':>10}")
    for _ in range(args.rounds):
        print(round_once(args, frame), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
