"""Top-level declarations and the V1Switch package instantiation, which elaborates the
six blocks; parameter lists."""

from __future__ import annotations

from lark import Token, Tree

from ...errors import CompileError
from .. import consteval, ir
from .base import ResolverBase
from .scope import Scope, _BlockDecl
from .tree import _child, _kids, _name, _need

V1SWITCH_BLOCKS = ("p", "vr", "ig", "eg", "ck", "dep")


class ResolveDeclarations(ResolverBase):
    # ------------------------------------------------------------------ run
    def run(self) -> ir.ProgramIR:
        for decl in _kids(self.tree):
            handler = getattr(self, "decl_" + decl.data, None)
            if handler is None:
                raise self.error(
                    f"declaration ({decl.data.replace('_', ' ')}) is not supported by p4sim", decl
                )
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

    # -------------------------------------------------------- declarations
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
            assert self.package is not None
            self.package.annotations = self.annotations(_ann)
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
                raise self.error("named arguments to V1Switch are not supported by p4sim", a)
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
                raise self.error("constructor arguments of blocks are not supported by p4sim", e)
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
            ptype = self.type_of(ty[0])
            pname = _name(_need(p, "name"))
            direction = _name(d) if d else ""
            k = kind
            if kind == "action":
                k = "action_arg" if direction else "action_param"
            var = ir.Var(pname, ptype, k, self.uid(pname), direction, self.loc(p))
            if len(ty) > 1:  # a default value, for calls that leave the argument out
                if direction in ("out", "inout"):
                    raise self.error(f"an {direction} parameter cannot have a default value", p)
                self.param_defaults[var.uid] = ty[1]
            out.append(var)
        return out
