"""Controls and actions: one control instance with its locals, nested instances,
actions and tables; P4Info names of the objects a control declares."""

from __future__ import annotations

from lark import Token, Tree

from .. import ir
from .base import ResolverBase
from .scope import Scope, _BlockDecl, _Ctx
from .tree import Where, _child, _kids, _name, _need


class ResolveControls(ResolverBase):
    # -------------------------------------------------------------- controls
    def elaborate_control(self, decl: _BlockDecl, path: str, role: str = "") -> ir.Control:
        t = decl.tree
        ctor = _child(t, "ctor_params")
        if ctor is not None and _kids(_need(ctor, "params")):
            raise self.error(
                f"constructor parameters of control {decl.name} are not supported by p4sim", ctor
            )
        params = self.params(_need(t, "params"), "param")
        scope = Scope(self.global_scope)
        for p in params:
            scope.declare(p.name, p)
        control = ir.Control(decl.name, path, params, [], {}, {}, {}, {}, [], self.loc(t))
        # p4c's HierarchicalNames prefixes names with the control's declared name; nested
        # instances add their instance name (Inline's ComputeNewNames).
        ctx = _Ctx("deparser" if role == "dep" else "control", control=control)
        apply_block = None
        for local in _kids(t):
            d = local.data
            if d == "const_decl":
                self.decl_const_decl(local, scope)
            elif d == "var_decl":
                control.locals.append(self.var_decl(local, scope, ctx))
            elif d == "instantiation":
                ann_t, ty_t, args_t, name_t = _kids(local)
                tname = _name(ty_t)
                iname = _name(name_t)
                if tname in self.blocks:
                    sub = self.blocks[tname]
                    if sub.kind != "control" or not sub.has_body:
                        raise self.error(
                            f"cannot instantiate '{tname}' here (sub-parsers are "
                            f"not supported by p4sim)",
                            local,
                        )
                    if _kids(args_t):
                        raise self.error(
                            "constructor parameters of controls are not supported by p4sim", local
                        )
                    sub_name = self.local_name(iname, self.annotations(ann_t), path)
                    subc = self.elaborate_control(sub, sub_name)
                    control.subcontrols[iname] = subc
                    scope.declare(iname, subc)
                else:
                    ext = self.extern_instance(local, scope, path)
                    control.externs[ext.name] = ext
                    scope.declare(ext.name, ext)
            elif d == "action_decl":
                act = self.action(local, scope, path)
                control.actions[act.name] = act
                scope.declare(act.name, act)
            elif d == "table_decl":
                tbl = self.table(local, scope, path, control)
                control.tables[tbl.name] = tbl
                scope.declare(tbl.name, tbl)
            elif d == "block":
                apply_block = local
        assert apply_block is not None
        control.body = self.stmts(_kids(apply_block), Scope(scope), ctx)
        return control

    @staticmethod
    def local_name(name: str, annotations: tuple[ir.Annotation, ...], path: str) -> str:
        """P4Info name of an object declared in the control/parser at `path`."""
        a = ir.find_annotation(annotations, "name")
        if a is not None and a.value:
            if a.value.startswith("."):
                return a.value[1:]
            name = a.value
        return f"{path}.{name}" if path else name

    # --------------------------------------------------------------- actions
    def action(self, t: Tree[Token], scope: Scope, path: str) -> ir.Action:
        ann = self.annotations(_child(t, "annots"))
        name = _name(_need(t, "name"))
        params = self.params(_need(t, "params"), "action")
        seen_data = False
        for p in params:
            if p.kind == "action_param":
                seen_data = True
            elif seen_data:
                raise self.error(
                    f"action {name}: directional parameter '{p.name}' after a directionless one",
                    p.loc,
                )
            if p.kind == "action_param" and not isinstance(
                p.type, (ir.BitsType, ir.BoolType, ir.EnumType)
            ):
                raise self.error(
                    f"action parameter '{p.name}' has type {p.type}; action data "
                    f"must be bit<W>, int<W>, bool or a serializable enum",
                    p.loc,
                )
        act = ir.Action(name, self.local_name(name, ann, path), params, [], ann, loc=self.loc(t))
        ascope = Scope(scope)
        for p in params:
            ascope.declare(p.name, p)
        act.body = self.stmts(_kids(_need(t, "block")), ascope, _Ctx("action", action=act))
        self.all_actions.append(act)
        return act

    def top_action(self, name: str) -> ir.Action:
        if name not in self.top_action_ir:
            t = self.top_actions[name]
            self.top_action_ir[name] = self.action(t, Scope(self.global_scope), "")
        return self.top_action_ir[name]

    def resolve_action(self, name: str, scope: Scope, node: Where) -> ir.Action:
        ent = scope.lookup(name)
        if isinstance(ent, ir.Action):
            return ent
        if isinstance(ent, tuple) and ent[0] == "top_action":
            return self.top_action(name)
        raise self.error(f"'{name}' is not an action", node)
