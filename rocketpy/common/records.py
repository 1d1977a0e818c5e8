"""`FieldwiseEqRepr`: the `__eq__` and `__repr__` that dataclass(eq=True, repr=True) generates, written once.

dataclasses compiles both methods for every class at import; for the ~100 header, body and config classes a
`rocketpy serve` imports that is a tenth of its launch (issue 12). A class that inherits this mixin and is declared
`@dataclass(..., eq=False, repr=False)` behaves the same: equal when of the very same class with equal compared
fields (NotImplemented otherwise), unhashable (mutable), `QualName(field=value!r, ...)` over the repr fields.
Frozen dataclasses keep their generated methods (their __hash__ goes with __eq__).
"""

from __future__ import annotations

import dataclasses
import reprlib


class FieldwiseEqRepr:
    __slots__ = ()
    __hash__ = None  # type: ignore[assignment]  # compared by value and mutable, as dataclass(eq=True) makes it

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        names = _names(self.__class__, "__compared__", compare=True)
        return tuple(getattr(self, n) for n in names) == tuple(getattr(other, n) for n in names)

    @reprlib.recursive_repr()
    def __repr__(self) -> str:
        shown = ", ".join(f"{n}={getattr(self, n)!r}" for n in _names(self.__class__, "__shown__", compare=False))
        return f"{self.__class__.__qualname__}({shown})"


def _names(cls: type, cache: str, *, compare: bool) -> tuple[str, ...]:
    """The fields `__eq__` compares (compare=True) or `__repr__` shows, in declaration order; kept on the class."""
    names = cls.__dict__.get(cache)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls) if (f.compare if compare else f.repr))
        setattr(cls, cache, names)
    return names  # type: ignore[no-any-return]
