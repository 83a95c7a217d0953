"""Actions and controls inlined at their call sites, with P4's copy-in/copy-out calling
convention (aliasing where it gives the same result)."""

from __future__ import annotations

from ...frontend import ir as I
from ..errors import EngineError
from ..storage import Path
from .aliasing import overlap, reached_paths
from .base import Binding, CodeGenBase, Env, _loc, has_early_return, is_aggregate

# what to write back after a body: (the parameter's own storage, the argument's storage
# path or, for a slice, the argument expression, and the scope to evaluate it in)
CopyOut = tuple[Path, Path | I.Expr, Env]


class ControlGen(CodeGenBase):
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
        reached = self.reached_by_body(action, env) if directional else []
        copy_out = self.bind_args(bound, inner, env, copy_in_aggregates=True, reached=reached)
        self._copy_outs.append(copy_out)
        self.wrapped_body(action.body, inner)
        self._copy_outs.pop()
        self.emit_copy_out(copy_out)

    def reached_by_body(self, action: I.Action, env: Env) -> list[Path]:
        """Storage the action's body reaches through names of the enclosing control."""

        def root(var: I.Var) -> Path | None:
            b = env.get(var)
            if b is not None:
                return b.path
            return (var.uid,)

        return reached_paths(action, root)

    def bind_arg(self, p: I.Var, arg: I.Argument, target: Env, env: Env) -> None:
        """Bind parameter ``p`` in ``target`` to ``arg`` evaluated in ``env``: lvalue paths
        alias (copy-in/copy-out gives the same result when arguments do not overlap), other
        in-arguments are evaluated once into a temporary."""
        direction = p.direction or arg.direction
        path = self.path_of(arg.expr, env) if not isinstance(arg.expr, I.DontCare) else None
        if direction in ("out", "inout") or (path is not None and is_aggregate(p.type)):
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
        if is_aggregate(p.type):
            raise EngineError(f"{_loc(arg.expr)}: aggregate in-arguments must be storage locations")
        v = self.ex(arg.expr, env)
        t = self.tmp("arg")
        self.em.line(f"{t} = {v}")
        target[p] = Binding(expr=t)

    def wrapped_body(self, body: list[I.Stmt], env: Env) -> None:
        """A body in which `return` must leave early: wrapped in a one-pass loop."""
        if has_early_return(body):
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
        reached: list[Path] | None = None,
    ) -> list[CopyOut]:
        """Bind a call's parameters; returns what to copy out after the body.

        P4 passes arguments by copy-in/copy-out (spec, "Calling convention"). Binding an lvalue
        argument's storage directly (aliasing) gives the same result, and costs nothing, unless
        the body can reach one location through two names: two path arguments that overlap
        (``swap(x, x)``, ``f(hdr.h, hdr.h.f)``), an out/inout argument the body also reaches
        through the enclosing control's names (``reached``: ``a(c)`` where ``a`` assigns ``c``
        too), or an aggregate ``in`` argument of an action, whose body may write the
        argument's storage through the enclosing control's names. Those parameters get storage
        of their own: copied in at the call (an ``out`` parameter starts as 0 / invalid, as
        uninitialised storage does in bmv2), and ``out``/``inout`` ones copied back, left to
        right, after the body. So does an out/inout argument that is a slice (``f(x[7:4])``):
        it is written back into the slice."""
        paths: dict[I.Var, Path] = {}
        copied: set[I.Var] = set()
        for p, arg in bound:
            direction = p.direction or arg.direction
            if isinstance(arg.expr, I.DontCare):
                continue
            if direction in ("out", "inout") or is_aggregate(p.type):
                path = self.path_of(arg.expr, env)
                if path is not None:
                    paths[p] = path
                else:
                    # a slice (written back with a read-modify-write), or a header or
                    # struct value such as {f = v} (built in storage of its own)
                    copied.add(p)
        items = list(paths.items())
        for i, (p, a) in enumerate(items):
            for q, b in items[i + 1 :]:
                if overlap(a, b):
                    copied.update((p, q))
            if copy_in_aggregates and is_aggregate(p.type) and (p.direction or "in") == "in":
                copied.add(p)
            if (p.direction or "in") != "in" and any(overlap(a, r) for r in reached or ()):
                copied.add(p)
        copy_out: list[CopyOut] = []
        for p, arg in bound:
            if p not in copied:
                self.bind_arg(p, arg, target, env)
                continue
            mine = ("$copy", p.uid)
            if not any(True for _ in self.st.leaves(mine)):
                self.st.declare(mine, p.type)
            direction = p.direction or arg.direction
            dst = list(self.st.leaves(mine))
            if p not in paths and direction in ("out", "inout"):  # a slice
                value = self.ex(arg.expr, env) if direction == "inout" else "0"
                self.em.line(f"{dst[0].name} = {value}")
                target[p] = Binding(path=mine)
                copy_out.append((mine, arg.expr, env))
                continue
            if p not in paths:  # an aggregate value that is not in storage
                tmp = I.Var(p.name, p.type, "local", self.tmp("agg"))
                self.assign(
                    I.VarRef(p.type, arg.expr.loc, tmp), arg.expr, {**env, tmp: Binding(path=mine)}
                )
                target[p] = Binding(path=mine)
                continue
            src = list(self.st.leaves(paths[p]))
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
                copy_out.append((mine, paths[p], env))
        return copy_out

    def emit_copy_out(self, copy_out: list[CopyOut]) -> None:
        for mine, theirs, env in copy_out:
            if isinstance(theirs, I.Expr):
                self.store(theirs, self.st.name(mine), env)
                continue
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
        self._copy_outs.append(copy_out)
        self.control_body(control, inner)
        self._copy_outs.pop()
        self.emit_copy_out(copy_out)

    def control_body(self, control: I.Control, env: Env) -> None:
        for decl in control.locals:
            self.st_VarDecl(decl, env)
        self.wrapped_body(control.body, env)
