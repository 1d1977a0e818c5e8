"""Raw commit-log replication for master/slave HA (``CommitLog.appendData`` + ``ReputMessageService``).

The master ships commit-log bytes as they are (``MessageStore.get_commit_log_data``: from an offset to the end
of what that file holds); the slave writes them at the same offsets and dispatches every record that is now
complete.  Chunks may end anywhere, mid-record included: dispatch stops before an incomplete record and resumes
when the rest arrives.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from rocketpy.store.commitlog import is_dispatched_to_queue
from rocketpy.store.format import RecordError, check_record

if TYPE_CHECKING:
    from rocketpy.store.message_store import MessageStore

log = logging.getLogger("rocketpy.store")

_INCOMPLETE = (RecordError.TRUNCATED, RecordError.BAD_LENGTH)


def append_replicated(store: MessageStore, phys_offset: int, data: bytes | memoryview) -> bool:
    """Write ``data`` at ``phys_offset`` (which must be the log's end) and dispatch completed records."""
    cl = store.commitlog
    with store.lock, cl.lock:
        empty = cl.files.last() is None
        if empty and phys_offset % cl.file_size == 0:
            store.reput_from = phys_offset  # an empty slave takes the master's log from the start of a file
        elif phys_offset != cl.max_offset:
            log.warning("replicated data at %d but the log ends at %d; refused", phys_offset, cl.max_offset)
            return False
        view = memoryview(data)
        while view:
            f = cl.files.last()
            if f is None or f.wrote == f.size:
                start = f.end_offset if f is not None else phys_offset - phys_offset % cl.file_size
                f = cl.files.create_file(start)
            n = min(len(view), f.size - f.wrote)
            if f.wrote + n > f.limit:  # reserve the blocks first (allocate.py): a full disk refuses cleanly
                try:
                    cl.files.ensure(f, f.wrote + n)
                except OSError as e:
                    log.error("replicated data at %d refused: cannot reserve disk space: %s", f.file_from + f.wrote, e)
                    break  # what was written so far stays (the log's end moved to it) and is dispatched
            f.view[f.wrote : f.wrote + n] = view[:n]
            f.wrote += n
            view = view[n:]
    reput(store)
    return not view


def reput(store: MessageStore) -> int:
    """Dispatch complete records from ``store.reput_from`` to the log's end; returns how many."""
    cl = store.commitlog
    count = 0
    with store.lock:
        while store.reput_from < cl.max_offset:
            f = cl.files.find(store.reput_from)
            if f is None:
                break
            pos = store.reput_from - f.file_from
            r = check_record(f.view[: f.wrote], pos, f.file_from, False, store.delay_table)
            if r.blank:
                store.reput_from = f.end_offset
                continue
            if r.info is None:
                if r.error not in _INCOMPLETE or f.wrote == f.size:
                    log.error("replicated record at %d is invalid (%s); dispatch stopped", store.reput_from,
                              r.error.value if r.error else "?")  # fmt: skip
                break
            info = r.info
            store.dispatch_record(info)
            if is_dispatched_to_queue(info.sys_flag):
                key = (info.topic, info.queue_id)
                cl.queue_offsets[key] = max(cl.queue_offsets.get(key, 0), info.queue_offset + 1)
            store.reput_from += r.size
            count += 1
    return count
