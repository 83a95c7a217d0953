"""Statements: assignments (scalars, slices, whole headers and structs), declarations,
if, switch, validity, exit and return."""

from __future__ import annotations

from ...frontend import ir as I
from ..errors import EngineError
from ..storage import VALID, Path
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
