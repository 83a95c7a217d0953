"""The whole program: the package instance and the indexes P4Info and the engine use."""

from __future__ import annotations

from dataclasses import dataclass

from ...errors import SourceLocation
from .annotations import Annotation
from .declarations import Action, Control, ExternInstance, Parser, Table
from .expressions import Expr
from .types import ErrorType, HeaderType, StructType, Type

# --------------------------------------------------------------------------- program


@dataclass(eq=False)
class Digest:
    """A `digest<T>(receiver, data)` call site; p4c emits one P4Info digest per struct type T,
    named after T."""

    type: StructType
    p4info_name: str
    p4info_id: int
    receiver: int
    loc: SourceLocation | None = None


@dataclass(eq=False)
class ControllerHeader:
    """A header annotated `@controller_header("packet_in"|"packet_out")`."""

    name: str  # "packet_in" / "packet_out"
    header: HeaderType
    p4info_id: int


@dataclass(eq=False)
class PackageInstance:
    """`V1Switch(p, vr, ig, eg, ck, dep) main;` resolved to its six blocks, by v1model
    parameter name: "p" (Parser), "vr" (VerifyChecksum), "ig" (Ingress), "eg" (Egress),
    "ck" (ComputeChecksum), "dep" (Deparser). `headers_type` and `metadata_type` are the
    H and M type arguments."""

    name: str  # instance name ("main")
    package: str  # "V1Switch"
    parser: Parser
    verify_checksum: Control
    ingress: Control
    egress: Control
    compute_checksum: Control
    deparser: Control
    headers_type: StructType
    metadata_type: StructType
    annotations: tuple[Annotation, ...] = ()  # on the instantiation (@pkginfo)

    @property
    def blocks(self) -> dict[str, Parser | Control]:
        return {
            "p": self.parser,
            "vr": self.verify_checksum,
            "ig": self.ingress,
            "eg": self.egress,
            "ck": self.compute_checksum,
            "dep": self.deparser,
        }


@dataclass(eq=False)
class ProgramIR:
    """The whole program: types by name, the package instantiation, and indexes over every
    table/action/extern instance (all instances, in declaration order) for the P4Info builder,
    the engine and the server."""

    types: dict[str, Type]
    errors: ErrorType
    match_kinds: tuple[str, ...]
    constants: dict[str, Expr]
    package: PackageInstance
    actions: list[Action]  # every action P4Info lists (top-level + per control)
    tables: list[Table]
    externs: list[ExternInstance]
    digests: list[Digest]
    controller_headers: list[ControllerHeader]
    standard_metadata_type: StructType
    arch: str = "v1model"

    def table(self, p4info_name: str) -> Table:
        for t in self.tables:
            if t.p4info_name == p4info_name:
                return t
        raise KeyError(p4info_name)

    def action(self, p4info_name: str) -> Action:
        for a in self.actions:
            if a.p4info_name == p4info_name:
                return a
        raise KeyError(p4info_name)

    def extern(self, p4info_name: str) -> ExternInstance:
        for e in self.externs:
            if e.p4info_name == p4info_name:
                return e
        raise KeyError(p4info_name)
