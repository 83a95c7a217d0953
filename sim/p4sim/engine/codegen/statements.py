"""Statements: assignments (scalars, slices, whole headers and structs), declarations,
if, switch, validity, exit and return."""

from __future__ import annotations

from ...frontend import ir as I
from ..errors import EngineError
from ..storage import VALID, VLEN, Path
from .base import CodeGenBase, Env, _loc, mask


class StatementGen(CodeGenBase):
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
        if isinstance(t, (I.HeaderType, I.StructType, I.HeaderStackType, I.TupleType)):
            self.assign_aggregate(target, value, env)
            return
        if isinstance(t, I.VarbitType):
            self.assign_varbit(target, value, env)
            return
        if isinstance(target, I.DontCare):
            self.ex(value, env)
            return
        self.store(target, self.ex(value, env), env)

    def store(self, target: I.Expr, v: str, env: Env) -> None:
        """Write the value `v` (Python source) to a scalar lvalue: a storage location or a
        slice of one (slices of slices are one slice of the innermost base)."""
        if isinstance(target, I.Slice):
            lo, hi, base_e = target.lo, target.hi, target.base
            while isinstance(base_e, I.Slice):
                lo, hi, base_e = lo + base_e.lo, hi + base_e.lo, base_e.base
            base = self.slot(base_e, env)
            m = mask(hi - lo + 1) << lo
            full = mask(base_e.type.width or 0)
            self.em.line(f"{base} = ({base} & {full ^ m}) | ({v} << {lo})")
            return
        self.em.line(f"{self.slot(target, env)} = {v}")

    def assign_varbit(self, target: I.Expr, value: I.Expr, env: Env) -> None:
        """A varbit value is its bits and its current length in bits: both are copied."""
        tpath = self.path_of(target, env)
        if isinstance(value, I.FunctionCallExpr):
            vpath: Path | None = self.call_for_storage(value, env)
        else:
            vpath = self.path_of(value, env)
        if tpath is None or vpath is None:
            raise EngineError(f"{_loc(value)}: unsupported varbit value")
        self.em.line(
            f"{self.st.name(tpath)}, {self.st.name(tpath + (VLEN,))} = "
            f"{self.st.name(vpath)}, {self.st.name(vpath + (VLEN,))}"
        )

    def assign_aggregate(self, target: I.Expr, value: I.Expr, env: Env) -> None:
        tpath = self.path_of(target, env)
        if tpath is None:
            raise EngineError(f"{_loc(target)}: cannot assign to this expression")
        if isinstance(value, I.ListExpr) and isinstance(target.type, I.TupleType):
            for i, (et, x) in enumerate(zip(target.type.elements, value.elements)):
                self.assign(I.StackIndex(et, target.loc, target, i), x, env)
            return
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
        if isinstance(value, I.InvalidHeader):
            self.em.line(f"{self.st.name(tpath + (VALID,))} = False")
            return
        if isinstance(value, I.FunctionCallExpr):
            vpath: Path | None = self.call_for_storage(value, env)
        else:
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

    def st_SwitchStmt(self, s: I.SwitchStmt, env: Env) -> None:
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
        # the calls being executed end here: their out/inout parameters are still copied
        # back, innermost first (as p4c compiles exit for bmv2)
        for copy_out in reversed(self._copy_outs):
            self.emit_copy_out(copy_out)
        self.has_exit = True
        self.em.line("raise _EXIT")

    def st_Return(self, s: I.Return, env: Env) -> None:
        if not self._loop_stack:
            raise EngineError(f"{_loc(s)}: return outside an action, control or function")
        if s.value is not None:
            self.function_return(s, env)
        if self._fors and self._fors[-1][0] == len(self._loop_stack):
            self.em.line(f"{self._fors[-1][1]} = True")  # leave the for loops, then the body
            self.em.line("break")
        elif self._loop_stack[-1]:
            self.em.line("break")

    def st_For(self, s: I.For, env: Env) -> None:
        """`while True` with the update at the top (skipped the first time), so that
        `continue` is Python's; a `return` in the body leaves through a flag that each
        enclosing loop of the same body tests when it ends."""
        self.stmts(s.init, env)
        first = self.tmp("ff")
        self.em.line(f"{first} = False")
        flag = None
        if contains_return(s.body):
            level = len(self._loop_stack)
            flag = next((f for lv, f in self._fors if lv == level), None)
            if flag is None:
                flag = self.tmp("rf")
                self.em.line(f"{flag} = False")
            self._fors.append((level, flag))
        with self.em.block("while True:"):
            if s.update:
                with self.em.block(f"if {first}:"):
                    self.stmts(s.update, env)
            self.em.line(f"{first} = True")
            if s.cond is not None:
                with self.em.block(f"if not {self.ex(s.cond, env)}:"):
                    self.em.line("break")
            self.stmts(s.body, env)
        if flag is not None:
            self._fors.pop()
            with self.em.block(f"if {flag}:"):
                self.em.line("break")

    def st_Break(self, s: I.Break, env: Env) -> None:
        self.em.line("break")

    def st_Continue(self, s: I.Continue, env: Env) -> None:
        self.em.line("continue")

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


def contains_return(body: list[I.Stmt]) -> bool:
    """A `return` anywhere in `body` (nested statements included)."""
    for s in body:
        if isinstance(s, I.Return):
            return True
        if isinstance(s, I.If) and (contains_return(s.then) or contains_return(s.else_)):
            return True
        if isinstance(s, I.SwitchStmt) and any(contains_return(c.body or []) for c in s.cases):
            return True
        if isinstance(s, I.For) and contains_return(s.body):
            return True
    return False
