"""HA replication: a slave fed the master's raw log bytes in arbitrary chunks ends up with identical files."""

from __future__ import annotations

import random
from pathlib import Path

from rocketpy.store.message_store import MessageStore

from .checks import assert_consistent, snapshot
from .conftest import make_msg, small_config


def test_slave_from_random_chunks_matches_master(tmp_path: Path) -> None:
    master = MessageStore(small_config(tmp_path / "m"))
    master.open()
    slave = MessageStore(small_config(tmp_path / "s"))
    slave.open()
    rng = random.Random(5)
    try:
        for i in range(120):
            master.put_message(make_msg(i, tags=rng.choice(["a", "b"]), body=rng.randbytes(rng.randint(1, 900))))
        while slave.max_phy_offset < master.max_phy_offset:
            data = master.get_commit_log_data(slave.max_phy_offset)
            assert data is not None
            chunk = data[: rng.randint(1, 2000)]
            assert slave.append_replicated(slave.max_phy_offset, chunk)
        assert not slave.append_replicated(5, b"x")  # not at the end of the log: refused
        for key, cq in master.queues.items():
            scq = slave.queues[key]
            assert list(scq.iter_entries()) == list(cq.iter_entries())
        assert slave.commitlog.queue_offsets == master.commitlog.queue_offsets
        assert assert_consistent(slave) == 120
        m, s = snapshot(tmp_path / "m"), snapshot(tmp_path / "s")
        assert {k: v for k, v in m.items() if k.startswith(("commitlog", "consumequeue"))} == {
            k: v for k, v in s.items() if k.startswith(("commitlog", "consumequeue"))
        }
        assert slave.put_message(make_msg(500)).queue_offset == master.put_message(make_msg(500)).queue_offset
    finally:
        master.close()
        slave.close()
