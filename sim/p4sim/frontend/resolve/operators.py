"""Operators: the typing rules of casts, unary and binary operators (untyped integer
constants folded)."""

from __future__ import annotations

from .. import consteval, ir
from ..limits import MAX_CONSTANT_BITS, MAX_WIDTH
from .base import ResolverBase
from .tree import Where


class ResolveOperators(ResolverBase):
    def cast(self, e: ir.Expr, target: ir.Type, node: Where) -> ir.Expr:
        src = e.type
        loc = self.loc(node)
        if src == target:
            return e
        if isinstance(target, (ir.StructType, ir.HeaderType, ir.TupleType)):
            return self.coerce(e, target, node)  # (T){...}, (H){#}
        ok = False
        if isinstance(target, ir.BitsType):
            ok = (
                isinstance(src, (ir.BitsType, ir.InfIntType))
                or (isinstance(src, ir.BoolType) and target.size == 1 and not target.signed)
                or (isinstance(src, ir.EnumType) and src.underlying is not None)
            )
            if isinstance(src, ir.InfIntType) and isinstance(e, ir.Const):
                return ir.Const(target, loc, consteval.wrap(e.value, target))
        elif isinstance(target, ir.BoolType):
            ok = (isinstance(src, ir.BitsType) and src.size == 1 and not src.signed) or (
                isinstance(src, ir.InfIntType) and isinstance(e, ir.Const) and e.value in (0, 1)
            )
            if ok and isinstance(e, ir.Const):
                return ir.BoolConst(target, loc, bool(e.value))
        elif isinstance(target, ir.EnumType) and target.underlying is not None:
            ok = isinstance(src, (ir.BitsType, ir.InfIntType))
            if isinstance(e, ir.Const):
                e = self.coerce(e, target.underlying, node)
        elif isinstance(target, ir.InfIntType):
            ok = False
        if not ok:
            raise self.error(f"cannot cast {src} to {target}", node)
        return ir.Cast(target, loc, e)

    def unary(self, d: str, e: ir.Expr, node: Where) -> ir.Expr:
        loc = self.loc(node)
        t = e.type
        if d == "pos":
            if not isinstance(t, (ir.BitsType, ir.InfIntType)):
                raise self.error(f"unary + needs a number, not {t}", node)
            return e
        if d == "lnot":
            if not isinstance(t, ir.BoolType):
                raise self.error(f"'!' needs a bool operand, not {t}", node)
            if isinstance(e, ir.BoolConst):
                return ir.BoolConst(t, loc, not e.value)
            return ir.Unary(t, loc, "!", e)
        if d == "bnot":
            if isinstance(t, ir.InfIntType):
                raise self.error("'~' needs an operand with a width", node)
            if not isinstance(t, ir.BitsType):
                raise self.error(f"'~' needs a bit<W> operand, not {t}", node)
            return ir.Unary(t, loc, "~", e)
        if isinstance(t, ir.InfIntType) and isinstance(e, ir.Const):
            return ir.Const(t, loc, -e.value)
        if not isinstance(t, ir.BitsType):
            raise self.error(f"unary '-' needs a number, not {t}", node)
        return ir.Unary(t, loc, "-", e)

    def binary(self, op: str, a: ir.Expr, b: ir.Expr, node: Where) -> ir.Expr:
        loc = self.loc(node)
        ta, tb = a.type, b.type
        if op in ("&&", "||"):
            if not isinstance(ta, ir.BoolType) or not isinstance(tb, ir.BoolType):
                raise self.error(f"'{op}' needs bool operands, got {ta} and {tb}", node)
            return ir.Binary(ir.BoolType(), loc, op, a, b)
        if op in ("<<", ">>"):
            if isinstance(tb, ir.BitsType) and tb.signed:
                raise self.error("shift amount must be unsigned", node)
            if not isinstance(tb, (ir.BitsType, ir.InfIntType)):
                raise self.error(f"shift amount has type {tb}", node)
            if isinstance(tb, ir.InfIntType) and isinstance(b, ir.Const) and b.value < 0:
                raise self.error("negative shift amount", node)
            if isinstance(ta, ir.InfIntType):
                if isinstance(a, ir.Const) and isinstance(b, ir.Const):
                    if op == ">>":
                        v = a.value >> min(b.value, abs(a.value).bit_length() + 1)
                    elif a.value and abs(a.value).bit_length() + b.value > MAX_CONSTANT_BITS:
                        raise self.error(
                            f"'<<': the constant would be wider than {MAX_CONSTANT_BITS} bits "
                            "(p4sim's limit for compile-time integers)",
                            node,
                        )
                    else:
                        v = a.value << b.value
                    return ir.Const(ta, loc, v)
                raise self.error(
                    f"'{op}': the left operand needs a width when the shift amount is not constant",
                    node,
                )
            if not isinstance(ta, ir.BitsType):
                raise self.error(f"cannot shift a value of type {ta}", node)
            return ir.Binary(ta, loc, op, a, b)
        if op == "++":
            if isinstance(ta, ir.InfIntType) or isinstance(tb, ir.InfIntType):
                raise self.error("'++' operands need a width (e.g. 8w0)", node)
            if not isinstance(ta, ir.BitsType) or not isinstance(tb, ir.BitsType):
                raise self.error(f"'++' needs bit<W> operands, got {ta} and {tb}", node)
            if ta.size + tb.size > MAX_WIDTH:
                raise self.error(
                    f"'++' makes a {ta.size + tb.size}-bit value, above p4c's limit of "
                    f"{MAX_WIDTH} bits",
                    node,
                )
            return ir.Concat(ir.BitsType(ta.size + tb.size, ta.signed), loc, a, b)
        # a struct-valued or list expression, or {#}, takes the other operand's type
        for x, y in ((a, b), (b, a)):
            if _untyped_aggregate(x) and _aggregate(y.type) and not _untyped_aggregate(y):
                if x is a:
                    a = self.coerce(a, b.type, node)
                else:
                    b = self.coerce(b, a.type, node)
                break
        # both untyped: fold
        if isinstance(ta, ir.InfIntType) and isinstance(tb, ir.InfIntType):
            if isinstance(a, ir.Const) and isinstance(b, ir.Const):
                try:
                    v = self._fold_inf(op, a.value, b.value)
                except ZeroDivisionError:
                    raise self.error("division by zero", node) from None
                if not isinstance(v, bool) and abs(v).bit_length() > MAX_CONSTANT_BITS:
                    raise self.error(
                        f"'{op}': the constant would be wider than {MAX_CONSTANT_BITS} bits "
                        "(p4sim's limit for compile-time integers)",
                        node,
                    )
                if isinstance(v, bool):
                    return ir.BoolConst(ir.BoolType(), loc, v)
                return ir.Const(ta, loc, v)
            raise self.error(f"'{op}' on untyped integers", node)
        if isinstance(ta, ir.InfIntType):
            a = self.coerce(a, tb, node) if isinstance(tb, ir.BitsType) else a
        elif isinstance(tb, ir.InfIntType):
            b = self.coerce(b, ta, node) if isinstance(ta, ir.BitsType) else b
        ta, tb = a.type, b.type
        if ta != tb:
            if isinstance(ta, ir.BitsType) and isinstance(tb, ir.BitsType):
                raise self.error(f"width mismatch in '{op}': {ta} and {tb} (use a cast)", node)
            raise self.error(f"type mismatch in '{op}': {ta} and {tb}", node)
        if op in ("==", "!="):
            if not isinstance(
                ta,
                (
                    ir.BitsType,
                    ir.BoolType,
                    ir.EnumType,
                    ir.ErrorType,
                    ir.VarbitType,
                    ir.HeaderType,
                    ir.StructType,
                    ir.TupleType,
                    ir.HeaderStackType,
                ),
            ):
                raise self.error(f"cannot compare values of type {ta}", node)
            return ir.Binary(ir.BoolType(), loc, op, a, b)
        if not isinstance(ta, ir.BitsType):
            raise self.error(f"'{op}' needs bit<W> or int<W> operands, got {ta}", node)
        if op in ("<", "<=", ">", ">="):
            return ir.Binary(ir.BoolType(), loc, op, a, b)
        if op in ("/", "%"):
            if ta.signed:
                raise self.error(f"'{op}' on int<W> is not allowed", node)
            if isinstance(b, ir.Const) and b.value == 0:
                raise self.error("division by zero", node)
        return ir.Binary(ta, loc, op, a, b)

    @staticmethod
    def _fold_inf(op: str, a: int, b: int) -> int | bool:
        if op in ("==", "!=", "<", "<=", ">", ">="):
            return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[
                op
            ]
        if op in ("/", "%"):
            if b == 0:
                raise ZeroDivisionError
            if a < 0 or b < 0:
                raise ZeroDivisionError
            return a // b if op == "/" else a % b
        return {
            "+": a + b,
            "-": a - b,
            "*": a * b,
            "&": a & b,
            "|": a | b,
            "^": a ^ b,
            "|+|": a + b,
            "|-|": a - b,
        }[op]


def _aggregate(t: ir.Type) -> bool:
    return isinstance(t, (ir.StructType, ir.HeaderType, ir.TupleType, ir.HeaderStackType))


def _untyped_aggregate(e: ir.Expr) -> bool:
    """`{f = v}`, `{a, b}` or `{#}` before it takes a type from where it is used."""
    if isinstance(e, ir.StructExpr):
        return isinstance(e.type, ir.StructType) and not e.type.name
    if isinstance(e, ir.InvalidHeader):
        return isinstance(e.type, ir.HeaderType) and not e.type.name
    return isinstance(e, ir.ListExpr)
