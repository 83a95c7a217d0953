"""Variables and expressions: every expression carries its type and points at what it
reads (a `Var`, a field, a table), never at a name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...errors import SourceLocation
from .types import Field, Type

if TYPE_CHECKING:
    from .declarations import ExternInstance, Function, Table

# ----------------------------------------------------------------------- variables


@dataclass(eq=False)
class Var:
    """A storage location: a parser/control/action parameter, a local variable or constant.

    Compared by identity. `uid` is unique within a ProgramIR and is a valid Python identifier
    (the code generator may use it as a variable name). `kind` is one of "param" (parser or
    control parameter), "action_param" (directionless action parameter, i.e. action data),
    "action_arg" (directional action parameter), "local" (variable declaration), "const".
    """

    name: str
    type: Type
    kind: str
    uid: str
    direction: str = ""  # "in" | "out" | "inout" | "" (directionless)
    loc: SourceLocation | None = None
    const_value: Expr | None = None  # for kind == "const"

    @property
    def width(self) -> int | None:
        return self.type.width

    def __repr__(self) -> str:
        return f"Var({self.uid}: {self.type})"


# ---------------------------------------------------------------------- expressions


@dataclass(eq=False)
class Expr:
    """Base class of expressions: `type` is always set; `loc` points into the original file."""

    type: Type
    loc: SourceLocation | None

    @property
    def width(self) -> int | None:
        return self.type.width


@dataclass(eq=False)
class Const(Expr):
    """An integer constant. For bit<W> and int<W> the value is already wrapped into range and
    stored as a non-negative W-bit pattern (two's complement for int<W>), exactly like every
    other value at run time; for InfIntType it is the exact (possibly negative) integer.
    For bool see BoolConst."""

    value: int


@dataclass(eq=False)
class BoolConst(Expr):
    value: bool


@dataclass(eq=False)
class StringConst(Expr):
    value: str


@dataclass(eq=False)
class DontCare(Expr):
    """`_`."""


@dataclass(eq=False)
class VarRef(Expr):
    """A read of (or, as an lvalue, a write to) a Var."""

    var: Var


@dataclass(eq=False)
class Member(Expr):
    """`base.field` where base is a struct or header (field of a header: `header` is the
    header-typed expression `base`). `field_info` is the resolved Field (width, offset)."""

    base: Expr
    field: str
    field_info: Field | None = None


@dataclass(eq=False)
class StackIndex(Expr):
    """`stack[index]` with a compile-time constant index; also element `index` of a tuple."""

    base: Expr
    index: int


@dataclass(eq=False)
class StackNext(Expr):
    """`stack.next` (parsers): the element at the stack's next index; an extract into it
    advances the index (error.StackOutOfBounds when the stack is full)."""

    base: Expr


@dataclass(eq=False)
class StackLast(Expr):
    """`stack.last` (parsers): the element below the next index (error.StackOutOfBounds
    when nothing was extracted into the stack)."""

    base: Expr


@dataclass(eq=False)
class StackLastIndex(Expr):
    """`stack.lastIndex` (parsers): the next index minus one, as bit<32>."""

    base: Expr


@dataclass(eq=False)
class Slice(Expr):
    """`base[hi:lo]` (hi and lo constants, hi >= lo); type bit<hi-lo+1>."""

    base: Expr
    hi: int
    lo: int


@dataclass(eq=False)
class Concat(Expr):
    """`left ++ right`; type bit<wl+wr> (signedness of the left operand)."""

    left: Expr
    right: Expr


@dataclass(eq=False)
class Cast(Expr):
    """`(type) expr`: the value is truncated/extended to the target width (sign-extended when
    the source is int<W>); bool<->bit<1> conversions are casts too."""

    expr: Expr


@dataclass(eq=False)
class Unary(Expr):
    """op in {"-", "~", "!"}."""

    op: str
    operand: Expr


@dataclass(eq=False)
class Binary(Expr):
    """op in {"+", "-", "*", "/", "%", "|+|", "|-|", "&", "|", "^", "<<", ">>",
    "==", "!=", "<", "<=", ">", ">=", "&&", "||"}.

    Both operands of arithmetic/bitwise/comparison ops have the same type (the resolver inserts
    casts for untyped constants); shifts keep the left operand's type and the right operand may
    be a Const of InfIntType or an unsigned bit<W>. `&&`/`||` short-circuit."""

    op: str
    left: Expr
    right: Expr


@dataclass(eq=False)
class Mux(Expr):
    """`cond ? then : else_` (short-circuit)."""

    cond: Expr
    then: Expr
    else_: Expr


@dataclass(eq=False)
class IsValid(Expr):
    """`header.isValid()`; type bool."""

    header: Expr


@dataclass(eq=False)
class EnumMember(Expr):
    """`E.member`; `value` is the member's numeric value (declaration index for plain enums)."""

    member: str
    value: int


@dataclass(eq=False)
class ErrorMember(Expr):
    """`error.Name`; `value` is its number (declaration order across all error declarations,
    core.p4's first)."""

    member: str
    value: int


@dataclass(eq=False)
class ListExpr(Expr):
    """`{a, b, c}` (hash/checksum/digest data, select keys, tuple values)."""

    elements: list[Expr]


@dataclass(eq=False)
class StructExpr(Expr):
    """`{f1 = a, f2 = b}` with a known struct/header type."""

    fields: dict[str, Expr]


@dataclass(eq=False)
class TableApplyExpr(Expr):
    """`t.apply().hit` / `.miss` (type bool) or `.action_run` (only as a switch subject, see
    SwitchStmt). Evaluating it applies the table."""

    table: Table
    member: str  # "hit" | "miss" | "action_run"


@dataclass(eq=False)
class Lookahead(Expr):
    """`pkt.lookahead<T>()`: the next T.width bits of the packet without consuming them.
    For a header T the result is a header value; for bit<W> an int."""


@dataclass(eq=False)
class InvalidHeader(Expr):
    """`{#}`: an invalid header of the expression's (header) type."""


@dataclass(eq=False)
class FunctionCallExpr(Expr):
    """A call of a P4 function as a value (its type is the function's return type)."""

    function: Function
    args: list[Argument]


@dataclass(eq=False)
class ExternCallExpr(Expr):
    """A value-returning extern method/function call, e.g. `reg.read` is a statement but
    `checksum.get()` would be an expression. `instance` is None for extern functions."""

    instance: ExternInstance | None
    method: str
    args: list[Argument]
    type_args: tuple[Type, ...] = ()


@dataclass(eq=False)
class Argument:
    """An argument bound to a parameter: `direction` is the parameter's direction ("in",
    "out", "inout" or "" for directionless); out/inout arguments are lvalues."""

    name: str  # parameter name
    direction: str
    expr: Expr
