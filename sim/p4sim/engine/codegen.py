"""Python source for P4 expressions, statements, tables, parsers and controls.

Everything is inlined into the straight-line body of one packet function: controls,
actions and tables are expanded at their call sites, every P4 scalar is a Python local
(see :mod:`p4sim.engine.storage`) holding a plain non-negative int masked to its width
(bool values are Python bools), and every expression the generator writes yields an
already-masked int. Nothing is interpreted per packet: :class:`CodeGen` only produces
text, which :mod:`p4sim.engine.v1model` wraps into functions and ``compile()``s once.

Runtime objects the code needs (tables, counters, helpers) are *bindings*: names in the
generated module's globals, registered with :meth:`CodeGen.bind`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..frontend import ir as I
from ..state import ExactTable, RuntimeState
from ..state import TableEntry as StateEntry
from . import algorithms, rawbytes
from .errors import EngineError
from .storage import VALID, VLEN, Path, Storage

# error codes are looked up by name in the program's error type
PACKET_TOO_SHORT = "PacketTooShort"
NO_MATCH = "NoMatch"
HEADER_TOO_SHORT = "HeaderTooShort"
PARSER_INVALID_ARGUMENT = "ParserInvalidArgument"

# v1model instance types (bmv2 simple_switch.cpp PktInstanceType)
NORMAL, INGRESS_CLONE, EGRESS_CLONE, REPLICATION = 0, 1, 2, 5


def mask(width: int) -> int:
    return (1 << width) - 1


@dataclass
class Binding:
    """What a Var stands for in the current inlining scope: a storage path (aliasing, for
    lvalue arguments and block parameters) or a Python expression (a read-only value)."""

    path: Path | None = None
    expr: str | None = None


Env = dict[I.Var, Binding]


class Emitter:
    """Indented lines of Python."""

    def __init__(self, level: int = 0) -> None:
        self.lines: list[str] = []
        self.level = level

    def line(self, text: str) -> None:
        self.lines.append("    " * self.level + text)

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        self.line(header)
        self.level += 1
        mark = len(self.lines)
        try:
            yield
        finally:
            if len(self.lines) == mark:
                self.line("pass")
            self.level -= 1

    def text(self) -> str:
        return "\n".join(self.lines)


class CodeGen:
    """Generates code for one program against one RuntimeState (tables bound by name)."""

    def __init__(
        self,
        program: I.ProgramIR,
        state: RuntimeState,
        storage: Storage,
        *,
        drop_port: int,
        trace: bool,
    ) -> None:
        self.ir = program
        self.state = state
        self.st = storage
        self.drop_port = drop_port
        self.trace = trace
        self.em = Emitter(1)
        self.bindings: dict[str, Any] = {}
        self._bound_ids: dict[int, str] = {}
        self._tmp = 0
        self.errors = {name: i for i, name in enumerate(program.errors.members)}
        self.uses_now = False
        self.in_parser = False
        self.pipe = "ingress"  # "ingress" | "egress" | other block
        self.digest_sites: list[tuple[int, list[str]]] = []  # (digest id, value exprs)
        self.clone_field_lists: set[int] = {0}
        self.has_exit = False
        self.uses_random = False
        # extracted fixed-size headers by validity local (filled by the v1model parser)
        self.raw_by_valid: dict[str, rawbytes.RawHeader] = {}
        self._loop_stack: list[bool] = []  # True where a `break` leaves a return-wrapper
        self.poff: int | None = None  # parse offset when known at compile time
        self._structs: dict[str, str] = {}

    # -- small helpers -----------------------------------------------------------------------
    def tmp(self, hint: str) -> str:
        self._tmp += 1
        return f"_{hint}{self._tmp}"

    def bind(self, obj: Any, hint: str) -> str:
        """A global name for a runtime object the generated code uses."""
        key = id(obj)
        name = self._bound_ids.get(key)
        if name is None:
            name = f"_{hint}{len(self.bindings)}"
            self.bindings[name] = obj
            self._bound_ids[key] = name
        return name

    def error_code(self, name: str) -> int:
        return self.errors.get(name, 0)

    @contextmanager
    def capture(self) -> Iterator[Emitter]:
        """Redirect emitted lines into a fresh emitter (at the current indentation)."""
        saved = self.em
        sub = Emitter(saved.level)
        self.em = sub
        try:
            yield sub
        finally:
            self.em = saved

    def splice(self, sub: Emitter, extra_indent: int = 0) -> None:
        pad = "    " * extra_indent
        for ln in sub.lines:
            self.em.lines.append(pad + ln)

    # -- paths ---------------------------------------------------------------------------------
    def path_of(self, e: I.Expr, env: Env) -> Path | None:
        """The storage path of an lvalue-like expression, or None."""
        if isinstance(e, I.VarRef):
            b = env.get(e.var)
            if b is not None:
                return b.path
            if e.var.kind == "const":
                return None
            root = (e.var.uid,)
            if not any(True for _ in self.st.leaves(root)):
                self.st.declare(root, e.var.type)
            return root
        if isinstance(e, I.Member):
            base = self.path_of(e.base, env)
            return None if base is None else base + (e.field,)
        if isinstance(e, I.StackIndex):
            base = self.path_of(e.base, env)
            return None if base is None else base + (str(e.index),)
        return None

    def slot(self, e: I.Expr, env: Env) -> str:
        path = self.path_of(e, env)
        if path is None:
            raise EngineError(f"{_loc(e)}: expected a storage location")
        try:
            return self.st.name(path)
        except KeyError:
            raise EngineError(f"{_loc(e)}: no storage for {'.'.join(path)}") from None

    # -- expressions ---------------------------------------------------------------------------
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
        return self.slot(e, env)

    def ex_StackIndex(self, e: I.StackIndex, env: Env) -> str:
        return self.slot(e, env)

    def ex_IsValid(self, e: I.IsValid, env: Env) -> str:
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
        a = self.ex(e.left, env)
        b = self.ex(e.right, env)
        lt = e.left.type
        w = e.type.width if not isinstance(e.type, I.BoolType) else None
        signed = isinstance(lt, I.BitsType) and lt.signed
        unbounded = isinstance(lt, I.InfIntType)
        if op in ("==", "!="):
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
        if not self.in_parser:
            raise EngineError(f"{_loc(e)}: lookahead outside a parser")
        t = e.type
        bits = t.bit_width if isinstance(t, I.HeaderType) else (t.width or 0)
        nbytes = (bits + 7) // 8
        if self.poff is not None:
            self.em.line(f"_o = {self.poff}")
            self.poff = None
        with self.em.block(f"if _n - _o < {nbytes}:"):
            self.em.line(f"_perr = {self.error_code(PACKET_TOO_SHORT)}")
            self.em.line("break")
        v = f"(int.from_bytes(_d[_o:_o + {nbytes}], 'big') >> {nbytes * 8 - bits})"
        if isinstance(t, I.HeaderType):
            raise EngineError(f"{_loc(e)}: lookahead of a header type is not supported")
        return v

    def ex_ExternCallExpr(self, e: I.ExternCallExpr, env: Env) -> str:
        raise EngineError(f"{_loc(e)}: extern call {e.method} as an expression is not supported")

    # -- statements ----------------------------------------------------------------------------
    def stmts(self, body: list[I.Stmt], env: Env) -> None:
        for s in body:
            m = getattr(self, "st_" + type(s).__name__, None)
            if m is None:
                raise EngineError(f"{_loc(s)}: statement {type(s).__name__} is not supported")
            m(s, env)

    def st_Assign(self, s: I.Assign, env: Env) -> None:
        self.assign(s.target, s.value, env)

    def assign(self, target: I.Expr, value: I.Expr, env: Env) -> None:
        t = target.type
        if isinstance(target, I.Slice):
            base = self.slot(target.base, env)
            w = target.hi - target.lo + 1
            m = mask(w) << target.lo
            full = mask(target.base.type.width or 0)
            v = self.ex(value, env)
            self.em.line(f"{base} = ({base} & {full ^ m}) | ({v} << {target.lo})")
            return
        if isinstance(t, (I.HeaderType, I.StructType, I.HeaderStackType)):
            self.assign_aggregate(target, value, env)
            return
        if isinstance(target, I.DontCare):
            self.ex(value, env)
            return
        v = self.ex(value, env)
        self.em.line(f"{self.slot(target, env)} = {v}")

    def assign_aggregate(self, target: I.Expr, value: I.Expr, env: Env) -> None:
        tpath = self.path_of(target, env)
        if tpath is None:
            raise EngineError(f"{_loc(target)}: cannot assign to this expression")
        if isinstance(value, (I.StructExpr, I.ListExpr)):
            t = target.type
            if not isinstance(t, (I.HeaderType, I.StructType)):
                raise EngineError(f"{_loc(target)}: cannot assign a list or struct to this type")
            items: list[tuple[str, I.Expr]]
            if isinstance(value, I.StructExpr):
                items = list(value.fields.items())
            else:
                names = [f.name for f in t.fields]
                items = list(zip(names, value.elements))
            for fname, fexpr in items:
                ftype = t.field(fname).type
                sub = I.Member(ftype, target.loc, target, fname, t.field(fname))
                self.assign(sub, fexpr, env)
            if isinstance(t, I.HeaderType):
                self.em.line(f"{self.st.name(tpath + (VALID,))} = True")
            return
        vpath = self.path_of(value, env)
        if vpath is None:
            raise EngineError(f"{_loc(value)}: unsupported aggregate value")
        src = {
            p[len(vpath) :]: s.name for p, s in self.st.slots.items() if p[: len(vpath)] == vpath
        }
        if not src:
            for _ in self.st.leaves(vpath):
                pass
        dst = [
            (p[len(tpath) :], s.name) for p, s in self.st.slots.items() if p[: len(tpath)] == tpath
        ]
        names = [n for rel, n in dst if rel in src]
        if names:
            self.em.line(
                ", ".join(names) + " = " + ", ".join(src[rel] for rel, n in dst if rel in src)
            )

    def st_VarDecl(self, s: I.VarDecl, env: Env) -> None:
        root = (s.var.uid,)
        if not any(True for _ in self.st.leaves(root)):
            self.st.declare(root, s.var.type)
        if s.init is not None:
            self.assign(I.VarRef(s.var.type, s.loc, s.var), s.init, env)

    def st_If(self, s: I.If, env: Env) -> None:
        c = self.ex(s.cond, env)
        with self.em.block(f"if {c}:"):
            self.stmts(s.then, env)
        if s.else_:
            if len(s.else_) == 1 and isinstance(s.else_[0], I.If):
                # keep elif chains flat where the condition needs no statements
                inner = s.else_[0]
                with self.capture() as sub:
                    c2 = self.ex(inner.cond, env)
                if not sub.lines:
                    with self.em.block(f"elif {c2}:"):
                        self.stmts(inner.then, env)
                    if inner.else_:
                        with self.em.block("else:"):
                            self.stmts(inner.else_, env)
                    return
            with self.em.block("else:"):
                self.stmts(s.else_, env)

    def st_Switch(self, s: I.Switch, env: Env) -> None:
        subj = s.subject
        if isinstance(subj, I.TableApplyExpr):
            _, aid = self.apply_table(subj.table, env)
            table = subj.table

            def label_value(lbl: str | I.Expr) -> str:
                ref = table.action_ref(lbl) if isinstance(lbl, str) else None
                if ref is None:
                    raise EngineError(f"{_loc(s)}: {lbl} is not an action of table {table.name}")
                return str(self.action_id(ref.action))

            v = aid
        else:
            v = self.tmp("sw")
            self.em.line(f"{v} = {self.ex(subj, env)}")

            def label_value(lbl: str | I.Expr) -> str:
                if isinstance(lbl, str):
                    raise EngineError(f"{_loc(s)}: {lbl} is not a value to switch on")
                return self.ex(lbl, env)

        pending: list[str] = []
        first = True
        default_body: list[I.Stmt] | None = None
        for case in s.cases:
            is_default = any(isinstance(lb, str) and lb == "default" for lb in case.labels)
            vals = [
                label_value(lb)
                for lb in case.labels
                if not (isinstance(lb, str) and lb == "default")
            ]
            if is_default:
                default_body = case.body if case.body is not None else []
                continue
            pending.extend(vals)
            if case.body is None:
                continue
            cond = " or ".join(f"{v} == {x}" for x in pending)
            with self.em.block(f"{'if' if first else 'elif'} {cond}:"):
                self.stmts(case.body, env)
            first = False
            pending = []
        if default_body is not None:
            if first:
                self.stmts(default_body, env)
            else:
                with self.em.block("else:"):
                    self.stmts(default_body, env)

    def st_ApplyTable(self, s: I.ApplyTable, env: Env) -> None:
        self.apply_table(s.table, env)

    def st_CallAction(self, s: I.CallAction, env: Env) -> None:
        self.inline_action(s.action, env, s.args, None)

    def st_Exit(self, s: I.Exit, env: Env) -> None:
        self.has_exit = True
        self.em.line("raise _EXIT")

    def st_Return(self, s: I.Return, env: Env) -> None:
        if not self._loop_stack:
            raise EngineError(f"{_loc(s)}: return outside an action or control")
        self.em.line("break")

    def st_SetValid(self, s: I.SetValid, env: Env) -> None:
        hs = self.st.header(self._hpath(s.header, env))
        # bmv2 add_header: an invalid header is zeroed, made valid and the packet length
        # register grows by its size (targets/simple_switch/primitives.cpp)
        with self.em.block(f"if not {hs.valid}:"):
            names = [n for n, _ in hs.fields] + ([hs.vlen] if hs.vlen else [])
            self.em.line(" = ".join(names) + " = 0")
            self.em.line(f"{hs.valid} = True")
            self.em.line(f"_plen += {hs.fixed_bytes}")

    def st_SetInvalid(self, s: I.SetInvalid, env: Env) -> None:
        hs = self.st.header(self._hpath(s.header, env))
        # bmv2 remove_header: the length register shrinks by the header's current size
        with self.em.block(f"if {hs.valid}:"):
            self.em.line(f"{hs.valid} = False")
            extra = f" + ({hs.vlen} >> 3)" if hs.vlen else ""
            self.em.line(f"_plen -= {hs.fixed_bytes}{extra}")

    def _hpath(self, e: I.Expr, env: Env) -> Path:
        p = self.path_of(e, env)
        if p is None or p not in self.st.headers:
            raise EngineError(f"{_loc(e)}: not a header instance")
        return p

    def st_ApplyControl(self, s: I.ApplyControl, env: Env) -> None:
        self.inline_control(s.control, s.args, env)

    def st_ExternCall(self, s: I.ExternCall, env: Env) -> None:
        inst = s.instance
        kind = inst.extern_type
        argl = s.args
        if kind == "counter" and s.method == "count":
            c = self.bind(self.state.counter(inst.p4info_name), "ctr")
            self.em.line(f"{c}.count({self.ex(argl[0].expr, env)}, _ilen)")
        elif kind == "meter" and s.method == "execute_meter":
            mtr = self.bind(self.state.meter(inst.p4info_name), "mtr")
            self.uses_now = True
            idx = self.ex(argl[0].expr, env)
            out = self.slot(argl[1].expr, env)
            w = argl[1].expr.type.width or 2
            self.em.line(f"{out} = {mtr}.execute({idx}, _ilen, _now()) & {mask(w)}")
        elif kind == "register" and s.method in ("read", "write"):
            reg_obj = self.state.register(inst.p4info_name)
            reg = self.bind(reg_obj, "reg")
            if s.method == "read":
                out = self.slot(argl[0].expr, env)
                idx = self.ex(argl[1].expr, env)
                # bmv2 register_read: an out-of-range index leaves the destination unchanged
                t = self.tmp("ri")
                self.em.line(f"{t} = {idx}")
                with self.em.block(f"if {t} < {reg_obj.size}:"):
                    self.em.line(f"{out} = {reg}.cells[{t}]")
            else:
                idx = self.ex(argl[0].expr, env)
                val = self.ex(argl[1].expr, env)
                self.em.line(f"{reg}.write({idx}, {val})")
        elif kind == "direct_counter" and s.method == "count":
            pass  # counted on every hit of its table (bmv2 direct counters), see apply_table
        elif kind == "direct_meter" and s.method == "read":
            if inst.table is None:
                raise EngineError(f"{_loc(s)}: direct meter {inst.name} is not attached to a table")
            out = self.slot(argl[0].expr, env)
            w = argl[0].expr.type.width or 2
            self.em.line(f"{out} = {self._dm_var(inst.table)} & {mask(w)}")
        else:
            raise EngineError(f"{_loc(s)}: {kind}.{s.method} is not supported")

    def _dm_var(self, table: I.Table) -> str:
        return f"_dmc{table.p4info_id}"

    # -- extern functions ------------------------------------------------------------------------
    def st_ExternFunctionCall(self, s: I.ExternFunctionCall, env: Env) -> None:
        name = s.name
        a = [x.expr for x in s.args]
        if name == "mark_to_drop":
            # bmv2 mark_to_drop: egress_spec = drop port and mcast_grp = 0
            self.em.line(f"{self.st.name(('S', 'egress_spec'))} = {self.drop_port}")
            self.em.line(f"{self.st.name(('S', 'mcast_grp'))} = 0")
        elif name == "hash":
            self.gen_hash(s, a, env)
        elif name in ("verify_checksum", "verify_checksum_with_payload"):
            cond = self.ex(a[0], env)
            with self.em.block(f"if {cond}:"):
                value = self.checksum_value(
                    a[1], self._algo(a[3]), env, name.endswith("payload"), a[2].type.width or 16
                )
                with self.em.block(f"if {value} != {self.ex(a[2], env)}:"):
                    self.em.line(f"{self.st.name(('S', 'checksum_error'))} = 1")
                    if self.trace:
                        self.em.line("_tr('checksum verification failed')")
        elif name in ("update_checksum", "update_checksum_with_payload"):
            cond = self.ex(a[0], env)
            with self.em.block(f"if {cond}:"):
                w = a[2].type.width or 16
                value = self.checksum_value(
                    a[1], self._algo(a[3]), env, name.endswith("payload"), w
                )
                self.em.line(f"{self.slot(a[2], env)} = {value}")
        elif name == "digest":
            self.gen_digest(s, a, env)
        elif name in ("clone", "clone_preserving_field_list"):
            session = self.ex(a[1], env)
            fl = 0
            if name == "clone_preserving_field_list":
                if not isinstance(a[2], I.Const):
                    raise EngineError(f"{_loc(s)}: the field list index must be a constant")
                fl = a[2].value
            self.clone_field_lists.add(fl)
            # bmv2 clone_{ingress,egress}_pkt_to_egress: the last call wins; the session id is
            # kept with a valid bit so that session 0 works
            self.em.line(f"_cl = ({session} & 0xFFFF) | 0x10000")
            self.em.line(f"_clfl = {fl}")
        elif name == "random":
            out = self.slot(a[0], env)
            lo, hi = self.ex(a[1], env), self.ex(a[2], env)
            self.uses_random = True
            t1, t2 = self.tmp("lo"), self.tmp("hi")
            self.em.line(f"{t1} = {lo}")
            self.em.line(f"{t2} = {hi}")
            # bmv2 modify_field_rng_uniform: lo > hi leaves the result unwritten
            with self.em.block(f"if {t1} <= {t2}:"):
                self.em.line(f"{out} = _randint({t1}, {t2})")
        elif name == "log_msg":
            fmt = a[0].value if isinstance(a[0], I.StringConst) else ""
            vals: list[str] = []
            if len(a) > 1:
                data = a[1]
                elems = data.elements if isinstance(data, I.ListExpr) else [data]
                vals = [self.ex(x, env) for x in elems]
            self.em.line(f"_log_msg({fmt!r}, ({', '.join(vals)}{',' if vals else ''}))")
        elif name == "truncate":
            self.em.line(f"_trunc = {self.ex(a[0], env)}")
        elif name in ("assert", "assume"):
            c = self.ex(a[0], env)
            with self.em.block(f"if not {c}:"):
                self.em.line(f"_assert_failed({str(_loc(s))!r})")
        else:
            raise EngineError(f"{_loc(s)}: extern {name} is not supported by the p4sim engine")

    def _algo(self, e: I.Expr) -> str:
        if isinstance(e, I.EnumMember):
            return e.member
        raise EngineError(f"{_loc(e)}: the hash algorithm must be a HashAlgorithm constant")

    def pack(self, data: I.Expr, env: Env) -> tuple[str, str]:
        """Emit code packing a data list as bmv2's BufBuilder does; returns (int, bits) exprs.

        Fields of invalid headers are skipped (bmv2 ``Deparse::operator()(field_t)``), a
        varbit field contributes its current length."""
        return self._pack_items(self.data_items(data, env))

    def data_items(self, data: I.Expr, env: Env) -> list[tuple[str | None, str, int | str]]:
        """The (validity, value, width) elements of a data list, as pack() sees them
        (emitting any statements their values need)."""
        items: list[tuple[str | None, str, int | str]] = []  # (validity, value, width)

        def add(e: I.Expr) -> None:
            t = e.type
            if isinstance(e, I.ListExpr):
                for x in e.elements:
                    add(x)
                return
            if isinstance(t, (I.HeaderType, I.StructType)):
                path = self.path_of(e, env)
                if path is None:
                    raise EngineError(f"{_loc(e)}: unsupported data list element")
                for f in t.fields:
                    add(I.Member(f.type, e.loc, e, f.name, f))
                return
            valid = None
            if isinstance(e, I.Member) and isinstance(e.base.type, I.HeaderType):
                hp = self.path_of(e.base, env)
                if hp is not None:
                    valid = self.st.name(hp + (VALID,))
            if isinstance(t, I.VarbitType):
                path = self.path_of(e, env)
                assert path is not None
                items.append((valid, self.st.name(path), self.st.name(path + (VLEN,))))
                return
            w = t.width
            if w is None:
                raise EngineError(f"{_loc(e)}: data list element without a width")
            v = self.ex(e, env)
            if isinstance(t, I.BoolType):
                v = f"(1 if {v} else 0)"
            items.append((valid, v, w))

        add(data)
        return items

    def _pack_items(self, items: list[tuple[str | None, str, int | str]]) -> tuple[str, str]:
        static = [(v, w) for valid, v, w in items if valid is None and isinstance(w, int)]
        if len(static) == len(items):
            total = sum(w for _, w in static)
            parts = []
            shift = total
            for value, width in static:
                shift -= width
                parts.append(f"({value} << {shift})" if shift else value)
            return ("(" + " | ".join(parts) + ")" if parts else "0"), str(total)
        acc, bits = self.tmp("acc"), self.tmp("bits")
        self.em.line(f"{acc} = 0")
        self.em.line(f"{bits} = 0")
        # group consecutive items under the same validity condition
        groups: list[tuple[str | None, list[tuple[str, int | str]]]] = []
        for valid, v, w in items:
            if groups and groups[-1][0] == valid:
                groups[-1][1].append((v, w))
            else:
                groups.append((valid, [(v, w)]))

        def flush(run: list[tuple[str, int]]) -> None:
            if not run:
                return
            width = sum(w for _, w in run)
            shift = width
            parts = []
            for v, w in run:
                shift -= w
                parts.append(f"({v} << {shift})" if shift else v)
            self.em.line(f"{acc} = ({acc} << {width}) | {' | '.join(parts)}")
            self.em.line(f"{bits} += {width}")
            run.clear()

        for valid, members in groups:
            em_block = self.em.block(f"if {valid}:") if valid else None
            if em_block:
                em_block.__enter__()
            # consecutive fixed-width members are packed by one expression
            run: list[tuple[str, int]] = []
            for v, w in members:
                if isinstance(w, int):
                    run.append((v, w))
                    continue
                flush(run)
                self.em.line(f"{acc} = ({acc} << {w}) | {v}")
                self.em.line(f"{bits} += {w}")
            flush(run)
            if em_block:
                em_block.__exit__(None, None, None)
        return acc, bits

    def _as_bytes(self, acc: str, bits: str) -> str:
        if bits.isdigit():
            b = int(bits)
            pad = -b % 8
            return (
                f"({acc} << {pad}).to_bytes({(b + pad) // 8}, 'big')"
                if pad
                else f"{acc}.to_bytes({b // 8}, 'big')"
            )
        return f"_pack_bytes({acc}, {bits})"

    def checksum_value(
        self, data: I.Expr, algo: str, env: Env, with_payload: bool, width: int
    ) -> str:
        if algo == "csum16" and not with_payload:
            words = self.csum16_words(self.data_items(data, env))
            if words is not None:
                return f"_csum16_int({words})"
        acc, bits = self.pack(data, env)
        if algo == "csum16" and not with_payload:
            if bits.isdigit():
                b = int(bits)
                pad = -b % 16
                return f"_csum16_int({acc} << {pad})" if pad else f"_csum16_int({acc})"
            return f"_csum16_int({acc} << (-{bits} % 16))"
        buf = self._as_bytes(acc, bits)
        if with_payload:
            buf = f"({buf} + _payload)"
        fn = self._algo_fn(algo)
        return f"({fn}({buf}) & {mask(width)})"

    def csum16_words(self, items: list[tuple[str | None, str, int | str]]) -> str | None:
        """The one's complement sum input as a sum of 16-bit words on small ints.

        Concatenation is A * 2**|B| + B and 2**16 = 1 (mod 0xFFFF), so a run of fields whose
        total width is a multiple of 16 bits adds the sum of its 16-bit words, and a varbit
        field of v bits shifts what came before by v % 16. The sum is zero only when every
        word is, which keeps csum16_of_int's 0 / 0xFFFF distinction. Returns None when the
        data list does not fit this scheme (the generic big-integer packing is used then)."""
        groups: list[tuple[str | None, list[tuple[str, int | str]]]] = []
        for valid, v, w in items:
            if groups and groups[-1][0] == valid:
                groups[-1][1].append((v, w))
            else:
                groups.append((valid, [(v, w)]))
        terms: list[tuple[str | None, str]] = []  # (validity, statement or word sum)
        static_bits = 0
        for valid, members in groups:
            run: list[tuple[str, int]] = []
            for v, w in members:
                if isinstance(w, int):
                    run.append((v, w))
                    continue
                if run or static_bits % 16:
                    return None
                terms.append((valid, f"_cs = (_cs << ({w} & 15)) + {v}"))
            if not run:
                continue
            width = sum(w for _, w in run)
            if width % 16:
                return None
            static_bits += width
            raw = self._raw_csum_term(valid, run)
            words = []
            pos = 0
            for v, w in run:
                end = pos + w
                k = pos // 16
                while k * 16 < end:
                    lo, hi = max(pos, k * 16), min(end, k * 16 + 16)
                    part = v
                    if end - hi:
                        part = f"({part} >> {end - hi})"
                    if hi - lo < w:
                        part = f"({part} & {mask(hi - lo)})"
                    if k * 16 + 16 - hi:
                        part = f"({part} << {k * 16 + 16 - hi})"
                    words.append(part)
                    k += 1
                pos = end
            if raw is not None:
                terms.append(
                    (valid, f"_cs += ({raw[1]}) if {raw[0]} >= 0 else ({' + '.join(words)})")
                )
            else:
                terms.append((valid, f"_cs += {' + '.join(words)}"))
        if not terms:
            return "0"
        if len(terms) == 1 and terms[0][0] is None and terms[0][1].startswith("_cs += "):
            return "(" + terms[0][1][len("_cs += ") :] + ")"
        cs = self.tmp("cs")
        self.em.line(f"{cs} = 0")
        for valid, stmt in terms:
            stmt = stmt.replace("_cs", cs)
            if valid:
                with self.em.block(f"if {valid}:"):
                    self.em.line(stmt)
            else:
                self.em.line(stmt)
        return cs

    def _raw_csum_term(
        self, valid: str | None, run: list[tuple[str, int]]
    ) -> tuple[str, str] | None:
        """(offset local, term) when a csum16 run is an extracted header's fields that may
        be summed from its received bytes (rawbytes.csum16_term), else None."""
        rh = self.raw_by_valid.get(valid) if valid else None
        if rh is None:
            return None
        term = rawbytes.csum16_term(rh, run)
        return (rh.at, term) if term is not None else None

    def _algo_fn(self, algo: str) -> str:
        fns = {"crc16": "_crc16", "crc32": "_crc32", "csum16": "_csum16", "identity": "_identity"}
        if algo not in fns:
            raise EngineError(
                f"hash algorithm {algo} is not supported (crc16, crc32, csum16, identity)"
            )
        return fns[algo]

    def gen_hash(self, s: I.ExternFunctionCall, a: list[I.Expr], env: Env) -> None:
        out = self.slot(a[0], env)
        w = a[0].type.width or 0
        algo = self._algo(a[1])
        base = self.ex(a[2], env)
        if algo == "csum16":
            # the word sum checksum_value uses (received bytes for unwritten headers)
            words = self.csum16_words(self.data_items(a[3], env))
            if words is not None:
                self.emit_hash_result(out, w, base, f"_csum16_int({words})", a[4], env)
                return
        acc, bits = self.pack(a[3], env)
        h = f"{self._algo_fn(algo)}({self._as_bytes(acc, bits)})"
        if algo == "crc16" and bits.isdigit():
            # memoised per call site (see algorithms.crc16_memo): a dict hit costs a fifth
            cache: dict[int, int] = {}
            memo = self.bind(cache, "hc")
            miss = self.bind(algorithms.crc16_memo(cache, int(bits)), "hm")
            key, h = self.tmp("hk"), self.tmp("hv")
            self.em.line(f"{key} = {acc}")
            self.em.line(f"{h} = {memo}.get({key})")
            with self.em.block(f"if {h} is None:"):
                self.em.line(f"{h} = {miss}({key})")
        if algo == "csum16":
            pad = f"-{bits} % 16" if not bits.isdigit() else str(-int(bits) % 16)
            h = f"_csum16_int({acc} << ({pad}))"
        self.emit_hash_result(out, w, base, h, a[4], env)

    def emit_hash_result(self, out: str, w: int, base: str, h: str, mx: I.Expr, env: Env) -> None:
        # bmv2 modify_field_with_hash_based_offset: (H % max) + base, max 0 treated as 1
        if isinstance(mx, I.Const):
            m = mx.value or 1
            self.em.line(f"{out} = ({base} + {h} % {m}) & {mask(w)}")
        else:
            t = self.tmp("max")
            self.em.line(f"{t} = {self.ex(mx, env)} or 1")
            self.em.line(f"{out} = ({base} + {h} % {t}) & {mask(w)}")

    def gen_digest(self, s: I.ExternFunctionCall, a: list[I.Expr], env: Env) -> None:
        if self.pipe != "ingress":
            raise EngineError(f"{_loc(s)}: digest is only supported in the ingress control")
        data = a[1]
        t = data.type
        if not isinstance(t, I.StructType):
            raise EngineError(f"{_loc(s)}: digest data must be a struct")
        try:
            did = self.state.digest_id(t.name)
        except KeyError:
            raise EngineError(f"{_loc(s)}: digest {t.name} is not in the P4Info") from None
        # bmv2 reads a digest's field list when ingress ends (the learn engine samples the
        # PHV after the ingress pipeline): fields that are storage are read then; other
        # values are captured at the call into temporaries, as p4c does.
        values: list[str] = []
        path = self.path_of(data, env)
        if path is not None:
            values.extend(slot.name for slot in self.st.leaves(path) if slot.kind == "field")
        else:
            assert isinstance(data, (I.StructExpr, I.ListExpr))
            exprs = list(data.fields.values()) if isinstance(data, I.StructExpr) else data.elements
            for x in exprs:
                tv = self.tmp("dgv")
                self.em.line(f"{tv} = {self.ex(x, env)}")
                values.append(tv)
        self.digest_sites.append((did, values))
        self.em.line(f"_dg = {len(self.digest_sites)}")

    # -- tables and actions ------------------------------------------------------------------
    def action_id(self, action: I.Action) -> int:
        try:
            return self.state.action_id(action.p4info_name)
        except KeyError:
            raise EngineError(f"action {action.p4info_name} is not in the P4Info") from None

    def apply_table(self, t: I.Table, env: Env) -> tuple[str, str]:
        """Emit a table application; returns (hit expression, action-id variable)."""
        try:
            table = self.state.table(t.p4info_name)
        except KeyError:
            raise EngineError(f"table {t.p4info_name} is not in the P4Info") from None
        T = self.bind(table, "tbl")
        n = self.tmp("")
        r, e_, aid = f"_r{n}", f"_e{n}", f"_a{n}"
        keys = sorted(t.keys, key=lambda k: k.id)
        kv = [self.ex(k.expr, env) for k in keys]
        kv = [
            f"(1 if {v} else 0)" if isinstance(k.expr.type, I.BoolType) else v
            for v, k in zip(kv, keys)
        ]
        key = "(" + ", ".join(kv) + ("," if len(kv) == 1 else "") + ")"
        if not keys:
            lookup = f"{T}.default_result"
        elif type(table) is ExactTable and isinstance(getattr(table, "_results", None), dict):
            # the exact index dict is mutated in place (never replaced), so it can be bound
            # once; its keys are the key values packed into one int (ExactTable.pack_key)
            d = self.bind(table._results, "exact")
            packed = kv[0]
            for v, w in zip(kv[1:], table.key_widths[1:]):
                packed = f"(({packed}) << {w}) | {v}"
            lookup = f"{d}.get({packed}) or {T}.default_result"
        else:
            lookup = f"{T}.lookup({key})"
        pv = f"_p{n}"
        if self.trace:
            self.em.line(f"{r} = {lookup}")
            self.em.line(f"{aid}, {pv}, {e_} = {r}")
            self.em.line(f"_tr_table({t.p4info_name!r}, {key}, {r})")
        else:
            self.em.line(f"{aid}, {pv}, {e_} = {lookup}")
        counting = table.has_direct_counter
        timeout = table.support_timeout
        dmeter = t.direct_meter is not None
        if counting or timeout:
            with self.em.block(f"if {e_} is not None:"):
                if counting:
                    self.em.line(f"{e_}.packets += 1")
                    self.em.line(f"{e_}.bytes += _ilen")
                if timeout:
                    self.uses_now = True
                    self.em.line(f"{e_}.last_hit_ns = _now()")
                    self.em.line(f"{e_}.idle_notified = False")
            if counting:
                with self.em.block("else:"):
                    self.em.line(f"{T}.count_default(_ilen)")
        if dmeter:
            self.uses_now = True
            self.em.line(
                f"{self._dm_var(t)} = {e_}.meter.execute(_ilen, _now()) "
                f"if {e_} is not None and {e_}.meter is not None else 0"
            )
        first = True
        for ref in t.actions:
            act = ref.action
            if not act.body and not self.trace:
                continue
            with self.em.block(f"{'if' if first else 'elif'} {aid} == {self.action_id(act)}:"):
                self.inline_action(act, env, ref.args, act.data_params, pv)
            first = False
        return f"({e_} is not None)", aid

    def inline_action(
        self,
        action: I.Action,
        env: Env,
        args: list[I.Argument],
        data_from_table: list[I.Var] | None,
        params_var: str = "",
    ) -> None:
        """Expand an action body at the current position (table hit, default or direct call)."""
        if self.trace:
            self.em.line(f"_tr('Action ' + {action.p4info_name!r})")
        inner: Env = dict(env)
        directional = action.directional_params
        params = action.params
        if data_from_table is not None:
            # action data is read straight from the entry's params tuple
            for i, p in enumerate(data_from_table):
                inner[p] = Binding(expr=f"{params_var}[{i}]")
            bound = list(zip(directional, args))
        else:
            bound = list(zip(params, args))
        copy_out = self.bind_args(bound, inner, env, copy_in_aggregates=True)
        self.wrapped_body(action.body, inner)
        self.emit_copy_out(copy_out)

    def bind_arg(self, p: I.Var, arg: I.Argument, target: Env, env: Env) -> None:
        """Bind parameter ``p`` in ``target`` to ``arg`` evaluated in ``env``: lvalue paths
        alias (copy-in/copy-out gives the same result when arguments do not overlap), other
        in-arguments are evaluated once into a temporary."""
        direction = p.direction or arg.direction
        path = self.path_of(arg.expr, env) if not isinstance(arg.expr, I.DontCare) else None
        if direction in ("out", "inout") or (path is not None and _aggregate(p.type)):
            if path is None:
                if isinstance(arg.expr, I.DontCare):
                    root = (p.uid,)
                    if not any(True for _ in self.st.leaves(root)):
                        self.st.declare(root, p.type)
                    target[p] = Binding(path=root)
                    return
                raise EngineError(
                    f"{_loc(arg.expr)}: an out/inout argument must be a storage location"
                )
            target[p] = Binding(path=path)
            return
        if _aggregate(p.type):
            raise EngineError(f"{_loc(arg.expr)}: aggregate in-arguments must be storage locations")
        v = self.ex(arg.expr, env)
        t = self.tmp("arg")
        self.em.line(f"{t} = {v}")
        target[p] = Binding(expr=t)

    def wrapped_body(self, body: list[I.Stmt], env: Env) -> None:
        """A body in which `return` must leave early: wrapped in a one-pass loop."""
        if _has_early_return(body):
            self._loop_stack.append(True)
            with self.em.block("while True:"):
                self.stmts(body, env)
                self.em.line("break")
            self._loop_stack.pop()
        else:
            self._loop_stack.append(False)
            self.stmts([x for x in body if not isinstance(x, I.Return)], env)
            self._loop_stack.pop()

    def bind_args(
        self,
        bound: list[tuple[I.Var, I.Argument]],
        target: Env,
        env: Env,
        *,
        copy_in_aggregates: bool,
    ) -> list[tuple[Path, Path]]:
        """Bind a call's parameters; returns the (copy, argument) paths to copy out after the body.

        P4 passes arguments by copy-in/copy-out (spec, "Calling convention"). Binding an lvalue
        argument's storage directly (aliasing) gives the same result, and costs nothing, unless
        the body can reach one location through two names: two path arguments that overlap
        (``swap(x, x)``, ``f(hdr.h, hdr.h.f)``), or an aggregate ``in`` argument of an action,
        whose body may write the argument's storage through the enclosing control's names.
        Those parameters get storage of their own: copied in at the call (an ``out`` parameter
        starts as 0 / invalid, as uninitialised storage does in bmv2), and ``out``/``inout``
        ones copied back, left to right, after the body."""
        paths: dict[I.Var, Path] = {}
        for p, arg in bound:
            direction = p.direction or arg.direction
            if isinstance(arg.expr, I.DontCare):
                continue
            if direction in ("out", "inout") or _aggregate(p.type):
                path = self.path_of(arg.expr, env)
                if path is not None:
                    paths[p] = path
        copied: set[I.Var] = set()
        items = list(paths.items())
        for i, (p, a) in enumerate(items):
            for q, b in items[i + 1 :]:
                if a[: len(b)] == b or b[: len(a)] == a:
                    copied.update((p, q))
            if copy_in_aggregates and _aggregate(p.type) and (p.direction or "in") == "in":
                copied.add(p)
        copy_out: list[tuple[Path, Path]] = []
        for p, arg in bound:
            if p not in copied:
                self.bind_arg(p, arg, target, env)
                continue
            mine = ("$copy", p.uid)
            if not any(True for _ in self.st.leaves(mine)):
                self.st.declare(mine, p.type)
            direction = p.direction or arg.direction
            src, dst = list(self.st.leaves(paths[p])), list(self.st.leaves(mine))
            if len(src) != len(dst):
                raise EngineError(
                    f"{_loc(arg.expr)}: argument and parameter {p.name} differ in shape"
                )
            for d, s_ in zip(dst, src):
                if direction == "out":
                    self.em.line(f"{d.name} = {'False' if d.kind == 'valid' else '0'}")
                else:
                    self.em.line(f"{d.name} = {s_.name}")
            target[p] = Binding(path=mine)
            if direction in ("out", "inout"):
                copy_out.append((mine, paths[p]))
        return copy_out

    def emit_copy_out(self, copy_out: list[tuple[Path, Path]]) -> None:
        for mine, theirs in copy_out:
            for d, s_ in zip(self.st.leaves(theirs), self.st.leaves(mine)):
                self.em.line(f"{d.name} = {s_.name}")

    def inline_control(self, control: I.Control, args: list[I.Argument], env: Env) -> None:
        inner: Env = {}
        copy_out = self.bind_args(
            list(zip(control.params, args)), inner, env, copy_in_aggregates=False
        )
        # keep bindings of enclosing scopes for nothing else: a control only sees its params
        if self.trace:
            self.em.line(f"_tr('Control ' + {control.instance_name!r})")
        self.control_body(control, inner)
        self.emit_copy_out(copy_out)

    def control_body(self, control: I.Control, env: Env) -> None:
        for decl in control.locals:
            self.st_VarDecl(decl, env)
        self.wrapped_body(control.body, env)

    # -- const entries -------------------------------------------------------------------------
    def install_const_entries(self) -> None:
        for t in self.ir.tables:
            if not t.const_entries:
                continue
            table = self.state.table(t.p4info_name)
            keys = sorted(range(len(t.keys)), key=lambda i: t.keys[i].id)
            n = len(t.const_entries)
            for idx, ent in enumerate(t.const_entries):
                match = []
                for i in keys:
                    k, ks = t.keys[i], ent.keysets[i]
                    match.append(_normalise(k, ks))
                prio = 0
                if table.needs_priority:
                    prio = ent.priority if ent.priority is not None else n - idx
                act = ent.action
                aid = self.action_id(act.action)
                if table.get(tuple(match), prio) is None:
                    table.insert(
                        StateEntry(tuple(match), aid, tuple(act.args), prio, is_const=True)
                    )


def _normalise(k: I.TableKey, ks: I.KeySet) -> Any:
    w = k.width
    full = mask(w)
    kind = k.match_kind
    if kind == "exact":
        return ks.value & full
    if kind == "lpm":
        if ks.kind == "default":
            return (0, 0)
        if ks.kind == "value":
            return (ks.value & full, w)
        m = ks.mask & full
        plen = bin(m).count("1")
        return (ks.value & m, plen)
    if kind == "range":
        if ks.kind == "default":
            return (0, full)
        if ks.kind == "value":
            return (ks.value, ks.value)
        return (ks.value, ks.hi)
    # ternary / optional
    if ks.kind == "default":
        return (0, 0)
    if ks.kind == "value":
        return (ks.value & full, full)
    return (ks.value & ks.mask & full, ks.mask & full)


def _aggregate(t: I.Type) -> bool:
    return isinstance(t, (I.HeaderType, I.StructType, I.HeaderStackType))


def _has_early_return(body: list[I.Stmt]) -> bool:
    """True when a `return` is anywhere but as the last statement of the body."""

    def walk(stmts: list[I.Stmt], top: bool) -> bool:
        for i, s in enumerate(stmts):
            if isinstance(s, I.Return):
                if not (top and i == len(stmts) - 1):
                    return True
            elif isinstance(s, I.If):
                if walk(s.then, False) or walk(s.else_, False):
                    return True
            elif isinstance(s, I.Switch):
                for c in s.cases:
                    if c.body and walk(c.body, False):
                        return True
        return False

    return walk(body, True)


def _loc(node: Any) -> str:
    loc = getattr(node, "loc", None)
    return str(loc) if loc is not None else "<unknown>"
