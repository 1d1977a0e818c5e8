"""Client-side unique message ids (common.message.MessageClientIDSetter.createUniqID), the UNIQ_KEY property.

32 upper-case hex digits: the host's IPv4 address (4 bytes), the pid (2), a per-process random in place of the
Java class loader's hash code (4), milliseconds since the start of the current month (4) and a counter (2).
"""

from __future__ import annotations

import datetime
import itertools
import os
import random
import socket
import struct
import time


def _local_ip() -> bytes:
    try:
        return socket.inet_aton(socket.gethostbyname(socket.gethostname()))
    except OSError:
        return bytes([127, 0, 0, 1])


_FIX = (_local_ip() + struct.pack(">HI", os.getpid() & 0xFFFF, random.getrandbits(32))).hex().upper()
_COUNTER = itertools.count()


def _month_start(millis: int) -> int:
    moment = datetime.datetime.fromtimestamp(millis / 1000.0)
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return int(start.timestamp() * 1000)


def create_uniq_id() -> str:
    now = int(time.time() * 1000)
    diff = max(0, now - _month_start(now)) & 0xFFFFFFFF  # Java's (int) cast keeps the low 32 bits
    return _FIX + struct.pack(">IH", diff, next(_COUNTER) & 0xFFFF).hex().upper()
