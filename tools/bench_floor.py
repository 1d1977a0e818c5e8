#!/usr/bin/env python3
"""The pure-Python floor of a send: the least work any Python broker does per SEND_MESSAGE_V2 (issue 12).

    python tools/bench_floor.py [--messages 200000] [--no-index]

One tight loop, no functions, no objects beyond what CPython makes anyway, over the frames tools/bench_raw.py
sends (64 per read): the frame and JSON header decode (struct + orjson), the properties edited as text (CLUSTER
added, WAIT dropped), the record packed into an mmap with its CRC, the consume-queue entry, an index entry for the
UNIQ_KEY (Java's String.hashCode in Python; --no-index leaves it out) and the reply from a template. None of
rocketpy's checks, statistics, HashMap ordering or dispatch is in it, and nothing is ever read back, so a real
broker cannot cost less per message in CPython. Printed in process CPU us per message, to set beside the Java
broker's server CPU per message from tools/bench_raw.py: if the floor is above half of Java's, half of Java's
CPU per message is out of reach for pure Python, whatever the design. This is a tool, not a test.
"""

from __future__ import annotations

import argparse
import mmap
import struct
import sys
import time
import zlib
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.append(str(REPO))

from tools.bench_raw import request_frame  # noqa: E402

PER_READ = 64
_PREFIX = struct.Struct(">ii")
# Java's 4.9 record header for IPv4 hosts: totalSize .. bodyLength (the same layout rocketpy stores)
_RECORD = struct.Struct(">iiiiiqqiq4si q4si iq i")
_CQ = struct.Struct(">qiq")
_INDEX_ENTRY = struct.Struct(">iqii")


def run(messages: int, index: bool) -> float:
    frames = [request_frame("BenchSend", i % 4, i + 1, 128, i) for i in range(4096)]
    reads = [b"".join(frames[i : i + PER_READ]) for i in range(0, len(frames), PER_READ)]
    log = mmap.mmap(-1, 512 << 20)
    cq = mmap.mmap(-1, 64 << 20)
    idx = mmap.mmap(-1, 64 << 20)
    slots = 500_000
    born_ip, store_ip = bytes([10, 0, 0, 9]), bytes([127, 0, 0, 1])
    head = '{"code":0,"extFields":{"MSG_REGION":"DefaultRegion","TRACE_ON":"true","msgId":"7F00000100002A9F'
    pos = cq_pos = idx_pos = 0
    queue_offsets = [0] * 8
    done = 0
    began = 0.0
    while done < messages + 1024:
        if done == 1024:
            began = time.process_time()
        data = reads[(done // PER_READ) % len(reads)]
        p, end, out = 0, len(data), []
        while p < end:
            (total, ser_len) = _PREFIX.unpack_from(data, p)
            hl = ser_len & 0xFFFFFF
            doc = orjson.loads(data[p + 8 : p + 8 + hl])
            body = data[p + 8 + hl : p + 4 + total]
            p += 4 + total
            ext = doc["extFields"]
            topic, queue_id, props = ext["b"], int(ext["e"]), ext["i"]
            props = props.replace("\x02WAIT\x01true", "") + "\x02CLUSTER\x01DefaultCluster"
            topic_b, props_b = topic.encode(), props.encode()
            qo = queue_offsets[queue_id]
            queue_offsets[queue_id] = qo + 1
            size = _RECORD.size + len(body) + 3 + len(topic_b) + len(props_b)
            ts = int(time.time() * 1000)
            _RECORD.pack_into(log, pos, size, -626843481, zlib.crc32(body) & 0x7FFFFFFF, queue_id, 0, qo, pos, 0,
                              int(ext["g"]), born_ip, 50000, ts, store_ip, 10911, 0, 0, len(body))  # fmt: skip
            q = pos + _RECORD.size
            log[q : q + len(body)] = body
            q += len(body)
            log[q] = len(topic_b)
            log[q + 1 : q + 1 + len(topic_b)] = topic_b
            q += 1 + len(topic_b)
            log[q : q + 2] = len(props_b).to_bytes(2, "big")
            log[q + 2 : q + 2 + len(props_b)] = props_b
            _CQ.pack_into(cq, cq_pos, pos, size, 0)
            cq_pos = (cq_pos + 20) % (60 << 20)
            if index:
                key = topic + "#" + props[props.find("UNIQ_KEY\x01") + 9 : props.find("\x02", props.find("UNIQ_KEY"))]
                h = 0
                for ch in key:
                    h = (31 * h + ord(ch)) & 0xFFFFFFFF
                h = abs(h - (1 << 32) if h & 0x80000000 else h)
                _INDEX_ENTRY.pack_into(idx, 40 + slots * 4 + idx_pos, h, pos, 0, 0)
                idx[40 + (h % slots) * 4 : 44 + (h % slots) * 4] = (idx_pos // 20).to_bytes(4, "big")
                idx_pos = (idx_pos + 20) % (40 << 20)
            header = f'{head}{pos:016X}","queueId":"{queue_id}","queueOffset":"{qo}"}},"flag":1,"language":"JAVA","opaque":{doc["opaque"]},"serializeTypeCurrentRPC":"JSON","version":409}}'.encode()  # noqa: E501
            out.append(_PREFIX.pack(4 + len(header), len(header)) + header)
            pos = (pos + size) % (500 << 20)
        b"".join(out)
        done += PER_READ
    return (time.process_time() - began) * 1e6 / messages


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--messages", type=int, default=200_000, help="measured messages (200000)")
    p.add_argument("--no-index", action="store_true", help="leave the UNIQ_KEY index entry out")
    args = p.parse_args(argv)
    us = run(args.messages, not args.no_index)
    label = "without index" if args.no_index else "with the UNIQ_KEY index entry"
    print(f"pure-Python floor of a send, {label}: {us:.1f} us CPU per message ({args.messages:,} messages)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
