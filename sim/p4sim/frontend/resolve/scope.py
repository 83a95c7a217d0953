"""Scopes and the records the resolver keeps about declarations it has seen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeAlias

from lark import Token, Tree

from ...errors import SourceLocation
from .. import ir


@dataclass
class _Sig:
    """A function/method/constructor prototype from an extern declaration."""

    name: str
    type_params: tuple[str, ...]
    params: list[tuple[str, Tree[Token], str]]  # (direction, type tree, name)
    ret: Tree[Token] | None
    annotations: tuple[ir.Annotation, ...] = ()


@dataclass
class _ExternDecl:
    name: str
    type_params: tuple[str, ...]
    ctors: list[_Sig] = field(default_factory=list)
    methods: dict[str, list[_Sig]] = field(default_factory=dict)


@dataclass
class _BlockDecl:
    """A parser or control declaration (with body) or type declaration (without)."""

    kind: str  # "parser" | "control"
    name: str
    tree: Tree[Token]
    has_body: bool


@dataclass
class _TableApplyMarker:
    table: ir.Table
    loc: SourceLocation | None


# A top-level action not yet elaborated: ("top_action", its declaration tree); a function:
# ("function", one of its declaration trees).
_TopActionRef: TypeAlias = tuple[str, Tree[Token]]
Entity: TypeAlias = (
    ir.Var | ir.Expr | ir.Action | ir.Table | ir.ExternInstance | ir.Control | _TopActionRef
)


class Scope:
    """A lexical scope: names -> entities (Var, ir.Expr for constants, ir.Action, ir.Table,
    ir.ExternInstance, ir.Control, or unelaborated declarations)."""

    def __init__(self, parent: Scope | None = None) -> None:
        self.parent = parent
        self.names: dict[str, Entity] = {}

    def lookup(self, name: str) -> Entity | None:
        s: Scope | None = self
        while s is not None:
            if name in s.names:
                return s.names[name]
            s = s.parent
        return None

    def declare(self, name: str, entity: Entity) -> None:
        self.names[name] = entity


@dataclass
class _Ctx:
    """Where statements are being resolved: in which control/parser/action."""

    kind: str  # "control" | "parser" | "action" | "deparser" | "function"
    control: ir.Control | None = None
    parser: ir.Parser | None = None
    action: ir.Action | None = None
    function: ir.Function | None = None
