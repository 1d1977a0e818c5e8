"""Seeded model-based stress: random appends, reads, key queries, restarts and crashes vs an in-memory model."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from rocketpy.common.java import java_string_hash
from rocketpy.store.config import GetMessageStatus
from rocketpy.store.format import decode_record
from rocketpy.store.message_store import MessageStore
from tests.unit.store.checks import assert_consistent
from tests.unit.store.conftest import make_msg, small_config

TOPICS = ["TA", "TB", "%RETRY%g"]
TAGS = [None, "t1", "t2", "t\U0001d11e"]


@dataclass
class Model:
    """What the store must hold: per queue, (phys offset, body, tags, keys) in queue order."""

    queues: dict[tuple[str, int], list[tuple[int, bytes, str | None, str]]] = field(default_factory=dict)
    by_key: dict[str, list[int]] = field(default_factory=dict)


def crash(store: MessageStore) -> None:
    """Abandon the store like kill -9: page cache kept, nothing flushed or cleaned, abort file left."""
    store.shutdown_background()
    for cq in store.queues.values():
        cq.close()
    store.index.close()
    store.commitlog.close()
    assert store._lock_file is not None
    store._lock_file.release()
    store.closed = True


def check_read(store: MessageStore, model: Model, rng: random.Random) -> None:
    key = rng.choice(list(model.queues))
    want = model.queues[key]
    offset = rng.randrange(len(want) + 2)
    max_n = rng.randint(1, 40)
    tag = rng.choice(TAGS)
    codes = None if tag is None else {java_string_hash(tag)}
    g = store.get_message(key[0], key[1], offset, max_n, None if codes is None else (lambda c: c in codes))
    if offset > len(want):
        assert g.status is GetMessageStatus.OFFSET_OVERFLOW_BADLY and g.next_begin_offset == len(want)
        return
    if offset == len(want):
        assert g.status is GetMessageStatus.OFFSET_OVERFLOW_ONE
        return
    scanned = want[offset : g.next_begin_offset]
    expect = [e for e in scanned if tag is None or e[2] == tag][:max_n]
    assert [decode_record(b).body for b in g.buffers] == [e[1] for e in expect]
    assert g.status is (GetMessageStatus.FOUND if expect else GetMessageStatus.NO_MATCHED_MESSAGE)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_model_based_stress(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    root = tmp_path / "store"
    store = MessageStore(small_config(root, max_index_num=200))
    store.open()
    model = Model()
    for step in range(2500):
        op = rng.random()
        if op < 0.6:
            topic, qid, tag = rng.choice(TOPICS), rng.randrange(3), rng.choice(TAGS)
            body = rng.randbytes(rng.randint(0, 1500))
            key = f"k{rng.randrange(50)}"
            r = store.put_message(make_msg(step, topic=topic, queue_id=qid, tags=tag, body=body, keys=key))
            assert r.ok
            q = model.queues.setdefault((topic, qid), [])
            assert r.queue_offset == len(q)
            q.append((r.phys_offset, body, tag, key))
            model.by_key.setdefault(f"{topic}#{key}", []).append(r.phys_offset)
        elif op < 0.85 and model.queues:
            check_read(store, model, rng)
        elif op < 0.93 and model.by_key:
            tk = rng.choice(list(model.by_key))
            topic, key = tk.split("#", 1)
            got = [decode_record(b).phys_offset for b in store.query_message(topic, key, 64, 0, 2**62).buffers]
            assert got == sorted(model.by_key[tk][-64:])  # the newest 64, in log order (Java sorts them)
        else:
            crash(store) if op < 0.97 else store.close()
            store = MessageStore(small_config(root, max_index_num=200))
            rep = store.open()
            assert rep.cut == [] and rep.skipped == [] and rep.rejected == []
            for (topic, qid), entries in model.queues.items():
                assert store.get_max_offset_in_queue(topic, qid) == len(entries)
    assert_consistent(store)
    store.close()
