"""Which storage an action body reaches by names other than its parameters.

P4 passes arguments by copy-in/copy-out (spec, "Calling convention"). The code generator
binds an lvalue argument's storage to the parameter directly (aliasing), which gives the
same result unless the body also reaches that storage another way. An action declared in a
control can name the control's locals and parameters: `a(c)` with `action a(inout bit<8>
x) { x = 1; c = 2; }` must leave `c` at 1 (x is copied back over c when the body ends),
where aliasing would give 2. This module lists the storage paths an action body (and the
actions it calls) reads or writes through such names, so that the caller can give the
parameters whose argument overlaps one of them storage of their own.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

from ...frontend import ir as I
from ..storage import Path

# IR objects a body refers to without containing them: never walked into
_OPAQUE = (I.Type, I.Var, I.Table, I.Control, I.ExternInstance, I.Field, I.Annotation)


def children(node: object) -> Iterator[object]:
    """The IR nodes directly inside `node` (statements, expressions, arguments, cases)."""
    if isinstance(node, (list, tuple)):
        yield from node
        return
    if isinstance(node, dict):
        yield from node.values()
        return
    if not dataclasses.is_dataclass(node) or isinstance(node, _OPAQUE):
        return
    for f in dataclasses.fields(node):
        if f.name in ("loc", "type", "table", "action", "function", "instance", "control"):
            continue
        yield getattr(node, f.name)


def reached_paths(action: I.Action, root_path: Callable[[I.Var], Path | None]) -> list[Path]:
    """Storage paths the body of `action` reaches through names that are not its own
    (parameters, locals), following the actions it calls. `root_path` gives the path of a
    variable in the caller's scope (None: it has no storage, e.g. a read-only value)."""
    out: list[Path] = []
    seen: set[int] = set()

    def chain(e: I.Expr) -> tuple[I.Var, Path] | None:
        """The variable and field path of a Member/StackIndex/Slice chain over a VarRef."""
        suffix: list[str] = []
        while True:
            if isinstance(e, I.VarRef):
                return e.var, tuple(reversed(suffix))
            if isinstance(e, I.Member):
                suffix.append(e.field)
                e = e.base
            elif isinstance(e, I.StackIndex):
                suffix.append(str(e.index))
                e = e.base
            elif isinstance(e, (I.Slice, I.IsValid)):
                e = e.base if isinstance(e, I.Slice) else e.header
                suffix.clear()  # the whole base: slices and validity read all of it
            else:
                return None

    def walk_body(act: I.Action) -> None:
        if id(act) in seen:
            return
        seen.add(id(act))
        own: set[int] = {id(p) for p in act.params}

        def visit(node: object) -> None:
            if isinstance(node, I.VarDecl):
                own.add(id(node.var))
            if isinstance(node, I.Expr):
                found = chain(node)
                if found is not None:
                    var, suffix = found
                    if id(var) not in own and var.kind != "const":
                        root = root_path(var)
                        if root is not None:
                            out.append(root + suffix)
                    return
            if isinstance(node, I.CallAction):
                walk_body(node.action)
            for c in children(node):
                visit(c)

        visit(act.body)

    walk_body(action)
    return out


def overlap(a: Path, b: Path) -> bool:
    """Two storage paths share storage when one is a prefix of the other."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]
