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
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import SourceLocation

# --------------------------------------------------------------------------------- types


class Type:
    """Base class of all P4 types. Subclasses are frozen (hashable, comparable by value)."""

    @property
    def width(self) -> int | None:
        """Bit width for fixed-width scalar types; None otherwise."""
        return None


@dataclass(frozen=True)
class BitsType(Type):
    """bit<W> (signed=False) or int<W> (signed=True)."""

    size: int
    signed: bool = False

    @property
    def width(self) -> int:
        return self.size

    def __str__(self) -> str:
        return f"{'int' if self.signed else 'bit'}<{self.size}>"


@dataclass(frozen=True)
class VarbitType(Type):
    """varbit<W>: a field of dynamic length up to max_width bits."""

    max_width: int

    def __str__(self) -> str:
        return f"varbit<{self.max_width}>"


@dataclass(frozen=True)
class BoolType(Type):
    @property
    def width(self) -> int:
        return 1

    def __str__(self) -> str:
        return "bool"


@dataclass(frozen=True)
class InfIntType(Type):
    """The type of an untyped integer literal or constant ("int", arbitrary precision)."""

    def __str__(self) -> str:
        return "int"


@dataclass(frozen=True)
class StringType(Type):
    def __str__(self) -> str:
        return "string"


@dataclass(frozen=True)
class VoidType(Type):
    def __str__(self) -> str:
        return "void"


@dataclass(frozen=True)
class DontCareType(Type):
    """The type of `_` (in select cases, entries and out arguments)."""

    def __str__(self) -> str:
        return "_"


@dataclass(frozen=True)
class ErrorType(Type):
    """The `error` type; its members are numbered in declaration order (NoError = 0)."""

    members: tuple[str, ...] = ()

    def __str__(self) -> str:
        return "error"


@dataclass(frozen=True)
class MatchKindType(Type):
    def __str__(self) -> str:
        return "match_kind"


@dataclass(frozen=True)
class EnumType(Type):
    """A P4 enum. Serializable enums (`enum bit<8> E {...}`) have an underlying BitsType and
    explicit values; plain enums have underlying None and values = declaration index."""

    name: str
    members: tuple[str, ...]
    values: tuple[int, ...]
    underlying: BitsType | None = None

    @property
    def width(self) -> int | None:
        return self.underlying.size if self.underlying else None

    def value_of(self, member: str) -> int:
        return self.values[self.members.index(member)]

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Field:
    """A field of a header or struct. `offset` is the bit offset from the start of the header
    (MSB first, the first field at offset 0); for structs it is the offset in the flattened
    bit layout (only meaningful when all fields are fixed-width)."""

    name: str
    type: Type
    offset: int
    annotations: tuple[Annotation, ...] = ()

    @property
    def width(self) -> int | None:
        return self.type.width


@dataclass(frozen=True)
class HeaderType(Type):
    """A header type. `bit_width` is the fixed part (a varbit field counts 0);
    `varbit_field` names the (single) varbit field, if any."""

    name: str
    fields: tuple[Field, ...]
    annotations: tuple[Annotation, ...] = ()

    @property
    def bit_width(self) -> int:
        return sum(f.type.width or 0 for f in self.fields)

    @property
    def byte_width(self) -> int:
        return (self.bit_width + 7) // 8

    @property
    def varbit_field(self) -> str | None:
        for f in self.fields:
            if isinstance(f.type, VarbitType):
                return f.name
        return None

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def has_annotation(self, name: str) -> bool:
        return any(a.name == name for a in self.annotations)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class StructType(Type):
    name: str
    fields: tuple[Field, ...]
    annotations: tuple[Annotation, ...] = ()

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def bit_width(self) -> int:
        total = 0
        for f in self.fields:
            t = f.type
            total += t.bit_width if isinstance(t, (StructType, HeaderType)) else (t.width or 0)
        return total

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class HeaderStackType(Type):
    element: HeaderType
    size: int

    def __str__(self) -> str:
        return f"{self.element.name}[{self.size}]"


@dataclass(frozen=True)
class TupleType(Type):
    """tuple<...> and the type of list expressions `{a, b}`."""

    elements: tuple[Type, ...]

    def __str__(self) -> str:
        return "tuple<" + ", ".join(map(str, self.elements)) + ">"


@dataclass(frozen=True)
class ExternType(Type):
    """An instantiated extern object type, e.g. counter, register<bit<32>, bit<32>>."""

    name: str
    type_args: tuple[Type, ...] = ()

    def __str__(self) -> str:
        if not self.type_args:
            return self.name
        return f"{self.name}<{', '.join(map(str, self.type_args))}>"


@dataclass(frozen=True)
class PacketInType(Type):
    """packet_in (the parser's packet)."""

    def __str__(self) -> str:
        return "packet_in"


@dataclass(frozen=True)
class PacketOutType(Type):
    """packet_out (the deparser's packet)."""

    def __str__(self) -> str:
        return "packet_out"


def width_of(t: Type) -> int | None:
    """Bit width of a scalar type (bool = 1, serializable enum = underlying width)."""
    return t.width


# ---------------------------------------------------------------------- annotations


@dataclass(frozen=True)
class Annotation:
    """`@name`, `@name(args)`; args are kept as source strings (string literals unquoted)."""

    name: str
    args: tuple[str, ...] = ()
    loc: SourceLocation | None = None
    body: str | None = None  # the text between the parentheses, as written

    def __str__(self) -> str:
        return f"@{self.name}" if self.body is None else f"@{self.name}({self.body})"

    @property
    def value(self) -> str | None:
        return self.args[0] if self.args else None


def find_annotation(
    annotations: tuple[Annotation, ...] | list[Annotation], name: str
) -> Annotation | None:
    for a in annotations:
        if a.name == name:
            return a
    return None


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
    """`stack[index]` with a compile-time constant index."""

    base: Expr
    index: int


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
    Switch). Evaluating it applies the table."""

    table: Table
    member: str  # "hit" | "miss" | "action_run"


@dataclass(eq=False)
class Lookahead(Expr):
    """`pkt.lookahead<T>()`: the next T.width bits of the packet without consuming them.
    For a header T the result is a header value; for bit<W> an int."""


@dataclass(eq=False)
class ExternCallExpr(Expr):
    """A value-returning extern method/function call, e.g. `reg.read` is a statement but
    `checksum.get()` would be an expression. `instance` is None for extern functions."""

    instance: ExternInstance | None
    method: str
    args: list[Argument]
    type_args: tuple[Type, ...] = ()


# --------------------------------------------------------------------- statements


@dataclass(eq=False)
class Argument:
    """An argument bound to a parameter: `direction` is the parameter's direction ("in",
    "out", "inout" or "" for directionless); out/inout arguments are lvalues."""

    name: str  # parameter name
    direction: str
    expr: Expr


@dataclass(eq=False)
class Stmt:
    loc: SourceLocation | None


@dataclass(eq=False)
class Assign(Stmt):
    """`target = value` (target is an lvalue: VarRef, Member, Slice, StackIndex; value has the
    target's type, including whole-header and whole-struct copies, which copy validity too)."""

    target: Expr
    value: Expr


@dataclass(eq=False)
class VarDecl(Stmt):
    """A local variable declaration, optionally initialised. Uninitialised locals read as 0
    (bmv2 behaviour), headers as invalid."""

    var: Var
    init: Expr | None = None


@dataclass(eq=False)
class If(Stmt):
    cond: Expr
    then: list[Stmt]
    else_: list[Stmt] = field(default_factory=list)


@dataclass(eq=False)
class SwitchCase:
    """labels: action names (for a table switch) or constant Exprs (for an expression switch)
    and/or "default". body None means fall through to the next case's body."""

    labels: list[str | Expr]
    body: list[Stmt] | None


@dataclass(eq=False)
class Switch(Stmt):
    """`switch (t.apply().action_run) {...}` (subject is a TableApplyExpr; labels are action
    P4 names as written in the table's `actions` list, resolved to `Action` objects in
    `label_actions`) or `switch (expr)` on bit/enum values."""

    subject: Expr
    cases: list[SwitchCase]


@dataclass(eq=False)
class ApplyTable(Stmt):
    """`t.apply();`"""

    table: Table


@dataclass(eq=False)
class CallAction(Stmt):
    """A direct action call `a(args)` from an apply block or another action. `args` bind the
    action's parameters in order (directionless ones too: from a direct call they are
    ordinary values)."""

    action: Action
    args: list[Argument]


@dataclass(eq=False)
class ExternCall(Stmt):
    """A method call on an extern instance: counter.count(i), register.read(out, i),
    register.write(i, v), meter.execute_meter(i, out c), direct_counter.count(),
    direct_meter.read(out c)."""

    instance: ExternInstance
    method: str
    args: list[Argument]


@dataclass(eq=False)
class ExternFunctionCall(Stmt):
    """A call of an extern function: mark_to_drop, hash, verify_checksum, update_checksum,
    verify_checksum_with_payload, update_checksum_with_payload, digest, clone,
    clone_preserving_field_list, resubmit_preserving_field_list,
    recirculate_preserving_field_list, random, log_msg, truncate, assert, assume.
    `type_args` are the explicit or inferred type arguments (digest<T>: (T,))."""

    name: str
    args: list[Argument]
    type_args: tuple[Type, ...] = ()


@dataclass(eq=False)
class Extract(Stmt):
    """`pkt.extract(hdr)` or `pkt.extract(hdr, varbit_bits)`."""

    header: Expr
    varbit_bits: Expr | None = None


@dataclass(eq=False)
class Advance(Stmt):
    """`pkt.advance(bits)`."""

    bits: Expr


@dataclass(eq=False)
class Emit(Stmt):
    """`pkt.emit(hdr)` in a deparser (emits only if valid; a struct emits its headers in
    order: the resolver expands structs and stacks into one Emit per header)."""

    header: Expr


@dataclass(eq=False)
class Verify(Stmt):
    """`verify(cond, error.X)`: on false, the parser stops with that error."""

    cond: Expr
    error: Expr


@dataclass(eq=False)
class SetValid(Stmt):
    header: Expr


@dataclass(eq=False)
class SetInvalid(Stmt):
    header: Expr


@dataclass(eq=False)
class Exit(Stmt):
    """`exit;`: ends the current top-level control block (copy-out of params still happens)."""


@dataclass(eq=False)
class Return(Stmt):
    """`return;` from an action or a control's apply body."""


@dataclass(eq=False)
class ApplyControl(Stmt):
    """`sub.apply(args)` of a nested control instance, with copy-in/copy-out semantics."""

    control: Control
    args: list[Argument]


@dataclass(eq=False)
class ApplyParser(Stmt):
    """A sub-parser call (outside the subset today; the resolver rejects it)."""

    parser: Parser
    args: list[Argument]


# --------------------------------------------------------------------------- parsers


@dataclass(eq=False)
class KeySet:
    """One component of a select case or const entry key.

    kind: "value" (value), "mask" (value &&& mask), "range" (value .. hi), "default" (default
    or `_`), and for const entries also "lpm" is expressed as "mask" with a prefix mask.
    All values are plain ints already in the key's width."""

    kind: str
    value: int = 0
    mask: int = 0
    hi: int = 0
    loc: SourceLocation | None = None

    def matches(self, key: int, width: int) -> bool:
        """Reference semantics (used by tests and by slow paths)."""
        if self.kind == "default":
            return True
        if self.kind == "value":
            return key == self.value
        if self.kind == "mask":
            return (key & self.mask) == (self.value & self.mask)
        if self.kind == "range":
            return self.value <= key <= self.hi
        raise ValueError(self.kind)


@dataclass(eq=False)
class SelectCase:
    """One case of a select: one KeySet per select key; `next_state` is a state name or
    "accept"/"reject"."""

    keysets: list[KeySet]
    next_state: str
    loc: SourceLocation | None = None


@dataclass(eq=False)
class Transition:
    """`transition next_state;` (select is None) or `transition select(keys) {cases}`.
    If no case of a select matches, the parser rejects with error.NoMatch."""

    next_state: str | None = None
    select_keys: list[Expr] | None = None
    cases: list[SelectCase] = field(default_factory=list)
    loc: SourceLocation | None = None

    @property
    def is_select(self) -> bool:
        return self.select_keys is not None


@dataclass(eq=False)
class ParserState:
    name: str
    statements: list[Stmt]
    transition: Transition
    loc: SourceLocation | None = None
    annotations: tuple[Annotation, ...] = ()


@dataclass(eq=False)
class Parser:
    """A parser instance. `params` are its parameters in order (the first is packet_in);
    `locals` its local variable/constant declarations (initialised at parser start);
    `states` by name, `start` first."""

    name: str  # the P4 type name
    instance_name: str  # path used in P4Info names (e.g. "MyParser")
    params: list[Var]
    locals: list[VarDecl]
    states: dict[str, ParserState]
    externs: dict[str, ExternInstance] = field(default_factory=dict)
    loc: SourceLocation | None = None


# -------------------------------------------------------------------------- controls


@dataclass(eq=False)
class Action:
    """An action. `params` in declaration order: directional ones (kind "action_arg") first,
    then directionless ones (kind "action_param", the action data a table entry supplies).
    `p4info_name`/`p4info_id` identify it in P4Info; `p4info_params` are the directionless
    params with their P4Info ids (1-based, declaration order)."""

    name: str  # local name as written
    p4info_name: str  # fully qualified name, e.g. "MyIngress.set_vsid" or "NoAction"
    params: list[Var]
    body: list[Stmt]
    annotations: tuple[Annotation, ...] = ()
    p4info_id: int = 0
    loc: SourceLocation | None = None

    @property
    def data_params(self) -> list[Var]:
        return [p for p in self.params if p.kind == "action_param"]

    @property
    def directional_params(self) -> list[Var]:
        return [p for p in self.params if p.kind == "action_arg"]


@dataclass(eq=False)
class ActionRef:
    """An action listed in a table's `actions` property. `args` binds the action's
    directional parameters (given in the list, e.g. `actions = { a(meta.x); }`)."""

    action: Action
    annotations: tuple[Annotation, ...] = ()
    args: list[Argument] = field(default_factory=list)

    @property
    def default_only(self) -> bool:
        return any(a.name == "defaultonly" for a in self.annotations)

    @property
    def table_only(self) -> bool:
        return any(a.name == "tableonly" for a in self.annotations)


@dataclass(eq=False)
class TableKey:
    """One key of a table: `expr` (bit/bool/enum-typed; `isValid()` keys are IsValid exprs of
    type bool, width 1), `match_kind` ("exact", "lpm", "ternary", "optional", "range",
    "selector"), its P4Info name (the `@name` or the expression's source text) and id (1-based)."""

    expr: Expr
    match_kind: str
    name: str
    id: int
    annotations: tuple[Annotation, ...] = ()
    loc: SourceLocation | None = None

    @property
    def width(self) -> int:
        return self.expr.type.width or 0


@dataclass(eq=False)
class ActionCall:
    """An action with its data arguments as constants (default actions, const entries).
    `args` are ints in the parameters' widths, in data-parameter order."""

    action: Action
    args: list[int]
    loc: SourceLocation | None = None


@dataclass(eq=False)
class TableEntry:
    """A `const entries` entry: one KeySet per key, the action, and its priority (p4c
    semantics: entries earlier in the list have higher priority; `priority` is set only
    when the table needs priorities — any ternary/range/optional key)."""

    keysets: list[KeySet]
    action: ActionCall
    priority: int | None = None
    loc: SourceLocation | None = None


@dataclass(eq=False)
class Table:
    """A table instance with everything the engine and P4Info need."""

    name: str  # local name as written
    p4info_name: str
    p4info_id: int
    keys: list[TableKey]
    actions: list[ActionRef]
    default_action: ActionCall
    default_action_const: bool
    default_action_explicit: bool  # False when NoAction was implied
    const_entries: list[TableEntry] | None  # None: no `entries` property
    entries_const: bool  # `const entries` (vs. mutable `entries`)
    size: int
    size_explicit: bool
    direct_counter: ExternInstance | None = None
    direct_meter: ExternInstance | None = None
    support_timeout: bool = False
    annotations: tuple[Annotation, ...] = ()
    loc: SourceLocation | None = None

    @property
    def needs_priority(self) -> bool:
        return any(k.match_kind in ("ternary", "range", "optional") for k in self.keys)

    def action_ref(self, name: str) -> ActionRef | None:
        for ref in self.actions:
            if name in (ref.action.name, ref.action.p4info_name):
                return ref
        return None


@dataclass(eq=False)
class ExternInstance:
    """An extern object instance: counter, direct_counter, meter, direct_meter, register
    (plus Checksum16-like helpers if ever added).

    * `extern_type`: the P4 extern name ("counter", "register", ...)
    * `type_args`: e.g. (bit<32>, bit<32>) for register<bit<32>, bit<32>>
    * `size`: number of cells (counters, meters, registers); None for direct ones
    * `unit`: counter type "packets" | "bytes" | "packets_and_bytes", meter type
      "packets" | "bytes"
    * `element_type`: register cell type; `index_type`: index type (counters, meters,
      registers: bit<32> when the extern is not generic in it)
    * `table`: for direct externs, the table they are attached to (set by the resolver)
    """

    name: str
    p4info_name: str
    p4info_id: int
    extern_type: str
    type_args: tuple[Type, ...] = ()
    size: int | None = None
    unit: str | None = None
    element_type: Type | None = None
    index_type: Type | None = None
    table: Table | None = None
    annotations: tuple[Annotation, ...] = ()
    loc: SourceLocation | None = None


@dataclass(eq=False)
class Control:
    """A control instance. `params` in order; `locals` are the control's local variable and
    constant declarations (executed at the start of every apply, before `body`); `actions`,
    `tables`, `externs`, `subcontrols` are the control's own declarations by local name.
    `body` is the apply block."""

    name: str  # the P4 type name
    instance_name: str  # full instance path used in P4Info names
    params: list[Var]
    locals: list[VarDecl]
    actions: dict[str, Action]
    tables: dict[str, Table]
    externs: dict[str, ExternInstance]
    subcontrols: dict[str, Control]
    body: list[Stmt]
    loc: SourceLocation | None = None


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
