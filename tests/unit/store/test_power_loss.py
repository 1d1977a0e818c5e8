"""Simulated power loss: the disk holds what was fsynced plus a random subset of later pages, some torn.

Every ``MappedFile.flush`` (fdatasync) and checkpoint write records the file's durable image; a crash image
is each file's durable image (zeros for a file never flushed: creation is durable) overlaid with a random
subset of the 4 KiB pages that changed since, a few of them torn at a 512-byte boundary.  Recovery must keep
every SYNC_FLUSH-acknowledged message, in order, with a good body, and end with queues and index consistent
with the log.  (The ALICE / CrashMonkey idea, in-process.)
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from rocketpy.store.checkpoint import StoreCheckpoint
from rocketpy.store.format import decode_record
from rocketpy.store.mapped_file import MappedFile
from rocketpy.store.message_store import MessageStore

from .checks import assert_consistent
from .conftest import make_msg, small_config

PAGE = 4096


def crash_image(live_root: Path, durable: dict[Path, bytes], out: Path, rng: random.Random) -> None:
    for src in live_root.rglob("*"):
        if not src.is_file() or src.name == "lock":
            continue
        dst = out / src.relative_to(live_root)
        dst.parent.mkdir(parents=True, exist_ok=True)
        live = src.read_bytes()
        base = bytearray(durable.get(src, bytes(len(live))).ljust(len(live), b"\0"))
        for p in range(0, len(live), PAGE):
            if live[p : p + PAGE] == base[p : p + PAGE] or rng.random() < 0.5:
                continue
            if rng.random() < 0.15:  # torn page: only the first sectors reached the disk
                cut = p + 512 * rng.randint(1, PAGE // 512 - 1)
                base[p:cut] = live[p:cut]
            else:
                base[p : p + PAGE] = live[p : p + PAGE]
        dst.write_bytes(bytes(base))


@pytest.mark.parametrize("seed", range(6))
def test_sync_acked_messages_survive_power_loss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    power_loss_run(tmp_path, monkeypatch, seed, images=4)


def power_loss_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int, images: int) -> None:
    durable: dict[Path, bytes] = {}
    flush, cp_flush = MappedFile.flush, StoreCheckpoint.flush

    def recording_flush(self: MappedFile, upto: int | None = None) -> None:
        flush(self, upto)
        durable[self.path] = bytes(self.mm)

    def recording_cp_flush(self: StoreCheckpoint) -> None:
        cp_flush(self)
        durable[self.path] = self.path.read_bytes()

    monkeypatch.setattr(MappedFile, "flush", recording_flush)
    monkeypatch.setattr(StoreCheckpoint, "flush", recording_cp_flush)
    rng = random.Random(seed)
    live = tmp_path / "live"
    store = MessageStore(small_config(live))
    store.open()
    acked: list[tuple[int, int, bytes]] = []  # (queue, message number, body)
    for i in range(400):
        body = rng.randbytes(rng.randint(10, 900))
        r = store.put_message(make_msg(i, queue_id=i % 3, body=body))
        if i < 360 and rng.random() < 0.7 and store.wait_flushed(r).value == "PUT_OK":  # then an unsynced tail
            acked.append((i % 3, i, body))
        if i % 97 == 0:
            store.flush_queues_and_checkpoint()  # what the background thread does every second
    for trial in range(images):
        image = tmp_path / f"image{trial}"
        crash_image(live, durable, image, rng)
        s = MessageStore(small_config(image))
        rep = s.open()
        try:
            assert not rep.last_exit_ok
            print(f"trial {trial}: acked={len(acked)} cut={[(c.offset, c.length) for c in rep.cut]} "
                  f"cq_dropped={rep.cq_entries_dropped} dispatched={rep.dispatched} from={rep.dispatch_from} "
                  f"index_rebuilt={rep.index_files_dropped}")  # fmt: skip
            for q in range(3):
                bufs = []
                offset = 0
                while True:
                    g = s.get_message("TopicA", q, offset, 32)
                    if not g.buffers:
                        break
                    bufs += [decode_record(b) for b in g.buffers]
                    offset = g.next_begin_offset
                got = {int(m.property_map["UNIQ_KEY"][4:]): m.body for m in bufs}
                nums = [int(m.property_map["UNIQ_KEY"][4:]) for m in bufs]
                assert nums == sorted(nums)
                for qq, i, body in acked:
                    if qq == q:
                        assert got.get(i) == body, f"acked message {i} lost or damaged (trial {trial})"
            assert_consistent(s, {o for o, _ in rep.rejected} | {o for o, _, _ in rep.skipped})
        finally:
            s.close()
        shutil.rmtree(image)
    store.close()
