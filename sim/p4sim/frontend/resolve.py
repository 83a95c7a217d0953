"""Name resolution, type checking and elaboration: lark parse tree -> ir.ProgramIR.

One pass over the declarations in order (P4 requires declaration before use) builds the type
table and the global scope; the package instantiation (`V1Switch(...) main;`) then elaborates
each block: a control or parser is resolved once per instance, so that nested instances get
their own tables and externs and their P4Info names (p4c's rules: the control's name, then the
instance path, then the object's `@name` or local name; a `@name` starting with "." is global;
top-level actions keep their bare names).

Anything the subset does not cover is rejected here with the construct's name and position.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import TypeAlias

from lark import Token, Tree

from ..errors import CompileError, Diagnostic, SourceLocation
from . import consteval, ir
from .preprocess import PreprocessedSource

Node: TypeAlias = Tree[Token] | Token
# What an error or warning can point at: a parse-tree node or an already mapped location.
Where: TypeAlias = Tree[Token] | Token | SourceLocation | None

SUPPORTED_EXTERNS = {"counter", "direct_counter", "meter", "direct_meter", "register"}
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
V1SWITCH_BLOCKS = ("p", "vr", "ig", "eg", "ck", "dep")


# ----------------------------------------------------------------------- helpers


def _kids(t: Tree[Token]) -> list[Tree[Token]]:
    """Child trees (tokens dropped)."""
    return [c for c in t.children if isinstance(c, Tree)]


def _tokens(t: Tree[Token]) -> list[Token]:
    return [c for c in t.children if isinstance(c, Token)]


def _name(t: Node) -> str:
    if isinstance(t, Token):
        return str(t)
    for c in t.children:
        if isinstance(c, Token):
            return str(c)
        return _name(c)
    raise ValueError("no name")


def _child(t: Tree[Token], data: str) -> Tree[Token] | None:
    for c in t.children:
        if isinstance(c, Tree) and c.data == data:
            return c
    return None


def _need(t: Tree[Token], data: str) -> Tree[Token]:
    """The child tree `data` that the grammar guarantees `t` has."""
    c = _child(t, data)
    if c is None:
        raise ValueError(f"{t.data} has no {data}")
    return c


def _children(t: Tree[Token], data: str) -> list[Tree[Token]]:
    return [c for c in t.children if isinstance(c, Tree) and c.data == data]


def _split_args(body: str) -> list[str]:
    out, depth, cur, in_str = [], 0, [], False
    i = 0
    while i < len(body):
        ch = body[i]
        if in_str:
            cur.append(ch)
            if ch == "\\" and i + 1 < len(body):
                cur.append(body[i + 1])
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
            cur.append(ch)
        elif ch in "([{":
            depth += 1
            cur.append(ch)
        elif ch in ")]}":
            depth -= 1
            cur.append(ch)
        elif ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
        i += 1
    if cur or out:
        out.append("".join(cur).strip())
    return [a[1:-1] if len(a) >= 2 and a[0] == '"' and a[-1] == '"' else a for a in out]


@dataclass
class _Sig:
    """A function/method/constructor prototype from an extern declaration."""

    name: str
    type_params: tuple[str, ...]
    params: list[tuple[str, Tree[Token], str]]  # (direction, type tree, name)
    ret: Tree[Token] | None
    annotations: tuple[ir.Annotation, ...] = ()


@dataclass
class _ExternDecl:
    name: str
    type_params: tuple[str, ...]
    ctors: list[_Sig] = field(default_factory=list)
    methods: dict[str, list[_Sig]] = field(default_factory=dict)


@dataclass
class _BlockDecl:
    """A parser or control declaration (with body) or type declaration (without)."""

    kind: str  # "parser" | "control"
    name: str
    tree: Tree[Token]
    has_body: bool


@dataclass
class _TableApplyMarker:
    table: ir.Table
    loc: SourceLocation | None


# A top-level action not yet elaborated: ("top_action", its declaration tree).
_TopActionRef: TypeAlias = tuple[str, Tree[Token]]
Entity: TypeAlias = (
    ir.Var | ir.Expr | ir.Action | ir.Table | ir.ExternInstance | ir.Control | _TopActionRef
)


class Scope:
    """A lexical scope: names -> entities (Var, ir.Expr for constants, ir.Action, ir.Table,
    ir.ExternInstance, ir.Control, or unelaborated declarations)."""

    def __init__(self, parent: Scope | None = None) -> None:
        self.parent = parent
        self.names: dict[str, Entity] = {}

    def lookup(self, name: str) -> Entity | None:
        s: Scope | None = self
        while s is not None:
            if name in s.names:
                return s.names[name]
            s = s.parent
        return None

    def declare(self, name: str, entity: Entity) -> None:
        self.names[name] = entity


@dataclass
class _Ctx:
    """Where statements are being resolved: in which control/parser/action."""

    kind: str  # "control" | "parser" | "action" | "deparser"
    control: ir.Control | None = None
    parser: ir.Parser | None = None
    action: ir.Action | None = None


class Resolver:
    def __init__(self, tree: Tree[Token], source: PreprocessedSource) -> None:
        self.tree = tree
        self.source = source
        self.warnings: list[Diagnostic] = []
        self.types: dict[str, ir.Type] = {}
        self.error_members: list[str] = []
        self.match_kinds: list[str] = []
        self.externs: dict[str, _ExternDecl] = {}
        self.extern_functions: dict[str, list[_Sig]] = {}
        self.blocks: dict[str, _BlockDecl] = {}
        self.packages: dict[str, Tree[Token]] = {}
        self.global_scope = Scope()
        self.top_actions: dict[str, Tree[Token]] = {}
        self.top_action_ir: dict[str, ir.Action] = {}
        self.all_actions: list[ir.Action] = []
        self.all_tables: list[ir.Table] = []
        self.all_externs: list[ir.ExternInstance] = []
        self.digests: dict[str, ir.Digest] = {}
        self.constants: dict[str, ir.Expr] = {}
        self.package: ir.PackageInstance | None = None
        self._uid = itertools.count()

    # ------------------------------------------------------------ diagnostics

    def loc(self, node: Where) -> SourceLocation | None:
        if isinstance(node, Token):
            return self.source.location(node.line or 0, node.column or 0)
        if isinstance(node, Tree):
            meta = node.meta
            if not getattr(meta, "empty", True):
                return self.source.location(meta.line, meta.column)
            for c in node.children:
                child_loc = self.loc(c)
                if child_loc is not None:
                    return child_loc
        return None

    def error(self, message: str, node: Where) -> CompileError:
        loc = node if isinstance(node, SourceLocation) else self.loc(node)
        return CompileError.at(message, loc)

    def warn(self, message: str, node: Where, code: str) -> None:
        loc = node if isinstance(node, SourceLocation) else self.loc(node)
        self.warnings.append(Diagnostic.at(message, loc, code=code))

    def uid(self, name: str) -> str:
        return f"{name}_{next(self._uid)}"

    # ----------------------------------------------------------- annotations

    def annotations(self, t: Tree[Token] | None) -> tuple[ir.Annotation, ...]:
        if t is None:
            return ()
        out = []
        for tok in _tokens(t):
            m = re.match(r"@([A-Za-z_]\w*)(?:\((.*)\))?$", str(tok), re.S)
            assert m
            args = tuple(_split_args(m.group(2))) if m.group(2) is not None else ()
            out.append(ir.Annotation(m.group(1), args, self.loc(tok), m.group(2)))
        return tuple(out)

    # ------------------------------------------------------------------ run

    def run(self) -> ir.ProgramIR:
        for decl in _kids(self.tree):
            handler = getattr(self, "decl_" + decl.data, None)
            if handler is None:
                raise self.error(f"unsupported declaration ({decl.data.replace('_', ' ')})", decl)
            handler(decl)
        if self.package is None:
            raise CompileError.at(
                "the program has no 'main' package instantiation (V1Switch(...) main;)",
                self.source.location(1, 1),
            )
        sm = self.types.get("standard_metadata_t")
        if not isinstance(sm, ir.StructType):
            raise CompileError.at(
                "standard_metadata_t is not declared (include <v1model.p4>)",
                self.source.location(1, 1),
            )
        ctrl_headers = []
        for t in self.types.values():
            if isinstance(t, ir.HeaderType):
                a = ir.find_annotation(t.annotations, "controller_header")
                if a is not None:
                    if a.value not in ("packet_in", "packet_out"):
                        raise self.error(
                            f'@controller_header of header {t.name} must be "packet_in" or '
                            f'"packet_out"',
                            a.loc,
                        )
                    ctrl_headers.append(ir.ControllerHeader(a.value, t, 0))
        return ir.ProgramIR(
            types=dict(self.types),
            errors=ir.ErrorType(tuple(self.error_members)),
            match_kinds=tuple(self.match_kinds),
            constants=dict(self.constants),
            package=self.package,
            actions=self.all_actions,
            tables=self.all_tables,
            externs=self.all_externs,
            digests=list(self.digests.values()),
            controller_headers=ctrl_headers,
            standard_metadata_type=sm,
        )

    # --------------------------------------------------------------- types

    def type_of(self, t: Tree[Token], typevars: dict[str, ir.Type] | None = None) -> ir.Type:
        typevars = typevars or {}
        d = t.data
        if d == "type_ref":
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
            if d == "varbit_type":
                return ir.VarbitType(w)
            if w == 0 and d == "bit_type":
                raise self.error("bit<0> is not supported", t)
            return ir.BitsType(w, d == "signed_type")
        if d in ("bit_expr_type", "signed_expr_type"):
            e = self.expr(_kids(t)[0], Scope(self.global_scope))
            w = self.const_int(e, t)
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
            return ir.HeaderStackType(base, size)
        if d == "tuple_type":
            return ir.TupleType(
                tuple(self.type_of(a, typevars) for a in _kids(_need(t, "type_args")))
            )
        raise self.error(f"unsupported type syntax ({d})", t)

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
            if isinstance(ftype, ir.HeaderStackType) and not header:
                raise self.error("header stacks are not supported by p4sim", ty)
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

    def decl_typedef_decl(self, t: Tree[Token]) -> None:
        kids = _kids(t)
        self._declare_type(_name(kids[2]), self.type_of(kids[1]), t)

    def decl_newtype_decl(self, t: Tree[Token]) -> None:
        kids = _kids(t)
        ty = self.type_of(kids[1])
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

    def decl_const_decl(self, t: Tree[Token], scope: Scope | None = None) -> None:
        scope = scope or self.global_scope
        _ann, ty, nm, value = _kids(t)
        ctype = self.type_of(ty)
        e = self.coerce(self.expr(value, scope), ctype, value)
        if consteval.try_evaluate(e) is None:
            raise self.error(
                f"the value of constant '{_name(nm)}' is not a compile-time constant", value
            )
        scope.declare(_name(nm), e)
        if scope is self.global_scope:
            self.constants[_name(nm)] = e

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

    def decl_extern_function_decl(self, t: Tree[Token]) -> None:
        kids = _kids(t)
        fname = _name(kids[2])
        self.extern_functions.setdefault(fname, []).append(self._sig(t, kids[1], fname))

    def decl_function_decl(self, t: Tree[Token]) -> None:
        raise self.error("functions are not supported by p4sim", t)

    def decl_action_decl(self, t: Tree[Token]) -> None:
        name = _name(_need(t, "name"))
        self.top_actions[name] = t
        self.global_scope.declare(name, ("top_action", t))

    def decl_parser_type_decl(self, t: Tree[Token]) -> None:
        self.blocks.setdefault(
            _name(_need(t, "name")), _BlockDecl("parser", _name(_need(t, "name")), t, False)
        )

    def decl_control_type_decl(self, t: Tree[Token]) -> None:
        self.blocks.setdefault(
            _name(_need(t, "name")), _BlockDecl("control", _name(_need(t, "name")), t, False)
        )

    def decl_parser_decl(self, t: Tree[Token]) -> None:
        name = _name(_need(t, "name"))
        if name in self.blocks and self.blocks[name].has_body:
            raise self.error(f"parser '{name}' is declared twice", t)
        if _child(t, "type_params"):
            raise self.error("generic parsers are not supported by p4sim", t)
        self.blocks[name] = _BlockDecl("parser", name, t, True)

    def decl_control_decl(self, t: Tree[Token]) -> None:
        name = _name(_need(t, "name"))
        if name in self.blocks and self.blocks[name].has_body:
            raise self.error(f"control '{name}' is declared twice", t)
        if _child(t, "type_params"):
            raise self.error("generic controls are not supported by p4sim", t)
        self.blocks[name] = _BlockDecl("control", name, t, True)

    def decl_package_decl(self, t: Tree[Token]) -> None:
        self.packages[_name(_need(t, "name"))] = t

    def decl_empty_decl(self, t: Tree[Token]) -> None:
        pass

    def decl_instantiation(self, t: Tree[Token]) -> None:
        _ann, ty, args, nm = _kids(t)
        tname = _name(ty)
        name = _name(nm)
        if tname in self.packages:
            if name != "main":
                raise self.error(f"package instance must be named 'main', not '{name}'", nm)
            self._instantiate_package(t, tname, args)
            return
        ext = self.extern_instance(t, self.global_scope, path="")
        self.global_scope.declare(name, ext)

    # --------------------------------------------------------------- package

    def _instantiate_package(self, t: Tree[Token], tname: str, args: Tree[Token]) -> None:
        if tname != "V1Switch":
            raise self.error(f"package '{tname}' is not supported by p4sim (only V1Switch)", t)
        if self.package is not None:
            raise self.error("'main' is instantiated twice", t)
        arg_trees = _kids(args)
        if len(arg_trees) != 6:
            raise self.error(f"V1Switch takes 6 blocks, got {len(arg_trees)}", t)
        blocks: list[ir.Parser | ir.Control] = []
        controls: list[ir.Control] = []
        for role, a in zip(V1SWITCH_BLOCKS, arg_trees):
            e = _kids(a)[0] if a.data == "argument" else a
            if a.data == "named_argument":
                raise self.error("named arguments to V1Switch are not supported", a)
            if e.data != "ctor_call":
                raise self.error(
                    f"V1Switch argument '{role}' must be a parser or control "
                    f"instantiation such as MyIngress()",
                    a,
                )
            bname = _name(_need(e, "type_name"))
            decl = self.blocks.get(bname)
            if decl is None or not decl.has_body:
                raise self.error(f"'{bname}' is not a parser or control declared in the program", e)
            if _kids(_need(e, "arguments")):
                raise self.error("constructor parameters of blocks are not supported", e)
            want = "parser" if role == "p" else "control"
            if decl.kind != want:
                raise self.error(
                    f"V1Switch argument '{role}' must be a {want}, '{bname}' is a {decl.kind}", e
                )
            if decl.kind == "parser":
                blocks.append(self.elaborate_parser(decl, bname))
            else:
                control = self.elaborate_control(decl, bname, role)
                blocks.append(control)
                controls.append(control)
        parser = blocks[0]
        assert isinstance(parser, ir.Parser)
        expect = {"p": 4, "vr": 2, "ig": 3, "eg": 3, "ck": 2, "dep": 2}
        for role, b in zip(V1SWITCH_BLOCKS, blocks):
            if len(b.params) != expect[role]:
                raise self.error(
                    f"'{b.name}' has {len(b.params)} parameters; as V1Switch "
                    f"argument '{role}' it needs {expect[role]}",
                    t,
                )
        htype = parser.params[1].type
        mtype = parser.params[2].type
        if not isinstance(htype, ir.StructType) or not isinstance(mtype, ir.StructType):
            raise self.error("the parser's headers and metadata parameters must be structs", t)
        for role, b in zip(V1SWITCH_BLOCKS[1:], blocks[1:]):
            ptypes = [p.type for p in b.params]
            idx = 1 if role == "dep" else 0
            if ptypes[idx] != htype or (role != "dep" and ptypes[1] != mtype):
                raise self.error(
                    f"'{b.name}' (V1Switch argument '{role}') does not use the "
                    f"parser's header type {htype} and metadata type {mtype}",
                    t,
                )
        verify_checksum, ingress, egress, compute_checksum, deparser = controls
        self.package = ir.PackageInstance(
            "main",
            "V1Switch",
            parser,
            verify_checksum,
            ingress,
            egress,
            compute_checksum,
            deparser,
            headers_type=htype,
            metadata_type=mtype,
        )

    # ------------------------------------------------------------ parameters

    def params(self, t: Tree[Token], kind: str) -> list[ir.Var]:
        out = []
        for p in _kids(t):
            d = _child(p, "direction")
            ty = [k for k in _kids(p) if k.data not in ("annots", "direction", "name")]
            if len(ty) > 1:
                raise self.error("default parameter values are not supported by p4sim", p)
            ptype = self.type_of(ty[0])
            pname = _name(_need(p, "name"))
            direction = _name(d) if d else ""
            k = kind
            if kind == "action":
                k = "action_arg" if direction else "action_param"
            out.append(ir.Var(pname, ptype, k, self.uid(pname), direction, self.loc(p)))
        return out

    # --------------------------------------------------------------- parsers

    def elaborate_parser(self, decl: _BlockDecl, path: str) -> ir.Parser:
        t = decl.tree
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
                raise self.error(f"select key of type {k.type} is not supported", kt)
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
        if t.data == "tuple_keyset":
            elems = _kids(t)
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

    # -------------------------------------------------------------- controls

    def elaborate_control(self, decl: _BlockDecl, path: str, role: str = "") -> ir.Control:
        t = decl.tree
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
                            "constructor parameters of controls are not supported", local
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

    # ---------------------------------------------------------------- tables

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
            tbl.entries_const = econst
            tbl.const_entries = []
            kinds = [k.match_kind for k in keys]
            elist = _children(etree, "entry")
            for idx, en in enumerate(elist):
                kids = _kids(en)
                ks_tree = kids[1]
                act_tree = kids[2]
                kss = self.keysets(ks_tree, [k.expr for k in keys], scope, "entry", kinds)
                call = self.action_call(act_tree, scope, refs, f"table {name} entry")
                ref = next(r for r in refs if r.action is call.action)
                if ref.default_only:
                    raise self.error(
                        f"table {name}: entry uses @defaultonly action {call.action.name}", act_tree
                    )
                prio = (len(elist) - idx) if tbl.needs_priority else None
                tbl.const_entries.append(ir.TableEntry(kss, call, prio, self.loc(en)))
            if not econst:
                raise self.error(
                    "mutable 'entries' (without const) are not supported by p4sim", etree
                )
        self.all_tables.append(tbl)
        return tbl

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
            raise self.error(f"table key of type {e.type} is not supported", expr_t)
        ann = self.annotations(ann_t)
        a = ir.find_annotation(ann, "name")
        kname = a.value if a is not None and a.value else self.key_name(e, expr_t)
        return ir.TableKey(e, mk, kname, index, ann, self.loc(ke))

    def key_name(self, e: ir.Expr, node: Where) -> str:
        """p4c's TableKeyNames: the key's source form for paths, members, slices, isValid."""

        def text(x: ir.Expr) -> str:
            if isinstance(x, ir.VarRef):
                return x.var.name
            if isinstance(x, ir.Member):
                return f"{text(x.base)}.{x.field}"
            if isinstance(x, ir.Slice):
                return f"{text(x.base)}[{x.hi}:{x.lo}]"
            if isinstance(x, ir.IsValid):
                return f"{text(x.header)}.isValid()"
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
                raise self.error("named arguments are not supported here", a)
            e = self.coerce(self.expr(_kids(a)[0], scope), p.type, a)
            values.append(self.const_int(e, a))
        return ir.ActionCall(act, values, self.loc(t))

    # --------------------------------------------------------------- externs

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
        d = t.data
        loc = self.loc(t)
        if d == "empty_stmt":
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
            if _kids(t):
                raise self.error("return with a value is not supported (no functions)", t)
            if ctx.kind == "parser":
                raise self.error("return is not allowed in a parser", t)
            return [ir.Return(loc)]
        if d == "switch_stmt":
            return [self.switch(t, scope, ctx)]
        if d == "call_stmt":
            return self.call_stmt(t, scope, ctx)
        raise self.error(f"unsupported statement ({d})", t)

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
            body_t = _child(c, "block")
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
        return ir.Switch(self.loc(t), subject, merged)

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
            if fname == "verify":
                if ctx.kind != "parser":
                    raise self.error("verify() can only be called in a parser", t)
                bound = self.call_function(fname, type_args, args, scope, t)
                return [ir.Verify(loc, bound[0].expr, bound[1].expr)]
            if fname in self.extern_functions:
                return [self.extern_function_call(fname, type_args, args, scope, t, ctx)]
            raise self.error(f"unknown function or action '{fname}'", callee)
        if callee.data != "member":
            raise self.error("unsupported call", t)
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
            raise self.error(f"packet_in.{method} is not supported as a statement", mname_t)
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
            raise self.error(
                f"header stack operation '{method}' is not supported by p4sim", mname_t
            )
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
        if len(positional) + len(by_name) != len(params):
            raise self.error(f"{what} takes {len(params)} arguments, got {len(args)}", node)
        out = []
        for i, p in enumerate(params):
            arg = positional[i] if i < len(positional) else by_name.get(p.name)
            if arg is None:
                raise self.error(f"{what}: missing argument '{p.name}'", node)
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
        out = []
        for (direction, pty, pname), a in zip(sig.params, args):
            if a.data == "named_argument":
                raise self.error(f"{what}: named arguments are not supported for externs", a)
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
            if fname != "hash":
                algo = bound[3].expr
                if isinstance(algo, ir.EnumMember) and algo.member not in ("csum16",):
                    raise self.error(
                        f"{fname}: p4sim supports HashAlgorithm.csum16 only "
                        f"(as bmv2), not {algo.member}",
                        node,
                    )
        if fname == "hash":
            algo = bound[1].expr
            if isinstance(algo, ir.EnumMember) and algo.member not in (
                "crc32",
                "crc16",
                "csum16",
                "identity",
                "xor16",
            ):
                raise self.error(f"hash algorithm {algo.member} is not supported by p4sim", node)
        if fname == "assume":
            raise self.error(f"{fname} is not supported by p4sim", node)
        return ir.ExternFunctionCall(loc, fname, bound, targs)

    def list_to_struct(self, e: ir.ListExpr, t: ir.StructType, node: Where) -> ir.Expr:
        if len(e.elements) != len(t.fields):
            raise self.error(
                f"list has {len(e.elements)} elements; struct {t.name} has {len(t.fields)} fields",
                node,
            )
        fields = {}
        for f, el in zip(t.fields, e.elements):
            fields[f.name] = self.coerce(el, f.type, node)
        return ir.StructExpr(t, e.loc, fields)

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

    # ----------------------------------------------------------- expressions

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
        while isinstance(base, (ir.Member, ir.Slice, ir.StackIndex)):
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
            ty = ir.BitsType(int(m.group(1)), m.group(2) == "s")
            if ty.size == 0:
                raise self.error("zero-width integer literal", tok)
            s = m.group(3)
        low = s.lower()
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
        if isinstance(e, ir.ListExpr) and isinstance(target, (ir.StructType, ir.HeaderType)):
            if isinstance(target, ir.HeaderType):
                raise self.error("list expressions cannot initialise headers in p4sim", node)
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
            raise self.error(
                "struct-valued expressions {f = v} are not supported by p4sim "
                "(assign the fields one by one)",
                t,
            )
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
                    raise self.error("stack.lastIndex is not supported by p4sim", mt)
                raise self.error(f"header stack '.{member}' is not supported by p4sim", mt)
            raise self.error(f"a value of type {bt} has no field '{member}'", mt)
        if d == "index":
            base = self.expr(t.children[0], scope)
            idx = self.const_int(self.expr(t.children[1], scope), t.children[1])
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
        raise self.error(f"unsupported expression ({d})", t)

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
                    raise self.error(f"unsupported call of table method '{method}'", t)
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
                    if not isinstance(lt, (ir.BitsType, ir.HeaderType)):
                        raise self.error(
                            f"lookahead<{lt}> is not supported (bit<W> or a header)", t
                        )
                    if isinstance(lt, ir.HeaderType) and lt.varbit_field:
                        raise self.error("lookahead of a header with a varbit field", t)
                    return ir.Lookahead(lt, self.loc(t))
                if isinstance(target.type, ir.PacketInType) and method == "length":
                    raise self.error("packet_in.length() is not supported by p4sim", t)
            raise self.error(f"'{method}(...)' cannot be used as a value", t)
        raise self.error(
            "function calls cannot be used as values in p4sim (only "
            "isValid(), lookahead<T>() and table apply results)",
            t,
        )

    def cast(self, e: ir.Expr, target: ir.Type, node: Where) -> ir.Expr:
        src = e.type
        loc = self.loc(node)
        if src == target:
            return e
        ok = False
        if isinstance(target, ir.BitsType):
            ok = (
                isinstance(src, (ir.BitsType, ir.InfIntType))
                or (isinstance(src, ir.BoolType) and target.size == 1 and not target.signed)
                or (isinstance(src, ir.EnumType) and src.underlying is not None)
            )
            if isinstance(src, ir.InfIntType) and isinstance(e, ir.Const):
                return ir.Const(target, loc, consteval.wrap(e.value, target))
        elif isinstance(target, ir.BoolType):
            ok = (isinstance(src, ir.BitsType) and src.size == 1 and not src.signed) or (
                isinstance(src, ir.InfIntType) and isinstance(e, ir.Const) and e.value in (0, 1)
            )
            if ok and isinstance(e, ir.Const):
                return ir.BoolConst(target, loc, bool(e.value))
        elif isinstance(target, ir.EnumType) and target.underlying is not None:
            ok = isinstance(src, (ir.BitsType, ir.InfIntType))
            if isinstance(e, ir.Const):
                e = self.coerce(e, target.underlying, node)
        elif isinstance(target, ir.InfIntType):
            ok = False
        if not ok:
            raise self.error(f"cannot cast {src} to {target}", node)
        return ir.Cast(target, loc, e)

    def unary(self, d: str, e: ir.Expr, node: Where) -> ir.Expr:
        loc = self.loc(node)
        t = e.type
        if d == "pos":
            if not isinstance(t, (ir.BitsType, ir.InfIntType)):
                raise self.error(f"unary + needs a number, not {t}", node)
            return e
        if d == "lnot":
            if not isinstance(t, ir.BoolType):
                raise self.error(f"'!' needs a bool operand, not {t}", node)
            if isinstance(e, ir.BoolConst):
                return ir.BoolConst(t, loc, not e.value)
            return ir.Unary(t, loc, "!", e)
        if d == "bnot":
            if isinstance(t, ir.InfIntType):
                raise self.error("'~' needs an operand with a width", node)
            if not isinstance(t, ir.BitsType):
                raise self.error(f"'~' needs a bit<W> operand, not {t}", node)
            return ir.Unary(t, loc, "~", e)
        if isinstance(t, ir.InfIntType) and isinstance(e, ir.Const):
            return ir.Const(t, loc, -e.value)
        if not isinstance(t, ir.BitsType):
            raise self.error(f"unary '-' needs a number, not {t}", node)
        return ir.Unary(t, loc, "-", e)

    def binary(self, op: str, a: ir.Expr, b: ir.Expr, node: Where) -> ir.Expr:
        loc = self.loc(node)
        ta, tb = a.type, b.type
        if op in ("&&", "||"):
            if not isinstance(ta, ir.BoolType) or not isinstance(tb, ir.BoolType):
                raise self.error(f"'{op}' needs bool operands, got {ta} and {tb}", node)
            return ir.Binary(ir.BoolType(), loc, op, a, b)
        if op in ("<<", ">>"):
            if isinstance(tb, ir.BitsType) and tb.signed:
                raise self.error("shift amount must be unsigned", node)
            if not isinstance(tb, (ir.BitsType, ir.InfIntType)):
                raise self.error(f"shift amount has type {tb}", node)
            if isinstance(tb, ir.InfIntType) and isinstance(b, ir.Const) and b.value < 0:
                raise self.error("negative shift amount", node)
            if isinstance(ta, ir.InfIntType):
                if isinstance(a, ir.Const) and isinstance(b, ir.Const):
                    v = a.value << b.value if op == "<<" else a.value >> b.value
                    return ir.Const(ta, loc, v)
                raise self.error(
                    f"'{op}': the left operand needs a width when the shift amount is not constant",
                    node,
                )
            if not isinstance(ta, ir.BitsType):
                raise self.error(f"cannot shift a value of type {ta}", node)
            return ir.Binary(ta, loc, op, a, b)
        if op == "++":
            if isinstance(ta, ir.InfIntType) or isinstance(tb, ir.InfIntType):
                raise self.error("'++' operands need a width (e.g. 8w0)", node)
            if not isinstance(ta, ir.BitsType) or not isinstance(tb, ir.BitsType):
                raise self.error(f"'++' needs bit<W> operands, got {ta} and {tb}", node)
            return ir.Concat(ir.BitsType(ta.size + tb.size, ta.signed), loc, a, b)
        # both untyped: fold
        if isinstance(ta, ir.InfIntType) and isinstance(tb, ir.InfIntType):
            if isinstance(a, ir.Const) and isinstance(b, ir.Const):
                try:
                    v = self._fold_inf(op, a.value, b.value)
                except ZeroDivisionError:
                    raise self.error("division by zero", node) from None
                if isinstance(v, bool):
                    return ir.BoolConst(ir.BoolType(), loc, v)
                return ir.Const(ta, loc, v)
            raise self.error(f"'{op}' on untyped integers", node)
        if isinstance(ta, ir.InfIntType):
            a = self.coerce(a, tb, node) if isinstance(tb, ir.BitsType) else a
        elif isinstance(tb, ir.InfIntType):
            b = self.coerce(b, ta, node) if isinstance(ta, ir.BitsType) else b
        ta, tb = a.type, b.type
        if ta != tb:
            if isinstance(ta, ir.BitsType) and isinstance(tb, ir.BitsType):
                raise self.error(f"width mismatch in '{op}': {ta} and {tb} (use a cast)", node)
            raise self.error(f"type mismatch in '{op}': {ta} and {tb}", node)
        if op in ("==", "!="):
            if not isinstance(
                ta,
                (ir.BitsType, ir.BoolType, ir.EnumType, ir.ErrorType, ir.HeaderType, ir.StructType),
            ):
                raise self.error(f"cannot compare values of type {ta}", node)
            if isinstance(ta, (ir.HeaderType, ir.StructType)):
                raise self.error("comparing headers/structs is not supported by p4sim", node)
            return ir.Binary(ir.BoolType(), loc, op, a, b)
        if not isinstance(ta, ir.BitsType):
            raise self.error(f"'{op}' needs bit<W> or int<W> operands, got {ta}", node)
        if op in ("<", "<=", ">", ">="):
            return ir.Binary(ir.BoolType(), loc, op, a, b)
        if op in ("/", "%"):
            if ta.signed:
                raise self.error(f"'{op}' on int<W> is not allowed", node)
            if isinstance(b, ir.Const) and b.value == 0:
                raise self.error("division by zero", node)
        return ir.Binary(ta, loc, op, a, b)

    @staticmethod
    def _fold_inf(op: str, a: int, b: int) -> int | bool:
        if op in ("==", "!=", "<", "<=", ">", ">="):
            return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[
                op
            ]
        if op in ("/", "%"):
            if b == 0:
                raise ZeroDivisionError
            if a < 0 or b < 0:
                raise ZeroDivisionError
            return a // b if op == "/" else a % b
        return {
            "+": a + b,
            "-": a - b,
            "*": a * b,
            "&": a & b,
            "|": a | b,
            "^": a ^ b,
            "|+|": a + b,
            "|-|": a - b,
        }[op]


def resolve(tree: Tree[Token], source: PreprocessedSource) -> tuple[ir.ProgramIR, list[Diagnostic]]:
    """Resolve and type-check a parse tree into the IR (plus warnings)."""
    r = Resolver(tree, source)
    program = r.run()
    return program, r.warnings
