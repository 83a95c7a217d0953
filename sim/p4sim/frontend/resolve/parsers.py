"""Parsers: one parser instance with its states, transitions and select keysets (keysets
of const table entries too)."""

from __future__ import annotations

from lark import Token, Tree

from .. import ir
from .base import ResolverBase
from .scope import Scope, _BlockDecl, _Ctx
from .tree import _child, _children, _kids, _name, _need


class ResolveParsers(ResolverBase):
    def elaborate_parser(self, decl: _BlockDecl, path: str) -> ir.Parser:
        t = decl.tree
        ctor = _child(t, "ctor_params")
        if ctor is not None and _kids(_need(ctor, "params")):
            raise self.error(
                f"constructor parameters of parser {decl.name} are not supported by p4sim", ctor
            )
        params = self.params(_need(t, "params"), "param")
        if not params or not isinstance(params[0].type, ir.PacketInType):
            raise self.error(f"the first parameter of parser {decl.name} must be packet_in", t)
        scope = Scope(self.global_scope)
        for p in params:
            scope.declare(p.name, p)
        parser = ir.Parser(decl.name, path, params, [], {}, {}, self.loc(t))
        ctx = _Ctx("parser", parser=parser)
        for local in _kids(t):
            if local.data == "const_decl":
                self.decl_const_decl(local, scope)
            elif local.data == "var_decl":
                parser.locals.append(self.var_decl(local, scope, ctx))
            elif local.data == "instantiation":
                if _name(_kids(local)[1]) in self.blocks:
                    raise self.error("sub-parsers are not supported by p4sim", local)
                ext = self.extern_instance(local, scope, path)
                parser.externs[ext.name] = ext
                scope.declare(ext.name, ext)
            elif local.data == "value_set_decl":
                raise self.error("value_set is not supported by p4sim", local)
        states = _children(t, "parser_state")
        for st in states:
            sname = _name(_need(st, "name"))
            if sname in ("accept", "reject"):
                raise self.error(f"state '{sname}' cannot be redefined", st)
            if sname in parser.states:
                raise self.error(f"state '{sname}' is declared twice", st)
            parser.states[sname] = ir.ParserState(
                sname, [], ir.Transition(), self.loc(st), self.annotations(_child(st, "annots"))
            )
        if "start" not in parser.states:
            raise self.error(f"parser {decl.name} has no 'start' state", t)
        for st in states:
            state = parser.states[_name(_need(st, "name"))]
            sscope = Scope(scope)
            body = [k for k in _kids(st) if k.data not in ("annots", "name")]
            trans = None
            if body and body[-1].data in ("direct_transition", "select_transition"):
                trans = body.pop()
            state.statements = self.stmts(body, sscope, ctx)
            state.transition = self.transition(trans, sscope, parser, st)
        return parser

    def transition(
        self, t: Tree[Token] | None, scope: Scope, parser: ir.Parser, state_tree: Tree[Token]
    ) -> ir.Transition:
        if t is None:
            return ir.Transition(next_state="reject", loc=self.loc(state_tree))

        def check_state(n: Tree[Token]) -> str:
            s = _name(n)
            if s not in parser.states and s not in ("accept", "reject"):
                raise self.error(f"unknown parser state '{s}'", n)
            return s

        if t.data == "direct_transition":
            return ir.Transition(next_state=check_state(_need(t, "name")), loc=self.loc(t))
        keys = [self.expr(k, scope) for k in _kids(_need(t, "expression_list"))]
        for k, kt in zip(keys, _kids(_need(t, "expression_list"))):
            if not isinstance(k.type, (ir.BitsType, ir.BoolType, ir.EnumType, ir.ErrorType)):
                raise self.error(f"select key of type {k.type} is not supported by p4sim", kt)
            if isinstance(k.type, ir.EnumType) and k.type.underlying is None:
                pass
        cases = []
        for c in _children(t, "select_case"):
            ks, target = _kids(c)
            cases.append(
                ir.SelectCase(
                    self.keysets(ks, keys, scope, "select"), check_state(target), self.loc(c)
                )
            )
        return ir.Transition(select_keys=keys, cases=cases, loc=self.loc(t))

    def keysets(
        self,
        t: Tree[Token],
        keys: list[ir.Expr],
        scope: Scope,
        what: str,
        match_kinds: list[str] | None = None,
    ) -> list[ir.KeySet]:
        if t.data == "ks_dots":
            return [ir.KeySet("default", loc=self.loc(t)) for _ in keys]
        if t.data == "tuple_keyset":
            elems = _kids(t)
            if any(e.data == "ks_dots" for e in elems[:-1]):
                raise self.error("'...' must be the last element of a keyset", t)
            if elems[-1].data == "ks_dots":  # the remaining keys match anything
                dots = elems.pop()
                elems += [Tree("ks_default", [], dots.meta)] * (len(keys) - len(elems))
        elif t.data == "ks_default":
            elems = [t] * len(keys) if len(keys) != 1 else [t]
            if len(keys) > 1:
                return [ir.KeySet("default", loc=self.loc(t)) for _ in keys]
        else:
            elems = [t]
        if len(elems) != len(keys):
            raise self.error(f"{what} case has {len(elems)} values for {len(keys)} keys", t)
        out = []
        for i, (e, k) in enumerate(zip(elems, keys)):
            mk = match_kinds[i] if match_kinds else None
            out.append(self.keyset(e, k, scope, mk))
        return out

    def keyset(
        self, t: Tree[Token], key: ir.Expr, scope: Scope, match_kind: str | None
    ) -> ir.KeySet:
        w = key.type.width or 0
        full = (1 << w) - 1
        loc = self.loc(t)
        if t.data == "ks_default":
            return ir.KeySet("default", loc=loc)
        if t.data == "mask_keyset":
            a, b = _kids(t)
            v = self.const_int(self.coerce(self.expr(a, scope), key.type, a), a)
            m = self.const_int(self.coerce(self.expr(b, scope), key.type, b), b)
            if match_kind == "lpm":
                if m != full and (full ^ m) & ((full ^ m) + 1):
                    raise self.error("lpm entry mask must be a prefix", t)
            elif match_kind in ("exact", "optional"):
                raise self.error(f"a mask is not allowed on a '{match_kind}' key", t)
            return ir.KeySet("mask", v, m, loc=loc)
        if t.data == "range_keyset":
            if match_kind is not None and match_kind != "range":
                raise self.error(f"a range is not allowed on a '{match_kind}' key", t)
            a, b = _kids(t)
            lo = self.const_int(self.coerce(self.expr(a, scope), key.type, a), a)
            hi = self.const_int(self.coerce(self.expr(b, scope), key.type, b), b)
            return ir.KeySet("range", lo, hi=hi, loc=loc)
        e = self.coerce(self.expr(t, scope), key.type, t)
        v = self.const_int(e, t)
        if match_kind in ("ternary", "lpm"):
            return ir.KeySet("mask", v, full, loc=loc)
        if match_kind == "range":
            return ir.KeySet("range", v, hi=v, loc=loc)
        return ir.KeySet("value", v, loc=loc)
