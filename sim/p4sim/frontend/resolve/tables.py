"""Tables: properties, keys and their P4Info names, action lists, default actions and
const entries."""

from __future__ import annotations

from lark import Token, Tree

from .. import ir
from .base import ResolverBase
from .scope import Scope
from .tree import Where, _child, _children, _kids, _name, _need, _tokens


class ResolveTables(ResolverBase):
    def table(self, t: Tree[Token], scope: Scope, path: str, control: ir.Control) -> ir.Table:
        ann = self.annotations(_child(t, "annots"))
        name = _name(_need(t, "name"))
        keys: list[ir.TableKey] = []
        refs: list[ir.ActionRef] = []
        default: tuple[Tree[Token], bool] | None = None
        entries: tuple[Tree[Token], bool] | None = None
        size, size_explicit = 1024, False
        dcounter = dmeter = None
        timeout = False
        seen: set[str] = set()
        for prop in _kids(t):
            if prop.data in ("annots", "name"):
                continue
            pname = {"key_prop": "key", "actions_prop": "actions", "entries_prop": "entries"}.get(
                prop.data
            ) or str(next(x for x in _tokens(prop) if x.type == "IDENTIFIER"))
            if pname in seen:
                raise self.error(f"table {name}: property '{pname}' is given twice", prop)
            seen.add(pname)
            is_const = any(x.type == "CONST" for x in _tokens(prop))
            if prop.data == "key_prop":
                for i, ke in enumerate(_children(prop, "key_element"), 1):
                    keys.append(self.table_key(ke, scope, i))
            elif prop.data == "actions_prop":
                for ar in _children(prop, "action_ref"):
                    rann = self.annotations(_child(ar, "annots"))
                    aname = _name(_need(ar, "prefixed_name"))
                    act = self.resolve_action(aname, scope, ar)
                    if any(r.action is act for r in refs):
                        raise self.error(f"table {name}: action {aname} is listed twice", ar)
                    args = []
                    argt = _child(ar, "arguments")
                    if argt is not None:
                        args = self.bind_args(
                            act.directional_params, _kids(argt), scope, ar, f"action {aname}"
                        )
                    elif act.directional_params:
                        raise self.error(
                            f"table {name}: action {aname} has directional "
                            f"parameters; bind them in the actions list",
                            ar,
                        )
                    refs.append(ir.ActionRef(act, rann, args))
            elif prop.data == "entries_prop":
                entries = (prop, is_const)
            else:
                value = _kids(prop)[-1]
                if pname == "default_action":
                    default = (value, is_const)
                elif pname == "size":
                    size = self.const_int(self.expr(value, scope), value)
                    size_explicit = True
                    if size < 0:
                        raise self.error(f"table {name}: negative size", value)
                elif pname in ("counters", "meters"):
                    ent = scope.lookup(_name(value)) if value.data == "ident" else None
                    want = "direct_counter" if pname == "counters" else "direct_meter"
                    if not isinstance(ent, ir.ExternInstance) or ent.extern_type != want:
                        raise self.error(
                            f"table {name}: '{pname}' must name a {want} instance", value
                        )
                    if ent.table is not None:
                        raise self.error(
                            f"{want} {ent.name} is attached to two tables "
                            f"({ent.table.name} and {name})",
                            value,
                        )
                    if pname == "counters":
                        dcounter = ent
                    else:
                        dmeter = ent
                elif pname == "support_timeout":
                    e = self.expr(value, scope)
                    if not isinstance(e, ir.BoolConst):
                        raise self.error("support_timeout must be true or false", value)
                    timeout = e.value
                elif pname == "implementation":
                    raise self.error(
                        "table implementations (action profiles/selectors) are "
                        "not supported by p4sim",
                        prop,
                    )
                else:
                    raise self.error(f"table {name}: unknown table property '{pname}'", prop)
        if not refs and "actions" not in seen:
            raise self.error(f"table {name} has no 'actions' property", t)
        # default action
        if default is None:
            noaction = self.resolve_action("NoAction", scope, t)
            if not any(r.action is noaction for r in refs):
                refs.append(ir.ActionRef(noaction, (ir.Annotation("defaultonly"),)))
            dcall = ir.ActionCall(noaction, [], self.loc(t))
            dconst, dexplicit = False, False
        else:
            dcall = self.action_call(default[0], scope, refs, f"table {name} default_action")
            ref = next(r for r in refs if r.action is dcall.action)
            if ref.table_only:
                raise self.error(
                    f"table {name}: default action {dcall.action.name} is @tableonly", default[0]
                )
            dconst, dexplicit = default[1], True
        tbl = ir.Table(
            name,
            self.local_name(name, ann, path),
            0,
            keys,
            refs,
            dcall,
            dconst,
            dexplicit,
            None,
            False,
            size,
            size_explicit,
            dcounter,
            dmeter,
            timeout,
            ann,
            self.loc(t),
        )
        if dcounter is not None:
            dcounter.table = tbl
        if dmeter is not None:
            dmeter.table = tbl
        if entries is not None:
            etree, econst = entries
            if not econst:
                raise self.error(
                    "mutable 'entries' (without const) are not supported by p4sim", etree
                )
            tbl.entries_const = econst
            tbl.const_entries = self.const_entries(tbl, etree, scope, refs)
        self.all_tables.append(tbl)
        return tbl

    def const_entries(
        self, tbl: ir.Table, etree: Tree[Token], scope: Scope, refs: list[ir.ActionRef]
    ) -> list[ir.ConstEntry]:
        """The entries of `const entries`, with their priorities when the table needs them.

        p4c's bmv2 back end gives an entry the value of its `@priority(n)` annotation (p4c
        warns that it ignores it, but writes it into the JSON), or else its 1-based position
        in the list, and bmv2 picks the matching entry with the smallest value. The IR keeps
        P4Runtime priorities (larger wins): `1 + max(values) - value`, which is the entry
        count minus the position for a list without `@priority`."""
        name = tbl.name
        kinds = [k.match_kind for k in tbl.keys]
        out: list[ir.ConstEntry] = []
        bmv2_prio: list[int] = []
        for idx, en in enumerate(_children(etree, "entry")):
            kids = _kids(en)
            if any(x.type == "CONST" for x in _tokens(en)) or _child(en, "entry_priority"):
                raise self.error(
                    f"table {name}: an entry of 'const entries' cannot have 'const' or "
                    f"'priority =' (p4c rejects them too)",
                    en,
                )
            ks_tree, act_tree = [k for k in kids if k.data != "annots"][:2]
            ann = tuple(a for k in _children(en, "annots") for a in self.annotations(k))
            kss = self.keysets(ks_tree, [k.expr for k in tbl.keys], scope, "entry", kinds)
            call = self.action_call(act_tree, scope, refs, f"table {name} entry")
            ref = next(r for r in refs if r.action is call.action)
            if ref.default_only:
                raise self.error(
                    f"table {name}: entry uses @defaultonly action {call.action.name}", act_tree
                )
            a = ir.find_annotation(ann, "priority")
            if a is None:
                bmv2_prio.append(idx + 1)
            else:
                try:
                    bmv2_prio.append(int(a.value or "", 0))
                except ValueError:
                    raise self.error("@priority needs an integer argument", a.loc) from None
                if bmv2_prio[-1] < 0:
                    raise self.error("@priority must not be negative", a.loc)
            out.append(ir.ConstEntry(kss, call, None, self.loc(en), ann))
        if tbl.needs_priority and out:
            top = max(bmv2_prio) + 1
            for e, b in zip(out, bmv2_prio):
                e.priority = top - b
        return out

    def table_key(self, ke: Tree[Token], scope: Scope, index: int) -> ir.TableKey:
        expr_t, mk_t, ann_t = _kids(ke)
        e = self.expr(expr_t, scope)
        mk = _name(mk_t)
        if mk not in self.match_kinds:
            raise self.error(f"unknown match kind '{mk}'", mk_t)
        if mk not in ("exact", "lpm", "ternary", "optional", "range"):
            raise self.error(f"match kind '{mk}' is not supported by p4sim", mk_t)
        if not isinstance(e.type, (ir.BitsType, ir.BoolType, ir.EnumType)) or (
            isinstance(e.type, ir.EnumType) and e.type.underlying is None
        ):
            raise self.error(f"table key of type {e.type} is not supported by p4sim", expr_t)
        ann = self.annotations(ann_t)
        a = ir.find_annotation(ann, "name")
        kname = a.value if a is not None and a.value else self.key_name(e, expr_t)
        return ir.TableKey(e, mk, kname, index, ann, self.loc(ke))

    def key_name(self, e: ir.Expr, node: Where) -> str:
        """p4c's TableKeyNames: the key's source form for paths, members, slices; `h.$valid$`
        for `h.isValid()`."""

        def text(x: ir.Expr) -> str:
            if isinstance(x, ir.VarRef):
                return x.var.name
            if isinstance(x, ir.Member):
                return f"{text(x.base)}.{x.field}"
            if isinstance(x, ir.Slice):
                return f"{text(x.base)}[{x.hi}:{x.lo}]"
            if isinstance(x, ir.IsValid):
                # p4c names a validity key after the header's validity bit
                return f"{text(x.header)}.$valid$"
            if isinstance(x, ir.StackIndex):
                return f"{text(x.base)}[{x.index}]"
            raise self.error("complex table key expression requires a @name annotation", node)

        return text(e)

    def action_call(
        self, t: Tree[Token], scope: Scope, refs: list[ir.ActionRef], what: str
    ) -> ir.ActionCall:
        """`a` or `a(args)` naming an action of `refs` with constant data arguments."""
        if t.data in ("ident", "prefixed_name", "global_ident"):
            aname, args = _name(t), []
        elif t.data in ("call", "entry_action"):
            callee = t.children[0]
            if isinstance(callee, Tree) and callee.data not in (
                "ident",
                "prefixed_name",
                "global_ident",
            ):
                raise self.error(f"{what}: expected an action", t)
            aname = _name(callee)
            argt = _child(t, "arguments")
            args = _kids(argt) if argt is not None else []
        else:
            raise self.error(f"{what}: expected an action", t)
        act = self.resolve_action(aname, scope, t)
        if not any(r.action is act for r in refs):
            raise self.error(f"{what}: action {aname} is not in the table's actions list", t)
        data = act.data_params
        if act.directional_params and len(args) == len(act.params):
            args = args[len(act.directional_params) :]
        if len(args) != len(data):
            raise self.error(
                f"{what}: action {aname} takes {len(data)} data arguments, got {len(args)}", t
            )
        values = []
        for p, a in zip(data, args):
            if a.data == "named_argument":
                raise self.error("named arguments here are not supported by p4sim", a)
            e = self.coerce(self.expr(_kids(a)[0], scope), p.type, a)
            values.append(self.const_int(e, a))
        return ir.ActionCall(act, values, self.loc(t))
