"""Types: type syntax to ir types, and the declarations of types (headers, structs,
enums, typedefs, errors, match kinds)."""

from __future__ import annotations

from lark import Token, Tree

from .. import ir
from ..limits import MAX_STACK_SIZE, MAX_WIDTH
from .base import ResolverBase
from .scope import Scope
from .tree import Where, _child, _children, _kids, _name, _need, _tokens


class ResolveTypes(ResolverBase):
    # --------------------------------------------------------------- types
    def type_of(self, t: Tree[Token], typevars: dict[str, ir.Type] | None = None) -> ir.Type:
        typevars = typevars or {}
        d = t.data
        if d in ("type_ref", "type_or_void"):
            return self.type_of(_kids(t)[0], typevars)
        if d == "bool_type":
            return ir.BoolType()
        if d == "error_type":
            return ir.ErrorType(tuple(self.error_members))
        if d == "string_type":
            return ir.StringType()
        if d == "int_type":
            return ir.InfIntType()
        if d == "bit1_type":
            return ir.BitsType(1)
        if d == "void_type":
            return ir.VoidType()
        if d == "dontcare_type":
            return ir.DontCareType()
        if d in ("bit_type", "signed_type", "varbit_type"):
            ints = [x for x in _tokens(t) if x.type == "INTEGER"]
            w = self._parse_int(ints[0])[1]
            if (w <= 0 and d != "bit_type") or w < 0:
                raise self.error(f"invalid width {w}", t)
            self._check_width(w, t)
            if d == "varbit_type":
                return ir.VarbitType(w)
            if w == 0 and d == "bit_type":
                raise self.error("bit<0> is not supported by p4sim", t)
            return ir.BitsType(w, d == "signed_type")
        if d in ("bit_expr_type", "signed_expr_type", "varbit_expr_type"):
            e = self.expr(_kids(t)[0], Scope(self.global_scope))
            w = self.const_int(e, t)
            if w <= 0 and not (w == 0 and d == "bit_expr_type"):
                raise self.error(f"invalid width {w}", t)
            self._check_width(w, t)
            if d == "varbit_expr_type":
                return ir.VarbitType(w)
            if w == 0:
                raise self.error("bit<0> is not supported by p4sim", t)
            return ir.BitsType(w, d == "signed_expr_type")
        if d == "named_type":
            name = _name(t)
            if name in typevars:
                return typevars[name]
            if name in self.types:
                return self.types[name]
            if name == "packet_in":
                return ir.PacketInType()
            if name == "packet_out":
                return ir.PacketOutType()
            if name in self.externs:
                return ir.ExternType(name)
            if name in self.blocks or name in self.packages:
                return ir.ExternType(name)
            raise self.error(f"unknown type '{name}'", t)
        if d == "specialized_type":
            name = _name(_need(t, "type_name"))
            args = tuple(self.type_of(a, typevars) for a in _kids(_need(t, "type_args")))
            if name in self.externs:
                return ir.ExternType(name, args)
            raise self.error(f"generic type '{name}<...>' is not supported by p4sim", t)
        if d == "stack_type":
            base = self.type_of(Tree("named_type", [_need(t, "type_name")]), typevars)
            size = self.const_int(self.expr(_kids(t)[1], Scope(self.global_scope)), t)
            if not isinstance(base, ir.HeaderType):
                raise self.error("header stacks must have a header element type", t)
            if not 1 <= size <= MAX_STACK_SIZE:
                raise self.error(
                    f"header stack size {size} is outside 1..{MAX_STACK_SIZE} "
                    f"(p4c's limit: {MAX_STACK_SIZE} elements)",
                    t,
                )
            return ir.HeaderStackType(base, size)
        if d == "tuple_type":
            return ir.TupleType(
                tuple(self.type_of(a, typevars) for a in _kids(_need(t, "type_args")))
            )
        raise self.error(f"type syntax ({d.replace('_', ' ')}) is not supported by p4sim", t)

    def _check_width(self, width: int, node: Where) -> None:
        if width > MAX_WIDTH:
            raise self.error(f"width {width} is above p4c's limit of {MAX_WIDTH} bits", node)

    # -------------------------------------------------------- declarations
    def _fields(self, t: Tree[Token], header: bool) -> tuple[ir.Field, ...]:
        fields: list[ir.Field] = []
        offset = 0
        seen = set()
        for f in _children(t, "field_decl"):
            ann, ty, nm = _kids(f)
            ftype = self.type_of(ty)
            fname = _name(nm)
            if fname in seen:
                raise self.error(f"duplicate field '{fname}'", nm)
            seen.add(fname)
            if header and not isinstance(
                ftype, (ir.BitsType, ir.VarbitType, ir.BoolType, ir.EnumType)
            ):
                raise self.error(
                    f"header field '{fname}' has type {ftype}; header fields "
                    f"must be bit<W>, int<W>, varbit<W> or bool",
                    ty,
                )
            if header and isinstance(ftype, ir.EnumType) and ftype.underlying is None:
                raise self.error(f"header field '{fname}' has a non-serializable enum type", ty)
            fields.append(ir.Field(fname, ftype, offset, self.annotations(ann)))
            w = ftype.width
            if w is None and isinstance(ftype, (ir.HeaderType, ir.StructType)):
                w = ftype.bit_width
            offset += w or 0
        if header and sum(isinstance(f.type, ir.VarbitType) for f in fields) > 1:
            raise self.error("a header may have at most one varbit field", t)
        return tuple(fields)

    def _declare_type(self, name: str, ty: ir.Type, node: Where) -> None:
        if name in self.types:
            raise self.error(f"type '{name}' is declared twice", node)
        self.types[name] = ty

    def decl_header_decl(self, t: Tree[Token]) -> None:
        ann = self.annotations(_child(t, "annots"))
        name = _name(_need(t, "name"))
        if _child(t, "type_params"):
            raise self.error("generic headers are not supported by p4sim", t)
        self._declare_type(name, ir.HeaderType(name, self._fields(t, True), ann), t)

    def decl_struct_decl(self, t: Tree[Token]) -> None:
        ann = self.annotations(_child(t, "annots"))
        name = _name(_need(t, "name"))
        if _child(t, "type_params"):
            raise self.error("generic structs are not supported by p4sim", t)
        self._declare_type(name, ir.StructType(name, self._fields(t, False), ann), t)

    def decl_header_union_decl(self, t: Tree[Token]) -> None:
        raise self.error("header_union is not supported by p4sim", t)

    def decl_enum_decl(self, t: Tree[Token]) -> None:
        name = _name(_need(t, "name"))
        members = tuple(_name(n) for n in _kids(_need(t, "name_list")))
        self._declare_type(name, ir.EnumType(name, members, tuple(range(len(members)))), t)

    def decl_ser_enum_decl(self, t: Tree[Token]) -> None:
        kids = _kids(t)
        under = self.type_of(kids[1])
        if not isinstance(under, ir.BitsType):
            raise self.error("a serializable enum needs a bit<W> or int<W> underlying type", t)
        name = _name(kids[2])
        members, values = [], []
        scope = Scope(self.global_scope)
        for m in _children(t, "ser_member"):
            mn, mv = _kids(m)
            e = self.coerce(self.expr(mv, scope), under, mv)
            members.append(_name(mn))
            values.append(self.const_int(e, mv))
        self._declare_type(name, ir.EnumType(name, tuple(members), tuple(values), under), t)

    def _typedef_target(self, t: Tree[Token]) -> ir.Type:
        """The type a typedef or `type` names: a type reference, or a header, struct or enum
        declared in place (`typedef header h_t {...} alias_t;` declares both names)."""
        target = _kids(t)[1]
        if target.data.endswith("_decl"):
            getattr(self, "decl_" + target.data)(target)
            return self.types[_name(_need(target, "name"))]
        return self.type_of(target)

    def decl_typedef_decl(self, t: Tree[Token]) -> None:
        kids = _kids(t)
        self._declare_type(_name(kids[2]), self._typedef_target(t), t)

    def decl_newtype_decl(self, t: Tree[Token]) -> None:
        kids = _kids(t)
        ty = self._typedef_target(t)
        self.warn(
            f"'type {_name(kids[2])}' is treated as a typedef by p4sim (no P4Runtime translation)",
            t,
            "newtype",
        )
        self._declare_type(_name(kids[2]), ty, t)

    def decl_error_decl(self, t: Tree[Token]) -> None:
        for n in _kids(_need(t, "name_list")):
            nm = _name(n)
            if nm in self.error_members:
                raise self.error(f"error.{nm} is declared twice", n)
            self.error_members.append(nm)

    def decl_match_kind_decl(self, t: Tree[Token]) -> None:
        for n in _kids(_need(t, "name_list")):
            self.match_kinds.append(_name(n))
