"""Expressions: Python source for the value of each IR expression, already masked to its
width (statements an expression needs, such as a table apply, are emitted first)."""

from __future__ import annotations

from collections.abc import Callable

from ...frontend import ir as I
from ..errors import EngineError
from ..storage import VALID, Path
from .base import PACKET_TOO_SHORT, CodeGenBase, Env, _loc, mask


class ExpressionGen(CodeGenBase):
    def ex(self, e: I.Expr, env: Env) -> str:
        """Python source for the value of ``e`` (emitting any statements it needs first)."""
        m: Callable[[I.Expr, Env], str] | None = getattr(self, "ex_" + type(e).__name__, None)
        if m is None:
            raise EngineError(f"{_loc(e)}: expression {type(e).__name__} is not supported")
        return m(e, env)

    def ex_Const(self, e: I.Const, env: Env) -> str:
        return str(e.value)

    def ex_BoolConst(self, e: I.BoolConst, env: Env) -> str:
        return "True" if e.value else "False"

    def ex_EnumMember(self, e: I.EnumMember, env: Env) -> str:
        return str(e.value)

    def ex_ErrorMember(self, e: I.ErrorMember, env: Env) -> str:
        return str(e.value)

    def ex_StringConst(self, e: I.StringConst, env: Env) -> str:
        return repr(e.value)

    def ex_VarRef(self, e: I.VarRef, env: Env) -> str:
        b = env.get(e.var)
        if b is not None and b.expr is not None:
            return b.expr
        if b is None and e.var.kind == "const" and e.var.const_value is not None:
            return self.ex(e.var.const_value, env)
        return self.slot(e, env)

    def ex_Member(self, e: I.Member, env: Env) -> str:
        if isinstance(e.base, I.StackLast):
            return self.last_read(e.base, (e.field,), env)
        return self.slot(e, env)

    def ex_StackIndex(self, e: I.StackIndex, env: Env) -> str:
        return self.slot(e, env)

    def ex_IsValid(self, e: I.IsValid, env: Env) -> str:
        if isinstance(e.header, I.StackLast):
            return self.last_read(e.header, (VALID,), env)
        path = self.path_of(e.header, env)
        if path is None:
            raise EngineError(f"{_loc(e)}: isValid() of a non-header")
        return self.st.name(path + (VALID,))

    def ex_Slice(self, e: I.Slice, env: Env) -> str:
        v = self.ex(e.base, env)
        w = e.hi - e.lo + 1
        if e.lo == 0:
            return f"({v} & {mask(w)})"
        return f"(({v} >> {e.lo}) & {mask(w)})"

    def ex_Concat(self, e: I.Concat, env: Env) -> str:
        lw = e.right.width or 0
        return f"(({self.ex(e.left, env)} << {lw}) | {self.ex(e.right, env)})"

    def ex_Cast(self, e: I.Cast, env: Env) -> str:
        src_t = e.expr.type
        dst_t = e.type
        v = self.ex(e.expr, env)
        if isinstance(dst_t, I.BoolType):
            return v if isinstance(src_t, I.BoolType) else f"({v} != 0)"
        if isinstance(src_t, I.BoolType):
            return f"(1 if {v} else 0)"
        dw = dst_t.width
        if dw is None:
            return v
        sw = src_t.width
        if isinstance(src_t, I.InfIntType) or sw is None:
            return f"({v} & {mask(dw)})"
        if isinstance(src_t, I.BitsType) and src_t.signed and dw > sw:
            s = 1 << (sw - 1)
            return f"((({v} ^ {s}) - {s}) & {mask(dw)})"
        if dw >= sw:
            return v
        return f"({v} & {mask(dw)})"

    def ex_Unary(self, e: I.Unary, env: Env) -> str:
        v = self.ex(e.operand, env)
        if e.op == "!":
            if v.startswith("(_e") and v.endswith(" is not None)"):
                return v.replace(" is not None)", " is None)")
            return f"(not {v})"
        w = e.type.width
        if w is None:
            return f"(-{v})" if e.op == "-" else f"(~{v})"
        if e.op == "-":
            return f"((-{v}) & {mask(w)})"
        if e.op == "~":
            return f"({v} ^ {mask(w)})"
        if e.op == "+":
            return v
        raise EngineError(f"{_loc(e)}: unary {e.op} is not supported")

    def _signed(self, v: str, t: I.Type) -> str:
        w = t.width or 0
        s = 1 << (w - 1)
        return f"(({v} ^ {s}) - {s})"

    def ex_Binary(self, e: I.Binary, env: Env) -> str:
        op = e.op
        if op in ("&&", "||"):
            return self._short_circuit(e, env)
        if isinstance(e.left.type, (I.HeaderType, I.StructType, I.TupleType, I.HeaderStackType)):
            a = b = ""  # compared field by field below
        else:
            a = self.ex(e.left, env)
            b = self.ex(e.right, env)
        lt = e.left.type
        w = e.type.width if not isinstance(e.type, I.BoolType) else None
        signed = isinstance(lt, I.BitsType) and lt.signed
        unbounded = isinstance(lt, I.InfIntType)
        if op in ("==", "!="):
            if isinstance(lt, (I.HeaderType, I.StructType, I.TupleType, I.HeaderStackType)):
                both = self._equal(self._view(e.left, env), self._view(e.right, env), lt, env)
                return both if op == "==" else f"(not {both})"
            # varbits compare by value as bmv2 compares them (as numbers: 0x01 in 8 bits
            # equals 0x0001 in 16), not by length too
            return f"({a} {op} {b})"
        if op in ("<", "<=", ">", ">="):
            if signed:
                return f"({self._signed(a, lt)} {op} {self._signed(b, lt)})"
            return f"({a} {op} {b})"
        if unbounded or w is None:
            pyop = {"/": "//"}.get(op, op)
            return f"({a} {pyop} {b})"
        m = mask(w)
        if op in ("+", "-", "*"):
            return f"(({a} {op} {b}) & {m})"
        if op in ("&", "|", "^"):
            return f"({a} {op} {b})"
        if op == "|+|":
            if signed:
                return f"_sat_s({self._signed(a, lt)} + {self._signed(b, lt)}, {w})"
            return f"min({a} + {b}, {m})"
        if op == "|-|":
            if signed:
                return f"_sat_s({self._signed(a, lt)} - {self._signed(b, lt)}, {w})"
            return f"max({a} - {b}, 0)"
        if op in ("/", "%"):
            pyop = "//" if op == "/" else "%"
            if isinstance(e.right, I.Const) and e.right.value != 0:
                return f"({a} {pyop} {b})"
            return f"(({a} {pyop} {b}) if {b} else 0)"
        if op == "<<":
            if isinstance(e.right, I.Const):
                return f"(({a} << {b}) & {m})" if e.right.value < w else "0"
            return f"((({a} << {b}) & {m}) if {b} < {w} else 0)"
        if op == ">>":
            if signed:
                amount = b if isinstance(e.right, I.Const) else f"min({b}, {w})"
                return f"(({self._signed(a, lt)} >> {amount}) & {m})"
            return f"({a} >> {b})"
        raise EngineError(f"{_loc(e)}: operator {op} is not supported")

    # -- equality of headers, structs, tuples and stacks ---------------------------------------
    def _view(self, e: I.Expr, env: Env) -> Path | I.Expr:
        """An aggregate operand: its storage path, or the expression itself when it is a
        literal (`{f = v}`, `{a, b}`, `{#}`)."""
        if isinstance(e, (I.StructExpr, I.ListExpr, I.InvalidHeader)):
            return e
        path = self.path_of(e, env)
        if path is None:
            raise EngineError(f"{_loc(e)}: unsupported operand of ==")
        return path

    def _part(self, v: Path | I.Expr, key: str, index: int) -> Path | I.Expr:
        if isinstance(v, tuple):
            return v + (key,)
        if isinstance(v, I.StructExpr):
            return v.fields[key]
        if isinstance(v, I.ListExpr):
            return v.elements[index]
        return I.Const(I.InfIntType(), v.loc, 0)  # a field of {#}: never compared

    def _equal(self, a: Path | I.Expr, b: Path | I.Expr, t: I.Type, env: Env) -> str:
        """Python source: the aggregates (or scalars) a and b are equal. Headers are equal
        when both are invalid, or both valid with equal fields (P4_16 spec)."""
        if isinstance(t, (I.HeaderType, I.StructType)):
            parts = [
                self._equal(self._part(a, f.name, i), self._part(b, f.name, i), f.type, env)
                for i, f in enumerate(t.fields)
            ]
            fields = " and ".join(parts) if parts else "True"
            if isinstance(t, I.StructType):
                return f"({fields})"
            va, vb = self._valid(a), self._valid(b)
            return f"(({va} and {vb} and {fields}) or (not {va} and not {vb}))"
        if isinstance(t, (I.TupleType, I.HeaderStackType)):
            types = t.elements if isinstance(t, I.TupleType) else (t.element,) * t.size
            parts = [
                self._equal(self._part(a, str(i), i), self._part(b, str(i), i), et, env)
                for i, et in enumerate(types)
            ]
            return f"({' and '.join(parts) if parts else 'True'})"
        xa = self.st.name(a) if isinstance(a, tuple) else self.ex(a, env)
        xb = self.st.name(b) if isinstance(b, tuple) else self.ex(b, env)
        return f"({xa} == {xb})"

    def _valid(self, v: Path | I.Expr) -> str:
        if isinstance(v, tuple):
            return self.st.name(v + (VALID,))
        return "False" if isinstance(v, I.InvalidHeader) else "True"

    def _short_circuit(self, e: I.Binary, env: Env) -> str:
        a = self.ex(e.left, env)
        with self.capture() as sub:
            b = self.ex(e.right, env)
        if not sub.lines:
            return f"({a} {'and' if e.op == '&&' else 'or'} {b})"
        t = self.tmp("sc")
        self.em.line(f"{t} = {a}")
        with self.em.block(f"if {t}:" if e.op == "&&" else f"if not {t}:"):
            self.splice(sub, 1)
            self.em.line(f"{t} = {b}")
        return t

    def ex_Mux(self, e: I.Mux, env: Env) -> str:
        c = self.ex(e.cond, env)
        with self.capture() as s1:
            t = self.ex(e.then, env)
        with self.capture() as s2:
            f = self.ex(e.else_, env)
        if not s1.lines and not s2.lines:
            return f"({t} if {c} else {f})"
        r = self.tmp("mux")
        with self.em.block(f"if {c}:"):
            self.splice(s1, 1)
            self.em.line(f"{r} = {t}")
        with self.em.block("else:"):
            self.splice(s2, 1)
            self.em.line(f"{r} = {f}")
        return r

    def ex_TableApplyExpr(self, e: I.TableApplyExpr, env: Env) -> str:
        hit, aid = self.apply_table(e.table, env)
        if e.member == "hit":
            return hit
        if e.member == "miss":
            return hit.replace(" is not None)", " is None)")
        return aid

    def ex_Lookahead(self, e: I.Lookahead, env: Env) -> str:
        t = e.type
        if isinstance(t, I.HeaderType):
            raise EngineError(f"{_loc(e)}: lookahead of a header type used as a scalar")
        v = self.lookahead_bits(e, t.width or 0)
        return f"({v} != 0)" if isinstance(t, I.BoolType) else v

    def lookahead_bits(self, e: I.Expr, bits: int) -> str:
        """The next `bits` bits of the packet as an int (PacketTooShort when fewer remain)."""
        if not self.in_parser:
            raise EngineError(f"{_loc(e)}: lookahead outside a parser")
        nbytes = (bits + 7) // 8
        if self.poff is not None:
            self.em.line(f"_o = {self.poff}")
            self.poff = None
        with self.em.block(f"if _n - _o < {nbytes}:"):
            self.em.line(f"_perr = {self.error_code(PACKET_TOO_SHORT)}")
            self.em.line("break")
        shift = nbytes * 8 - bits
        v = f"int.from_bytes(_d[_o:_o + {nbytes}], 'big')"
        return f"({v} >> {shift})" if shift else v

    def lookahead_header(self, e: I.Lookahead) -> Path:
        """`pkt.lookahead<H>()` for a header type H: a valid header in storage of its own,
        filled from the next bits of the packet (its path is returned)."""
        t = e.type
        assert isinstance(t, I.HeaderType)
        path = ("$lookahead", t.name)
        if path not in self.st.headers:
            self.st.declare(path, t)
        hs = self.st.header(path)
        v = self.tmp("la")
        self.em.line(f"{v} = {self.lookahead_bits(e, t.bit_width)}")
        for name, f in hs.fields:
            w = f.type.width or 0
            shift = t.bit_width - f.offset - w
            self.em.line(
                f"{name} = ({v} >> {shift}) & {mask(w)}" if shift else f"{name} = {v} & {mask(w)}"
            )
        self.em.line(f"{hs.valid} = True")
        return path

    def ex_ExternCallExpr(self, e: I.ExternCallExpr, env: Env) -> str:
        raise EngineError(f"{_loc(e)}: extern call {e.method} as an expression is not supported")
