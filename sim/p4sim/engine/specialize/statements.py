"""Statements along the record: branches taken as recorded, loops unrolled, assignments
folded, effects deferred to the end of the path."""

from __future__ import annotations

import ast
from typing import Any

from ...state.externs import CounterArray
from .base import SpecializerBase
from .guards import _as_test
from .names import _is_memo_fill
from .syntax import _assign, _count_inline
from .values import Operand, SymList, SymTuple, Unspecializable

_MAX_LOOP = 4096


class StatementSpecializer(SpecializerBase):
    def block(self, stmts: list[ast.stmt]) -> str | None:
        for s in stmts:
            sig = self.stmt(s)
            if sig is not None:
                return sig
        return None

    def stmt(self, s: ast.stmt) -> str | None:
        if isinstance(s, ast.Assign):
            self.assign(s)
        elif isinstance(s, ast.AugAssign):
            self.aug_assign(s)
        elif isinstance(s, ast.Expr):
            self.expr_stmt(s)
        elif isinstance(s, ast.If):
            taken = self.record(s)
            if _is_memo_fill(s, self.calls):
                self.memo_fill(s)
                return None
            node, val = self.ev(s.test)
            if val is not None:
                if self.truth(val) != taken:
                    raise Unspecializable(
                        f"line {s.lineno}: the condition folds against the record"
                    )
            else:
                self.guard(_as_test(node), taken)
            return self.block(s.body if taken else s.orelse)
        elif isinstance(s, ast.While):
            if not (isinstance(s.test, ast.Constant) and s.test.value is True):
                raise Unspecializable(f"line {s.lineno}: only `while True` loops are walked")
            for _ in range(_MAX_LOOP):
                sig = self.block(s.body)
                if sig == "break":
                    return None
            raise Unspecializable(f"line {s.lineno}: loop does not end")
        elif isinstance(s, ast.For):
            return self.for_loop(s)
        elif isinstance(s, ast.Break):
            return "break"
        elif isinstance(s, ast.Continue):
            return "continue"
        elif isinstance(s, ast.Pass):
            return None
        else:
            raise Unspecializable(f"line {s.lineno}: {type(s).__name__} statement")
        return None

    def memo_fill(self, s: ast.If) -> None:
        """``if h is None: h = _hmN(key)`` (a crc16 memo miss) is kept as it is instead of
        becoming a guard: hit and miss give the same value, so one path serves both, and a
        flow seen for the first time does not leave the path."""
        node, val = self.ev(s.test)
        if val is not None:
            if self.truth(val):
                self.block(s.body)
            return
        fill = s.body[0]
        assert isinstance(fill, ast.Assign)
        target = fill.targets[0]
        assert isinstance(target, ast.Name)
        call, _ = self.ev(fill.value)
        self.count("memo fill")
        self.out.append(ast.If(node, [_assign(target.id, call)], []))
        self.bump(target.id)
        self.env.pop(target.id, None)

    def record(self, s: ast.stmt) -> Any:
        if self.pos >= len(self.records):
            raise Unspecializable(f"line {s.lineno}: the record ended early")
        bid, outcome = self.records[self.pos]
        if bid != getattr(s, "_bid", None):
            raise Unspecializable(f"line {s.lineno}: the record is for another branch")
        self.pos += 1
        return outcome

    def for_loop(self, s: ast.For) -> str | None:
        n = self.record(s)
        node, val = self.ev(s.iter)
        if isinstance(val, SymList):
            if len(val.items) != n:
                raise Unspecializable(f"line {s.lineno}: the list length differs from the record")
            items: list[Operand | ast.expr] = list(val.items)
        elif isinstance(val, (SymTuple,)):
            items = list(val.items)
        else:
            it = self.tmp()
            self.out.append(_assign(it, node))
            call = ast.Call(ast.Name("len", ast.Load()), [ast.Name(it, ast.Load())], [])
            self.guard(ast.Compare(call, [ast.Eq()], [ast.Constant(n)]), True)
            items = [
                ast.Subscript(ast.Name(it, ast.Load()), ast.Constant(i), ast.Load())
                for i in range(n)
            ]
        for item in items:
            if isinstance(item, ast.expr):
                self.store_expr(s.target, item)
            else:
                self.store_operand(s.target, item)
            sig = self.block(s.body)
            if sig == "break":
                break
        return None

    def assign(self, s: ast.Assign) -> None:
        for t in s.targets:
            if not isinstance(t, (ast.Name, ast.Tuple)):
                if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name):
                    self.defer_attr_store(t, s.value, None)
                    continue
                raise Unspecializable(f"line {s.lineno}: assignment to {ast.unparse(t)}")
        targets = [t for t in s.targets if not isinstance(t, ast.Attribute)]
        if not targets:
            return
        if (
            isinstance(s.value, ast.List)
            and not s.value.elts
            and len(targets) == 1
            and isinstance(targets[0], ast.Name)
        ):
            self.bind(targets[0].id, SymList())
            return
        if len(targets) == 1:
            self.store_expr(targets[0], s.value)
            return
        # a = b = <value>: evaluate once, then bind every target to the same value
        op = self.capture(s.value)
        for t in targets:
            self.store_operand(t, op)

    def aug_assign(self, s: ast.AugAssign) -> None:
        if isinstance(s.target, ast.Name):
            load = ast.Name(s.target.id, ast.Load())
            self.store_expr(s.target, ast.BinOp(load, s.op, s.value))
        elif isinstance(s.target, ast.Attribute) and isinstance(s.target.value, ast.Name):
            self.defer_attr_store(s.target, s.value, s.op)
        else:
            raise Unspecializable(
                f"line {s.lineno}: augmented assignment to {ast.unparse(s.target)}"
            )

    def expr_stmt(self, s: ast.Expr) -> None:
        call = s.value
        if not isinstance(call, ast.Call) or call.keywords:
            raise Unspecializable(f"line {s.lineno}: expression statement")
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "append"
            and isinstance(func.value, ast.Name)
            and len(call.args) == 1
        ):
            lst = self.env.get(func.value.id)
            if isinstance(lst, SymList):
                lst.items.append(self.capture(call.args[0]))
                return
        method = self.method_kind(func)
        if (method is not None and method[1] in method[0].defers) or (
            isinstance(func, ast.Name) and self.kind_of(func.id).deferred
        ):
            self.count("deferred")
            ops = [self.capture(a) for a in call.args]
            counter = (
                self.ns.get(func.value.id)
                if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                else None
            )
            if (
                isinstance(counter, CounterArray)
                and isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.attr == "count"
                and len(ops) == 2
            ):
                name, size = func.value.id, counter.size
                packets_only = counter.unit == "packets"

                def count() -> ast.stmt:
                    index, nbytes = ops
                    return _count_inline(
                        name,
                        size,
                        self.materialize(index),
                        self.materialize(nbytes),
                        packets_only=packets_only,
                    )

                self.deferred.append(count)
                return

            def effect() -> ast.stmt:
                return ast.Expr(ast.Call(func, [self.materialize(o) for o in ops], []))

            self.deferred.append(effect)
            return
        raise Unspecializable(f"line {s.lineno}: call {ast.unparse(func)} as a statement")

    def defer_attr_store(self, t: ast.Attribute, value: ast.expr, op: ast.operator | None) -> None:
        obj = self.capture(t.value)
        val = self.capture(value)

        def make() -> ast.stmt:
            target = ast.Attribute(self.materialize(obj), t.attr, ast.Store())
            if op is None:
                return ast.Assign([target], self.materialize(val))
            return ast.AugAssign(target, op, self.materialize(val))

        self.deferred.append(make)
