"""A blocking, byte-level RocketMQ client for probing a server with hand-built frames (no Java, no rocketpy).

It sees what no Java client exposes: response remarks, extFields, body bytes, and whether an answer comes at all.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from interop.golden_frames import RESPONSE_FLAG, Frame, FrameSplitter, encode_request


class RawConnection:
    """One TCP connection; `call` sends a request and waits for the response with the same opaque."""

    def __init__(self, addr: str, timeout: float = 5.0) -> None:
        host, port = addr.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        self.splitter = FrameSplitter()
        self.pending: list[Frame] = []
        self.opaque = 1000

    def close(self) -> None:
        self.sock.close()

    def send_raw(self, frame: bytes) -> None:
        self.sock.sendall(frame)

    def call(
        self,
        code: int,
        ext: dict[str, str] | None = None,
        body: bytes = b"",
        serialize_type: str = "JSON",
        wait: float = 5.0,
        version: int = 409,
    ) -> Frame | None:
        """Send a request; return its response frame, or None if none arrived within `wait` seconds."""
        self.opaque += 1
        self.send_raw(encode_request(code, self.opaque, ext, body, serialize_type, version))
        return self.wait_response(self.opaque, wait)

    def wait_response(self, opaque: int, wait: float) -> Frame | None:
        deadline = time.monotonic() + wait
        while True:
            for i, frame in enumerate(self.pending):
                header = frame.header()
                if header["flag"] & RESPONSE_FLAG and header["opaque"] == opaque:
                    return self.pending.pop(i)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                return None
            if not data:
                return None
            self.pending += self.splitter.feed(data)


def describe(frame: Frame | None) -> dict[str, Any]:
    """Comparable view of a response: header fields and the body (text; callers parse it further)."""
    if frame is None:
        return {"response": None}
    header = frame.header()
    body = frame.raw[8 + frame.header_length :]
    return {
        "serializeType": frame.serialize_type,
        "code": header["code"],
        "flag": header["flag"],
        "language": header["language"],
        "version": header["version"],
        "remark": header["remark"],
        "extFields": header["extFields"],
        "body": body.decode("utf-8", errors="replace") if body else None,
    }
