"""Java's String.hashCode and HashMap iteration order, which the wire and the store formats depend on.

Tags codes, index slots and the order fastjson writes map entries in all come from these, so they must match the
JVM bit for bit.
"""

from __future__ import annotations

import array
import functools
import operator
import sys
from collections.abc import Iterable
from typing import Any

_POW_LEN = 256
_POW31 = [pow(31, i, 1 << 32) for i in range(_POW_LEN - 1, -1, -1)]  # 31^255 .. 31^0
_UTF16 = "utf-16-le" if sys.byteorder == "little" else "utf-16-be"


_B31 = b"0123456789abcdefghijklmnopqrstu"
_LOW_DIGIT = bytes(_B31[c % 31] for c in range(256))  # an ASCII code c = 31 * (c // 31) + c % 31,
_HIGH_DIGIT = bytes(_B31[c // 31 % 31] for c in range(256))  # both base-31 digits since c < 961
_ASCII_FAST_MAX = 4000  # int(str, 31) refuses more than 4300 digits


def _java_string_hash(s: str) -> int:
    """``String.hashCode``: s[0]*31^(n-1) + ... over UTF-16 code units, as a signed 32-bit int.

    For ASCII the polynomial is evaluated by ``int(digits, 31)`` on the two base-31 digit strings of the
    characters (C speed, ~2 us for a 48-char key); otherwise as a dot product with precomputed powers of 31.
    A per-character Python loop costs ~10 us per key and dominated the append path.
    """
    if s.isascii() and 0 < len(s) <= _ASCII_FAST_MAX:
        b = s.encode("ascii")
        h = int(b.translate(_LOW_DIGIT), 31) + 31 * int(b.translate(_HIGH_DIGIT), 31)
    else:
        units: bytes | array.array[int] = s.encode("ascii") if s.isascii() else array.array("H", s.encode(_UTF16))
        h = 0
        for start in range(0, len(units), _POW_LEN):
            chunk = units[start : start + _POW_LEN]
            k = len(chunk)
            h = h * pow(31, k, 1 << 32) + sum(map(operator.mul, chunk, _POW31[_POW_LEN - k :]))
    h &= 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


# Property names, topics and group names repeat endlessly on the hot path; unique keys pass through the cache.
java_string_hash = functools.lru_cache(maxsize=16384)(_java_string_hash)
java_string_hash_uncached = _java_string_hash  # for keys that never repeat (message index keys)


def _java_hash(key: Any) -> int:
    if isinstance(key, str):
        return java_string_hash(key)
    if isinstance(key, bool):
        return 1231 if key else 1237
    if isinstance(key, int):  # Long.hashCode
        value = key & 0xFFFFFFFFFFFFFFFF
        return (value ^ (value >> 32)) & 0xFFFFFFFF
    raise TypeError(f"no Java hash for {type(key).__name__}")


def java_hash_order(
    keys: Iterable[Any], initial_capacity: int = 16, *, newest_first: bool = False, load_factor: float = 0.75
) -> list[Any]:
    """The iteration order of a java.util.HashMap/HashSet holding these keys, inserted in the given order.

    HashMap iterates its table by bucket, `(h ^ h >>> 16) & (capacity - 1)`, and keeps insertion order within a
    bucket (resizes split bins without reordering them); `newest_first` is for maps filled by computeIfAbsent,
    which links a new entry at the head of its bucket instead of the tail. The capacity starts at the table size for
    `initial_capacity` and doubles whenever the size exceeds `load_factor` of it (`new HashMap(n, 1)`: load_factor
    1.0). Exact as long as no bin was turned into a tree (8+ colliding keys) and the map never held more entries
    than now. fastjson writes maps and sets in this order, so replies match Java's bytes.
    """
    ordered = list(keys)
    capacity = 1
    while capacity < initial_capacity:
        capacity <<= 1
    while len(ordered) > int(capacity * load_factor):
        capacity <<= 1

    def slot(item: tuple[int, Any]) -> tuple[int, int]:
        index, key = item
        h = _java_hash(key) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & (capacity - 1), -index if newest_first else index

    return [key for _, key in sorted(enumerate(ordered), key=slot)]


def split_commas(text: str) -> list[str]:
    """Java's String.split(","): trailing empty strings dropped; a text without a comma is itself."""
    if "," not in text:
        return [text]
    parts = text.split(",")
    while parts and parts[-1] == "":
        parts.pop()
    return parts
