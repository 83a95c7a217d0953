"""Statements: blocks, assignments, if, switch, exit/return, and call statements
(actions, tables, nested controls, header and packet methods) with argument binding."""

from __future__ import annotations

from lark import Token, Tree

from .. import ir
from .base import ResolverBase
from .functions import check_aggregate_calls, check_stack_refs
from .scope import Scope, _Ctx
from .tree import Where, _child, _kids, _name, _need


class ResolveStatements(ResolverBase):
    # ------------------------------------------------------------ statements
    def var_decl(self, t: Tree[Token], scope: Scope, ctx: _Ctx) -> ir.VarDecl:
        kids = _kids(t)
        vtype = self.type_of(kids[1])
        vname = _name(kids[2])
        if isinstance(vtype, (ir.ExternType, ir.InfIntType, ir.StringType, ir.VoidType)):
            raise self.error(f"variable '{vname}' cannot have type {vtype}", kids[1])
        init = None
        if len(kids) > 3:
            init = self.coerce(self.expr(kids[3], scope), vtype, kids[3])
        var = ir.Var(vname, vtype, "local", self.uid(vname), "", self.loc(t))
        scope.declare(vname, var)
        return ir.VarDecl(self.loc(t), var, init)

    def stmts(self, trees: list[Tree[Token]], scope: Scope, ctx: _Ctx) -> list[ir.Stmt]:
        out: list[ir.Stmt] = []
        for s in trees:
            out.extend(self.stmt(s, scope, ctx))
        return out

    def stmt(self, t: Tree[Token], scope: Scope, ctx: _Ctx) -> list[ir.Stmt]:
        out = self.one_stmt(t, scope, ctx)
        for st in out:
            check_aggregate_calls(st)
            check_stack_refs(st, ctx.kind)
        return out

    def one_stmt(self, t: Tree[Token], scope: Scope, ctx: _Ctx) -> list[ir.Stmt]:
        d = t.data
        loc = self.loc(t)
        if d in ("empty_stmt", "annots"):  # a block's annotations are its first child
            return []
        if d == "block":
            return self.stmts(_kids(t), Scope(scope), ctx)
        if d == "var_decl":
            return [self.var_decl(t, scope, ctx)]
        if d == "const_decl":
            self.decl_const_decl(t, scope)
            return []
        if d == "assignment":
            lhs_t, rhs_t = _kids(t)
            lhs = self.lvalue(lhs_t, scope)
            rhs = self.coerce(self.expr(rhs_t, scope), lhs.type, rhs_t)
            return [ir.Assign(loc, lhs, rhs)]
        if d == "if_stmt":
            kids = _kids(t)
            cond = self.expr(kids[0], scope)
            if not isinstance(cond.type, ir.BoolType):
                raise self.error(f"if condition has type {cond.type}, not bool", kids[0])
            then = self.stmt(kids[1], Scope(scope), ctx)
            els = self.stmt(kids[2], Scope(scope), ctx) if len(kids) > 2 else []
            return [ir.If(loc, cond, then, els)]
        if d == "exit_stmt":
            if ctx.kind == "parser":
                raise self.error("exit is not allowed in a parser", t)
            return [ir.Exit(loc)]
        if d == "return_stmt":
            return [self.return_stmt(t, scope, ctx)]
        if d == "switch_stmt":
            return [self.switch(t, scope, ctx)]
        if d == "for_stmt":
            return [self.for_loop(t, scope, ctx)]
        if d == "for_in_stmt":
            raise self.error("for-in loops are not supported by p4sim (nor by p4c-bm2-ss)", t)
        if d in ("break_stmt", "continue_stmt"):
            if not self.loop_depth:
                raise self.error(f"'{d[:-5]}' outside a for loop", t)
            return [ir.Break(loc) if d == "break_stmt" else ir.Continue(loc)]
        if d == "direct_apply":
            return [self.direct_apply(t, scope, ctx)]
        if d == "local_instantiation":
            raise self.error("instantiations inside a block are not supported by p4sim", t)
        if d == "call_stmt":
            return self.call_stmt(t, scope, ctx)
        raise self.error(f"statement ({d.replace('_', ' ')}) is not supported by p4sim", t)

    def for_loop(self, t: Tree[Token], scope: Scope, ctx: _Ctx) -> ir.Stmt:
        """`for (init; cond; update) body` (its variables are local to the loop)."""
        if ctx.kind == "parser":
            raise self.error("for loops in parsers are not supported by p4sim", t)
        inner = Scope(scope)
        kids = _kids(t)
        init_t, body_t = kids[0], kids[-1]
        update_t = next(k for k in kids if k.data == "for_update")
        init = [s for item in _kids(init_t) for s in self.for_item(item, inner, ctx)]
        cond: ir.Expr | None = None
        if kids[1] is not update_t:
            cond = self.expr(kids[1], inner)
            if not isinstance(cond.type, ir.BoolType):
                raise self.error(f"a for condition has type {cond.type}, not bool", kids[1])
        update = [s for item in _kids(update_t) for s in self.for_item(item, inner, ctx)]
        self.loop_depth += 1
        try:
            body = self.stmt(body_t, Scope(inner), ctx)
        finally:
            self.loop_depth -= 1
        return ir.For(self.loc(t), init, cond, update, body)

    def for_item(self, t: Tree[Token], scope: Scope, ctx: _Ctx) -> list[ir.Stmt]:
        if t.data == "for_var":
            return [self.var_decl(t, scope, ctx)]
        if t.data == "for_assign":
            lhs_t, rhs_t = _kids(t)
            lhs = self.lvalue(lhs_t, scope)
            return [
                ir.Assign(self.loc(t), lhs, self.coerce(self.expr(rhs_t, scope), lhs.type, rhs_t))
            ]
        return self.call_stmt(t, scope, ctx)

    def direct_apply(self, t: Tree[Token], scope: Scope, ctx: _Ctx) -> ir.Stmt:
        """`C.apply(args)`: an instance of control C named C (p4c's naming), applied."""
        tname = _name(_need(t, "type_name"))
        decl = self.blocks.get(tname)
        if decl is None or not decl.has_body:
            raise self.error(f"'{tname}' is not a control or parser declared in the program", t)
        if decl.kind != "control" or ctx.kind != "control" or ctx.control is None:
            raise self.error(
                f"direct application of {decl.kind} {tname} here is not supported by p4sim "
                f"(sub-parsers are not supported)",
                t,
            )
        control = ctx.control
        sub = control.subcontrols.get(tname)
        if sub is None:
            sub = self.elaborate_control(decl, self.local_name(tname, (), control.instance_name))
            control.subcontrols[tname] = sub
        args = _kids(_need(t, "arguments"))
        bound = self.bind_args(sub.params, args, scope, t, f"control {tname}")
        return ir.ApplyControl(self.loc(t), sub, bound)

    def switch(self, t: Tree[Token], scope: Scope, ctx: _Ctx) -> ir.Stmt:
        kids = _kids(t)
        subject = self.expr(kids[0], scope, allow_action_run=True)
        cases: list[ir.SwitchCase] = []
        seen: set[str] = set()
        is_table = isinstance(subject, ir.TableApplyExpr)
        if not is_table and not isinstance(subject.type, (ir.BitsType, ir.EnumType, ir.ErrorType)):
            raise self.error(f"cannot switch on a value of type {subject.type}", kids[0])
        for c in kids[1:]:
            label_t = _kids(c)[0]
            if label_t.data == "switch_label":
                label_t = _kids(label_t)[0]
            body_t = _child(c, "case_block")
            if label_t.data == "default_label":
                label: str | ir.Expr = "default"
                key = "default"
            elif is_table:
                if label_t.data != "ident":
                    raise self.error("switch on action_run: labels must be action names", label_t)
                aname = _name(label_t)
                assert isinstance(subject, ir.TableApplyExpr)
                ref = subject.table.action_ref(aname)
                if ref is None:
                    raise self.error(
                        f"'{aname}' is not an action of table {subject.table.name}", label_t
                    )
                label = ref.action.name
                key = label
            else:
                label = self.coerce(self.expr(label_t, scope), subject.type, label_t)
                key = str(self.const_int(label, label_t))
            if key in seen:
                raise self.error(f"duplicate switch label '{key}'", label_t)
            if "default" in seen:
                raise self.error("'default' must be the last switch label", label_t)
            seen.add(key)
            body = self.stmts(_kids(body_t), Scope(scope), ctx) if body_t is not None else None
            cases.append(ir.SwitchCase([label], body))
        # merge fall-through labels into the next case with a body
        merged: list[ir.SwitchCase] = []
        pending: list[str | ir.Expr] = []
        for case in cases:
            if case.body is None:
                pending.extend(case.labels)
                continue
            merged.append(ir.SwitchCase(pending + case.labels, case.body))
            pending = []
        if pending:
            merged.append(ir.SwitchCase(pending, []))
        return ir.SwitchStmt(self.loc(t), subject, merged)

    # ----------------------------------------------------------------- calls
    def call_stmt(self, t: Tree[Token], scope: Scope, ctx: _Ctx) -> list[ir.Stmt]:
        kids = _kids(t)
        callee = kids[0]
        type_args: tuple[ir.Type, ...] = ()
        ta = _child(t, "type_args")
        if ta is not None:
            type_args = tuple(self.type_of(a) for a in _kids(ta))
        args = _kids(_need(t, "arguments"))
        loc = self.loc(t)
        if callee.data in ("ident", "global_ident"):
            fname = _name(callee)
            ent = scope.lookup(fname) if callee.data == "ident" else self.global_scope.lookup(fname)
            if isinstance(ent, ir.Action) or (isinstance(ent, tuple) and ent[0] == "top_action"):
                if ctx.kind == "parser":
                    raise self.error("actions cannot be called from a parser", t)
                act = self.resolve_action(fname, scope, callee)
                bound = self.bind_args(act.params, args, scope, t, f"action {fname}")
                return [ir.CallAction(loc, act, bound)]
            if isinstance(ent, tuple) and ent[0] == "function":
                fn, bound = self.function_call(fname, args, scope, t)
                return [ir.CallFunction(loc, fn, bound)]
            if fname == "verify":
                if ctx.kind != "parser":
                    raise self.error("verify() can only be called in a parser", t)
                bound = self.call_function(fname, type_args, args, scope, t)
                return [ir.Verify(loc, bound[0].expr, bound[1].expr)]
            if fname == "static_assert" and fname in self.extern_functions:
                self.static_assert(args, scope, t)
                return []
            if fname in self.extern_functions:
                return [self.extern_function_call(fname, type_args, args, scope, t, ctx)]
            raise self.error(f"unknown function or action '{fname}'", callee)
        if callee.data != "member":
            raise self.error("this call is not supported by p4sim", t)
        base_t, mname_t = _kids(callee)
        method = _name(mname_t)
        target = self.entity_or_expr(base_t, scope)
        if isinstance(target, ir.Table):
            if method != "apply":
                raise self.error(f"tables have no method '{method}'", mname_t)
            if args:
                raise self.error("table apply() takes no arguments", t)
            if ctx.kind != "control":
                raise self.error("tables can only be applied in a control's apply block", t)
            return [ir.ApplyTable(loc, target)]
        if isinstance(target, ir.Control):
            if method != "apply":
                raise self.error(f"controls have no method '{method}'", mname_t)
            bound = self.bind_args(target.params, args, scope, t, f"control {target.name}")
            return [ir.ApplyControl(loc, target, bound)]
        if isinstance(target, ir.ExternInstance):
            return [self.extern_method_call(target, method, type_args, args, scope, t)]
        assert isinstance(target, ir.Expr)
        bt = target.type
        if isinstance(bt, ir.HeaderType):
            if method in ("setValid", "setInvalid"):
                if args:
                    raise self.error(f"{method}() takes no arguments", t)
                self.check_writable(target, base_t)
                return [
                    ir.SetValid(loc, target) if method == "setValid" else ir.SetInvalid(loc, target)
                ]
            if method == "isValid":
                raise self.error("isValid() result is unused", t)
            raise self.error(f"headers have no method '{method}'", mname_t)
        if isinstance(bt, ir.PacketInType):
            if ctx.kind != "parser":
                raise self.error("packet_in methods can only be called in a parser", t)
            if method == "extract":
                if len(args) not in (1, 2):
                    raise self.error("extract takes 1 or 2 arguments", t)
                h = self.lvalue(self.arg_expr_tree(args[0]), scope)
                if not isinstance(h.type, ir.HeaderType):
                    raise self.error(f"extract needs a header, not {h.type}", args[0])
                if isinstance(h, ir.StackIndex):
                    pass
                vb = None
                if len(args) == 2:
                    if h.type.varbit_field is None:
                        raise self.error(f"header {h.type.name} has no varbit field", args[1])
                    vb = self.coerce(
                        self.expr(self.arg_expr_tree(args[1]), scope), ir.BitsType(32), args[1]
                    )
                elif h.type.varbit_field is not None:
                    raise self.error(
                        f"extracting header {h.type.name} (with a varbit field) "
                        f"needs a size argument",
                        t,
                    )
                return [ir.Extract(loc, h, vb)]
            if method == "advance":
                if len(args) != 1:
                    raise self.error("advance takes 1 argument", t)
                return [
                    ir.Advance(
                        loc,
                        self.coerce(
                            self.expr(self.arg_expr_tree(args[0]), scope), ir.BitsType(32), args[0]
                        ),
                    )
                ]
            raise self.error(
                f"packet_in.{method} as a statement is not supported by p4sim", mname_t
            )
        if isinstance(bt, ir.PacketOutType):
            if method != "emit":
                raise self.error(f"packet_out has no method '{method}'", mname_t)
            if ctx.kind != "deparser":
                raise self.error("emit can only be called in the deparser", t)
            if len(args) != 1:
                raise self.error("emit takes 1 argument", t)
            e = self.expr(self.arg_expr_tree(args[0]), scope)
            return [ir.Emit(loc, h) for h in self.expand_headers(e, args[0])]
        if isinstance(bt, ir.HeaderStackType):
            if method not in ("push_front", "pop_front"):
                raise self.error(f"header stacks have no method '{method}'", mname_t)
            if len(args) != 1:
                raise self.error(f"{method} takes 1 argument", t)
            count = self.const_int(self.expr(self.arg_expr_tree(args[0]), scope), args[0])
            if count < 0:
                raise self.error(f"{method} needs a count of at least 0", args[0])
            self.check_writable(target, base_t)
            return [ir.StackShift(loc, target, count, method == "push_front")]
        raise self.error(f"a value of type {bt} has no method '{method}'", mname_t)

    def expand_headers(self, e: ir.Expr, node: Where) -> list[ir.Expr]:
        t = e.type
        if isinstance(t, ir.HeaderType):
            return [e]
        if isinstance(t, ir.StructType):
            out: list[ir.Expr] = []
            for f in t.fields:
                out.extend(self.expand_headers(ir.Member(f.type, e.loc, e, f.name, f), node))
            return out
        if isinstance(t, ir.HeaderStackType):
            return [ir.StackIndex(t.element, e.loc, e, i) for i in range(t.size)]
        if isinstance(t, (ir.BitsType, ir.BoolType)):
            raise self.error(f"cannot emit a value of type {t} (only headers)", node)
        return []

    @staticmethod
    def arg_expr_tree(a: Tree[Token]) -> Tree[Token]:
        if a.data == "argument":
            return _kids(a)[0]
        return a

    def bind_args(
        self,
        params: list[ir.Var],
        args: list[Tree[Token]],
        scope: Scope,
        node: Where,
        what: str,
        typevars: dict[str, ir.Type] | None = None,
    ) -> list[ir.Argument]:
        by_name: dict[str, Tree[Token]] = {}
        positional: list[Tree[Token]] = []
        for a in args:
            if a.data == "named_argument":
                by_name[_name(_kids(a)[0])] = a
            else:
                if by_name:
                    raise self.error("positional argument after a named one", a)
                positional.append(a)
        unknown = [n for n in by_name if n not in {p.name for p in params}]
        if unknown or len(positional) > len(params):
            raise self.error(f"{what} takes {len(params)} arguments, got {len(args)}", node)
        out = []
        for i, p in enumerate(params):
            arg = positional[i] if i < len(positional) else by_name.get(p.name)
            if arg is None:
                default = self.param_defaults.get(p.uid)
                if default is None:
                    raise self.error(f"{what}: missing argument '{p.name}'", node)
                value = self.coerce(self.expr(default, Scope(self.global_scope)), p.type, default)
                out.append(ir.Argument(p.name, p.direction, value))
                continue
            out.append(self.bind_one(p.name, p.direction, p.type, arg, scope))
        return out

    def bind_one(
        self, pname: str, direction: str, ptype: ir.Type | None, a: Tree[Token], scope: Scope
    ) -> ir.Argument:
        if a.data == "dontcare_argument":
            if direction != "out":
                raise self.error(f"'_' can only be passed to an out parameter ({pname})", a)
            return ir.Argument(
                pname, direction, ir.DontCare(ptype or ir.DontCareType(), self.loc(a))
            )
        et = _kids(a)[-1]
        if direction in ("out", "inout"):
            e = self.lvalue(et, scope)
            if ptype is not None and e.type != ptype:
                raise self.error(
                    f"argument '{pname}' has type {e.type}, parameter needs {ptype}", a
                )
        else:
            e = self.expr(et, scope)
            if ptype is not None:
                e = self.coerce(e, ptype, a)
        return ir.Argument(pname, direction, e)
