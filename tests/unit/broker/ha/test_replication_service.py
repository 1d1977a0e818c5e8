"""The master and slave HA tasks over loopback: catch-up, byte-identical logs, restarts, SYNC_MASTER waits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import trio

from rocketpy.broker.ha.frames import encode_offset
from rocketpy.broker.ha.master import HAMaster, HAMasterConfig
from rocketpy.broker.ha.slave import HAClientConfig, HASlave
from rocketpy.store.config import PutMessageStatus
from rocketpy.store.message_store import MessageStore
from tests.unit.store.conftest import make_msg, small_config

FAST = HAClientConfig(heartbeat_interval_ms=50, housekeeping_interval_ms=2000)


def _open(root: Path) -> MessageStore:
    store = MessageStore(small_config(root))
    store.open()
    return store


def _files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "commitlog").iterdir())}


async def _until(cond: Callable[[], bool], timeout: float = 10.0) -> None:
    with trio.fail_after(timeout):
        while not cond():
            await trio.sleep(0.01)


@asynccontextmanager
async def _master(store: MessageStore, **cfg: int) -> AsyncIterator[tuple[HAMaster, int]]:
    ha = HAMaster(store, HAMasterConfig(heartbeat_interval_ms=50, **cfg))
    async with trio.open_nursery() as nursery:
        port = await nursery.start(ha.serve, 0)
        yield ha, port
        nursery.cancel_scope.cancel()


@asynccontextmanager
async def _slave(store: MessageStore, port: int) -> AsyncIterator[HASlave]:
    slave = HASlave(store, FAST, f"127.0.0.1:{port}")
    async with trio.open_nursery() as nursery:
        await nursery.start(slave.run)
        yield slave
        nursery.cancel_scope.cancel()


async def test_slave_catches_up_and_follows(tmp_path: Path) -> None:
    m, s = _open(tmp_path / "m"), _open(tmp_path / "s")
    try:
        for i in range(150):  # several 16 KiB files before the slave connects
            m.put_message(make_msg(i, body=bytes(200 + i % 50)))
        async with _master(m, transfer_batch_size=1000) as (ha, port), _slave(s, port):
            await _until(lambda: s.max_phy_offset == m.max_phy_offset and ha.push2slave_max_offset == m.max_phy_offset)
            for i in range(150, 200):
                m.put_message(make_msg(i))
            await _until(lambda: s.max_phy_offset == m.max_phy_offset)
        # an empty slave starts at the master's last file, as Java's does
        first = m.max_phy_offset - (m.max_phy_offset - 0) % m.commitlog.file_size
        assert s.min_phy_offset <= first
        sf, mf = _files(tmp_path / "s"), _files(tmp_path / "m")
        assert sf and all(sf[name] == mf[name] for name in sf)
        assert s.get_max_offset_in_queue("TopicA", 0) == m.get_max_offset_in_queue("TopicA", 0)
        assert s.query_message("TopicA", "key199", 4, 0, 2**62).buffers
    finally:
        m.close()
        s.close()


async def test_slave_resumes_after_a_restart_of_either_side(tmp_path: Path) -> None:
    m, s = _open(tmp_path / "m"), _open(tmp_path / "s")
    try:
        async with _master(m) as (_, port):
            async with _slave(s, port):
                for i in range(40):
                    m.put_message(make_msg(i))
                await _until(lambda: s.max_phy_offset == m.max_phy_offset)
            for i in range(40, 90):  # the slave is down: it is behind when it comes back
                m.put_message(make_msg(i))
            async with _slave(s, port):
                await _until(lambda: s.max_phy_offset == m.max_phy_offset)
        assert _files(tmp_path / "s") == _files(tmp_path / "m")
    finally:
        m.close()
        s.close()


async def test_sync_master_waits_for_the_slave(tmp_path: Path) -> None:
    m, s = _open(tmp_path / "m"), _open(tmp_path / "s")
    try:
        async with _master(m, slave_timeout_ms=300) as (ha, port):
            r = m.put_message(make_msg(0))
            assert await ha.wait_replica(r.phys_offset + r.wrote_bytes) is PutMessageStatus.SLAVE_NOT_AVAILABLE
            async with _slave(s, port):
                await _until(lambda: bool(ha.connections) and ha.push2slave_max_offset > 0)
                r = m.put_message(make_msg(1))
                assert await ha.wait_replica(r.phys_offset + r.wrote_bytes) is PutMessageStatus.PUT_OK
                assert s.max_phy_offset >= r.phys_offset + r.wrote_bytes
            await _until(lambda: not ha.connections)
            # a "slave" that asks for data and never acknowledges: the put times out
            async with await trio.open_tcp_stream("127.0.0.1", port) as stream:
                await stream.send_all(encode_offset(m.max_phy_offset))
                await _until(lambda: bool(ha.connections))
                r = m.put_message(make_msg(2))
                assert await ha.wait_replica(r.phys_offset + r.wrote_bytes) is PutMessageStatus.FLUSH_SLAVE_TIMEOUT
    finally:
        m.close()
        s.close()


async def test_a_slave_reporting_beyond_the_masters_log_is_dropped(tmp_path: Path) -> None:
    m = _open(tmp_path / "m")
    try:
        m.put_message(make_msg(0))
        async with _master(m) as (ha, port), await trio.open_tcp_stream("127.0.0.1", port) as stream:
            await stream.send_all(encode_offset(0))
            await _until(lambda: any(c.request_offset == 0 for c in ha.connections))
            await stream.send_all(encode_offset(m.max_phy_offset + 100))
            await _until(lambda: not ha.connections)
    finally:
        m.close()


async def test_a_silent_slave_is_dropped_after_the_housekeeping_interval(tmp_path: Path) -> None:
    m = _open(tmp_path / "m")
    try:
        async with (
            _master(m, housekeeping_interval_ms=300) as (ha, port),
            await trio.open_tcp_stream("127.0.0.1", port) as stream,
        ):
            await stream.send_all(encode_offset(0))
            await _until(lambda: bool(ha.connections))
            began = trio.current_time()
            await _until(lambda: not ha.connections)
            assert trio.current_time() - began >= 0.25
    finally:
        m.close()


async def test_the_slave_reconnects_to_a_restarted_master(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr("rocketpy.broker.ha.slave.RETRY_INTERVAL", 0.05)
    m, s = _open(tmp_path / "m"), _open(tmp_path / "s")
    try:
        async with _master(m) as (_, port), _slave(s, port):
            m.put_message(make_msg(0))
            await _until(lambda: s.max_phy_offset == m.max_phy_offset)
        async with _slave(s, port) as slave:  # the master is gone: the slave keeps trying
            await trio.sleep(0.2)
            assert not slave.connected
            ha = HAMaster(m, HAMasterConfig(heartbeat_interval_ms=50))
            async with trio.open_nursery() as nursery:
                await nursery.start(ha.serve, port)
                m.put_message(make_msg(1))
                await _until(lambda: s.max_phy_offset == m.max_phy_offset)
                nursery.cancel_scope.cancel()
    finally:
        m.close()
        s.close()
