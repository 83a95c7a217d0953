"""Parser and control instances with their states, actions, tables and extern instances."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...errors import SourceLocation
from .annotations import Annotation
from .expressions import Argument, Expr, Var
from .statements import Stmt, VarDecl
from .types import Type

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


# ------------------------------------------------------------------------- functions


@dataclass(eq=False)
class Function:
    """A P4 function (declared at top level): `params` all have a direction (a
    directionless one is `in`); `return_type` is VoidType for `void` functions. A body sees
    only its parameters, its locals and global constants."""

    name: str
    params: list[Var]
    return_type: Type
    body: list[Stmt]
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
class ConstEntry:
    """A `const entries` entry: one KeySet per key, the action, and its priority as
    P4Runtime has it (larger wins), set only when the table needs priorities (any
    ternary/range/optional key): p4c and bmv2 order entries by their `@priority(n)`
    annotation (smaller n first), else by their position in the list (earlier first)."""

    keysets: list[KeySet]
    action: ActionCall
    priority: int | None = None
    loc: SourceLocation | None = None
    annotations: tuple[Annotation, ...] = ()


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
    const_entries: list[ConstEntry] | None  # None: no `entries` property
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
