"""P4Info names and IDs, computed as p4c computes them.

* id = (resource prefix << 24) | (Jenkins one-at-a-time hash of the fully qualified name
  & 0xFFFFFF), per p4info.proto's P4Ids prefixes;
* an `@id(N)` annotation wins (its prefix byte is added if absent; a wrong one is an error);
* collisions: names without @id are processed per resource type in sorted order and a taken
  id is resolved by linear probing (hash + 1, + 2, ... within the 24-bit space);
* aliases: the shortest suffix of dot-separated components that is unique among all
  control-plane names of all types.
"""

from __future__ import annotations

from collections import defaultdict

from ..errors import CompileError, SourceLocation
from ..frontend import ir

PREFIX = {
    "action": 0x01,
    "table": 0x02,
    "value_set": 0x03,
    "controller_header": 0x04,
    "action_profile": 0x11,
    "counter": 0x12,
    "direct_counter": 0x13,
    "meter": 0x14,
    "direct_meter": 0x15,
    "register": 0x16,
    "digest": 0x17,
}

EXTERN_KIND = {
    "counter": "counter",
    "direct_counter": "direct_counter",
    "meter": "meter",
    "direct_meter": "direct_meter",
    "register": "register",
}


def jenkins_one_at_a_time(data: bytes) -> int:
    h = 0
    for b in data:
        h = (h + b) & 0xFFFFFFFF
        h = (h + (h << 10)) & 0xFFFFFFFF
        h ^= h >> 6
    h = (h + (h << 3)) & 0xFFFFFFFF
    h ^= h >> 11
    h = (h + (h << 15)) & 0xFFFFFFFF
    return h


class SymbolTable:
    """Names per resource kind -> ids, with p4c's id allocation and alias rules."""

    def __init__(self) -> None:
        self.symbols: dict[str, dict[str, int | None]] = defaultdict(dict)
        self.assigned: set[int] = set()
        self.all_names: set[str] = set()
        self._suffix_count: dict[tuple[str, ...], int] = defaultdict(int)

    def add(
        self,
        kind: str,
        name: str,
        annotations: tuple[ir.Annotation, ...] = (),
        loc: SourceLocation | None = None,
    ) -> None:
        table = self.symbols[kind]
        if name in table:
            return
        uid = None
        a = ir.find_annotation(annotations, "id")
        if a is not None:
            try:
                uid = int(a.value or "", 0)
            except ValueError:
                raise CompileError.at(f"@id of {name} must be an integer", a.loc) from None
            prefix = PREFIX[kind] << 24
            if uid & 0xFF000000 and uid & 0xFF000000 != prefix:
                raise CompileError.at(f"{name}: @id has the wrong 8-bit prefix", a.loc)
            uid |= prefix
            if uid in self.assigned:
                raise CompileError.at(f"@id {uid} is assigned to multiple declarations", a.loc)
            self.assigned.add(uid)
        table[name] = uid
        if name not in self.all_names:
            self.all_names.add(name)
            parts = tuple(name.split("."))
            for i in range(1, len(parts) + 1):
                self._suffix_count[parts[-i:]] += 1

    def compute_ids(self) -> None:
        for kind, table in self.symbols.items():
            prefix = PREFIX[kind]
            for name in sorted(
                (n for n, v in table.items() if v is None), key=lambda s: s.encode()
            ):
                h = jenkins_one_at_a_time(name.encode())
                value = h
                while True:
                    cand = (prefix << 24) | (value & 0xFFFFFF)
                    if cand not in self.assigned:
                        break
                    value = (value + 1) & 0xFFFFFFFF
                    if value == h:
                        raise CompileError.at(f"no P4Runtime id left for {name}", None)
                self.assigned.add(cand)
                table[name] = cand

    def id(self, kind: str, name: str) -> int:
        v = self.symbols[kind][name]
        assert v is not None
        return v

    def alias(self, name: str) -> str:
        parts = tuple(name.split("."))
        for i in range(1, len(parts) + 1):
            if self._suffix_count[parts[-i:]] < 2:
                return ".".join(parts[-i:])
        return name


def p4info_actions(program: ir.ProgramIR) -> list[ir.Action]:
    """The actions p4c lists in P4Info, each name once, in control order: those a table
    references, and those a control's apply block calls directly (p4c's bmv2 back end
    turns such a call into a hidden table of its own; it lists the action without
    parameters, see `direct_only`). Actions called only from other actions are inlined and
    removed by p4c's front end, as are calls in code it finds dead (`if (false)`)."""
    out: list[ir.Action] = []
    names: set[str] = set()
    for t in p4info_tables(program):
        for ref in t.actions:
            if ref.action.p4info_name not in names:
                names.add(ref.action.p4info_name)
                out.append(ref.action)
    for act in _called_from_apply_blocks(program):
        if act.p4info_name not in names:
            names.add(act.p4info_name)
            out.append(act)
    return out


def direct_only(program: ir.ProgramIR) -> set[str]:
    """P4Info names of the actions P4Info lists only because an apply block calls them."""
    in_tables = {ref.action.p4info_name for t in p4info_tables(program) for ref in t.actions}
    return {a.p4info_name for a in _called_from_apply_blocks(program)} - in_tables


def _called_from_apply_blocks(program: ir.ProgramIR) -> list[ir.Action]:
    from ..frontend.checks import controls

    found: list[ir.Action] = []

    def walk(stmts: list[ir.Stmt]) -> None:
        for s in stmts:
            if isinstance(s, ir.CallAction):
                found.append(s.action)
            elif isinstance(s, ir.If):
                if not (isinstance(s.cond, ir.BoolConst) and not s.cond.value):
                    walk(s.then)
                if not (isinstance(s.cond, ir.BoolConst) and s.cond.value):
                    walk(s.else_)
            elif isinstance(s, ir.SwitchStmt):
                for c in s.cases:
                    walk(c.body or [])
            elif isinstance(s, ir.For):
                walk(s.init + s.body + s.update)

    for c in controls(program):
        walk(c.body)
    return found


def p4info_tables(program: ir.ProgramIR) -> list[ir.Table]:
    """Tables p4c keeps (unused tables are removed by its front end)."""
    from ..frontend.checks import applied_tables

    applied = applied_tables(program)
    return [t for t in program.tables if id(t) in applied]


def build_symbols(program: ir.ProgramIR) -> SymbolTable:
    st = SymbolTable()
    tables = p4info_tables(program)
    for a in p4info_actions(program):
        st.add("action", a.p4info_name, a.annotations, a.loc)
    for t in tables:
        st.add("table", t.p4info_name, t.annotations, t.loc)
    for e in program.externs:
        if e.extern_type in ("direct_counter", "direct_meter") and (
            e.table is None or not any(e.table is t for t in tables)
        ):
            continue
        st.add(EXTERN_KIND[e.extern_type], e.p4info_name, e.annotations, e.loc)
    for d in program.digests:
        st.add("digest", d.p4info_name, d.type.annotations, d.loc)
    for h in program.controller_headers:
        ann = ir.find_annotation(h.header.annotations, "name")
        cp = ann.value.lstrip(".") if ann is not None and ann.value else h.header.name
        st.add("controller_header", cp, h.header.annotations)
    st.compute_ids()
    return st


def assign_ids(program: ir.ProgramIR) -> SymbolTable:
    """Fill p4info_id on every IR object that P4Info lists."""
    st = build_symbols(program)
    for a in program.actions:
        if a.p4info_name in st.symbols["action"]:
            a.p4info_id = st.id("action", a.p4info_name)
    for t in program.tables:
        if t.p4info_name in st.symbols["table"]:
            t.p4info_id = st.id("table", t.p4info_name)
    for e in program.externs:
        kind = EXTERN_KIND[e.extern_type]
        if e.p4info_name in st.symbols[kind]:
            e.p4info_id = st.id(kind, e.p4info_name)
    for d in program.digests:
        d.p4info_id = st.id("digest", d.p4info_name)
    for h in program.controller_headers:
        ann = ir.find_annotation(h.header.annotations, "name")
        cp = ann.value.lstrip(".") if ann is not None and ann.value else h.header.name
        h.p4info_id = st.id("controller_header", cp)
    return st
