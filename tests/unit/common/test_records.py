"""FieldwiseEqRepr (the headers', bodies' and config objects' shared __eq__ / __repr__, declared eq=False,
repr=False) against the methods dataclass(eq=True, repr=True) generates for the same fields (issue 12: fewer
methods compiled at start)."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
from pathlib import Path
from typing import Any

import pytest

import rocketpy.protocol
from rocketpy.common.records import FieldwiseEqRepr
from rocketpy.protocol.header import Header


def _all_records() -> list[type[FieldwiseEqRepr]]:
    for info in pkgutil.walk_packages(rocketpy.protocol.__path__, "rocketpy.protocol."):
        importlib.import_module(info.name)
    importlib.import_module("rocketpy.broker.config_objects")
    importlib.import_module("rocketpy.store.config")
    found: set[type[FieldwiseEqRepr]] = set()
    todo: list[type] = [FieldwiseEqRepr]
    while todo:
        for sub in todo.pop().__subclasses__():
            if dataclasses.is_dataclass(sub):
                found.add(sub)
            todo.append(sub)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


RECORDS = _all_records()
SAMPLES = {
    "Path": [Path("/a"), Path("/b")],
    "int": [0, 7],
    "bool": [False, True],
    "float": [0.0, 2.5],
    "str": ["a", "b'\"c"],
}


def _sample(tp: Any, which: int) -> Any:
    text = str(tp)
    for key, values in SAMPLES.items():
        if key in text:
            return values[which]
    return None


def _values(cls: type, which: int) -> dict[str, Any]:
    """A sample for every field; only the required ones where the class refuses those (StoreConfig's checks)."""
    fields = [f for f in dataclasses.fields(cls) if f.init]
    values = {f.name: _sample(f.type, which) for f in fields}
    try:
        cls(**values)
    except (TypeError, ValueError):
        required = dataclasses.MISSING
        values = {f.name: values[f.name] for f in fields if f.default is required and f.default_factory is required}
    return values


def _reference_class(cls: type) -> Any:
    """The same fields in a plain dataclass with the generated eq and repr, under the same qualified name."""
    fields = dataclasses.fields(cls)
    ref = dataclasses.make_dataclass(
        cls.__name__, [(f.name, Any, dataclasses.field(repr=f.repr, compare=f.compare)) for f in fields]
    )
    ref.__qualname__ = cls.__qualname__
    return ref


def _as(ref: Any, obj: Any) -> Any:
    return ref(**{f.name: getattr(obj, f.name) for f in dataclasses.fields(ref)})


def test_the_records_do_not_compile_their_own_eq_and_repr() -> None:
    assert sum(issubclass(c, Header) for c in RECORDS) > 60 and len(RECORDS) > 90
    assert [c.__qualname__ for c in RECORDS if "__eq__" in c.__dict__ or "__repr__" in c.__dict__] == []


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__qualname__)
def test_eq_repr_and_hash_are_the_dataclass_ones(cls: type) -> None:
    ref = _reference_class(cls)
    for which in (0, 1):
        record, twin = cls(**_values(cls, which)), cls(**_values(cls, which))
        reference = _as(ref, record)
        assert repr(record) == repr(reference)
        assert record == twin
        assert (record != twin) is False
        assert record != reference  # another class: NotImplemented both ways, then identity
        assert record.__eq__(reference) is NotImplemented
    first, second = cls(**_values(cls, 0)), cls(**_values(cls, 1))
    assert (first == second) == (_as(ref, first) == _as(ref, second))
    with pytest.raises(TypeError):
        hash(first)
