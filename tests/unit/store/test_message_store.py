"""The store facade: puts, pulls with Java's statuses and limits, lookups, transactions, notifications."""

from __future__ import annotations

from pathlib import Path

from rocketpy.common.java import java_string_hash
from rocketpy.store.commitlog import MessageInner
from rocketpy.store.config import GetMessageStatus, PutMessageStatus
from rocketpy.store.format import HostAddr, decode_record, decode_records
from rocketpy.store.message_store import MessageStore

from .conftest import HOST, make_msg, small_config


def test_put_returns_offsets_and_offset_msg_id(store: MessageStore) -> None:
    r0 = store.put_message_and_wait(make_msg(0, queue_id=2))
    r1 = store.put_message_and_wait(make_msg(1, queue_id=2))
    assert r0.status is PutMessageStatus.PUT_OK and r1.ok
    assert (r0.queue_offset, r1.queue_offset) == (0, 1)
    assert r0.phys_offset == 0 and r1.phys_offset == r0.wrote_bytes
    assert r1.msg_id == HOST.ip.hex().upper() + "00002A9F" + f"{r1.phys_offset:016X}"
    m = store.look_message_by_offset(r1.phys_offset)
    assert m is not None and m.queue_offset == 1 and m.msg_id == r1.msg_id


def test_rolls_commit_log_with_blank_record(store: MessageStore) -> None:
    size = store.config.mapped_file_size_commit_log
    results = [store.put_message(make_msg(i, body=b"x" * 1500)) for i in range(30)]
    files = store.commitlog.files.files
    assert len(files) >= 2
    first_in_second = next(r for r in results if r.phys_offset >= size)
    assert first_in_second.phys_offset == size
    last_in_first = max(r.flush_offset for r in results if r.phys_offset < size)
    blank = bytes(files[0].view[last_in_first : last_in_first + 8])
    assert int.from_bytes(blank[:4], "big") == size - last_in_first
    assert blank[4:] == bytes.fromhex("CBD43194")
    assert files[1].path.name == f"{size:020d}"


def test_get_message_statuses_like_java(store: MessageStore) -> None:
    missing = store.get_message("none", 0, 7, 32)
    assert (missing.status, missing.next_begin_offset) == (GetMessageStatus.NO_MESSAGE_IN_QUEUE, 0)
    assert (store.get_min_offset_in_queue("none", 0), store.get_max_offset_in_queue("none", 0)) == (0, 0)
    for i in range(5):
        store.put_message(make_msg(i, queue_id=0))
    g = store.get_message("TopicA", 0, 0, 32)
    assert g.status is GetMessageStatus.FOUND and g.message_count == 5 and g.next_begin_offset == 5
    assert (g.min_offset, g.max_offset) == (0, 5)
    assert [decode_record(b).queue_offset for b in g.buffers] == [0, 1, 2, 3, 4]
    assert store.get_message("TopicA", 0, 5, 32).status is GetMessageStatus.OFFSET_OVERFLOW_ONE
    bad = store.get_message("TopicA", 0, 9, 32)
    assert bad.status is GetMessageStatus.OFFSET_OVERFLOW_BADLY and bad.next_begin_offset == 5
    assert store.get_message("TopicA", 0, 2, 2).next_begin_offset == 4


def test_tag_filter_and_no_matched(store: MessageStore) -> None:
    for i in range(6):
        store.put_message(make_msg(i, queue_id=1, tags="TagA" if i % 3 == 0 else "TagB"))
    want = {java_string_hash("TagA")}
    g = store.get_message("TopicA", 1, 0, 32, tags_filter=lambda code: code in want)
    assert [decode_record(b).body for b in g.buffers] == [make_msg(0).body, make_msg(3).body]
    assert g.queue_offsets == [0, 3] and g.next_begin_offset == 6
    none = store.get_message("TopicA", 1, 4, 32, tags_filter=lambda code: False)
    assert none.status is GetMessageStatus.NO_MATCHED_MESSAGE and none.next_begin_offset == 6


def test_batch_byte_limit_256k_in_memory(tmp_path: Path) -> None:
    s = MessageStore(small_config(tmp_path, mapped_file_size_commit_log=4 * 1024 * 1024))
    s.open()
    for i in range(12):
        s.put_message(make_msg(i, queue_id=0, body=b"z" * 30_000))
    g = s.get_message("TopicA", 0, 0, 32)
    assert g.buffer_total_size <= 256 * 1024 and g.message_count == 8  # the 9th would pass 256 KiB
    assert g.next_begin_offset == 8
    for i in range(40):
        s.put_message(make_msg(i, queue_id=1, body=b"s"))
    assert s.get_message("TopicA", 1, 0, 64).message_count == 32  # maxTransferCountOnMessageInMemory
    s.close()


def test_offset_too_small_after_min(store: MessageStore) -> None:
    for i in range(3):
        store.put_message(make_msg(i, queue_id=0))
    store.queues[("TopicA", 0)].min_logic_offset = 40
    g = store.get_message("TopicA", 0, 0, 32)
    assert g.status is GetMessageStatus.OFFSET_TOO_SMALL and g.next_begin_offset == 2


def test_prepared_and_rollback_not_dispatched(store: MessageStore) -> None:
    p = store.put_message(make_msg(0, queue_id=0, sys_flag=0x4))
    rb = store.put_message(make_msg(1, queue_id=0, sys_flag=0xC))
    c = store.put_message(make_msg(2, queue_id=0, sys_flag=0x8))
    assert (p.queue_offset, rb.queue_offset, c.queue_offset) == (0, 0, 0)
    assert store.get_max_offset_in_queue("TopicA", 0) == 1
    assert decode_record(store.get_message("TopicA", 0, 0, 8).buffers[0]).sys_flag & 0xC == 0x8
    # prepared messages are indexed (Java), rollback ones are not
    assert len(store.query_message("TopicA", "UNIQ00000000", 5, 0, 2**62).buffers) == 1
    assert store.query_message("TopicA", "UNIQ00000001", 5, 0, 2**62).buffers == []


def test_arrival_listener_sees_new_max_offset(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    s = MessageStore(small_config(tmp_path), arrival_listener=lambda t, q, m: seen.append((t, q, m)))
    s.open()
    s.put_message(make_msg(0, queue_id=3))
    s.put_message(make_msg(1, queue_id=3))
    s.put_message(make_msg(2, queue_id=1, sys_flag=0x4))
    assert seen == [("TopicA", 3, 1), ("TopicA", 3, 2)]
    s.close()


def test_query_by_key_and_time_lookups(store: MessageStore) -> None:
    rs = [store.put_message(make_msg(i, queue_id=0)) for i in range(10)]
    q = store.query_message("TopicA", "key4", 10, 0, 2**62)
    assert [decode_record(b).body for b in q.buffers] == [make_msg(4).body]
    assert len(store.query_message("TopicA", "common", 100, 0, 2**62).buffers) == 10
    assert q.index_last_update_phyoffset == rs[-1].phys_offset
    ts = rs[5].store_timestamp
    off = store.get_offset_in_queue_by_time("TopicA", 0, ts)
    assert store.get_message_store_timestamp("TopicA", 0, off) == ts
    assert store.get_earliest_message_time() == rs[0].store_timestamp
    assert store.get_earliest_message_time("TopicA", 0) == rs[0].store_timestamp
    assert store.get_commit_log_offset_in_queue("TopicA", 0, 3) == rs[3].phys_offset


def test_illegal_messages_refused(store: MessageStore, store_dir: Path) -> None:
    r = store.put_message(make_msg(0, topic="T" * 128))
    assert r.status is PutMessageStatus.MESSAGE_ILLEGAL
    for bad in ("../evil", "/abs", "..", "a/b", "sp ace", ""):
        assert store.put_message(make_msg(0, topic=bad)).status is PutMessageStatus.MESSAGE_ILLEGAL
    assert store.put_message(make_msg(0, queue_id=-1)).status is PutMessageStatus.MESSAGE_ILLEGAL
    assert not (store_dir.parent / "evil").exists() and sorted(p.name for p in store_dir.iterdir()) == [
        "abort",
        "commitlog",
        "commitlog.next",  # the first file, built by open (taken by the first put)
        "consumequeue",
        "lock",
    ]
    assert not any((store_dir / "commitlog").iterdir()) and not any((store_dir / "consumequeue").iterdir())
    big = MessageInner("T", 0, b"", "A\x01" + "x" * 40000, store_host=HOST, born_host=HOST)
    assert store.put_message(big).status is PutMessageStatus.PROPERTIES_SIZE_EXCEEDED
    huge = MessageInner("T", 0, b"x" * 20000, store_host=HOST, born_host=HOST)
    assert store.put_message(huge).status is PutMessageStatus.MESSAGE_ILLEGAL  # bigger than a 16 KiB file


def test_ipv6_hosts_stored_with_sysflag_bits(store: MessageStore) -> None:
    v6 = HostAddr.parse("[2001:db8::1]:10911")
    r = store.put_message(MessageInner("T6", 0, b"v6", "", born_host=v6, store_host=v6))
    m = decode_records(store.get_message("T6", 0, 0, 1).buffers[0])[0]
    assert m.sys_flag & 0x30 == 0x30 and m.born_host == v6 and len(r.msg_id) == 56


def test_reopen_restores_queue_offsets(store_dir: Path) -> None:
    s = MessageStore(small_config(store_dir))
    s.open()
    for i in range(50):
        s.put_message(make_msg(i))
    s.close()
    s = MessageStore(small_config(store_dir))
    rep = s.open()
    assert rep.last_exit_ok and rep.cut == []
    r = s.put_message(make_msg(50))
    assert r.queue_offset == len([i for i in range(50) if i % 4 == 2])  # message 50 goes to queue 2
    s.close()


def test_store_dir_is_locked(store: MessageStore, store_dir: Path) -> None:
    import pytest

    from rocketpy.store.mapped_file import StoreError

    with pytest.raises(StoreError, match="in use"):
        MessageStore(small_config(store_dir)).open()


def test_sync_flush_acks_after_flush(store: MessageStore) -> None:
    r = store.put_message(make_msg(0))
    assert store.commitlog.flushed_where < r.flush_offset
    assert store.wait_flushed(r) is PutMessageStatus.PUT_OK
    assert store.commitlog.flushed_where >= r.flush_offset


def test_batch_gets_consecutive_queue_offsets(store: MessageStore) -> None:
    store.put_message(make_msg(0, queue_id=1))
    rs = store.put_messages([make_msg(i, queue_id=1) for i in range(1, 6)])
    assert [r.queue_offset for r in rs] == [1, 2, 3, 4, 5]
    bad = store.put_messages([make_msg(9, queue_id=1), make_msg(10, topic="x" * 200), make_msg(11, queue_id=1)])
    assert [r.status for r in bad] == [PutMessageStatus.PUT_OK, PutMessageStatus.MESSAGE_ILLEGAL]


def test_schedule_topic_tags_code_is_deliver_time(store: MessageStore) -> None:
    """SCHEDULE_TOPIC_XXXX entries carry storeTimestamp + delay (level 3 = 10s) instead of a tags hash."""
    props = "TAGS\x01TagA\x02DELAY\x013\x02REAL_TOPIC\x01T"
    r = store.put_message(MessageInner("SCHEDULE_TOPIC_XXXX", 2, b"d", props, born_host=HOST, store_host=HOST))
    assert store.queues[("SCHEDULE_TOPIC_XXXX", 2)].entry(0)[2] == r.store_timestamp + 10_000
    far = store.put_message(
        MessageInner("SCHEDULE_TOPIC_XXXX", 2, b"d", "DELAY\x0199", born_host=HOST, store_host=HOST)
    )
    assert store.queues[("SCHEDULE_TOPIC_XXXX", 2)].entry(1)[2] == far.store_timestamp + 2 * 3_600_000  # capped


def test_schedule_tags_code_rebuilt_identically(store_dir: Path) -> None:
    import shutil

    s = MessageStore(small_config(store_dir))
    s.open()
    s.put_message(MessageInner("SCHEDULE_TOPIC_XXXX", 0, b"d", "DELAY\x015", born_host=HOST, store_host=HOST))
    before = s.queues[("SCHEDULE_TOPIC_XXXX", 0)].entry(0)
    s.close()
    shutil.rmtree(store_dir / "consumequeue")
    s = MessageStore(small_config(store_dir))
    s.open()
    assert s.queues[("SCHEDULE_TOPIC_XXXX", 0)].entry(0) == before
    s.close()


def test_disk_full_on_new_file_is_create_mapedfile_failed(store: MessageStore) -> None:
    import errno

    def full(file_from: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    store.put_message(make_msg(0))
    store.commitlog.files.create_file = full  # type: ignore[assignment,method-assign]
    statuses = {store.put_message(make_msg(i, body=b"f" * 2000)).status for i in range(20)}
    assert PutMessageStatus.CREATE_MAPEDFILE_FAILED in statuses


def test_failed_dispatch_stops_writes_and_recovery_repairs(store_dir: Path) -> None:
    import errno

    s = MessageStore(small_config(store_dir))
    s.open()
    s.put_message(make_msg(0, queue_id=0))
    real = s._queue

    def broken(topic: str, queue_id: int) -> object:
        raise OSError(errno.EIO, "I/O error")

    s._queue = broken  # type: ignore[assignment,method-assign]
    r = s.put_message(make_msg(1, queue_id=1))
    assert r.ok  # the record is in the log
    assert s.put_message(make_msg(2, queue_id=0)).status is PutMessageStatus.SERVICE_NOT_AVAILABLE
    s._queue = real  # type: ignore[method-assign]
    s.close()
    (store_dir / "abort").touch()
    s = MessageStore(small_config(store_dir))
    s.open()
    assert decode_record(s.get_message("TopicA", 1, 0, 4).buffers[0]).phys_offset == r.phys_offset
    s.close()


def test_config_from_broker_properties(tmp_path: Path) -> None:
    from rocketpy.store.config import FlushDiskType, StoreConfig

    cfg = StoreConfig.from_properties(
        {
            "storePathRootDir": str(tmp_path),
            "mappedFileSizeCommitLog": "67108864",
            "flushDiskType": "SYNC_FLUSH",
            "checkCRCOnRecover": "false",
            "deleteWhen": "04;05",
            "brokerName": "ignored",
        }
    )
    assert cfg.store_path_root_dir == tmp_path and cfg.mapped_file_size_commit_log == 67108864
    assert cfg.flush_disk_type is FlushDiskType.SYNC_FLUSH and cfg.check_crc_on_recover is False
    assert cfg.delete_when == "04;05" and cfg.file_reserved_time == 72
    assert StoreConfig.java_name("max_hash_slot_num") == "maxHashSlotNum"
