"""P4 functions, inlined at their call sites with the copy-in/copy-out calling convention;
a result is a temporary (scalars) or storage of the call site's own (headers, structs)."""

from __future__ import annotations

from ...frontend import ir as I
from ..errors import EngineError
from ..storage import Path
from .base import Binding, CodeGenBase, Env, _loc, has_early_return, is_aggregate


class FunctionGen(CodeGenBase):
    def st_CallFunction(self, s: I.CallFunction, env: Env) -> None:
        self.inline_function(s.function, s.args, env, None)

    def ex_FunctionCallExpr(self, e: I.FunctionCallExpr, env: Env) -> str:
        if is_aggregate(e.type):
            raise EngineError(f"{_loc(e)}: a function result of type {e.type} used as a value")
        result = self.tmp("fr")
        self.em.line(f"{result} = 0")
        self.inline_function(e.function, e.args, env, result)
        return result

    def call_for_storage(self, e: I.FunctionCallExpr, env: Env) -> Path:
        """Call a function returning a header or struct; returns the storage of its result."""
        path: Path = ("$ret", self.tmp("r"))
        self.st.declare(path, e.type)
        self.inline_function(e.function, e.args, env, path)
        return path

    def inline_function(
        self, fn: I.Function, args: list[I.Argument], env: Env, result: str | Path | None
    ) -> None:
        if fn in self._functions:
            raise EngineError(f"{_loc(fn)}: function {fn.name} calls itself")
        if self.trace:
            self.em.line(f"_tr('Function ' + {fn.name!r})")
        inner: Env = {}
        copy_out = self.bind_args(list(zip(fn.params, args)), inner, env, copy_in_aggregates=False)
        ret: I.Var | None = None
        if isinstance(result, tuple):
            ret = I.Var("$result", fn.return_type, "local", self.tmp("ret"))
            inner[ret] = Binding(path=result)
        self._functions.append(fn)
        self._returns.append((result if isinstance(result, str) else None, ret))
        self._copy_outs.append(copy_out)
        try:
            if has_early_return(fn.body):
                self._loop_stack.append(True)
                with self.em.block("while True:"):
                    self.stmts(fn.body, inner)
                    self.em.line("break")
            else:
                self._loop_stack.append(False)
                self.stmts(fn.body, inner)
            self._loop_stack.pop()
        finally:
            self._copy_outs.pop()
            self._returns.pop()
            self._functions.pop()
        self.emit_copy_out(copy_out)

    def function_return(self, s: I.Return, env: Env) -> None:
        """`return value;` in a function body: the value into the call's result."""
        assert s.value is not None
        temp, var = self._returns[-1]
        if var is not None:
            self.assign(I.VarRef(var.type, s.loc, var), s.value, env)
        elif temp is not None:
            self.em.line(f"{temp} = {self.ex(s.value, env)}")
        else:
            self.ex(s.value, env)  # a call statement: the value is discarded
