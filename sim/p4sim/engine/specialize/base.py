"""The state of one walk along a recorded path, shared by the specialiser's parts.

`Specializer` is assembled from one mixin per job (statements, guards, binding of
values to variables, expressions); each derives from `SpecializerBase`, which declares,
for the type checker only, the methods the mixins call on each other."""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .names import TMP_PREFIX, _is_tmp
from .values import Operand, Placeholder, Unspecializable


class SpecializerBase:
    """The state of one walk, shared by the specialiser's mixins. ``roles`` tells what the
    objects the generator bound are (``CodeGen.roles``: bound name -> role)."""

    def __init__(
        self,
        fn: ast.FunctionDef,
        records: list[tuple[int, Any]],
        namespace: dict[str, Any],
        locals_: set[str],
        roles: Mapping[str, str],
    ) -> None:
        self.fn = fn
        self.records = records
        self.pos = 0
        self.ns = namespace
        self.locals = locals_
        self.roles = roles
        self.env: dict[str, Operand] = {}
        self.ver: dict[str, int] = {}
        self.out: list[ast.stmt | Placeholder] = []
        self.deferred: list[Callable[[], ast.stmt]] = []
        self.ntmp = 0
        self.facts: dict[str, tuple[bool, dict[str, int]]] = {}
        self.placeholders: dict[tuple[str, int], Placeholder] = {}
        self.guards: list[tuple[ast.If, ast.expr, bool, dict[str, int]]] = []
        self.computed: dict[str, tuple[str, int]] = {}  # expression -> (variable, version)
        if any(_is_tmp(n) for n in locals_):
            raise Unspecializable(f"the function has locals named like {TMP_PREFIX}N")

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
