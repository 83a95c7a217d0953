"""Externs: extern declarations (objects and functions), extern instances, and calls of
extern functions and methods with their type arguments inferred."""

from __future__ import annotations

from lark import Token, Tree

from .. import consteval, ir
from .base import ResolverBase
from .scope import Scope, _Ctx, _ExternDecl, _Sig
from .tree import Where, _child, _kids, _name, _need

SUPPORTED_EXTERNS = {"counter", "direct_counter", "meter", "direct_meter", "register"}


class ResolveExterns(ResolverBase):
    # ---------------------------------------------------------- declarations
    def _sig(self, t: Tree[Token], ret: Tree[Token] | None, name: str) -> _Sig:
        tp = _child(t, "type_params")
        type_params = tuple(_name(n) for n in _kids(tp)) if tp else ()
        params = []
        for p in _kids(_need(t, "params")):
            d = _child(p, "direction")
            ty = next(k for k in _kids(p) if k.data not in ("annots", "direction", "name"))
            params.append((_name(d) if d else "", ty, _name(_need(p, "name"))))
        return _Sig(name, type_params, params, ret, self.annotations(_child(t, "annots")))

    def decl_extern_object_decl(self, t: Tree[Token]) -> None:
        name = str(t.children[1])
        tp = _child(t, "type_params")
        decl = _ExternDecl(name, tuple(_name(n) for n in _kids(tp)) if tp else ())
        for m in _kids(t):
            if m.data == "ctor_proto":
                decl.ctors.append(self._sig(m, None, name))
            elif m.data == "method_proto":
                kids = _kids(m)
                ret = kids[1]
                mname = _name(kids[2])
                decl.methods.setdefault(mname, []).append(self._sig(m, ret, mname))
            elif m.data == "abstract_proto":
                raise self.error("abstract extern methods are not supported by p4sim", m)
        self.externs[name] = decl

    def decl_extern_forward_decl(self, t: Tree[Token]) -> None:
        """`extern E;` declares the name only; instantiating E needs its full declaration."""

    def decl_extern_function_decl(self, t: Tree[Token]) -> None:
        kids = _kids(t)
        fname = _name(kids[2])
        self.extern_functions.setdefault(fname, []).append(self._sig(t, kids[1], fname))

    # ------------------------------------------------------------ instances
    def extern_instance(self, t: Tree[Token], scope: Scope, path: str) -> ir.ExternInstance:
        ann_t, ty_t, args_t, nm = _kids(t)
        ann = self.annotations(ann_t)
        ty = self.type_of(ty_t)
        name = _name(nm)
        if not isinstance(ty, ir.ExternType) or ty.name not in self.externs:
            raise self.error(f"cannot instantiate '{_name(ty_t)}'", ty_t)
        if ty.name not in SUPPORTED_EXTERNS:
            raise self.error(f"extern '{ty.name}' is not supported by p4sim", ty_t)
        decl = self.externs[ty.name]
        if len(ty.type_args) != len(decl.type_params):
            raise self.error(
                f"extern {ty.name} needs {len(decl.type_params)} type "
                f"argument(s), got {len(ty.type_args)}",
                ty_t,
            )
        tv = dict(zip(decl.type_params, ty.type_args))
        args = _kids(args_t)
        ctor = next((c for c in decl.ctors if len(c.params) == len(args)), None)
        if ctor is None:
            raise self.error(f"no constructor of {ty.name} takes {len(args)} arguments", t)
        values = []
        for (_direction, pty, _pname), a in zip(ctor.params, args):
            e = self.coerce(self.expr(_kids(a)[0], scope), self.type_of(pty, tv), a)
            values.append(e)
        ext = ir.ExternInstance(
            name,
            self.local_name(name, ann, path),
            0,
            ty.name,
            ty.type_args,
            annotations=ann,
            loc=self.loc(t),
        )
        if ty.name in ("counter", "meter", "register"):
            ext.size = self.const_int(values[0], args[0])
            ext.index_type = tv.get("I", ir.BitsType(32))
        if ty.name in ("counter", "direct_counter", "meter", "direct_meter"):
            unit_e = values[-1]
            assert isinstance(unit_e, ir.EnumMember)
            ext.unit = unit_e.member
        if ty.name == "register":
            ext.element_type = tv["T"]
            if not isinstance(ext.element_type, ir.BitsType):
                raise self.error("register cells must be bit<W> or int<W> in p4sim", ty_t)
        if ty.name == "direct_meter":
            ext.element_type = tv["T"]
        self.all_externs.append(ext)
        return ext

    # ---------------------------------------------------------------- calls
    def _pick_sig(self, sigs: list[_Sig], nargs: int, what: str, node: Where) -> _Sig:
        for s in sigs:
            if len(s.params) == nargs:
                return s
        raise self.error(f"{what} does not take {nargs} arguments", node)

    def bind_sig(
        self,
        sig: _Sig,
        type_args: tuple[ir.Type, ...],
        args: list[Tree[Token]],
        scope: Scope,
        node: Where,
        what: str,
        typevars: dict[str, ir.Type] | None = None,
    ) -> tuple[list[ir.Argument], dict[str, ir.Type]]:
        tv = dict(typevars or {})
        if type_args:
            if len(type_args) != len(sig.type_params):
                raise self.error(f"{what} takes {len(sig.type_params)} type arguments", node)
            tv.update(zip(sig.type_params, type_args))
        args = self.in_parameter_order(sig, args, node, what)
        out = []
        for (direction, pty, pname), a in zip(sig.params, args):
            generic = (
                _name(pty) in sig.type_params and _name(pty) not in tv
                if pty.data in ("named_type",)
                else False
            )
            if generic:
                arg = self.bind_one(pname, direction, None, a, scope)
                at = arg.expr.type
                if isinstance(at, ir.InfIntType):
                    raise self.error(
                        f"{what}: argument '{pname}' needs a width (write e.g. "
                        f"32w{consteval.try_evaluate(arg.expr)})",
                        a,
                    )
                tv[_name(pty)] = at
            else:
                ptype = self.type_of(pty, tv)
                if isinstance(ptype, ir.StringType):
                    e = self.expr(_kids(a)[-1], scope)
                    if not isinstance(e, ir.StringConst):
                        raise self.error(f"{what}: '{pname}' must be a string literal", a)
                    arg = ir.Argument(pname, direction, e)
                else:
                    arg = self.bind_one(pname, direction, ptype, a, scope)
            out.append(arg)
        return out, tv

    def in_parameter_order(
        self, sig: _Sig, args: list[Tree[Token]], node: Where, what: str
    ) -> list[Tree[Token]]:
        """The arguments of a call in the order of the prototype's parameters (named
        arguments, `name = value`, may come in any order after the positional ones)."""
        names = [pname for _d, _t, pname in sig.params]
        ordered: dict[str, Tree[Token]] = {}
        for i, a in enumerate(args):
            if a.data == "named_argument":
                n = _name(_kids(a)[0])
                if n not in names:
                    raise self.error(f"{what} has no parameter '{n}'", a)
            elif ordered and any(x.data == "named_argument" for x in args[:i]):
                raise self.error("positional argument after a named one", a)
            else:
                n = names[i]
            if n in ordered:
                raise self.error(f"{what}: argument '{n}' is given twice", a)
            ordered[n] = a
        missing = [n for n in names if n not in ordered]
        if missing:
            raise self.error(f"{what}: missing argument '{missing[0]}'", node)
        return [ordered[n] for n in names]

    def call_function(
        self,
        fname: str,
        type_args: tuple[ir.Type, ...],
        args: list[Tree[Token]],
        scope: Scope,
        node: Where,
    ) -> list[ir.Argument]:
        sig = self._pick_sig(self.extern_functions[fname], len(args), fname, node)
        bound, _ = self.bind_sig(sig, type_args, args, scope, node, fname)
        return bound

    def extern_function_call(
        self,
        fname: str,
        type_args: tuple[ir.Type, ...],
        args: list[Tree[Token]],
        scope: Scope,
        node: Tree[Token],
        ctx: _Ctx,
    ) -> ir.Stmt:
        sig = self._pick_sig(self.extern_functions[fname], len(args), fname, node)
        if fname == "digest" and type_args:
            t = type_args[0]
            if isinstance(t, ir.StructType) and args and _kids(args[1])[-1].data == "list_expr":
                pass
        bound, tv = self.bind_sig(sig, type_args, args, scope, node, fname)
        targs = tuple(tv.get(p, ir.VoidType()) for p in sig.type_params)
        loc = self.loc(node)
        if fname == "digest":
            dt = tv.get("T")
            data = bound[1].expr
            if isinstance(data, ir.ListExpr) and isinstance(dt, ir.StructType):
                bound[1].expr = self.list_to_struct(data, dt, args[1])
            if not isinstance(dt, ir.StructType):
                raise self.error(
                    "digest data must be a struct (write digest<my_struct_t>(...))", node
                )
            if ctx.kind not in ("control", "action"):
                raise self.error("digest can only be called in a control", node)
            receiver = consteval.try_evaluate(bound[0].expr)
            if dt.name not in self.digests:
                self.digests[dt.name] = ir.Digest(dt, dt.name, 0, receiver or 0, loc)
        if fname in (
            "hash",
            "verify_checksum",
            "update_checksum",
            "verify_checksum_with_payload",
            "update_checksum_with_payload",
        ):
            data_arg = bound[1] if fname != "hash" else bound[3]
            if not isinstance(
                data_arg.expr.type, (ir.TupleType, ir.StructType, ir.HeaderType, ir.BitsType)
            ):
                raise self.error(f"{fname}: data must be a list, struct, header or bit<W>", node)
            algo = bound[1 if fname == "hash" else 3].expr
            if not isinstance(algo, ir.EnumMember):
                raise self.error(f"{fname}: the algorithm must be a HashAlgorithm constant", node)
            if algo.member not in ("crc32", "crc16", "csum16", "identity", "xor16"):
                raise self.error(
                    f"{fname}: hash algorithm {algo.member} is not supported by p4sim", node
                )
        return ir.ExternFunctionCall(loc, fname, bound, targs)

    def extern_method_call(
        self,
        inst: ir.ExternInstance,
        method: str,
        type_args: tuple[ir.Type, ...],
        args: list[Tree[Token]],
        scope: Scope,
        node: Tree[Token],
    ) -> ir.Stmt:
        decl = self.externs[inst.extern_type]
        if method not in decl.methods:
            raise self.error(f"{inst.extern_type} has no method '{method}'", node)
        sig = self._pick_sig(decl.methods[method], len(args), f"{inst.extern_type}.{method}", node)
        tv = dict(zip(decl.type_params, inst.type_args))
        bound, _ = self.bind_sig(
            sig, type_args, args, scope, node, f"{inst.extern_type}.{method}", tv
        )
        return ir.ExternCall(self.loc(node), inst, method, bound)
