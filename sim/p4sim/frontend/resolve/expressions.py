"""Expressions: names, literals, members, slices, value calls; implicit conversions
(`coerce`) and compile-time constants."""

from __future__ import annotations

import re

from lark import Token, Tree

from ...errors import SourceLocation
from .. import consteval, ir
from ..limits import MAX_CONSTANT_BITS, MAX_WIDTH
from .base import ResolverBase
from .scope import Scope, _TableApplyMarker
from .tree import Node, Where, _child, _kids, _name, _need, _tokens

SIZE_METHODS = ("minSizeInBits", "minSizeInBytes", "maxSizeInBits", "maxSizeInBytes")

BINOPS = {
    "lor": "||",
    "land": "&&",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "bor": "|",
    "bxor": "^",
    "band": "&",
    "shl": "<<",
    "shr": ">>",
    "add": "+",
    "sub": "-",
    "concat": "++",
    "sat_add": "|+|",
    "sat_sub": "|-|",
    "mul": "*",
    "div": "/",
    "mod": "%",
}


class ResolveExpressions(ResolverBase):
    def entity_or_expr(
        self, t: Tree[Token], scope: Scope
    ) -> ir.Table | ir.Control | ir.ExternInstance | ir.Expr:
        """Resolve a call target: a table/control/extern instance or an expression."""
        if t.data == "ident":
            ent = scope.lookup(_name(t))
            if isinstance(ent, (ir.Table, ir.Control, ir.ExternInstance)):
                return ent
        return self.expr(t, scope)

    def lvalue(self, t: Tree[Token], scope: Scope) -> ir.Expr:
        e = self.expr(t, scope)
        self.check_writable(e, t)
        return e

    def check_writable(self, e: ir.Expr, node: Where) -> None:
        base = e
        while isinstance(base, (ir.Member, ir.Slice, ir.StackIndex, ir.StackNext)):
            base = base.base
        if not isinstance(base, ir.VarRef):
            raise self.error("this expression cannot be assigned to", node)
        v = base.var
        if (
            v.kind == "const"
            or (v.kind in ("param", "action_arg") and v.direction == "in")
            or v.kind == "action_param"
        ):
            raise self.error(
                f"cannot write to '{v.name}' (read-only "
                f"{'parameter' if v.kind != 'const' else 'constant'})",
                node,
            )

    def const_int(self, e: ir.Expr, node: Where) -> int:
        try:
            return consteval.evaluate(e)
        except consteval.NotConstant:
            raise self.error("expected a compile-time constant", node) from None
        except ZeroDivisionError as exc:
            raise self.error(str(exc), node) from None

    def _parse_int(self, tok: Token) -> tuple[ir.BitsType | None, int]:
        s = str(tok).replace("_", "")
        m = re.match(r"^(\d+)([ws])(.*)$", s)
        ty = None
        if m:
            if len(m.group(1)) > 5 or int(m.group(1)) > MAX_WIDTH:
                raise self.error(
                    f"integer literal {str(tok)[:40]}: width above p4c's limit of {MAX_WIDTH} bits",
                    tok,
                )
            ty = ir.BitsType(int(m.group(1)), m.group(2) == "s")
            if ty.size == 0:
                raise self.error("zero-width integer literal", tok)
            s = m.group(3)
        low = s.lower()
        bits_per_digit = {"0x": 4, "0b": 1, "0o": 3}.get(low[:2], 3.32)
        if (len(low) - 2) * bits_per_digit > MAX_CONSTANT_BITS + 4:
            raise self.error(
                f"integer literal {str(tok)[:40]}...: wider than {MAX_CONSTANT_BITS} bits "
                "(p4sim's limit for compile-time integers)",
                tok,
            )
        if low.startswith("0x"):
            v = int(low[2:], 16)
        elif low.startswith("0b"):
            v = int(low[2:], 2)
        elif low.startswith("0o"):
            v = int(low[2:], 8)
        elif low.startswith("0d"):
            v = int(low[2:], 10)
        else:
            v = int(low, 10)
        return ty, v

    def coerce(self, e: ir.Expr, target: ir.Type, node: Where) -> ir.Expr:
        """Convert e to type target where P4 converts implicitly (untyped int constants,
        list expressions into structs/headers); otherwise the types must be equal."""
        if e.type == target:
            return e
        if isinstance(e, ir.Const) and isinstance(e.type, ir.InfIntType):
            if isinstance(target, ir.BitsType):
                v = e.value
                w = target.size
                lo = -(1 << (w - 1)) if target.signed else -(1 << w) + 1
                hi = (1 << (w - 1)) - 1 if target.signed else (1 << w) - 1
                if v > hi or v < lo:
                    raise self.error(f"constant {v} does not fit in {target}", node)
                return ir.Const(target, e.loc, consteval.wrap(v, target))
            if isinstance(target, ir.InfIntType):
                return e
        if isinstance(e, ir.StructExpr) and isinstance(e.type, ir.StructType) and not e.type.name:
            return self.struct_expr_as(e, target, node)
        if isinstance(e, ir.InvalidHeader) and isinstance(target, ir.HeaderType):
            return ir.InvalidHeader(target, e.loc)
        if isinstance(e, ir.ListExpr) and isinstance(target, (ir.StructType, ir.HeaderType)):
            return self.list_to_struct(e, target, node)
        if (
            isinstance(e, ir.ListExpr)
            and isinstance(target, ir.TupleType)
            and len(e.elements) == len(target.elements)
        ):
            return ir.ListExpr(
                target,
                e.loc,
                [self.coerce(x, t, node) for x, t in zip(e.elements, target.elements)],
            )
        if isinstance(e, ir.DontCare):
            return e
        if isinstance(e.type, ir.BitsType) and isinstance(target, ir.BitsType):
            raise self.error(f"width mismatch: expected {target}, got {e.type} (use a cast)", node)
        raise self.error(f"type mismatch: expected {target}, got {e.type}", node)

    def struct_expr_as(self, e: ir.StructExpr, target: ir.Type, node: Where) -> ir.Expr:
        """`{f = v, ...}` as a value of struct or header type `target` (every field named
        exactly once; a header built this way is valid)."""
        if not isinstance(target, (ir.StructType, ir.HeaderType)):
            raise self.error(f"a struct-valued expression cannot have type {target}", node)
        names = [f.name for f in target.fields]
        missing = [n for n in names if n not in e.fields]
        extra = [n for n in e.fields if n not in names]
        if missing or extra:
            what = f"missing field(s) {', '.join(missing)}" if missing else ""
            what += ("; " if missing and extra else "") + (
                f"no field(s) {', '.join(extra)} in {target}" if extra else ""
            )
            raise self.error(f"struct-valued expression for {target}: {what}", node)
        fields = {f.name: self.coerce(e.fields[f.name], f.type, node) for f in target.fields}
        return ir.StructExpr(target, e.loc, fields)

    def list_to_struct(
        self, e: ir.ListExpr, t: ir.StructType | ir.HeaderType, node: Where
    ) -> ir.Expr:
        """`{a, b}` as a struct or header value (fields in declaration order)."""
        if len(e.elements) != len(t.fields):
            raise self.error(
                f"list has {len(e.elements)} elements; {t.name} has {len(t.fields)} fields",
                node,
            )
        fields = {}
        for f, el in zip(t.fields, e.elements):
            fields[f.name] = self.coerce(el, f.type, node)
        return ir.StructExpr(t, e.loc, fields)

    def expr(self, t: Node, scope: Scope, allow_action_run: bool = False) -> ir.Expr:
        if isinstance(t, Token):
            raise self.error(f"unexpected '{t}'", t)
        d = t.data
        loc = self.loc(t)
        if d == "int_lit":
            ty, v = self._parse_int(_tokens(t)[0])
            if ty is None:
                return ir.Const(ir.InfIntType(), loc, v)
            if ty.signed:
                lo, hi = -(1 << (ty.size - 1)), (1 << (ty.size - 1)) - 1
            else:
                lo, hi = 0, (1 << ty.size) - 1
            if v > hi or v < lo:
                self.warn(f"{t.children[0]}: value does not fit in {ty}; truncated", t, "overflow")
            return ir.Const(ty, loc, consteval.wrap(v, ty))
        if d == "true_lit":
            return ir.BoolConst(ir.BoolType(), loc, True)
        if d == "false_lit":
            return ir.BoolConst(ir.BoolType(), loc, False)
        if d == "string_lit":
            raw = str(t.children[0])[1:-1]
            return ir.StringConst(
                ir.StringType(), loc, bytes(raw, "utf-8").decode("unicode_escape")
            )
        if d in ("ident", "global_ident"):
            name = _name(t)
            ent = scope.lookup(name) if d == "ident" else self.global_scope.lookup(name)
            if isinstance(ent, ir.Var):
                return ir.VarRef(ent.type, loc, ent)
            if isinstance(ent, ir.Expr):  # a constant: inline its (folded) value
                return self._clone_const(ent, loc)
            if ent is None:
                raise self.error(f"unknown name '{name}'", t)
            raise self.error(f"'{name}' cannot be used as a value here", t)
        if d == "type_member":
            tname = str(t.children[0])
            member = _name(t.children[1])
            etype = self.types.get(tname)
            if isinstance(etype, ir.EnumType):
                if member not in etype.members:
                    raise self.error(f"enum {tname} has no member '{member}'", t)
                return ir.EnumMember(etype, loc, member, etype.value_of(member))
            raise self.error(f"'{tname}.{member}' is not an enum member", t)
        if d == "error_member":
            member = _name(t.children[1])
            if member not in self.error_members:
                raise self.error(f"unknown error '{member}'", t)
            return ir.ErrorMember(
                ir.ErrorType(tuple(self.error_members)),
                loc,
                member,
                self.error_members.index(member),
            )
        if d == "list_expr":
            elems = [self.expr(x, scope) for x in _kids(_need(t, "expression_list"))]
            return ir.ListExpr(ir.TupleType(tuple(e.type for e in elems)), loc, elems)
        if d == "struct_expr":
            if any(isinstance(c, Token) and c.type == "DOTS" for c in t.children):
                raise self.error("'...' in a struct-valued expression is not supported by p4sim", t)
            fields: dict[str, ir.Expr] = {}
            for kv in _kids(t):
                kname, kvalue = _kids(kv)
                if _name(kname) in fields:
                    raise self.error(f"field '{_name(kname)}' is given twice", kv)
                fields[_name(kname)] = self.expr(kvalue, scope)
            # the type of {f = v, ...} comes from where it is used (see coerce)
            anon = ir.StructType("", tuple(ir.Field(n, x.type, 0) for n, x in fields.items()))
            return ir.StructExpr(anon, loc, fields)
        if d == "invalid_header":
            return ir.InvalidHeader(ir.HeaderType("", ()), loc)
        if d == "this_expr":
            raise self.error("'this' is not supported by p4sim", t)
        if d in ("ctor_call", "generic_ctor_call"):
            raise self.error("instantiation is not allowed inside an expression", t)
        if d == "member":
            base_t, mt = t.children
            member = _name(mt)
            if isinstance(base_t, Tree) and base_t.data == "call":
                marker = self.expr_call(base_t, scope)
                if isinstance(marker, _TableApplyMarker):
                    if member in ("hit", "miss"):
                        return ir.TableApplyExpr(ir.BoolType(), loc, marker.table, member)
                    if member == "action_run":
                        if not allow_action_run:
                            raise self.error("action_run can only be used in a switch", t)
                        return ir.TableApplyExpr(ir.VoidType(), loc, marker.table, member)
                    raise self.error(f"table apply result has no member '{member}'", mt)
                base = marker
            else:
                base = self.expr(base_t, scope)
            bt = base.type
            if isinstance(bt, (ir.HeaderType, ir.StructType)):
                try:
                    f = bt.field(member)
                except KeyError:
                    kind = "header" if isinstance(bt, ir.HeaderType) else "struct"
                    raise self.error(f"{kind} {bt.name} has no field '{member}'", mt) from None
                return ir.Member(f.type, loc, base, member, f)
            if isinstance(bt, ir.HeaderStackType):
                if member == "size":
                    return ir.Const(ir.BitsType(32), loc, bt.size)
                if member == "lastIndex":
                    return ir.StackLastIndex(ir.BitsType(32), loc, base)
                if member == "next":
                    return ir.StackNext(bt.element, loc, base)
                if member == "last":
                    return ir.StackLast(bt.element, loc, base)
                raise self.error(f"a header stack has no field '{member}'", mt)
            raise self.error(f"a value of type {bt} has no field '{member}'", mt)
        if d == "index":
            base = self.expr(t.children[0], scope)
            index_e = self.expr(t.children[1], scope)
            if consteval.try_evaluate(index_e) is None and isinstance(
                base.type, (ir.HeaderStackType, ir.TupleType)
            ):
                raise self.error(
                    "a header stack index that is not a compile-time constant is not "
                    "supported by p4sim",
                    t.children[1],
                )
            idx = self.const_int(index_e, t.children[1])
            if isinstance(base.type, ir.TupleType):
                if not 0 <= idx < len(base.type.elements):
                    raise self.error(f"index {idx} out of bounds of {base.type}", t)
                return ir.StackIndex(base.type.elements[idx], loc, base, idx)
            if not isinstance(base.type, ir.HeaderStackType):
                raise self.error("indexing needs a header stack (use [hi:lo] for slices)", t)
            if not 0 <= idx < base.type.size:
                raise self.error(f"index {idx} out of bounds of {base.type}", t)
            return ir.StackIndex(base.type.element, loc, base, idx)
        if d == "slice":
            base = self.expr(t.children[0], scope)
            hi = self.const_int(self.expr(t.children[1], scope), t.children[1])
            lo = self.const_int(self.expr(t.children[2], scope), t.children[2])
            if not isinstance(base.type, ir.BitsType):
                raise self.error(f"cannot slice a value of type {base.type}", t)
            if not (0 <= lo <= hi < base.type.size):
                raise self.error(f"slice [{hi}:{lo}] out of range for {base.type}", t)
            return ir.Slice(ir.BitsType(hi - lo + 1), loc, base, hi, lo)
        if d in ("call", "generic_call"):
            r = self.expr_call(t, scope)
            if isinstance(r, _TableApplyMarker):
                raise self.error("use t.apply().hit, .miss or switch on .action_run", t)
            return r
        if d == "cast":
            type_t, operand_t = _kids(t)
            target = self.type_of(type_t)
            e = self.expr(operand_t, scope)
            return self.cast(e, target, t)
        if d in ("lnot", "bnot", "neg", "pos"):
            e = self.expr(t.children[0], scope)
            return self.unary(d, e, t)
        if d in BINOPS:
            left = self.expr(t.children[0], scope)
            right = self.expr(t.children[-1], scope)
            return self.binary(BINOPS[d], left, right, t)
        if d == "mux":
            c, a, b = (self.expr(x, scope) for x in _kids(t))
            if not isinstance(c.type, ir.BoolType):
                raise self.error("?: condition must be bool", t)
            if isinstance(a.type, ir.InfIntType) and not isinstance(b.type, ir.InfIntType):
                a = self.coerce(a, b.type, t)
            elif isinstance(b.type, ir.InfIntType) and not isinstance(a.type, ir.InfIntType):
                b = self.coerce(b, a.type, t)
            if a.type != b.type:
                raise self.error(f"?: branches have different types {a.type} and {b.type}", t)
            if isinstance(a.type, ir.InfIntType):
                cv = consteval.try_evaluate(c)
                if cv is None:
                    raise self.error("?: with untyped constant branches needs a width", t)
                return a if cv else b
            return ir.Mux(a.type, loc, c, a, b)
        if d in ("mask_keyset", "range_keyset", "ks_default"):
            raise self.error(
                "'&&&', '..' and default are only allowed in select cases and table entries", t
            )
        raise self.error(f"expression ({d.replace('_', ' ')}) is not supported by p4sim", t)

    def size_of(self, ty: ir.Type, method: str, args: list[Tree[Token]], node: Where) -> ir.Expr:
        """`x.minSizeInBits()` and the like: compile-time sizes (a varbit counts 0 bits at
        least, its maximum at most)."""
        if args:
            raise self.error(f"{method}() takes no arguments", node)

        def bits(t: ir.Type, most: bool) -> int:
            if isinstance(t, (ir.HeaderType, ir.StructType)):
                return sum(bits(f.type, most) for f in t.fields)
            if isinstance(t, ir.HeaderStackType):
                return t.size * bits(t.element, most)
            if isinstance(t, ir.VarbitType):
                return t.max_width if most else 0
            if isinstance(t, ir.TupleType):
                return sum(bits(x, most) for x in t.elements)
            if t.width is None:
                raise self.error(f"{method}() of a value of type {t}", node)
            return t.width

        n = bits(ty, method.startswith("max"))
        if method.endswith("Bytes"):
            n = (n + 7) // 8
        return ir.Const(ir.InfIntType(), self.loc(node), n)

    def static_assert(self, args: list[Tree[Token]], scope: Scope, node: Where) -> ir.Expr:
        """`static_assert(check[, message])`: checked now; its value is true."""
        if not 1 <= len(args) <= 2 or any(a.data != "argument" for a in args):
            raise self.error("static_assert takes a condition and an optional message", node)
        cond = self.expr(_kids(args[0])[0], scope)
        if not isinstance(cond.type, ir.BoolType):
            raise self.error("static_assert needs a bool condition", args[0])
        value = consteval.try_evaluate(cond)
        if value is None:
            raise self.error("static_assert needs a compile-time constant condition", args[0])
        if not value:
            msg = ""
            if len(args) == 2:
                m = self.expr(_kids(args[1])[0], scope)
                msg = f": {m.value}" if isinstance(m, ir.StringConst) else ""
            raise self.error(f"static assertion failed{msg}", node)
        return ir.BoolConst(ir.BoolType(), self.loc(node), True)

    def _clone_const(self, e: ir.Expr, loc: SourceLocation | None) -> ir.Expr:
        if isinstance(e, ir.Const):
            return ir.Const(e.type, loc, e.value)
        if isinstance(e, ir.BoolConst):
            return ir.BoolConst(e.type, loc, e.value)
        if isinstance(e, ir.EnumMember):
            return ir.EnumMember(e.type, loc, e.member, e.value)
        if isinstance(e, ir.ErrorMember):
            return ir.ErrorMember(e.type, loc, e.member, e.value)
        v = consteval.try_evaluate(e)
        if v is not None and isinstance(e.type, (ir.BitsType, ir.InfIntType)):
            return ir.Const(e.type, loc, v)
        if v is not None and isinstance(e.type, ir.BoolType):
            return ir.BoolConst(e.type, loc, bool(v))
        return e

    def expr_call(self, t: Tree[Token], scope: Scope) -> ir.Expr | _TableApplyMarker:
        callee = t.children[0]
        args = _kids(_need(t, "arguments"))
        ta = _child(t, "type_args")
        if isinstance(callee, Tree) and callee.data == "member":
            base_t, mt = _kids(callee)
            method = _name(mt)
            target = self.entity_or_expr(base_t, scope)
            if isinstance(target, ir.Table):
                if method != "apply" or args:
                    raise self.error(
                        f"call of table method '{method}' is not supported by p4sim", t
                    )
                return _TableApplyMarker(target, self.loc(t))
            if isinstance(target, ir.Expr):
                if isinstance(target.type, ir.HeaderType) and method == "isValid":
                    if args:
                        raise self.error("isValid() takes no arguments", t)
                    return ir.IsValid(ir.BoolType(), self.loc(t), target)
                if isinstance(target.type, ir.PacketInType) and method == "lookahead":
                    if ta is None or len(_kids(ta)) != 1:
                        raise self.error("lookahead needs one type argument: lookahead<T>()", t)
                    lt = self.type_of(_kids(ta)[0])
                    if not isinstance(lt, (ir.BitsType, ir.BoolType, ir.HeaderType)):
                        raise self.error(
                            f"lookahead<{lt}> is not supported by p4sim (bit<W>, int<W>, "
                            f"bool or a header type)",
                            t,
                        )
                    if isinstance(lt, ir.HeaderType) and lt.varbit_field:
                        raise self.error(
                            "lookahead of a header with a varbit field is not supported by p4sim",
                            t,
                        )
                    return ir.Lookahead(lt, self.loc(t))
                if isinstance(target.type, ir.PacketInType) and method == "length":
                    raise self.error("packet_in.length() is not supported by p4sim", t)
                if method in SIZE_METHODS:
                    return self.size_of(target.type, method, args, t)
            raise self.error(f"'{method}(...)' cannot be used as a value", t)
        if isinstance(callee, Tree) and callee.data == "type_member":
            tname, method = str(callee.children[0]), _name(callee.children[1])
            ty = self.types.get(tname)
            if ty is not None and method in SIZE_METHODS:
                return self.size_of(ty, method, args, t)
        if isinstance(callee, Tree) and callee.data in ("ident", "global_ident"):
            fname = _name(callee)
            if fname == "static_assert" and fname in self.extern_functions:
                return self.static_assert(args, scope, t)
            ent = scope.lookup(fname) if callee.data == "ident" else self.global_scope.lookup(fname)
            if isinstance(ent, tuple) and ent[0] == "function":
                if ta is not None:
                    raise self.error(f"function {fname} is not generic", t)
                fn, bound = self.function_call(fname, args, scope, t)
                if isinstance(fn.return_type, ir.VoidType):
                    raise self.error(f"function {fname} returns no value", t)
                return ir.FunctionCallExpr(fn.return_type, self.loc(t), fn, bound)
        raise self.error(
            "function calls cannot be used as values in p4sim (only "
            "isValid(), lookahead<T>() and table apply results)",
            t,
        )
