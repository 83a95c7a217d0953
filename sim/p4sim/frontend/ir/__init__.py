"""The typed, checked intermediate representation produced by the p4sim front end.

Design goals (what the code generator may rely on):

* Every name is already resolved. An expression refers to the declaration it reads (a `Var`
  object, a header field by path, a `Table`, an `ExternInstance`), never to a string that
  would have to be looked up again.
* Every expression carries its type (`expr.type`); `expr.width` is the bit width for
  `bit<W>`/`int<W>`/bool/enum-with-underlying-type expressions (bool counts as 1) and None
  otherwise. Integer constants are already converted to their final type, so no
  arbitrary-precision literal survives into statements (except where the language keeps an
  `int` on purpose, e.g. shift amounts, which are then plain `Const` values of `InfIntType`).
* Headers and structs carry field widths and bit offsets (MSB first, as on the wire).
* Controls and parsers are *instances*: a control declared once and instantiated twice appears
  twice, each with its own tables, externs and P4Info names. Nothing is shared by reference
  between two instances except immutable declarations (types, top-level actions' bodies).
* Tables, actions, externs, match fields and action parameters carry their P4Info names and
  IDs, so that the engine and the P4Runtime server agree with the P4Info by construction.

All classes are plain dataclasses; they are built once by the resolver and not mutated after
the checks stage (the compiler treats the IR as immutable from then on).

The classes live in one module per kind (types, annotations, expressions, statements,
declarations, program); this package re-exports all of them, so `ir.X` names every one.
"""

from __future__ import annotations

from .annotations import (
    Annotation,
    find_annotation,
)
from .declarations import (
    Action,
    ActionCall,
    ActionRef,
    Control,
    ExternInstance,
    KeySet,
    Parser,
    ParserState,
    SelectCase,
    Table,
    TableEntry,
    TableKey,
    Transition,
)
from .expressions import (
    Argument,
    Binary,
    BoolConst,
    Cast,
    Concat,
    Const,
    DontCare,
    EnumMember,
    ErrorMember,
    Expr,
    ExternCallExpr,
    IsValid,
    ListExpr,
    Lookahead,
    Member,
    Mux,
    Slice,
    StackIndex,
    StringConst,
    StructExpr,
    TableApplyExpr,
    Unary,
    Var,
    VarRef,
)
from .program import (
    ControllerHeader,
    Digest,
    PackageInstance,
    ProgramIR,
)
from .statements import (
    Advance,
    ApplyControl,
    ApplyParser,
    ApplyTable,
    Assign,
    CallAction,
    Emit,
    Exit,
    ExternCall,
    ExternFunctionCall,
    Extract,
    If,
    Return,
    SetInvalid,
    SetValid,
    Stmt,
    Switch,
    SwitchCase,
    VarDecl,
    Verify,
)
from .types import (
    BitsType,
    BoolType,
    DontCareType,
    EnumType,
    ErrorType,
    ExternType,
    Field,
    HeaderStackType,
    HeaderType,
    InfIntType,
    MatchKindType,
    PacketInType,
    PacketOutType,
    StringType,
    StructType,
    TupleType,
    Type,
    VarbitType,
    VoidType,
    width_of,
)

__all__ = [
    "Action",
    "ActionCall",
    "ActionRef",
    "Advance",
    "Annotation",
    "ApplyControl",
    "ApplyParser",
    "ApplyTable",
    "Argument",
    "Assign",
    "Binary",
    "BitsType",
    "BoolConst",
    "BoolType",
    "CallAction",
    "Cast",
    "Concat",
    "Const",
    "Control",
    "ControllerHeader",
    "Digest",
    "DontCare",
    "DontCareType",
    "Emit",
    "EnumMember",
    "EnumType",
    "ErrorMember",
    "ErrorType",
    "Exit",
    "Expr",
    "ExternCall",
    "ExternCallExpr",
    "ExternFunctionCall",
    "ExternInstance",
    "ExternType",
    "Extract",
    "Field",
    "HeaderStackType",
    "HeaderType",
    "If",
    "InfIntType",
    "IsValid",
    "KeySet",
    "ListExpr",
    "Lookahead",
    "MatchKindType",
    "Member",
    "Mux",
    "PackageInstance",
    "PacketInType",
    "PacketOutType",
    "Parser",
    "ParserState",
    "ProgramIR",
    "Return",
    "SelectCase",
    "SetInvalid",
    "SetValid",
    "Slice",
    "StackIndex",
    "Stmt",
    "StringConst",
    "StringType",
    "StructExpr",
    "StructType",
    "Switch",
    "SwitchCase",
    "Table",
    "TableApplyExpr",
    "TableEntry",
    "TableKey",
    "Transition",
    "TupleType",
    "Type",
    "Unary",
    "Var",
    "VarDecl",
    "VarRef",
    "VarbitType",
    "Verify",
    "VoidType",
    "find_annotation",
    "width_of",
]
