"""Header.__eq__ / __repr__ (shared by every header, declared eq=False, repr=False) against the methods
dataclass(eq=True, repr=True) would generate for the same class (issue 12: fewer methods compiled at start)."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from typing import Any

import pytest

import rocketpy.protocol
from rocketpy.protocol.header import Header


def _all_headers() -> list[type[Header]]:
    for info in pkgutil.walk_packages(rocketpy.protocol.__path__, "rocketpy.protocol."):
        importlib.import_module(info.name)
    found: list[type[Header]] = []
    todo = [Header]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return sorted(set(found), key=lambda c: c.__qualname__)


HEADERS = _all_headers()
SAMPLES: dict[Any, list[Any]] = {"int": [0, 7], "bool": [False, True], "float": [0.0, 2.5], "str": ["a", "b'\"c"]}


def _sample(tp: str, which: int) -> Any:
    for key, values in SAMPLES.items():
        if key in tp:
            return values[which]
    return None


def _reference(cls: type[Header]) -> type:
    """The same fields in a plain dataclass with the generated eq and repr, under the same qualified name."""
    ref = dataclasses.make_dataclass(
        cls.__name__,
        [(f.name, f.type, dataclasses.field(repr=f.repr, compare=f.compare)) for f in dataclasses.fields(cls)],
    )
    ref.__qualname__ = cls.__qualname__
    return ref


def test_every_header_is_declared_without_its_own_eq_and_repr() -> None:
    assert len(HEADERS) > 60
    assert [c.__qualname__ for c in HEADERS if "__eq__" in c.__dict__ or "__repr__" in c.__dict__] == []


@pytest.mark.parametrize("cls", HEADERS, ids=lambda c: c.__qualname__)
def test_eq_repr_and_hash_are_the_dataclass_ones(cls: type[Header]) -> None:
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    ref = _reference(cls)
    for which in (0, 1):
        values = {f.name: _sample(str(f.type), which) for f in fields}
        header, twin, expected = cls(**values), cls(**values), ref(**values)
        assert repr(header) == repr(expected)
        assert header == twin
        assert (header != twin) is False
        assert header != expected  # another class: NotImplemented both ways, then identity
    if fields:
        first = {f.name: _sample(str(f.type), 0) for f in fields}
        second = {**first, fields[0].name: _sample(str(fields[0].type), 1)}
        assert (cls(**first) == cls(**second)) == (ref(**first) == ref(**second))
    with pytest.raises(TypeError):
        hash(cls(**{f.name: _sample(str(f.type), 0) for f in fields}))
