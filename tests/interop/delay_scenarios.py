"""Delayed delivery, retry and dead-letter scenarios (issue 7) over the Java driver's `Delays` class.

Each function returns normalised observations. Times (the "...Ms" keys) are measurements: `split_times` moves them
out of the observations, so that the rest is compared across targets and the numbers are bounded by the tests.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from interop.harness import processes
from interop.harness.driver import run_driver
from interop.harness.environment import InteropEnv, environment
from interop.harness.raw_client import RawConnection, describe

# Short levels keep the suite fast: 1 s .. 4 s; a level above 4 is clamped to 4.
LEVELS = "1s 2s 3s 4s"
CONF = {"messageDelayLevel": LEVELS, "flushDelayOffsetInterval": "1000"}
# The store-compatibility run needs a level long enough to outlive the writer's shutdown.
COMPAT_LEVELS = "1s 2s 3s 4s 5s 6s 8s"
COMPAT_CONF = {"messageDelayLevel": COMPAT_LEVELS}
LEVEL_MS = {1: 1000, 2: 2000, 3: 3000, 4: 4000}


def run(env: InteropEnv, scenario: str, args: dict[str, str] | None = None, timeout: float = 180.0) -> Any:
    result = run_driver(
        env.build, scenario, {"namesrv": env.namesrv.addr, **(args or {})}, env.driver_home(scenario), timeout=timeout
    )
    return env.normaliser()(result.observations)


def split_times(value: Any, path: str = "$", times: dict[str, int] | None = None) -> tuple[Any, dict[str, int]]:
    """(observations without the "...Ms" keys, {json path: value})."""
    times = {} if times is None else times
    if isinstance(value, dict):
        kept = {}
        for key, sub in value.items():
            if isinstance(key, str) and key.endswith("Ms") and isinstance(sub, int):
                times[f"{path}.{key}"] = sub
            else:
                kept[key] = split_times(sub, f"{path}.{key}", times)[0]
        return kept, times
    if isinstance(value, list):
        return [split_times(v, f"{path}[{i}]", times)[0] for i, v in enumerate(value)], times
    return value, times


def delay_levels(env: InteropEnv) -> Any:
    return run(env, "delay-levels")


def delay_offsets(env: InteropEnv) -> dict[int, int]:
    """GET_ALL_DELAY_OFFSET (45) straight to the broker, parsed ({level: offset})."""
    conn = RawConnection(env.brokers["broker"].addr)
    try:
        frame = conn.call(45)
    finally:
        conn.close()
    body = describe(frame)["body"] or ""
    return {int(level): int(offset) for level, offset in re.findall(r"(\d+):(\d+)", body)}


def retry(env: InteropEnv) -> Any:
    """The retry scenario; what it added to the delay offsets; delayOffset.json as the broker then wrote it
    (flushDelayOffsetInterval=1000): the same table, in the layout with the entries masked."""
    before = delay_offsets(env)
    observed = run(env, "retry")
    after = delay_offsets(env)
    delta = {str(k): v - before.get(k, 0) for k, v in sorted(after.items())}
    observed["delayOffsetDelta"] = {k: v for k, v in delta.items() if v}
    time.sleep(2.5)
    text = (env.workdir / "broker" / "store" / "config" / "delayOffset.json").read_text()
    on_disk = {int(k): int(v) for k, v in re.findall(r"(\d+):(\d+)", text)}
    observed["delayOffsetFileMatches"] = on_disk == after
    observed["delayOffsetFileLayout"] = re.sub(r"\d+:\d+(,\d+:\d+)*", "<entries>", text)
    return observed


def pending_across_restarts(env: InteropEnv) -> Any:
    """A delayed message pending across a kill -9 and another across a graceful restart, each delivered once."""
    topic = "InteropDelayPending"
    out: dict[str, Any] = {}
    out["sendKill"] = run(env, "delay-send", {"topic": topic, "body": "pending-kill", "level": "4", "create": "true"})
    broker = env.brokers["broker"]
    assert isinstance(broker, processes.ServerProcess)
    processes.restart(broker, grace=0)  # SIGKILL at once, then the same command again
    out["sendGraceful"] = run(env, "delay-send", {"topic": topic, "body": "pending-graceful", "level": "3"})
    env.restart_broker()  # SIGTERM: a clean shutdown
    out["receive"] = run(
        env,
        "delay-receive",
        {"topic": topic, "group": "interop_pending_consumer", "expect": "pending-kill,pending-graceful"},
    )
    return out


def with_delay_broker(scenario: Any) -> Any:
    """The scenario on an environment whose broker has the short levels (for an on-demand Java baseline)."""

    def wrapped(env: InteropEnv) -> Any:
        env.start_broker(conf_extra=CONF)
        return scenario(env)

    return wrapped


def store_compat(build: Any, writer: str, reader: str, workdir: Path) -> dict[str, Any]:
    """Writer: a delayed message (level 7, 8 s) and a retry pending at level 7, then a clean stop. Reader: the
    same store and port; the delayed message and the retry each arrive once."""
    with environment(build, writer, workdir / f"write-{writer}", with_broker=False, broker_kind=writer) as wenv:
        wenv.start_broker(conf_extra=COMPAT_CONF)
        written = {
            "retry": run(
                wenv,
                "retry-pending",
                {"topic": "InteropCompatRetry", "group": "interop_compat_retry", "body": "compat-retry", "level": "7"},
            ),
            "delayed": run(
                wenv,
                "delay-send",
                {"topic": "InteropCompatDelay", "body": "compat-delayed", "level": "7", "create": "true"},
            ),
        }
        wenv.stop_broker("broker", grace=60)
        store = wenv.workdir / "broker" / "store"
        port = int(wenv.brokers["broker"].addr.rsplit(":", 1)[1])
    with environment(build, reader, workdir / f"read-{reader}", with_broker=False) as renv:
        renv.broker_kind = reader
        renv.start_broker(store_root=str(store), port=port, conf_extra=COMPAT_CONF)
        read = {
            "delayed": run(
                renv,
                "delay-receive",
                {"topic": "InteropCompatDelay", "group": "interop_compat_delay", "expect": "compat-delayed"},
            ),
            "retry": run(
                renv,
                "delay-receive",
                {"topic": "InteropCompatRetry", "group": "interop_compat_retry", "expect": "compat-retry"},
            ),
        }
    return {"written": written, "read": read}
