"""Store directory compatibility (issue 3): a store written by one broker (Java 4.9.7 or rocketpy), stopped
cleanly, is opened by the other with the same storePathRootDir, and every message (by queue offset, by offset
message id, by key) and every committed consumer offset is served to the 4.9.8 clients.

The four writer/reader pairs must observe exactly what Java-writes/Java-reads observes. A direct check reads a
Java-written store with rocketpy's MessageStore API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from interop.harness.environment import TARGETS, environment
from tests.interop import broker_scenarios as bs
from tests.interop.conftest import JavaBaseline

pytestmark = pytest.mark.interop


def _store_body(i: int) -> str:
    """The driver's body of store message i (StoreCompat.body / SendReceive.bigBody)."""
    small = f"store-{i}"
    if i % 10 != 7:
        return small
    parts, length, n = [small, "|"], len(small) + 1, 0
    while length < 12000:
        part = f"line {n} of a compressible body;"
        parts.append(part)
        length += len(part)
        n += 1
    return "".join(parts)


def _write_then_read(build: Any, writer: str, reader: str, workdir: Path) -> dict[str, Any]:
    with environment(build, writer, workdir / f"write-{writer}", broker_kind=writer) as wenv:
        written = bs.store_write(wenv)
        wenv.stop_broker("broker", grace=60)  # SIGTERM: a clean shutdown (flush, checkpoint, config files)
        store = wenv.workdir / "broker" / "store"
        # Offset message ids encode the writing broker's address: the reader listens where the writer did,
        # as a broker restarted from the same broker.conf does.
        port = int(wenv.brokers["broker"].addr.rsplit(":", 1)[1])
        manifest = str(wenv.workdir / "store-manifest.json")
    with environment(build, reader, workdir / f"read-{reader}", with_broker=False) as renv:
        renv.broker_kind = reader
        renv.start_broker(store_root=str(store), port=port)
        read = bs.store_read(renv, manifest)
    return {"written": written, "read": read}


@pytest.mark.parametrize("writer", TARGETS)
@pytest.mark.parametrize("reader", TARGETS)
def test_store_written_by_one_broker_served_by_the_other(
    writer: str, reader: str, tmp_path: Path, interop_build: Any, baseline: JavaBaseline
) -> None:
    obs = _write_then_read(interop_build, writer, reader, tmp_path)
    kind = "java" if writer == reader == "java" else f"{writer}-writes-{reader}-reads"

    def reference(_env: Any) -> dict[str, Any]:
        return _write_then_read(interop_build, "java", "java", tmp_path / "reference")

    class _Env:  # what baseline.check needs of an environment when the reference is run on demand
        pass

    baseline.check("store_compat", _Env(), obs, reference, with_broker=False, kind=kind)  # type: ignore[arg-type]

    read = obs["read"]
    assert obs["written"]["sends"] == {"SEND_OK": bs.STORE_COUNT}
    assert read["byQueueOffset"] == {"served": bs.STORE_COUNT, "mismatches": {}}
    assert read["byOffsetMsgId"] == {
        "looked": bs.STORE_COUNT,
        "mismatches": {},
    }
    assert read["byKey"]["mismatches"] == {}
    assert read["byKey"]["secondKeyBodies"] == sorted(
        "<big>" if i % 10 == 7 else f"store-{i}" for i in range(bs.STORE_COUNT) if i % 5 == 2
    )
    committed = {f"q{q}": q + 1 for q in range(4)}
    assert obs["written"]["consumerOffsets"] == committed
    assert read["consumerOffsets"] == committed
    assert read["topicStats"] == {
        f"broker-a/{q}": {"minOffset": 0, "maxOffset": bs.STORE_COUNT // 4, "lastUpdateTimestampSet": True}
        for q in range(4)
    }
    assert read["resume"] == {f"q{q}": q + 1 for q in range(4)}


def test_rocketpy_message_store_reads_a_java_written_store(tmp_path: Path, interop_build: Any) -> None:
    """rocketpy.store.MessageStore opens the Java broker's store (after a clean stop) and reads every record by
    queue offset and by key, with the offset message id the Java broker handed out."""
    import zlib

    from rocketpy.common.properties import loads as parse_properties
    from rocketpy.store.config import StoreConfig
    from rocketpy.store.format import decode_record
    from rocketpy.store.message_store import MessageStore

    with environment(interop_build, "java", tmp_path / "java") as env:
        bs.store_write(env)
        env.stop_broker("broker", grace=60)
        entries = bs.manifest(env)
        props = parse_properties((env.workdir / "broker" / "broker.conf").read_text())
    store = MessageStore(StoreConfig.from_properties(props))
    store.open()
    try:
        for e in entries:
            i, topic = e["i"], "InteropStoreTopic"
            phys = store.get_commit_log_offset_in_queue(topic, e["queueId"], e["queueOffset"])
            msg = store.look_message_by_offset(phys)
            assert msg is not None, e
            body = zlib.decompress(msg.body) if msg.sys_flag & 0x1 else msg.body
            assert body == _store_body(i).encode()
            assert bool(msg.sys_flag & 0x1) == (i % 10 == 7), "bodies over 4 KiB are stored compressed"
            assert msg.msg_id == e["offsetMsgId"]
            assert (msg.queue_id, msg.queue_offset) == (e["queueId"], e["queueOffset"])
            pm = msg.property_map
            assert (pm["KEYS"], pm["TAGS"], pm["seq"], pm["UNIQ_KEY"]) == (
                f"skey-{i} sgroup-{i % 5}",
                "TagA" if i % 2 == 0 else "TagB",
                str(i),
                e["msgId"],
            )
            found = store.query_message(topic, f"skey-{i}", 32, 0, 2**63 - 1)
            assert [decode_record(b).phys_offset for b in found.buffers] == [phys]
        for q in range(4):
            assert store.get_max_offset_in_queue("InteropStoreTopic", q) == bs.STORE_COUNT // 4
    finally:
        store.close()
