"""The walk's symbolic values (constants, temporaries, versioned references, tuples and
lists of the function) and constant folding that never raises."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class Unspecializable(Exception):
    """The recorded path cannot be turned into straight-line code (the reason says why)."""


# -- symbolic values -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class Tmp:
    """A temporary of the specialised function, assigned exactly once."""

    name: str


@dataclass
class Ref:
    """The value variable ``name`` held at version ``ver``; if the variable changes before the
    value is read, the placeholder ``ph`` becomes a copy into a temporary made at that point."""

    name: str
    ver: int
    ph: Placeholder


@dataclass
class SymTuple:
    items: list[Operand]


@dataclass
class SymList:
    items: list[Operand] = field(default_factory=list)


Operand = Const | Tmp | Ref | SymTuple | SymList


@dataclass
class Placeholder:
    """A copy ``temp = source`` that is emitted only if some stale Ref needs it."""

    temp: str
    source: str
    needed: bool = False


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.LShift: operator.lshift,
    ast.RShift: operator.rshift,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
    ast.Pow: operator.pow,
}

_CMPOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}

_UNOPS: dict[type, Callable[[Any], Any]] = {
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
    ast.Invert: operator.invert,
    ast.Not: operator.not_,
}

_MAX_SHIFT = 1 << 16


def _is_constant(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, bytes)):
        return True
    if isinstance(value, tuple):
        return all(_is_constant(v) for v in value)
    return False


def _fold(f: Callable[[Any, Any], Any] | None, a: Any, b: Any, *, shift: bool) -> Const | None:
    if f is None or not (_is_constant(a) and _is_constant(b)):
        return None
    if shift and isinstance(b, int) and b > _MAX_SHIFT:
        return None
    try:
        return Const(f(a, b))
    except Exception:  # noqa: BLE001 - e.g. x % 0: the run time raises as the generic code would
        return None


def _fold_compare(ops: list[ast.cmpop], first: Any, rest: list[Any]) -> bool | None:
    """``first op0 rest[0] op1 rest[1] ...`` as Python chains it, or None if it raises."""
    try:
        cur = first
        for op, nxt in zip(ops, rest):
            if not _CMPOPS[type(op)](cur, nxt):
                return False
            cur = nxt
    except Exception:  # noqa: BLE001 - leave it to run time
        return None
    return True


def _fold1(f: Callable[[Any], Any], a: Any) -> Const | None:
    try:
        return Const(f(a))
    except Exception:  # noqa: BLE001 - e.g. ~None: the run time raises as the generic code would
        return None
