"""Free loopback ports for servers that cannot be told to pick their own (they need a port known in advance)."""

from __future__ import annotations

import random
import socket

# Below Linux's default ephemeral range (32768-60999) so client sockets do not race us for these ports.
_LOW, _HIGH = 12000, 30000


def _bindable(port: int) -> bool:
    for host in ("127.0.0.1", "0.0.0.0"):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def free_port(span: tuple[int, int] = (0, 0)) -> int:
    """A port P such that P+span[0] .. P+span[1] are all free (a broker needs P-2, P and P+1)."""
    rng = random.Random()
    for _ in range(500):
        port = rng.randrange(_LOW - span[0], _HIGH - span[1])
        if all(_bindable(port + off) for off in range(span[0], span[1] + 1)):
            return port
    raise RuntimeError(f"no free loopback port range {span} found")


def free_broker_port() -> int:
    """listenPort for a Java broker: it also binds listenPort-2 (fast/VIP port) and listenPort+1 (HA)."""
    return free_port((-2, 1))
