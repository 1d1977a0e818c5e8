"""Crash-safe replacement of small files: the config JSONs of the broker, the NameServer's kvConfig.json.

Java's MixAll.string2File writes `.tmp`, copies the old file to `.bak` and renames, without an fsync; here every
step is synced, so after a crash the file holds either the old or the new content, and `.bak` the one before.
"""

from __future__ import annotations

import os
from pathlib import Path


def sibling(path: Path, suffix: str) -> Path:
    """`kvConfig.json` -> `kvConfig.json.bak` and the like."""
    return path.with_name(path.name + suffix)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: synced tmp file, previous content kept as `.bak`, rename, synced directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = sibling(path, ".tmp")
    write_synced(tmp, data)
    try:
        previous = path.read_bytes()
    except FileNotFoundError:
        previous = None
    if previous is not None:
        write_synced(sibling(path, ".bak"), previous)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new directory entry durable; a file system that cannot fsync a directory is skipped."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
