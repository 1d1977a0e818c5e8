"""Crash-test writer: appends to a store and prints each acknowledged append as "<queue> <id>" on stdout.

Run as a script: ``crash_writer.py <store dir> <SYNC_FLUSH|ASYNC_FLUSH> <first id> <threads>``.
Thread t writes ids first+t, first+t+threads, ... to queue t (ids are unique and increase per queue); a line
is printed only after the append was acknowledged (after ``wait_flushed`` under SYNC_FLUSH, after the copy
into the page cache under ASYNC_FLUSH).  The parent kills this process with SIGKILL at a random moment.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from rocketpy.store.commitlog import MessageInner
from rocketpy.store.config import FlushDiskType, StoreConfig
from rocketpy.store.format import HostAddr, build_properties
from rocketpy.store.message_store import MessageStore

HOST = HostAddr.parse("10.0.0.9:10911")
TOPIC = "CrashTopic"


def config(root: Path, mode: str) -> StoreConfig:
    return StoreConfig(
        root,
        mapped_file_size_commit_log=256 * 1024,
        mapped_file_size_consume_queue=20 * 1000,
        max_hash_slot_num=512,
        max_index_num=4096,
        flush_disk_type=FlushDiskType[mode],
        flush_interval_commit_log=50,
    )


def body_for(ident: int) -> bytes:
    return (f"id={ident};" * (1 + ident % 13)).encode()


def message(queue: int, ident: int) -> MessageInner:
    props = build_properties({"KEYS": f"id{ident}", "UNIQ_KEY": f"U{ident:012d}", "TAGS": f"T{ident % 3}"})
    return MessageInner(TOPIC, queue, body_for(ident), props, born_host=HOST, store_host=HOST)


def main() -> None:
    root, mode, first, threads = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    store = MessageStore(config(root, mode))
    store.open()
    store.start()
    out_lock = threading.Lock()

    def writer(queue: int) -> None:
        ident = first + queue
        while True:
            r = store.put_message_and_wait(message(queue, ident))
            if r.ok:
                with out_lock:
                    sys.stdout.write(f"{queue} {ident}\n")
                    sys.stdout.flush()
            ident += threads

    for q in range(threads):
        threading.Thread(target=writer, args=(q,), daemon=True).start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
