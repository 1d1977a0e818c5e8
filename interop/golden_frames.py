"""Frame parsing and recording for golden-frame capture (used by interop/capture_golden.py and its test).

Deliberately independent of rocketpy.remoting: the golden files are an oracle for that codec, so they must not be
produced or checked by it. Only what the index needs is decoded here (PROTOCOL.md section 1).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

SERIALIZE_TYPES = {0: "JSON", 1: "ROCKETMQ"}
RESPONSE_FLAG = 1
ONEWAY_FLAG = 2
_FIXED = struct.Struct(">hbhii")  # code, language, version, opaque, flag (21 bytes with the two lengths)


@dataclass(frozen=True)
class Frame:
    """One complete wire frame, `raw` including its 4-byte length prefix."""

    raw: bytes

    @property
    def serialize_type(self) -> str:
        return SERIALIZE_TYPES.get(self.raw[4], f"UNKNOWN({self.raw[4]})")

    @property
    def header_length(self) -> int:
        return int.from_bytes(self.raw[5:8], "big")

    @property
    def body_length(self) -> int:
        return len(self.raw) - 8 - self.header_length

    def header(self) -> dict[str, Any]:
        """code, language, version, opaque, flag, remark, extFields as carried in the header."""
        data = self.raw[8 : 8 + self.header_length]
        if self.serialize_type == "JSON":
            parsed: dict[str, Any] = json.loads(data)
            return {
                "code": parsed["code"],
                "language": parsed.get("language"),
                "version": parsed.get("version"),
                "opaque": parsed["opaque"],
                "flag": parsed["flag"],
                "remark": parsed.get("remark"),
                "extFields": parsed.get("extFields"),
            }
        return _binary_header(data)


def _binary_header(data: bytes) -> dict[str, Any]:
    code, language, version, opaque, flag = _FIXED.unpack_from(data, 0)
    pos = _FIXED.size
    remark_len = struct.unpack_from(">i", data, pos)[0]
    pos += 4
    remark = data[pos : pos + remark_len].decode() if remark_len > 0 else None
    pos += max(remark_len, 0)
    ext_len = struct.unpack_from(">i", data, pos)[0]
    pos += 4
    ext: dict[str, str] = {}
    end = pos + ext_len
    while pos < end:
        key_len = struct.unpack_from(">h", data, pos)[0]
        key = data[pos + 2 : pos + 2 + key_len].decode()
        pos += 2 + key_len
        val_len = struct.unpack_from(">i", data, pos)[0]
        ext[key] = data[pos + 4 : pos + 4 + val_len].decode()
        pos += 4 + val_len
    if pos != len(data):
        raise ValueError(f"ROCKETMQ header has {len(data) - pos} trailing bytes")
    return {
        "code": code,
        "language": language,
        "version": version,
        "opaque": opaque,
        "flag": flag,
        "remark": remark,
        "extFields": ext if ext_len > 0 else None,
    }


class FrameSplitter:
    """Accumulates a TCP byte stream and returns every complete frame (length prefix included)."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames: list[Frame] = []
        while len(self._buf) >= 4:
            total = int.from_bytes(self._buf[:4], "big")
            if len(self._buf) < 4 + total:
                break
            frames.append(Frame(bytes(self._buf[: 4 + total])))
            del self._buf[: 4 + total]
        return frames


LANGUAGE_JAVA = 0


def encode_request(
    code: int,
    opaque: int,
    ext: dict[str, str] | None = None,
    body: bytes = b"",
    serialize_type: str = "JSON",
    version: int = 409,
    flag: int = 0,
) -> bytes:
    """A request frame as a 4.9.8 Java client writes it (version 409 = V4_9_8), in either serialisation."""
    if serialize_type == "JSON":
        fields: dict[str, Any] = {"code": code, "flag": flag, "language": "JAVA", "opaque": opaque}
        if ext is not None:
            fields["extFields"] = ext
        fields.update(serializeTypeCurrentRPC="JSON", version=version)
        header = json.dumps(fields, separators=(",", ":")).encode()
        kind = 0
    else:
        ext_bytes = b"".join(
            struct.pack(">h", len(k.encode())) + k.encode() + struct.pack(">i", len(v.encode())) + v.encode()
            for k, v in (ext or {}).items()
        )
        header = _FIXED.pack(code, LANGUAGE_JAVA, version, opaque, flag)
        header += struct.pack(">i", 0) + struct.pack(">i", len(ext_bytes)) + ext_bytes
        kind = 1
    total = 4 + len(header) + len(body)
    return struct.pack(">ii", total, (kind << 24) | len(header)) + header + body
