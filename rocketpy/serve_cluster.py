"""`rocketpy serve --brokers N`: one NameServer and N broker processes on one machine, the RocketMQ way to use
more than one core.

A Python broker is bound to one core by the GIL; RocketMQ scales out by brokers, not threads: a topic created on
the cluster (`mqadmin updateTopic -c`) has queues on every master, and clients spread sends and pulls over all of
them.  So the supervisor runs the NameServer in its own process (the caller's) and starts one `rocketpy broker`
child per core asked for, each a master with its own name, ports and store, all in one cluster:

    broker-a  listenPort P       (fast port P-2, HA port P+1)   store ROOT/broker-a
    broker-b  listenPort P+10                                    store ROOT/broker-b   ...

Children print their own Java boot lines (forwarded on stdout as they come).  SIGINT/SIGTERM stop every child
with SIGTERM (each unregisters from the NameServer and closes its store cleanly), then the NameServer.  A child
that exits on its own is reported on stderr and the supervisor stops the others and exits with status 1: as
with the Java start scripts, restarting is the service manager's job (systemd `Restart=`, a container
restart policy), and a cluster silently short of a broker would hide the failure.  A supervisor killed with
SIGKILL cannot stop anyone: each child notices that its parent is gone within a second and stops as on SIGTERM.

A shared single writer (one process owning the store, others parsing requests) was not chosen: every broker
process would still serialise on that writer's GIL for the commit-log append and the dispatch, which is most of
the per-message cost; independent brokers share nothing, which is how the Java cluster is deployed too.
"""

from __future__ import annotations

import logging
import os
import signal
import string
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import trio

log = logging.getLogger("rocketpy.serve")

PORT_STEP = 10  # a broker uses listenPort-2 .. listenPort+1; 10 apart as in Java's multi-broker samples
STOP_GRACE_S = 30.0  # a child still running after SIGTERM + this is killed
MAX_BROKERS = 26
SUPERVISOR_PID_ENV = "ROCKETPY_SUPERVISOR_PID"  # tells a child whose death means it must stop


@dataclass(frozen=True)
class BrokerChild:
    """One broker process: its name, main port, store root and command line."""

    name: str
    port: int
    store: Path
    argv: tuple[str, ...]


def broker_names(n: int) -> list[str]:
    """broker-a, broker-b, ... (the names of Java's sample 2m-noslave configurations)."""
    if not 1 <= n <= MAX_BROKERS:
        raise ValueError(f"--brokers takes 1 to {MAX_BROKERS}, not {n}")
    return [f"broker-{c}" for c in string.ascii_lowercase[:n]]


def plan(
    n: int,
    *,
    base_port: int,
    store_root: Path,
    namesrv_addr: str,
    config_file: str | None,
    overrides: dict[str, str],
    system_props: dict[str, str],
    log_level: str,
) -> list[BrokerChild]:
    """The command line of every child: `rocketpy broker` with the user's options, then its own name, port and
    store (which win over the config file and the user's options)."""
    children = []
    for i, name in enumerate(broker_names(n)):
        port = base_port + PORT_STEP * i
        store = store_root / name
        user = {k: v for k, v in overrides.items() if k not in ("brokerName", "listenPort", "storePathRootDir")}
        argv = [sys.executable, "-m", "rocketpy", "--log-level", log_level, "broker"]
        argv += [f"-D{k}={v}" for k, v in system_props.items()]
        if config_file:
            argv += ["-c", config_file]
        opts = {"namesrvAddr": namesrv_addr, "brokerIP1": "127.0.0.1", **user}
        opts |= {"brokerName": name, "listenPort": str(port), "storePathRootDir": str(store)}
        argv += [f"--{k}={v}" for k, v in opts.items()]
        children.append(BrokerChild(name, port, store, tuple(argv)))
    return children


class Supervisor:
    """Starts the children, forwards their stdout, stops them all on `stop`, and notices one that dies."""

    def __init__(self, children: Sequence[BrokerChild]) -> None:
        self.children = list(children)
        self.procs: list[trio.Process] = []
        self.stopping = False
        self.failed: list[str] = []
        self._failure = trio.Event()
        self._stop = trio.Event()

    async def run(self, stop: trio.Event) -> int:
        """Until `stop` is set (exit status 0) or a child exits on its own (status 1)."""
        self._stop = stop
        async with trio.open_nursery() as nursery:
            try:
                for child in self.children:
                    proc = await trio.lowlevel.open_process(
                        list(child.argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        env={**os.environ, SUPERVISOR_PID_ENV: str(os.getpid())},
                    )  # fmt: skip
                    self.procs.append(proc)
                    log.info("%s started (pid %d, port %d, store %s)", child.name, proc.pid, child.port, child.store)
                    nursery.start_soon(self._forward, proc)
                    nursery.start_soon(self._watch, child, proc)
                async with trio.open_nursery() as waiter:

                    async def until(event: trio.Event) -> None:
                        await event.wait()
                        waiter.cancel_scope.cancel()

                    waiter.start_soon(until, stop)
                    waiter.start_soon(until, self._failure)
            finally:
                with trio.CancelScope(shield=True):
                    await self._stop_all()
        return 1 if self.failed else 0

    async def _forward(self, proc: trio.Process) -> None:
        """Copy the child's stdout (its boot line) to ours, whole lines at a time."""
        assert proc.stdout is not None
        buf = b""
        async for chunk in proc.stdout:
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                print(line.decode(errors="replace"), flush=True)
        if buf:
            print(buf.decode(errors="replace"), flush=True)

    async def _watch(self, child: BrokerChild, proc: trio.Process) -> None:
        code = await proc.wait()
        if code in (0, -signal.SIGINT, -signal.SIGTERM):
            # Ctrl-C reaches the whole process group: the child may see it a moment before we do.
            with trio.move_on_after(1.0):
                await self._stop.wait()
        if self.stopping or self._stop.is_set():
            return
        log.error("%s (pid %d) exited with status %d; stopping the other brokers", child.name, proc.pid, code)
        print(f"rocketpy serve: {child.name} exited with status {code}", file=sys.stderr, flush=True)
        self.failed.append(child.name)
        self._failure.set()

    async def _stop_all(self) -> None:
        self.stopping = True
        for proc in self.procs:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        with trio.move_on_after(STOP_GRACE_S):
            for proc in self.procs:
                await proc.wait()
        for child, proc in zip(self.children, self.procs, strict=False):
            if proc.returncode is None:
                log.error("%s (pid %d) still running %.0f s after SIGTERM; killed", child.name, proc.pid, STOP_GRACE_S)
                proc.kill()
                await proc.wait()
