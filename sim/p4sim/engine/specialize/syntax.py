"""The generated function's Python AST: which statements the walk accepts, branch ids,
names read and stored, statements built by the walk, and backward liveness."""

from __future__ import annotations

import ast
from typing import Any

_STATEMENTS = (
    ast.Assign,
    ast.AugAssign,
    ast.Expr,
    ast.If,
    ast.While,
    ast.For,
    ast.Break,
    ast.Continue,
    ast.Pass,
)


def specializable(fn: ast.FunctionDef) -> str | None:
    """Why ``fn`` can never be specialised (a statement kind the walker does not know), or
    None. Programs that exit through exceptions or return early keep the generic function."""
    for node in ast.walk(fn):
        if isinstance(node, ast.stmt) and node is not fn and not isinstance(node, _STATEMENTS):
            return f"{type(node).__name__} statement at line {node.lineno}"
        if isinstance(node, (ast.While, ast.For)) and node.orelse:
            return f"loop with else at line {node.lineno}"
    return None


def number_branches(fn: ast.FunctionDef) -> int:
    """Give every ``if`` and ``for`` of ``fn`` a branch id (attribute ``_bid``); the count."""
    n = 0
    for node in ast.walk(fn):
        if isinstance(node, (ast.If, ast.For)):
            node._bid = n  # type: ignore[union-attr]  # the branch id rides on the AST node
            n += 1
    return n


def stored_names(fn: ast.FunctionDef) -> set[str]:
    names = {a.arg for a in fn.args.args}
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _count_inline(
    name: str, size: int, index: ast.expr, nbytes: ast.expr, *, packets_only: bool = False
) -> ast.stmt:
    """CounterArray.count written out: the method call costs more than its body. The cell
    lists are read through the object each time (a pipeline reconfiguration replaces them).
    A packets-only counter's bytes are never read, so they are not added."""
    obj = ast.Name(name, ast.Load())
    body: list[ast.stmt] = [
        ast.AugAssign(
            ast.Subscript(ast.Attribute(obj, "packets", ast.Load()), index, ast.Store()),
            ast.Add(),
            ast.Constant(1),
        )
    ]
    if not packets_only:
        body.append(
            ast.AugAssign(
                ast.Subscript(ast.Attribute(obj, "bytes", ast.Load()), index, ast.Store()),
                ast.Add(),
                nbytes,
            )
        )
    if isinstance(index, ast.Constant) and isinstance(index.value, int) and 0 <= index.value < size:
        return ast.If(ast.Constant(True), body, [])
    bound = ast.Compare(ast.Constant(0), [ast.LtE(), ast.Lt()], [index, ast.Constant(size)])
    return ast.If(bound, body, [])


def _assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign([ast.Name(name, ast.Store())], value)


def _cse_key(node: ast.expr, ver: dict[str, int]) -> str | None:
    """What identifies the value of a pure expression: its text and the versions of the
    variables it reads (None for a lone name or constant, or a call: those are not shared)."""
    if isinstance(node, (ast.Name, ast.Constant)) or any(
        isinstance(n, ast.Call) for n in ast.walk(node)
    ):
        return None
    names = sorted(_loads(node))
    return ast.dump(node) + repr([(n, ver.get(n, 0)) for n in names])


def _number_statements(body: list[ast.stmt]) -> None:
    """Give every statement a line (ast.unparse reads Assign.lineno); expressions need none,
    and fix_missing_locations over every node cost a tenth of a build."""
    for s in body:
        s.lineno = s.end_lineno = 1
        s.col_offset = s.end_col_offset = 0
        if isinstance(s, ast.If):
            _number_statements(s.body)
            _number_statements(s.orelse)


def _loads(node: ast.AST) -> set[str]:
    """The names ``node`` reads (a hand-written walk: ast.walk made this a third of the time
    it takes to build a path)."""
    out: set[str] = set()
    stack: list[Any] = [node]
    pop, push = stack.pop, stack.append
    while stack:
        n = pop()
        t = type(n)
        if t is ast.Name:
            if type(n.ctx) is ast.Load:
                out.add(n.id)
        elif t is ast.Constant:
            continue
        elif t is ast.BinOp:
            push(n.left)
            push(n.right)
        elif t is ast.Compare:
            push(n.left)
            stack.extend(n.comparators)
        elif t is ast.BoolOp:
            stack.extend(n.values)
        elif t is ast.UnaryOp:
            push(n.operand)
        elif t is ast.Call:
            push(n.func)
            stack.extend(n.args)
        elif t is ast.Attribute:
            push(n.value)
        elif t is ast.Subscript:
            push(n.value)
            push(n.slice)
        elif t is ast.Tuple or t is ast.List:
            stack.extend(n.elts)
        else:
            stack.extend(ast.iter_child_nodes(n))
    return out


def _dead_code(body: list[ast.stmt], tail: list[ast.stmt]) -> list[ast.stmt]:
    """Drop the assignments nothing after them reads (every right-hand side left on a path
    is free of effects: calls with effects are deferred into ``tail`` or refused)."""
    live: set[str] = set()
    for s in tail:
        live |= _loads(s)
    kept: list[ast.stmt] = []
    for s in reversed(body):
        if isinstance(s, ast.If) and isinstance(s.test, ast.Constant) and not s.test.value:
            continue  # a guard that can never leave the path
        if isinstance(s, ast.Assign):
            targets: set[str] = set()
            for t in s.targets:
                targets |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
            if not targets & live:
                continue
            live -= targets
            live |= _loads(s.value)
        else:
            live |= _loads(s)
        kept.append(s)
    kept.reverse()
    return kept
