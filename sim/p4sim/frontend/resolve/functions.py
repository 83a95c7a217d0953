"""Functions: top-level P4 functions, elaborated on first call, and their calls (as
statements and as values)."""

from __future__ import annotations

from lark import Token, Tree

from ...errors import CompileError
from .. import ir
from ..checks import stmt_exprs
from .base import ResolverBase
from .scope import Scope, _Ctx
from .tree import Where, _child, _kids, _name, _need


class ResolveFunctions(ResolverBase):
    def decl_function_decl(self, t: Tree[Token]) -> None:
        name = _name(_need(t, "name"))
        if _child(t, "type_params"):
            raise self.error(f"generic function '{name}' is not supported by p4sim", t)
        self.function_trees.setdefault(name, []).append(t)
        self.global_scope.declare(name, ("function", t))

    def function(self, name: str, nargs: int, node: Where) -> ir.Function:
        """The function `name` taking `nargs` arguments (functions overload by arity)."""
        trees = [t for t in self.function_trees.get(name, []) if self._takes(t, nargs)]
        if not trees:
            raise self.error(f"function {name} does not take {nargs} arguments", node)
        t = trees[-1]
        done = self.function_ir.get(id(t))
        if done is not None:
            if id(t) in self.functions_in_progress:
                raise self.error(f"function {name} calls itself (P4 has no recursion)", node)
            return done
        params = self.params(_need(t, "params"), "param")
        for p in params:
            if not p.direction:
                p.direction = "in"
            if isinstance(p.type, (ir.ExternType, ir.PacketInType, ir.PacketOutType)):
                raise self.error(
                    f"function {name}: parameter '{p.name}' of type {p.type} is not supported "
                    f"by p4sim",
                    p.loc,
                )
        ret = self.type_of(_kids(t)[1])
        fn = ir.Function(name, params, ret, [], self.loc(t))
        self.function_ir[id(t)] = fn
        self.functions_in_progress.add(id(t))
        scope = Scope(self.global_scope)
        for p in params:
            scope.declare(p.name, p)
        body = self.stmts(_kids(_need(t, "block")), scope, _Ctx("function", function=fn))
        if not isinstance(ret, ir.VoidType) and not _ends_in_return(body):
            raise self.error(f"function {name} can end without returning a value", t)
        fn.body = body
        self.functions_in_progress.discard(id(t))
        return fn

    @staticmethod
    def _takes(t: Tree[Token], nargs: int) -> bool:
        """A function declaration can take nargs arguments (parameters with a default
        value may be left out)."""
        params = _kids(_need(t, "params"))
        required = sum(
            1
            for p in params
            if len([k for k in _kids(p) if k.data not in ("annots", "direction", "name")]) == 1
        )
        return required <= nargs <= len(params)

    def function_call(
        self, name: str, args: list[Tree[Token]], scope: Scope, node: Tree[Token]
    ) -> tuple[ir.Function, list[ir.Argument]]:
        fn = self.function(name, len(args), node)
        bound = self.bind_args(fn.params, args, scope, node, f"function {name}")
        return fn, bound

    def return_stmt(self, t: Tree[Token], scope: Scope, ctx: _Ctx) -> ir.Stmt:
        kids = _kids(t)
        loc = self.loc(t)
        if ctx.kind == "parser":
            raise self.error("return is not allowed in a parser", t)
        if ctx.function is None:
            if kids:
                raise self.error("return with a value outside a function", t)
            return ir.Return(loc)
        ret = ctx.function.return_type
        if isinstance(ret, ir.VoidType):
            if kids:
                raise self.error(f"function {ctx.function.name} returns void", t)
            return ir.Return(loc)
        if not kids:
            raise self.error(f"function {ctx.function.name} must return a {ret}", t)
        value = self.coerce(self.expr(kids[0], scope), ret, kids[0])
        return ir.Return(loc, value)


def _ends_in_return(body: list[ir.Stmt]) -> bool:
    """Every path through `body` ends in a return (or an exit)."""
    if not body:
        return False
    last = body[-1]
    if isinstance(last, (ir.Return, ir.Exit)):
        return True
    if isinstance(last, ir.If):
        return _ends_in_return(last.then) and _ends_in_return(last.else_)
    if isinstance(last, ir.SwitchStmt):
        has_default = any(lbl == "default" for c in last.cases for lbl in c.labels)
        return has_default and all(_ends_in_return(c.body or []) for c in last.cases)
    return any(isinstance(s, (ir.Return, ir.Exit)) for s in body)


def check_aggregate_calls(s: ir.Stmt) -> None:
    """A call of a function returning a header or struct is only supported as the whole
    value of an assignment, initialiser or return (it needs storage for its result)."""
    whole = getattr(s, "value", None) if isinstance(s, (ir.Assign, ir.Return)) else None
    if isinstance(s, ir.VarDecl):
        whole = s.init
    for e in stmt_exprs(s):
        if (
            isinstance(e, ir.FunctionCallExpr)
            and isinstance(e.type, (ir.HeaderType, ir.StructType, ir.TupleType, ir.VarbitType))
            and e is not whole
        ):
            raise CompileError.at(
                f"this use of a call of function {e.function.name} (returning {e.type}) is "
                f"not supported by p4sim (only as the whole value of an assignment, "
                f"initialiser or return)",
                e.loc,
            )


def check_stack_refs(s: ir.Stmt, where: str) -> None:
    """`stack.next` is supported as what `extract` fills; `stack.last` for reading a field
    or the validity of the last element extracted (both in parsers only)."""
    allowed: set[int] = set()
    if isinstance(s, ir.Extract) and isinstance(s.header, ir.StackNext):
        allowed.add(id(s.header))
    for e in stmt_exprs(s):
        if isinstance(e, (ir.Member, ir.IsValid)):
            inner = e.base if isinstance(e, ir.Member) else e.header
            if isinstance(inner, ir.StackLast) and not (isinstance(s, ir.Assign) and e is s.target):
                allowed.add(id(inner))
    for e in stmt_exprs(s):
        if isinstance(e, (ir.StackNext, ir.StackLast, ir.StackLastIndex)):
            what = {ir.StackNext: "next", ir.StackLast: "last", ir.StackLastIndex: "lastIndex"}[
                type(e)
            ]
            if where != "parser":
                raise CompileError.at(f"stack.{what} can only be used in a parser", e.loc)
            if not isinstance(e, ir.StackLastIndex) and id(e) not in allowed:
                raise CompileError.at(
                    f"this use of stack.{what} is not supported by p4sim (stack.next as the "
                    f"header extract fills, stack.last to read a field or its validity)",
                    e.loc,
                )
