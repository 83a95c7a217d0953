"""Compile-time evaluation of constant IR expressions.

Used by the resolver (table sizes, select cases, const entries, constructor arguments) and as
the reference semantics of the operators for tests: values are Python ints holding W-bit
patterns (two's complement for int<W>), exactly as the engine represents them.
"""

from __future__ import annotations

from ..errors import CompileError
from . import ir
from .limits import MAX_CONSTANT_BITS


class NotConstant(Exception):
    """The expression depends on run-time state."""

    def __init__(self, expr: ir.Expr) -> None:
        super().__init__("not a compile-time constant")
        self.expr = expr


def mask(width: int) -> int:
    return (1 << width) - 1


def to_signed(value: int, width: int) -> int:
    value &= mask(width)
    return value - (1 << width) if value >> (width - 1) else value


def wrap(value: int, t: ir.Type) -> int:
    """Wrap a mathematical integer into the bit pattern of type t (InfInt: unchanged)."""
    if isinstance(t, ir.BitsType):
        return value & mask(t.size)
    if isinstance(t, ir.BoolType):
        return int(bool(value))
    return value


def signed_value(value: int, t: ir.Type) -> int:
    """The mathematical value of a stored pattern of type t."""
    if isinstance(t, ir.BitsType) and t.signed:
        return to_signed(value, t.size)
    return value


def evaluate(e: ir.Expr) -> int:
    """Evaluate a constant expression to its stored int (bools as 0/1)."""
    if isinstance(e, ir.Const):
        return e.value
    if isinstance(e, ir.BoolConst):
        return int(e.value)
    if isinstance(e, (ir.EnumMember, ir.ErrorMember)):
        return e.value
    if isinstance(e, ir.Cast):
        v = evaluate(e.expr)
        src = e.expr.type
        if isinstance(e.type, ir.BoolType):
            return int(v != 0)
        return wrap(signed_value(v, src), e.type)
    if isinstance(e, ir.Unary):
        v = evaluate(e.operand)
        if e.op == "!":
            return int(not v)
        if e.op == "~":
            return wrap(~v, e.type)
        if e.op == "-":
            return wrap(-signed_value(v, e.operand.type), e.type)
    if isinstance(e, ir.Concat):
        lw = e.right.type.width or 0
        return wrap((evaluate(e.left) << lw) | evaluate(e.right), e.type)
    if isinstance(e, ir.Slice):
        return (evaluate(e.base) >> e.lo) & mask(e.hi - e.lo + 1)
    if isinstance(e, ir.Mux):
        return evaluate(e.then) if evaluate(e.cond) else evaluate(e.else_)
    if isinstance(e, ir.Binary):
        try:
            return binary(
                e.op, evaluate(e.left), evaluate(e.right), e.left.type, e.right.type, e.type
            )
        except OverflowError as exc:
            raise CompileError.at(str(exc), e.loc) from None
    raise NotConstant(e)


def binary(op: str, a: int, b: int, lt: ir.Type, rt: ir.Type, result: ir.Type) -> int:
    """Apply a binary operator to stored values of types lt and rt (result type given)."""
    if op == "&&":
        return int(bool(a) and bool(b))
    if op == "||":
        return int(bool(a) or bool(b))
    sa, sb = signed_value(a, lt), signed_value(b, rt)
    if op == "==":
        return int(a == b)
    if op == "!=":
        return int(a != b)
    if op == "<":
        return int(sa < sb)
    if op == "<=":
        return int(sa <= sb)
    if op == ">":
        return int(sa > sb)
    if op == ">=":
        return int(sa >= sb)
    if op == "<<":
        if isinstance(result, ir.BitsType) and sb >= result.size:
            return 0  # every bit shifted out
        if sa and abs(sa).bit_length() + sb > MAX_CONSTANT_BITS:
            raise OverflowError(
                f"'<<': the constant would be wider than {MAX_CONSTANT_BITS} bits "
                "(p4sim's limit for compile-time integers)"
            )
        return wrap(sa << sb, result)
    if op == ">>":
        return wrap(sa >> min(sb, abs(sa).bit_length() + 1), result)
    if op == "+":
        return wrap(sa + sb, result)
    if op == "-":
        return wrap(sa - sb, result)
    if op == "*":
        return wrap(sa * sb, result)
    if op in ("/", "%"):
        if sb == 0:
            raise ZeroDivisionError("division by zero in a constant expression")
        q = abs(sa) // abs(sb) * (1 if (sa >= 0) == (sb >= 0) else -1)
        return wrap(q if op == "/" else sa - q * sb, result)
    if op == "&":
        return wrap(a & b, result)
    if op == "|":
        return wrap(a | b, result)
    if op == "^":
        return wrap(a ^ b, result)
    if op in ("|+|", "|-|"):
        v = sa + sb if op == "|+|" else sa - sb
        if isinstance(result, ir.BitsType):
            if result.signed:
                lo, hi = -(1 << (result.size - 1)), (1 << (result.size - 1)) - 1
            else:
                lo, hi = 0, mask(result.size)
            v = max(lo, min(hi, v))
        return wrap(v, result)
    raise ValueError(f"unknown operator {op}")


def try_evaluate(e: ir.Expr) -> int | None:
    try:
        return evaluate(e)
    except NotConstant:
        return None
