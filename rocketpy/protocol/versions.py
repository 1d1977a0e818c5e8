"""MQVersion.Version names by ordinal, for MQVersion.getVersionDesc (what mqadmin prints for a client version).

The enum's 613 values follow a rule after its first sixteen (the 3.0.0 pre-releases): for every minor release a
run of patch levels, each as X_SNAPSHOT then X; HIGHER_VERSION closes it.
"""

from __future__ import annotations

from functools import cache

_FIRST = (
    "V3_0_0_SNAPSHOT",
    "V3_0_0_ALPHA1",
    *(f"V3_0_0_BETA{n}" for n in range(1, 6)),
    *(name for n in range(6, 10) for name in (f"V3_0_0_BETA{n}_SNAPSHOT", f"V3_0_0_BETA{n}")),
    "V3_0_0_FINAL",
)


def _patch_range(major: int, minor: int) -> range:
    if (major, minor) == (3, 0):
        return range(1, 16)
    if major == 3 and minor >= 3:
        return range(1, 10)
    return range(10)


@cache
def version_names() -> tuple[str, ...]:
    names = list(_FIRST)
    for major in (3, 4, 5):
        for minor in range(10):
            for patch in _patch_range(major, minor):
                names += [f"V{major}_{minor}_{patch}_SNAPSHOT", f"V{major}_{minor}_{patch}"]
    names.append("HIGHER_VERSION")
    return tuple(names)


def version_desc(value: int) -> str:
    """MQVersion.getVersionDesc: the name of ordinal `value`, HIGHER_VERSION past the end."""
    names = version_names()
    return names[value] if 0 <= value < len(names) else "HIGHER_VERSION"
