"""The commit log builds its next file ahead in a worker thread (``AllocateMappedFileService``), under its final
name as Java does: a store image holding that unwritten file, as a crash leaves it, recovers (recovery deletes
it, as Java's truncateDirtyFiles does); a clean close removes it."""

from __future__ import annotations

import shutil
from pathlib import Path

from rocketpy.store.message_store import MessageStore

from .checks import assert_consistent
from .conftest import make_msg, small_config

FILE = 16 * 1024


def _files(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "commitlog").iterdir())


def _wait_next_built(store: MessageStore) -> None:
    nxt = store.commitlog.files._next
    assert nxt is not None
    nxt.join()


def test_next_file_is_built_ahead_and_removed_at_close(tmp_path: Path) -> None:
    root = tmp_path / "s"
    s = MessageStore(small_config(root))
    s.open()
    for i in range(100):
        assert s.put_message(make_msg(i)).ok
    _wait_next_built(s)
    last = s.commitlog.files.last()
    assert last is not None
    assert _files(root)[-1] == f"{last.end_offset:020d}"  # the next one exists before it is needed
    s.close()
    assert _files(root)[-1] == f"{last.file_from:020d}"


def test_crash_image_with_the_next_file_recovers_and_continues(tmp_path: Path) -> None:
    root, image = tmp_path / "s", tmp_path / "crashed"
    s = MessageStore(small_config(root))
    s.open()
    for i in range(100):
        assert s.put_message(make_msg(i)).ok
    _wait_next_built(s)
    s.flush()
    shutil.copytree(root, image)  # the process dies here: abort file, lock and the unwritten next file remain
    s.close()
    assert len(_files(image)) == len(_files(root)) + 1
    (image / "lock").unlink(missing_ok=True)
    r = MessageStore(small_config(image))
    r.open()
    try:
        assert assert_consistent(r) == 100
        assert len(r.commitlog.files.files) == len(_files(root))  # the empty file is not part of the log
        for i in range(100, 300):
            assert r.put_message(make_msg(i)).ok
        assert assert_consistent(r) == 300
    finally:
        r.close()
