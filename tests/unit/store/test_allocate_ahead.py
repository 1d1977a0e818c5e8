"""The commit log builds its next file ahead in a worker thread (``AllocateMappedFileService``) once the current
one is a quarter full, in ``commitlog.next`` (renamed into ``commitlog`` when taken): a store image holding that
unwritten file, as a crash leaves it, recovers (the file is removed at load); a clean close removes it too."""

from __future__ import annotations

import shutil
from pathlib import Path

from rocketpy.store.message_store import MessageStore

from .checks import assert_consistent
from .conftest import make_msg, small_config

FILE = 16 * 1024


def _files(root: Path, directory: str = "commitlog") -> list[str]:
    d = root / directory
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else []


def _put_until_next_built(store: MessageStore, first: int) -> int:
    """Puts from message ``first`` until the next file is under way (the current one a quarter full), then
    waits for the worker; returns the next message number."""
    assert store.put_message(make_msg(first)).ok  # an empty store's first file, built by open, is taken
    i = first + 1
    while store.commitlog.files._next is None:
        assert store.put_message(make_msg(i)).ok
        i += 1
    store.commitlog.files._next.join()
    return i


def test_next_file_is_built_ahead_and_removed_at_close(tmp_path: Path) -> None:
    root = tmp_path / "s"
    s = MessageStore(small_config(root))
    s.open()
    for i in range(100):
        assert s.put_message(make_msg(i)).ok
    _put_until_next_built(s, 100)
    last = s.commitlog.files.last()
    assert last is not None
    assert _files(root)[-1] == f"{last.file_from:020d}"
    assert _files(root, "commitlog.next") == [f"{last.end_offset:020d}"]  # built before it is needed
    s.close()
    assert _files(root)[-1] == f"{last.file_from:020d}"
    assert _files(root, "commitlog.next") == []


def test_crash_image_with_the_next_file_recovers_and_continues(tmp_path: Path) -> None:
    root, image = tmp_path / "s", tmp_path / "crashed"
    s = MessageStore(small_config(root))
    s.open()
    n = _put_until_next_built(s, 0)
    s.flush()
    shutil.copytree(root, image)  # the process dies here: abort file, lock and the unwritten next file remain
    s.close()
    assert len(_files(image, "commitlog.next")) == 1
    (image / "lock").unlink(missing_ok=True)
    r = MessageStore(small_config(image))
    r.open()
    try:
        assert assert_consistent(r) == n
        assert _files(image) == _files(root)  # the file built ahead never joined the log
        assert _files(image, "commitlog.next") == []
        for i in range(n, n + 200):
            assert r.put_message(make_msg(i)).ok
        assert assert_consistent(r) == n + 200
    finally:
        r.close()
