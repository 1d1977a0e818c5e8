"""Shared helpers for store tests: a small-file configuration and a message factory."""

from __future__ import annotations

from pathlib import Path

import pytest

from rocketpy.store.commitlog import MessageInner
from rocketpy.store.config import FlushDiskType, StoreConfig
from rocketpy.store.format import HostAddr, build_properties
from rocketpy.store.message_store import MessageStore

HOST = HostAddr.parse("10.1.2.3:10911")
BORN = HostAddr.parse("192.168.0.7:50001")


def small_config(root: Path, **overrides: object) -> StoreConfig:
    """Files small enough that tests roll commit-log, consume-queue and index files."""
    kw: dict[str, object] = {
        "mapped_file_size_commit_log": 16 * 1024,
        "mapped_file_size_consume_queue": 20 * 50,
        "max_hash_slot_num": 64,
        "max_index_num": 256,
        "flush_disk_type": FlushDiskType.SYNC_FLUSH,
    }
    kw.update(overrides)
    return StoreConfig(root, **kw)  # type: ignore[arg-type]


def make_msg(
    i: int,
    topic: str = "TopicA",
    queue_id: int | None = None,
    tags: str | None = None,
    body: bytes | None = None,
    sys_flag: int = 0,
    keys: str | None = None,
) -> MessageInner:
    props = {"UNIQ_KEY": f"UNIQ{i:08d}", "KEYS": keys if keys is not None else f"key{i} common"}
    if tags is not None:
        props["TAGS"] = tags
    return MessageInner(
        topic=topic,
        queue_id=i % 4 if queue_id is None else queue_id,
        body=body if body is not None else f"body-{i}-".encode() * (1 + i % 7),
        properties=build_properties(props),
        sys_flag=sys_flag,
        born_timestamp=1_700_000_000_000 + i,
        born_host=BORN,
        store_host=HOST,
    )


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(store_dir: Path):  # type: ignore[no-untyped-def]
    s = MessageStore(small_config(store_dir))
    s.open()
    yield s
    s.close()
