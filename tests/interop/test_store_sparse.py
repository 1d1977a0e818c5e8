"""Store files on disk (issue 12): sparse like Java's, and allocated whole with `warmMapedFileEnable=true`.

Per target, one broker without and one with warm-up, each started from the same broker.conf as the Java
reference's: 64 MiB commit-log files, 600,000-byte consume-queue files. The driver's store scenario writes its 60
messages (~100 KB); then what an operator sees with `ls -ls` is observed as facts that hold on both, not as block
counts (Java keeps its next file ready in `commitlog/`, rocketpy in `commitlog.next/`, and rocketpy reserves a few
MiB ahead of the writer where Java leaves holes):

* without warm-up the first commit-log file is full-size and sparse: at most a quarter of it on disk (before
  issue 12 rocketpy allocated it whole);
* with warm-up it is allocated whole (warmMappedFile writes a zero into every page; rocketpy reserves the whole
  file and pre-faults its pages);
* every consume-queue file is full-size and sparse either way (never warmed), at most a quarter of it on disk.

A few MB in a 1 GiB file is tests/unit/store/test_sparse_files.py; a rocketpy store with sparse files served by
the Java broker is tests/interop/test_store_compat.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from interop.harness.environment import TARGETS, InteropEnv, environment
from tests.interop import broker_scenarios as bs
from tests.interop.conftest import JavaBaseline

pytestmark = pytest.mark.interop

COMMITLOG_SIZE = 64 * 1024 * 1024


def _on_disk(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"size": st.st_size, "allocatedWhole": st.st_blocks * 512 >= st.st_size,
            "atMostAQuarter": st.st_blocks * 512 <= st.st_size // 4}  # fmt: skip


def store_files(warm: bool) -> Callable[[InteropEnv], dict[str, Any]]:
    """The scenario: a broker with or without warm-up, the store scenario's messages, the files observed."""

    def scenario(env: InteropEnv) -> dict[str, Any]:
        extra = {"warmMapedFileEnable": str(warm).lower(), "mappedFileSizeCommitLog": str(COMMITLOG_SIZE)}
        env.start_broker(conf_extra=extra)
        written = bs.store_write(env)
        store = env.workdir / "broker" / "store"
        queues = sorted((store / "consumequeue").rglob("0" * 20))
        return {
            "sends": written["sends"],
            "firstCommitLogFile": _on_disk(store / "commitlog" / ("0" * 20)),
            "consumeQueueFiles": {str(p.relative_to(store / "consumequeue")): _on_disk(p) for p in queues},
        }

    return scenario


@pytest.mark.parametrize("warm", [False, True], ids=["sparse", "warm"])
@pytest.mark.parametrize("target", TARGETS)
def test_commit_log_sparse_or_warmed_consume_queues_sparse(
    target: str, warm: bool, tmp_path: Path, interop_build: Any, baseline: JavaBaseline
) -> None:
    scenario = store_files(warm)
    with environment(interop_build, target, tmp_path / target, with_broker=False, broker_kind=target) as env:
        obs = scenario(env)
    baseline.check(f"store_files_warm_{warm}", env, obs, scenario, with_broker=False)
    assert obs["sends"] == {"SEND_OK": bs.STORE_COUNT}
    assert obs["firstCommitLogFile"] == {"size": COMMITLOG_SIZE, "allocatedWhole": warm, "atMostAQuarter": not warm}
    assert len(obs["consumeQueueFiles"]) == 4  # the store topic's queues
    assert all(f == {"size": 600000, "allocatedWhole": False, "atMostAQuarter": True}
               for f in obs["consumeQueueFiles"].values())  # fmt: skip
