"""The state of one walk along a recorded path, shared by the specialiser's parts.

`Specializer` is assembled from one mixin per job (statements, guards, binding of
values to variables, expressions); each derives from `SpecializerBase`, which declares,
for the type checker only, the methods the mixins call on each other."""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..calls import OPAQUE, CallKind
from .names import TMP_PREFIX, _is_tmp
from .values import Operand, Placeholder, Unspecializable


class SpecializerBase:
    """The state of one walk, shared by the specialiser's mixins. ``calls`` tells what calling
    each global of the generated code does, as the code generator recorded it when it bound
    the name (:mod:`p4sim.engine.calls`; a name without a record is OPAQUE)."""

    def __init__(
        self,
        fn: ast.FunctionDef,
        records: list[tuple[int, Any]],
        namespace: dict[str, Any],
        locals_: set[str],
        calls: Mapping[str, CallKind],
    ) -> None:
        self.fn = fn
        self.records = records
        self.pos = 0
        self.ns = namespace
        self.locals = locals_
        self.calls = calls
        self.env: dict[str, Operand] = {}
        self.ver: dict[str, int] = {}
        self.out: list[ast.stmt | Placeholder] = []
        self.deferred: list[Callable[[], ast.stmt]] = []
        self.ntmp = 0
        self.facts: dict[str, tuple[bool, dict[str, int]]] = {}
        self.placeholders: dict[tuple[str, int], Placeholder] = {}
        self.guards: list[tuple[ast.If, ast.expr, bool, dict[str, int]]] = []
        self.computed: dict[str, tuple[str, int]] = {}  # expression -> (variable, version)
        # calls kept, by kind ("pure", "folded", "read", "deferred", "memo fill"): what the
        # records of ``calls`` let this walk keep (see ``handled``)
        self.handled: dict[str, int] = {}
        if any(_is_tmp(n) for n in locals_):
            raise Unspecializable(f"the function has locals named like {TMP_PREFIX}N")

    def kind_of(self, name: str) -> CallKind:
        """What calling the global ``name`` does (OPAQUE when nothing was recorded)."""
        return self.calls.get(name, OPAQUE)

    def method_kind(self, func: ast.expr) -> tuple[CallKind, str] | None:
        """For ``obj.meth`` with ``obj`` a name: (what obj's calls do, meth); else None."""
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            return self.kind_of(func.value.id), func.attr
        return None

    def count(self, kind: str) -> None:
        self.handled[kind] = self.handled.get(kind, 0) + 1

    # -- methods of the other mixins, for the type checker -------------------------------------
    if TYPE_CHECKING:

        def guard(self, test: ast.expr, taken: bool) -> None: ...
        def bump(self, name: str) -> None: ...
        def bind(self, name: str, op: Operand) -> None: ...
        def store_operand(self, target: ast.expr, op: Operand) -> None: ...
        def store_expr(self, target: ast.expr, value: ast.expr) -> None: ...
        def tmp(self) -> str: ...
        def capture(self, node: ast.expr) -> Operand: ...
        def materialize(self, op: Operand) -> ast.expr: ...
        @staticmethod
        def truth(op: Operand) -> bool: ...
        def ev(self, n: ast.expr) -> tuple[ast.expr, Operand | None]: ...
