"""What the code generator's parts share: the emitter of indented Python, variable
bindings of the inlining scope, error codes and instance types, and the state of one
generation (storage paths, temporaries, runtime-object bindings).

`CodeGen` is assembled from one mixin per construct (expressions, statements, externs,
packing of data lists, tables, controls and actions); each derives from `CodeGenBase`,
which declares, for the type checker only, the methods the mixins call on each other."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...frontend import ir as I
from ...state import RuntimeState
from .. import rawbytes
from ..calls import OPAQUE, CallKind
from ..errors import EngineError
from ..storage import Path, Storage

# error codes are looked up by name in the program's error type
PACKET_TOO_SHORT = "PacketTooShort"
NO_MATCH = "NoMatch"
HEADER_TOO_SHORT = "HeaderTooShort"
PARSER_INVALID_ARGUMENT = "ParserInvalidArgument"
STACK_OUT_OF_BOUNDS = "StackOutOfBounds"

# v1model instance types (bmv2 simple_switch.cpp PktInstanceType)
NORMAL, INGRESS_CLONE, EGRESS_CLONE, REPLICATION = 0, 1, 2, 5


def mask(width: int) -> int:
    return (1 << width) - 1


@dataclass
class Binding:
    """What a Var stands for in the current inlining scope: a storage path (aliasing, for
    lvalue arguments and block parameters) or a Python expression (a read-only value)."""

    path: Path | None = None
    expr: str | None = None


Env = dict[I.Var, Binding]


class Emitter:
    """Indented lines of Python."""

    def __init__(self, level: int = 0) -> None:
        self.lines: list[str] = []
        self.level = level

    def line(self, text: str) -> None:
        self.lines.append("    " * self.level + text)

    @contextmanager
    def block(self, header: str) -> Iterator[None]:
        self.line(header)
        self.level += 1
        mark = len(self.lines)
        try:
            yield
        finally:
            if len(self.lines) == mark:
                self.line("pass")
            self.level -= 1

    def text(self) -> str:
        return "\n".join(self.lines)


class CodeGenBase:
    """The state of one generation: one program against one RuntimeState (tables bound by name)."""

    def __init__(
        self,
        program: I.ProgramIR,
        state: RuntimeState,
        storage: Storage,
        *,
        drop_port: int,
        trace: bool,
    ) -> None:
        self.ir = program
        self.state = state
        self.st = storage
        self.drop_port = drop_port
        self.trace = trace
        self.em = Emitter(1)
        self.bindings: dict[str, Any] = {}
        self._bound_ids: dict[int, str] = {}
        # what calling each bound name does to the switch (see p4sim.engine.calls), recorded
        # by bind(), for the path specialiser, which must know which calls only read state
        self.calls: dict[str, CallKind] = {}
        self._tmp = 0
        self.errors = {name: i for i, name in enumerate(program.errors.members)}
        self.uses_now = False
        self.in_parser = False
        self.pipe = "ingress"  # "ingress" | "egress" | other block
        self.digest_sites: list[tuple[int, list[str]]] = []  # (digest id, value exprs)
        self.clone_field_lists: set[int] = {0}
        self.has_exit = False
        self.uses_random = False
        # extracted fixed-size headers by validity local (filled by the v1model parser)
        self.raw_by_valid: dict[str, rawbytes.RawHeader] = {}
        self._loop_stack: list[bool] = []  # True where a `break` leaves a return-wrapper
        # the functions being inlined, and where each one's `return value` goes: a
        # temporary (scalar results) or a variable bound to the result's storage
        self._functions: list[I.Function] = []
        self._returns: list[tuple[str | None, I.Var | None]] = []
        # the for loops being generated: (len(_loop_stack) at the loop, its return flag)
        self._fors: list[tuple[int, str]] = []
        # the write-backs of the calls being inlined, outermost first: `exit` does them all
        self._copy_outs: list[list[tuple[Path, Path | I.Expr, Env]]] = []
        self.poff: int | None = None  # parse offset when known at compile time
        self._structs: dict[str, str] = {}

    # -- small helpers -----------------------------------------------------------------------
    def tmp(self, hint: str) -> str:
        self._tmp += 1
        return f"_{hint}{self._tmp}"

    def bind(self, obj: Any, hint: str, kind: CallKind = OPAQUE) -> str:
        """A global name for a runtime object the generated code uses; ``kind`` says what
        its calls do (the path specialiser keeps none of an OPAQUE object's calls)."""
        key = id(obj)
        name = self._bound_ids.get(key)
        if name is None:
            name = f"_{hint}{len(self.bindings)}"
            self.bindings[name] = obj
            self._bound_ids[key] = name
            self.calls[name] = kind
        return name

    def error_code(self, name: str) -> int:
        return self.errors.get(name, 0)

    @contextmanager
    def capture(self) -> Iterator[Emitter]:
        """Redirect emitted lines into a fresh emitter (at the current indentation)."""
        saved = self.em
        sub = Emitter(saved.level)
        self.em = sub
        try:
            yield sub
        finally:
            self.em = saved

    def splice(self, sub: Emitter, extra_indent: int = 0) -> None:
        pad = "    " * extra_indent
        for ln in sub.lines:
            self.em.lines.append(pad + ln)

    # -- paths ---------------------------------------------------------------------------------
    def path_of(self, e: I.Expr, env: Env) -> Path | None:
        """The storage path of an lvalue-like expression, or None."""
        if isinstance(e, I.VarRef):
            b = env.get(e.var)
            if b is not None:
                return b.path
            if e.var.kind == "const":
                return None
            root = (e.var.uid,)
            if not any(True for _ in self.st.leaves(root)):
                self.st.declare(root, e.var.type)
            return root
        if isinstance(e, I.Member):
            base = self.path_of(e.base, env)
            return None if base is None else base + (e.field,)
        if isinstance(e, I.StackIndex):
            base = self.path_of(e.base, env)
            return None if base is None else base + (str(e.index),)
        if isinstance(e, I.Lookahead) and isinstance(e.type, I.HeaderType):
            return self.lookahead_header(e)  # emits the packet read into storage of its own
        return None

    def slot(self, e: I.Expr, env: Env) -> str:
        path = self.path_of(e, env)
        if path is None:
            raise EngineError(f"{_loc(e)}: expected a storage location")
        try:
            return self.st.name(path)
        except KeyError:
            raise EngineError(f"{_loc(e)}: no storage for {'.'.join(path)}") from None

    # -- methods of the other mixins, for the type checker -------------------------------------
    if TYPE_CHECKING:

        def ex(self, e: I.Expr, env: Env) -> str: ...
        def lookahead_header(self, e: I.Lookahead) -> Path: ...
        def extract_into(self, s: I.Extract, env: Env) -> None: ...
        def last_read(self, e: I.StackLast, rel: tuple[str, ...], env: Env) -> str: ...
        def call_for_storage(self, e: I.FunctionCallExpr, env: Env) -> Path: ...
        def function_return(self, s: I.Return, env: Env) -> None: ...
        def bind_args(
            self,
            bound: list[tuple[I.Var, I.Argument]],
            target: Env,
            env: Env,
            *,
            copy_in_aggregates: bool,
            reached: list[Path] | None = None,
        ) -> list[tuple[Path, Path | I.Expr, Env]]: ...
        def emit_copy_out(self, copy_out: list[tuple[Path, Path | I.Expr, Env]]) -> None: ...
        def stmts(self, body: list[I.Stmt], env: Env) -> None: ...
        def st_VarDecl(self, s: I.VarDecl, env: Env) -> None: ...
        def _dm_var(self, table: I.Table) -> str: ...
        def pack(self, data: I.Expr, env: Env) -> tuple[str, str]: ...
        def store(self, target: I.Expr, v: str, env: Env) -> None: ...
        def assign(self, target: I.Expr, value: I.Expr, env: Env) -> None: ...
        def data_items(self, data: I.Expr, env: Env) -> list[tuple[str | None, str, int | str]]: ...
        def _as_bytes(self, acc: str, bits: str) -> str: ...
        def checksum_value(
            self, data: I.Expr, algo: str, env: Env, with_payload: bool, width: int
        ) -> str: ...
        def csum16_words(self, items: list[tuple[str | None, str, int | str]]) -> str | None: ...
        def _algo_fn(self, algo: str) -> str: ...
        def action_id(self, action: I.Action) -> int: ...
        def apply_table(self, t: I.Table, env: Env) -> tuple[str, str]: ...
        def inline_action(
            self,
            action: I.Action,
            env: Env,
            args: list[I.Argument],
            data_from_table: list[I.Var] | None,
            params_var: str = "",
        ) -> None: ...
        def inline_control(self, control: I.Control, args: list[I.Argument], env: Env) -> None: ...


def _loc(node: Any) -> str:
    loc = getattr(node, "loc", None)
    return str(loc) if loc is not None else "<unknown>"


def is_aggregate(t: I.Type) -> bool:
    """Values bound by storage, not by a temporary: headers, structs, stacks, tuples, and
    varbits (a varbit value is its bits and its length)."""
    return isinstance(t, (I.HeaderType, I.StructType, I.HeaderStackType, I.TupleType, I.VarbitType))


def has_early_return(body: list[I.Stmt]) -> bool:
    """True when a `return` can be reached before the last statement of the body (one
    anywhere but as the body's own last statement)."""

    def walk(stmts: list[I.Stmt], top: bool) -> bool:
        for i, s in enumerate(stmts):
            if isinstance(s, I.Return):
                if not (top and i == len(stmts) - 1):
                    return True
            elif isinstance(s, I.If):
                if walk(s.then, False) or walk(s.else_, False):
                    return True
            elif isinstance(s, I.SwitchStmt):
                for c in s.cases:
                    if c.body and walk(c.body, False):
                        return True
            elif isinstance(s, I.For) and walk(s.body, False):
                return True
        return False

    return walk(body, True)
