"""Program-wide checks p4c makes that matter for portability (run after resolution).

Errors: a table applied from more than one place (p4c rejects it; bmv2 tables are single
call sites). Warnings: parser states no transition reaches, and header fields read where the
header is known to be invalid (cheap intra-block analysis: after setInvalid, or before any
extract/setValid in a parser state chain).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import CompileError, Diagnostic
from . import ir


def iter_stmts(stmts: list[ir.Stmt]) -> Iterator[ir.Stmt]:
    """All statements, nested ones included, in source order."""
    for s in stmts:
        yield s
        if isinstance(s, ir.If):
            yield from iter_stmts(s.then)
            yield from iter_stmts(s.else_)
        elif isinstance(s, ir.SwitchStmt):
            for c in s.cases:
                yield from iter_stmts(c.body or [])
        elif isinstance(s, ir.For):
            yield from iter_stmts(s.init)
            yield from iter_stmts(s.body)
            yield from iter_stmts(s.update)


def iter_exprs(e: ir.Expr) -> Iterator[ir.Expr]:
    yield e
    for name in ("base", "left", "right", "expr", "operand", "cond", "then", "else_", "header"):
        sub = getattr(e, name, None)
        if isinstance(sub, ir.Expr):
            yield from iter_exprs(sub)
    if isinstance(e, ir.ListExpr):
        for x in e.elements:
            yield from iter_exprs(x)
    if isinstance(e, ir.StructExpr):
        for x in e.fields.values():
            yield from iter_exprs(x)


def stmt_exprs(s: ir.Stmt) -> Iterator[ir.Expr]:
    for name in (
        "target",
        "value",
        "cond",
        "subject",
        "header",
        "varbit_bits",
        "bits",
        "error",
        "init",
        "stack",
    ):
        sub = getattr(s, name, None)
        if isinstance(sub, ir.Expr):
            yield from iter_exprs(sub)
    for a in getattr(s, "args", []) or []:
        if isinstance(a, ir.Argument):
            yield from iter_exprs(a.expr)


def controls(program: ir.ProgramIR) -> Iterator[ir.Control]:
    """Every control instance of the program, nested ones included."""
    stack: list[ir.Control] = [
        b for b in program.package.blocks.values() if isinstance(b, ir.Control)
    ]
    while stack:
        c = stack.pop(0)
        yield c
        stack.extend(c.subcontrols.values())


def check_table_applications(program: ir.ProgramIR) -> None:
    """Each table must be applied from exactly one place (p4c: 'can only be invoked once')."""
    seen: dict[int, ir.Table] = {}
    sites: dict[int, object] = {}
    for c in controls(program):
        for s in iter_stmts(c.body):
            tables: list[ir.Table] = []
            if isinstance(s, ir.ApplyTable):
                tables.append(s.table)
            tables.extend(e.table for e in stmt_exprs(s) if isinstance(e, ir.TableApplyExpr))
            for t in tables:
                if id(t) in seen:
                    loc = s.loc
                    first = sites[id(t)]
                    raise CompileError.at(
                        f"table {t.name} is applied more than once (first at {first}); "
                        f"p4c and bmv2 allow one call site per table",
                        loc,
                    )
                seen[id(t)] = t
                sites[id(t)] = s.loc


def check_unreachable_states(parser: ir.Parser) -> list[Diagnostic]:
    reached = {"start"}
    todo = ["start"]
    while todo:
        st = parser.states.get(todo.pop())
        if st is None:
            continue
        nexts = (
            [st.transition.next_state]
            if not st.transition.is_select
            else [c.next_state for c in st.transition.cases]
        )
        for n in nexts:
            if n and n not in reached:
                reached.add(n)
                todo.append(n)
    return [
        Diagnostic.at(f"parser state '{name}' is unreachable", st.loc, code="unreachable-state")
        for name, st in parser.states.items()
        if name not in reached
    ]


def applied_tables(program: ir.ProgramIR) -> set[int]:
    """ids of the tables some control applies (statement or expression form)."""
    applied: set[int] = set()
    for c in controls(program):
        for s in iter_stmts(c.body):
            if isinstance(s, ir.ApplyTable):
                applied.add(id(s.table))
            for e in stmt_exprs(s):
                if isinstance(e, ir.TableApplyExpr):
                    applied.add(id(e.table))
    return applied


def check_unused_tables(program: ir.ProgramIR) -> list[Diagnostic]:
    applied = applied_tables(program)
    return [
        Diagnostic.at(
            f"table {t.name} is never applied (p4c removes it from P4Info)",
            t.loc,
            code="unused-table",
        )
        for t in program.tables
        if id(t) not in applied
    ]


def check_invalid_header_reads(stmts: list[ir.Stmt]) -> list[Diagnostic]:
    """Warn on a field read of a header invalidated earlier in the same straight-line block."""
    out: list[Diagnostic] = []
    invalid: set[str] = set()

    def path(e: ir.Expr) -> str | None:
        if isinstance(e, ir.VarRef):
            return e.var.uid
        if isinstance(e, ir.Member):
            b = path(e.base)
            return f"{b}.{e.field}" if b else None
        return None

    for s in stmts:
        if isinstance(s, ir.SetInvalid):
            p = path(s.header)
            if p:
                invalid.add(p)
            continue
        if isinstance(s, (ir.SetValid, ir.Extract)):
            p = path(s.header)
            if p:
                invalid.discard(p)
            continue
        if isinstance(
            s,
            (
                ir.If,
                ir.SwitchStmt,
                ir.For,
                ir.CallAction,
                ir.CallFunction,
                ir.ApplyTable,
                ir.ApplyControl,
                ir.StackShift,
            ),
        ):
            invalid.clear()
            continue
        reads = list(stmt_exprs(s))
        if isinstance(s, ir.Assign):
            tgt = s.target
            if isinstance(tgt, ir.Member) and isinstance(tgt.base.type, ir.HeaderType):
                reads = list(iter_exprs(s.value))
        for e in reads:
            if isinstance(e, ir.Member) and isinstance(e.base.type, ir.HeaderType):
                p = path(e.base)
                if p in invalid:
                    out.append(
                        Diagnostic.at(
                            f"read of {e.field} of a header that is invalid here",
                            e.loc,
                            code="invalid-header-read",
                        )
                    )
    return out


def run_checks(program: ir.ProgramIR) -> list[Diagnostic]:
    """Run all checks; raises CompileError for errors, returns warnings."""
    check_table_applications(program)
    warnings = check_unreachable_states(program.package.parser)
    warnings += check_unused_tables(program)
    for c in controls(program):
        warnings += check_invalid_header_reads(c.body)
        for a in c.actions.values():
            warnings += check_invalid_header_reads(a.body)
    return warnings
