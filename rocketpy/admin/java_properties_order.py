"""The iteration order of a java.util.Properties on Java 9+ (what fastjson writes for exportConfigs' settings).

Since Java 9 a Properties keeps its entries in a ConcurrentHashMap(8): 16 bins at first, doubled once the count
reaches 3/4 of them. A bin keeps insertion order, but a resize (ConcurrentHashMap.transfer) keeps only the bin's
last run of nodes bound for the same half in order and prepends the others one by one, reversing them. Exact while
no bin holds 8 entries (treeified bins are not modelled); Java 8's Hashtable-based Properties orders differently.
"""

from __future__ import annotations

from collections.abc import Iterable


def _spread(key: str) -> int:
    """ConcurrentHashMap.spread(String.hashCode) (UTF-16 code units)."""
    h = 0
    units = key.encode("utf-16-be", "surrogatepass")
    for i in range(0, len(units), 2):
        h = (31 * h + (units[i] << 8 | units[i + 1])) & 0xFFFFFFFF
    return (h ^ (h >> 16)) & 0x7FFFFFFF


def properties_order(keys: Iterable[str]) -> list[str]:
    """The keys of `new Properties()` after setProperty(k, ...) in the given order, in iteration order."""
    n = 16
    bins: list[list[str]] = [[] for _ in range(n)]
    count = 0
    for key in keys:
        bucket = bins[_spread(key) & (n - 1)]
        if key in bucket:
            continue
        bucket.append(key)
        count += 1
        if count >= n - (n >> 2):  # addCount: size reached sizeCtl
            bins = _transfer(bins, n)
            n <<= 1
    return [key for bucket in bins for key in bucket]


def _transfer(bins: list[list[str]], n: int) -> list[list[str]]:
    """ConcurrentHashMap.transfer of every bin into a table of 2n."""
    table: list[list[str]] = [[] for _ in range(2 * n)]
    for i, chain in enumerate(bins):
        if not chain:
            continue
        bits = [_spread(k) & n for k in chain]
        last = 0  # lastRun: where the final run of equal bits starts
        for j in range(1, len(chain)):
            if bits[j] != bits[j - 1]:
                last = j
        low = [k for k, b in zip(reversed(chain[:last]), reversed(bits[:last]), strict=True) if b == 0]
        high = [k for k, b in zip(reversed(chain[:last]), reversed(bits[:last]), strict=True) if b != 0]
        if bits[last] == 0:
            low += chain[last:]
        else:
            high += chain[last:]
        table[i], table[i + n] = low, high
    return table
