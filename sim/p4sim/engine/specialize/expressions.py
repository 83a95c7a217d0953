"""Expressions rewritten for a point of the path: constants and copies propagated,
sums gathered, pure calls folded, csum16 written out."""

from __future__ import annotations

import ast
import operator

from ..algorithms import csum16_of_int
from .base import SpecializerBase
from .names import _is_tmp
from .syntax import _assign
from .values import (
    _BINOPS,
    _CMPOPS,
    _UNOPS,
    Const,
    Operand,
    SymList,
    SymTuple,
    Unspecializable,
    _fold,
    _fold1,
    _fold_compare,
    _is_constant,
)


class ExpressionSpecializer(SpecializerBase):
    def ev(self, n: ast.expr) -> tuple[ast.expr, Operand | None]:
        """The expression rewritten for this point of the path, and its value when known."""
        if isinstance(n, ast.Constant):
            return n, Const(n.value)
        if isinstance(n, ast.Name):
            return self.load(n.id)
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
            return self.sum(n)
        if isinstance(n, ast.BinOp):
            (lhs, lv), (rhs, rv) = self.ev(n.left), self.ev(n.right)
            if isinstance(lv, Const) and isinstance(rv, Const):
                folded = _fold(
                    _BINOPS.get(type(n.op)),
                    lv.value,
                    rv.value,
                    shift=isinstance(n.op, (ast.LShift, ast.Pow)),
                )
                if folded is not None:
                    return ast.Constant(folded.value), folded
            return ast.BinOp(lhs, n.op, rhs), None
        if isinstance(n, ast.UnaryOp):
            o, ov = self.ev(n.operand)
            if isinstance(n.op, ast.Not) and isinstance(ov, (SymTuple, SymList)):
                return ast.Constant(not ov.items), Const(not ov.items)
            if isinstance(ov, Const):
                folded = _fold1(_UNOPS[type(n.op)], ov.value)
                if folded is not None:
                    return ast.Constant(folded.value), folded
            return ast.UnaryOp(n.op, o), None
        if isinstance(n, ast.BoolOp):
            return self.bool_op(n)
        if isinstance(n, ast.Compare):
            return self.compare(n)
        if isinstance(n, ast.IfExp):
            t, tv = self.ev(n.test)
            if tv is not None:
                return self.ev(n.body if self.truth(tv) else n.orelse)
            (b, _), (e, _) = self.ev(n.body), self.ev(n.orelse)
            return ast.IfExp(t, b, e), None
        if isinstance(n, ast.Call):
            return self.call(n)
        if isinstance(n, ast.Attribute):
            v, vv = self.ev(n.value)
            if vv is not None and not isinstance(vv, Const):
                raise Unspecializable(f"attribute {n.attr} of a symbolic value")
            return ast.Attribute(v, n.attr, ast.Load()), None
        if isinstance(n, ast.Subscript):
            v, vv = self.ev(n.value)
            s, sv = self.ev(n.slice)
            if isinstance(sv, Const) and isinstance(sv.value, int) and isinstance(vv, SymTuple):
                item = vv.items[sv.value]
                return self.materialize(item), (item if isinstance(item, Const) else None)
            if isinstance(vv, SymList):
                raise Unspecializable("a local list is indexed")
            if isinstance(vv, Const) and isinstance(sv, Const):
                try:
                    folded = vv.value[sv.value]
                except Exception:  # noqa: BLE001 - leave it to run time
                    return ast.Subscript(v, s, ast.Load()), None
                return ast.Constant(folded), Const(folded)
            return ast.Subscript(v, s, ast.Load()), None
        if isinstance(n, ast.Slice):
            parts = [None if p is None else self.ev(p)[0] for p in (n.lower, n.upper, n.step)]
            return ast.Slice(*parts), None
        if isinstance(n, ast.Tuple):
            elts = [self.ev(e) for e in n.elts]
            consts = [v for _, v in elts if isinstance(v, Const)]
            if len(consts) == len(elts):
                value = tuple(c.value for c in consts)
                return ast.Constant(value), Const(value)  # type: ignore[arg-type]  # compile() takes tuple constants; typeshed omits them
            return ast.Tuple([e for e, _ in elts], ast.Load()), None
        raise Unspecializable(f"line {getattr(n, 'lineno', '?')}: {type(n).__name__} expression")

    def sum(self, n: ast.BinOp) -> tuple[ast.expr, Operand | None]:
        """A chain of ``+``: its constant terms added at build time when one of them is an
        int (then every term is a number, or the generic code would raise, which it never
        does; and adding ints is exact, associative and commutative)."""
        terms: list[ast.expr] = []

        def flatten(x: ast.expr) -> None:
            if isinstance(x, ast.BinOp) and isinstance(x.op, ast.Add):
                flatten(x.left)
                flatten(x.right)
            else:
                terms.append(x)

        flatten(n)
        done = [self.ev(t) for t in terms]
        consts = [v.value for _, v in done if isinstance(v, Const)]
        if not any(type(c) is int for c in consts) or not all(
            type(c) in (int, bool) for c in consts
        ):
            left = done[0][0]
            lv = done[0][1]
            for node, v in done[1:]:
                if isinstance(lv, Const) and isinstance(v, Const):
                    folded = _fold(operator.add, lv.value, v.value, shift=False)
                    if folded is not None:
                        left, lv = ast.Constant(folded.value), folded
                        continue
                left, lv = ast.BinOp(left, ast.Add(), node), None
            return left, lv
        total = sum(consts)
        rest = [node for node, v in done if not isinstance(v, Const)]
        if not rest:
            return ast.Constant(total), Const(total)
        expr = rest[0]
        for node in rest[1:]:
            expr = ast.BinOp(expr, ast.Add(), node)
        lone_int = (
            len(rest) == 1
            and isinstance(rest[0], ast.BinOp)
            and not isinstance(rest[0].op, (ast.BitAnd, ast.BitOr, ast.BitXor))
        )
        if total or (len(rest) == 1 and not lone_int):  # x + 0 makes a bool x an int
            expr = ast.BinOp(expr, ast.Add(), ast.Constant(total))
        return expr, None

    def load(self, name: str) -> tuple[ast.expr, Operand | None]:
        op = self.env.get(name)
        if op is None:
            if name not in self.locals and not _is_tmp(name) and name in self.ns:
                value = self.ns.get(name)
                if _is_constant(value):
                    return ast.Constant(value), Const(value)
            return ast.Name(name, ast.Load()), None
        if isinstance(op, Const):
            return ast.Constant(op.value), op
        if isinstance(op, (SymTuple, SymList)):
            return (
                self.materialize(op) if isinstance(op, SymTuple) else ast.Name(name, ast.Load())
            ), op
        return self.materialize(op), None

    def bool_op(self, n: ast.BoolOp) -> tuple[ast.expr, Operand | None]:
        is_and = isinstance(n.op, ast.And)
        kept: list[tuple[ast.expr, Operand | None]] = []
        for i, v in enumerate(n.values):
            a, c = self.ev(v)
            last = i == len(n.values) - 1
            if isinstance(c, Const):
                decisive = (not c.value) if is_and else bool(c.value)
                if decisive or last:
                    kept.append((a, c))
                    break
                continue
            kept.append((a, None))
        if len(kept) == 1:
            return kept[0]
        return ast.BoolOp(n.op, [a for a, _ in kept]), None

    def compare(self, n: ast.Compare) -> tuple[ast.expr, Operand | None]:
        left, lv = self.ev(n.left)
        rights = [self.ev(c) for c in n.comparators]
        if len(n.ops) == 1 and isinstance(n.ops[0], (ast.Is, ast.IsNot)):
            rv = rights[0][1]
            # a symbolic tuple or list is never None
            for a, b in ((lv, rv), (rv, lv)):
                if isinstance(a, (SymTuple, SymList)) and isinstance(b, Const) and b.value is None:
                    res = isinstance(n.ops[0], ast.IsNot)
                    return ast.Constant(res), Const(res)
        consts = [v.value for _, v in rights if isinstance(v, Const)]
        if (
            isinstance(lv, Const)
            and len(consts) == len(rights)
            and all(type(op) in _CMPOPS for op in n.ops)
        ):
            ok = _fold_compare(n.ops, lv.value, consts)
            if ok is not None:
                return ast.Constant(ok), Const(ok)
        return ast.Compare(left, n.ops, [a for a, _ in rights]), None

    def call(self, n: ast.Call) -> tuple[ast.expr, Operand | None]:
        if n.keywords:
            raise Unspecializable("call with keywords")
        func = n.func
        if isinstance(func, ast.Name):
            name = func.id
            if name == "len" and len(n.args) == 1:
                _a, av = self.ev(n.args[0])
                if isinstance(av, (SymTuple, SymList)):
                    return ast.Constant(len(av.items)), Const(len(av.items))
            kind = self.kind_of(name)
            if not kind.pure or name in self.locals:
                raise Unspecializable(f"call of {name}")
            args = [self.ev(a) for a in n.args]
            if (
                name == "_csum16_int"
                and len(args) == 1
                and args[0][1] is None
                and self.ns.get(name) is csum16_of_int
            ):
                self.count("pure")
                return self.csum16_inline(args[0][0]), None
            consts = [v.value for _, v in args if isinstance(v, Const)]
            if kind.foldable and len(consts) == len(args):
                try:
                    value = self.ns[name](*consts)
                except Exception:  # noqa: BLE001 - leave the failure to run time
                    value = None
                if _is_constant(value):
                    self.count("folded")
                    return ast.Constant(value), Const(value)
            self.count("pure")
            return ast.Call(func, [a for a, _ in args], []), None
        if isinstance(func, ast.Attribute):
            if (
                isinstance(func.value, ast.Constant)
                and func.value.value == b""
                and func.attr == "join"
                and len(n.args) == 1
            ):
                return self.join(n.args[0])
            method = self.method_kind(func)
            if method is None or method[1] not in method[0].reads:
                raise Unspecializable(f"call of {ast.unparse(func)}")
            self.count("read")
            arg_nodes = [self.ev(a)[0] for a in n.args]
            return ast.Call(func, arg_nodes, []), None
        raise Unspecializable(f"call of {ast.unparse(func)}")

    def csum16_inline(self, value: ast.expr) -> ast.expr:
        """algorithms.csum16_of_int written out (its call costs more than its body):
        ``(v % 0xFFFF or (v and 0xFFFF)) ^ 0xFFFF``."""
        if not isinstance(value, (ast.Name, ast.Constant)):
            t = self.tmp()
            self.out.append(_assign(t, value))
            value = ast.Name(t, ast.Load())
        mod = ast.BinOp(value, ast.Mod(), ast.Constant(0xFFFF))
        nonzero = ast.BoolOp(ast.And(), [value, ast.Constant(0xFFFF)])
        return ast.BinOp(ast.BoolOp(ast.Or(), [mod, nonzero]), ast.BitXor(), ast.Constant(0xFFFF))

    def join(self, arg: ast.expr) -> tuple[ast.expr, Operand | None]:
        a, av = self.ev(arg)
        if not isinstance(av, (SymList, SymTuple)):
            return ast.Call(ast.Attribute(ast.Constant(b""), "join", ast.Load()), [a], []), None
        parts: list[ast.expr] = []
        for item in av.items:
            node = self.materialize(item)
            prev = parts[-1] if parts else None
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, bytes)
                and isinstance(prev, ast.Constant)
                and isinstance(prev.value, bytes)
            ):
                parts[-1] = ast.Constant(prev.value + node.value)
            else:
                parts.append(node)
        if not parts:
            return ast.Constant(b""), Const(b"")
        if len(parts) == 1:
            only = parts[0]
            return only, (Const(only.value) if isinstance(only, ast.Constant) else None)
        return ast.Call(
            ast.Attribute(ast.Constant(b""), "join", ast.Load()), [ast.Tuple(parts, ast.Load())], []
        ), None
