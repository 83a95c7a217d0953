"""Statements of parser states, control apply blocks and action bodies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ...errors import SourceLocation
from .expressions import Argument, Expr, Var
from .types import Type

if TYPE_CHECKING:
    from .declarations import Action, Control, ExternInstance, Function, Parser, Table


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
class SwitchStmt(Stmt):
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
class StackShift(Stmt):
    """`stack.push_front(count)` (`push` True: elements move up by count, the first count
    become invalid, the next index grows by count up to the size) or `stack.pop_front(count)`
    (elements move down, the last count become invalid, the index shrinks to at least 0)."""

    stack: Expr
    count: int
    push: bool


@dataclass(eq=False)
class For(Stmt):
    """`for (init; cond; update) body`: `init` runs once, then while `cond` (None: always)
    holds the body runs and then `update`; `continue` goes to `update`."""

    init: list[Stmt]
    cond: Expr | None
    update: list[Stmt]
    body: list[Stmt]


@dataclass(eq=False)
class Break(Stmt):
    """`break;` out of the innermost for loop."""


@dataclass(eq=False)
class Continue(Stmt):
    """`continue;` with the next iteration of the innermost for loop."""


@dataclass(eq=False)
class Exit(Stmt):
    """`exit;`: ends the current top-level control block (copy-out of params still happens)."""


@dataclass(eq=False)
class Return(Stmt):
    """`return;` from an action or a control's apply body, or `return value;` from a
    function (`value` has the function's return type)."""

    value: Expr | None = None


@dataclass(eq=False)
class CallFunction(Stmt):
    """A call of a P4 function as a statement (its result, if any, is discarded)."""

    function: Function
    args: list[Argument]


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
