"""What the names of the generated code mean to the walk: the specialised function's own
temporaries, and the memo fills of the callees the code generator recorded as such.

What a call does is never read off its callee's name: the code generator records it when it
binds the name (:mod:`p4sim.engine.calls`), and the walk reads those records."""

from __future__ import annotations

import ast
from collections.abc import Mapping

from ..calls import OPAQUE, CallKind

TMP_PREFIX = "_ps"  # the specialised function's own temporaries: _ps1, _ps2, ...


def _is_tmp(name: str) -> bool:
    """``name`` is one of the specialised function's temporaries (``_ps1``, ``_ps2``...)."""
    return name.startswith(TMP_PREFIX) and name[len(TMP_PREFIX) :].isdigit()


def _is_memo_fill(s: ast.If, calls: Mapping[str, CallKind]) -> bool:
    """``if v is None: v = f(...)`` with ``f`` recorded as a memo fill."""
    test = s.test
    if s.orelse or len(s.body) != 1 or not isinstance(s.body[0], ast.Assign):
        return False
    if not (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Is)
        and isinstance(test.left, ast.Name)
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value is None
    ):
        return False
    a = s.body[0]
    return (
        len(a.targets) == 1
        and isinstance(a.targets[0], ast.Name)
        and a.targets[0].id == test.left.id
        and isinstance(a.value, ast.Call)
        and isinstance(a.value.func, ast.Name)
        and calls.get(a.value.func.id, OPAQUE).memo_fill
    )
