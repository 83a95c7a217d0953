"""What every part of the resolver shares: the program-wide tables it fills, positions and
diagnostics, annotations.

The resolver is one class assembled from one mixin per construct (types, declarations,
externs, parsers, controls, tables, statements, expressions, operators); each mixin
derives from `ResolverBase`, which declares, for the type checker only, the methods the
mixins call on each other."""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING

from lark import Token, Tree

from ...errors import CompileError, Diagnostic, SourceLocation
from .. import ir
from ..preprocess import PreprocessedSource
from .scope import Scope, _BlockDecl, _Ctx, _ExternDecl, _Sig
from .tree import Node, Where, _split_args, _tokens


class ResolverBase:
    """The resolver's state and diagnostics, shared by its mixins."""

    def __init__(self, tree: Tree[Token], source: PreprocessedSource) -> None:
        self.tree = tree
        self.source = source
        self.warnings: list[Diagnostic] = []
        self.types: dict[str, ir.Type] = {}
        self.error_members: list[str] = []
        self.match_kinds: list[str] = []
        self.externs: dict[str, _ExternDecl] = {}
        self.extern_functions: dict[str, list[_Sig]] = {}
        self.blocks: dict[str, _BlockDecl] = {}
        self.packages: dict[str, Tree[Token]] = {}
        self.global_scope = Scope()
        self.top_actions: dict[str, Tree[Token]] = {}
        self.top_action_ir: dict[str, ir.Action] = {}
        self.all_actions: list[ir.Action] = []
        self.all_tables: list[ir.Table] = []
        self.all_externs: list[ir.ExternInstance] = []
        self.digests: dict[str, ir.Digest] = {}
        self.constants: dict[str, ir.Expr] = {}
        self.package: ir.PackageInstance | None = None
        self.param_defaults: dict[str, Tree[Token]] = {}  # Var.uid -> default value
        self.loop_depth = 0  # for loops around the statement being resolved
        self.function_trees: dict[str, list[Tree[Token]]] = {}
        self.function_ir: dict[int, ir.Function] = {}
        self.functions_in_progress: set[int] = set()
        self._uid = itertools.count()

    # ------------------------------------------------------------ diagnostics
    def loc(self, node: Where) -> SourceLocation | None:
        if isinstance(node, Token):
            return self.source.location(node.line or 0, node.column or 0)
        if isinstance(node, Tree):
            meta = node.meta
            if not getattr(meta, "empty", True):
                return self.source.location(meta.line, meta.column)
            for c in node.children:
                child_loc = self.loc(c)
                if child_loc is not None:
                    return child_loc
        return None

    def error(self, message: str, node: Where) -> CompileError:
        loc = node if isinstance(node, SourceLocation) else self.loc(node)
        return CompileError.at(message, loc)

    def warn(self, message: str, node: Where, code: str) -> None:
        loc = node if isinstance(node, SourceLocation) else self.loc(node)
        self.warnings.append(Diagnostic.at(message, loc, code=code))

    def uid(self, name: str) -> str:
        return f"{name}_{next(self._uid)}"

    # ----------------------------------------------------------- annotations
    def annotations(self, t: Tree[Token] | None) -> tuple[ir.Annotation, ...]:
        if t is None:
            return ()
        out = []
        for tok in _tokens(t):
            m = re.match(r"@([A-Za-z_]\w*)(?:\((.*)\)|\[(.*)\])?$", str(tok), re.S)
            assert m
            if m.group(3) is not None:
                items = self.structured_items(m.group(3), tok)
                out.append(ir.Annotation(m.group(1), (), self.loc(tok), m.group(3), items))
                continue
            args = tuple(_split_args(m.group(2))) if m.group(2) is not None else ()
            out.append(ir.Annotation(m.group(1), args, self.loc(tok), m.group(2)))
        return tuple(out)

    def structured_items(self, body: str, tok: Token) -> tuple[ir.AnnotationItem, ...]:
        """The items of `@name[body]`: all `key=value` or all values; values are string,
        integer or boolean literals."""
        items: list[ir.AnnotationItem] = []
        for part in _split_args(body, unquote=False):
            if not part:
                continue
            m = re.match(r"([A-Za-z_]\w*)\s*=(?!=)\s*(.*)$", part, re.S)
            key, text = (m.group(1), m.group(2).strip()) if m else (None, part.strip())
            value: str | int | bool
            if len(text) >= 2 and text[0] == text[-1] == '"':
                value = text[1:-1]
            elif text in ("true", "false"):
                value = text == "true"
            else:
                try:
                    value = int(text.replace("_", ""), 0)
                except ValueError:
                    raise self.error(
                        f"structured annotation value {text!r} is not supported by p4sim "
                        f"(string, integer or boolean literals only)",
                        tok,
                    ) from None
            items.append((key, value))
        if len({k is None for k, _ in items}) > 1:
            raise self.error("a structured annotation mixes key=value pairs and values", tok)
        return tuple(items)

    # ------------------------------- methods of the other mixins, for the type checker
    if TYPE_CHECKING:

        def type_of(
            self, t: Tree[Token], typevars: dict[str, ir.Type] | None = None
        ) -> ir.Type: ...
        def decl_const_decl(self, t: Tree[Token], scope: Scope | None = None) -> None: ...
        def params(self, t: Tree[Token], kind: str) -> list[ir.Var]: ...
        def elaborate_parser(self, decl: _BlockDecl, path: str) -> ir.Parser: ...
        def keysets(
            self,
            t: Tree[Token],
            keys: list[ir.Expr],
            scope: Scope,
            what: str,
            match_kinds: list[str] | None = None,
        ) -> list[ir.KeySet]: ...
        def elaborate_control(self, decl: _BlockDecl, path: str, role: str = "") -> ir.Control: ...
        @staticmethod
        def local_name(name: str, annotations: tuple[ir.Annotation, ...], path: str) -> str: ...
        def resolve_action(self, name: str, scope: Scope, node: Where) -> ir.Action: ...
        def table(
            self, t: Tree[Token], scope: Scope, path: str, control: ir.Control
        ) -> ir.Table: ...
        def extern_instance(self, t: Tree[Token], scope: Scope, path: str) -> ir.ExternInstance: ...
        def var_decl(self, t: Tree[Token], scope: Scope, ctx: _Ctx) -> ir.VarDecl: ...
        def stmts(self, trees: list[Tree[Token]], scope: Scope, ctx: _Ctx) -> list[ir.Stmt]: ...
        def bind_args(
            self,
            params: list[ir.Var],
            args: list[Tree[Token]],
            scope: Scope,
            node: Where,
            what: str,
            typevars: dict[str, ir.Type] | None = None,
        ) -> list[ir.Argument]: ...
        def bind_one(
            self, pname: str, direction: str, ptype: ir.Type | None, a: Tree[Token], scope: Scope
        ) -> ir.Argument: ...
        def call_function(
            self,
            fname: str,
            type_args: tuple[ir.Type, ...],
            args: list[Tree[Token]],
            scope: Scope,
            node: Where,
        ) -> list[ir.Argument]: ...
        def extern_function_call(
            self,
            fname: str,
            type_args: tuple[ir.Type, ...],
            args: list[Tree[Token]],
            scope: Scope,
            node: Tree[Token],
            ctx: _Ctx,
        ) -> ir.Stmt: ...
        def list_to_struct(
            self, e: ir.ListExpr, t: ir.StructType | ir.HeaderType, node: Where
        ) -> ir.Expr: ...
        def extern_method_call(
            self,
            inst: ir.ExternInstance,
            method: str,
            type_args: tuple[ir.Type, ...],
            args: list[Tree[Token]],
            scope: Scope,
            node: Tree[Token],
        ) -> ir.Stmt: ...
        def entity_or_expr(
            self, t: Tree[Token], scope: Scope
        ) -> ir.Table | ir.Control | ir.ExternInstance | ir.Expr: ...
        def lvalue(self, t: Tree[Token], scope: Scope) -> ir.Expr: ...
        def static_assert(self, args: list[Tree[Token]], scope: Scope, node: Where) -> ir.Expr: ...
        def function_call(
            self, name: str, args: list[Tree[Token]], scope: Scope, node: Tree[Token]
        ) -> tuple[ir.Function, list[ir.Argument]]: ...
        def return_stmt(self, t: Tree[Token], scope: Scope, ctx: _Ctx) -> ir.Stmt: ...
        def check_writable(self, e: ir.Expr, node: Where) -> None: ...
        def const_int(self, e: ir.Expr, node: Where) -> int: ...
        def _parse_int(self, tok: Token) -> tuple[ir.BitsType | None, int]: ...
        def coerce(self, e: ir.Expr, target: ir.Type, node: Where) -> ir.Expr: ...
        def expr(self, t: Node, scope: Scope, allow_action_run: bool = False) -> ir.Expr: ...
        def cast(self, e: ir.Expr, target: ir.Type, node: Where) -> ir.Expr: ...
        def unary(self, d: str, e: ir.Expr, node: Where) -> ir.Expr: ...
        def binary(self, op: str, a: ir.Expr, b: ir.Expr, node: Where) -> ir.Expr: ...
