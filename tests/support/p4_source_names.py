"""Control-plane names of a P4_16 program, read from its source.

Why this exists: the Tofino (TNA) program must expose the same P4Runtime names as the
v1model program, and neither p4c's Tofino backend nor p4sim's front end (which knows
only core.p4 and v1model.p4) can read the TNA program here. So this module reads the
source text the way p4c forms P4Info names: a table, action or extern declared in a
control type gets the name `<top control>.<instance>.<member>` when that control is
instantiated as `<instance>` in a top-level control; an `@name(".x")` annotation gives
the absolute name `x`. The source goes through p4sim's preprocessor (its front end
stops only later, at the TNA externs); architecture includes are not read. Past that it
is deliberately small: it understands exactly the constructs this project's programs use
(controls, tables, actions, typed declarations, structs, headers, typedefs) and raises
`ExtractError` naming file:line for anything it cannot resolve, so a test never passes
on a half-read program.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from p4sim.errors import CompileError
from p4sim.frontend.preprocess import preprocess


class ExtractError(ValueError):
    """The source uses something this extractor cannot resolve (with file:line)."""


# --------------------------------------------------------------------------- preprocessor


@dataclass
class _Line:
    text: str
    where: str  # "file:line"


# Architecture includes (#include <core.p4>, <tna.p4>, ...) are not read: an empty stand-in
# is found before p4sim's own. v1model's types come from `arch_files`, TNA's from
# `arch_structs`.
_ARCH_INCLUDES = ("core.p4", "v1model.p4", "tna.p4", "t2na.p4", "psa.p4")


def _preprocess(path: Path, include_dirs: list[Path], defines: dict[str, str]) -> list[_Line]:
    """The non-blank lines of `path` through p4sim's preprocessor, each with its file:line."""
    with tempfile.TemporaryDirectory(prefix="p4arch-") as stubs:
        for name in _ARCH_INCLUDES:
            (Path(stubs) / name).write_text("")
        try:
            src = preprocess(path, include_dirs=[*include_dirs, stubs], defines=defines)
        except CompileError as exc:
            raise ExtractError(f"{Path(exc.file).name}:{exc.line}: {exc.message}") from exc
    return [
        _Line(text, f"{Path(file).name}:{line}")
        for text, (file, line) in zip(src.text.split("\n"), src.line_map)
        if text.strip()
    ]


# --------------------------------------------------------------------------- source model


@dataclass(frozen=True)
class Key:
    name: str
    match: str
    width: int


@dataclass(frozen=True)
class Table:
    keys: tuple[Key, ...]
    actions: frozenset[str]
    idle_timeout: bool


@dataclass(frozen=True)
class Action:
    params: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class Extern:
    kind: str  # "counter" | "meter"
    unit: str  # "packets" | "bytes" | "packets_and_bytes"
    size: int


@dataclass(frozen=True)
class FieldList:
    """A digest or a controller header: ordered (field, width)."""

    fields: tuple[tuple[str, int], ...]


@dataclass
class Names:
    """Everything a controller addresses by name, keyed by (kind, P4Info name)."""

    entities: dict[tuple[str, str], object] = field(default_factory=dict)

    def add(self, kind: str, name: str, value: object, where: str) -> None:
        old = self.entities.get((kind, name))
        if old is not None and old != value:
            raise ExtractError(f"{where}: {kind} {name} declared twice with different shapes")
        self.entities[(kind, name)] = value


# Architecture metadata the programs read in table keys. v1model's comes from p4sim's
# own v1model.p4 (parsed); TNA's intrinsic metadata widths are those of the TNA
# specification (PortId_t is 9 bits on Tofino 1 and 2; the replication id 16 bits).
TNA_ARCH_STRUCTS: dict[str, dict[str, int]] = {
    "ingress_intrinsic_metadata_t": {
        "ingress_port": 9,
        "resubmit_flag": 1,
        "packet_version": 2,
        "ingress_mac_tstamp": 48,
    },
    "egress_intrinsic_metadata_t": {
        "egress_port": 9,
        "egress_rid": 16,
        "pkt_length": 16,
        "egress_rid_first": 1,
    },
}


# Externs constructed with () that create no P4Runtime entity of their own.
_NO_NAME_EXTERNS = frozenset({"Checksum", "Mirror", "ParserCounter", "ParserPriority", "Random"})

_TYPEDEF = re.compile(r"\btypedef\s+(bit\s*<\s*\d+\s*>|\w+)\s+(\w+)\s*;")
_AGGREGATE = re.compile(r"((?:@\w+(?:\([^)]*\))?\s*)*)\b(struct|header)\s+(\w+)\s*\{")
_CONTROL = re.compile(r"\bcontrol\s+(\w+)\s*\(")
_TABLE = re.compile(r"\btable\s+(\w+)\s*\{")
_ACTION = re.compile(r"((?:@\w+(?:\([^)]*\))?\s*)*)\baction\s+(\w+)\s*\(([^)]*)\)\s*\{")
_INSTANCE = re.compile(r"^\s*(\w+)\s*\(\s*\)\s+(\w+)\s*;", re.M)
_NAME_ANN = re.compile(r'@name\s*\(\s*"([^"]+)"\s*\)')
_V1_EXTERN = re.compile(
    r"\b(counter|meter)\s*\(\s*([^,]+?)\s*,\s*(?:CounterType|MeterType)\.(\w+)\s*\)\s*(\w+)\s*;"
)
_TNA_EXTERN = re.compile(
    r"\b(Counter|Meter)\s*<[^;{}]*?>\s*\(\s*([^,]+?)\s*,\s*(?:CounterType_t|MeterType_t)\.(\w+)"
    r"[^;]*?\)\s*(\w+)\s*;"
)
_V1_DIGEST = re.compile(r"\bdigest\s*<\s*(\w+)\s*>\s*\(")
_TNA_DIGEST = re.compile(
    r"((?:@\w+(?:\([^)]*\))?\s*)*)\bDigest\s*<\s*(\w+)\s*>\s*\([^;]*\)\s*(\w+)\s*;"
)


def _matching(text: str, open_at: int, opener: str = "{", closer: str = "}") -> int:
    """Index just past the bracket that closes the one at `open_at`."""
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == opener:
            depth += 1
        elif text[i] == closer:
            depth -= 1
            if depth == 0:
                return i + 1
    raise ExtractError(f"unbalanced {opener!r} at offset {open_at}")


class _Program:
    """The preprocessed text with a map from offsets back to file:line."""

    def __init__(self, lines: list[_Line]):
        self.text = ""
        self._starts: list[tuple[int, str]] = []
        parts = []
        offset = 0
        for line in lines:
            self._starts.append((offset, line.where))
            parts.append(line.text + "\n")
            offset += len(line.text) + 1
        self.text = "".join(parts)

    def where(self, offset: int) -> str:
        lo, hi = 0, len(self._starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._starts[mid][0] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return self._starts[lo][1] if self._starts else "?"


def _int(expr: str, where: str) -> int:
    """An integer constant, or a product of constants (a size such as ``8192 * 64``)."""
    value = 1
    for factor in expr.split("*"):
        m = re.fullmatch(r"(?:\d+[ws])?(0[xX][0-9a-fA-F]+|\d+)", factor.strip())
        if not m:
            raise ExtractError(f"{where}: size {expr!r} is not an integer constant")
        value *= int(m.group(1), 0)
    return value


class _Types:
    def __init__(self, prog: _Program, arch: dict[str, dict[str, int]]):
        self.typedefs: dict[str, str] = {}
        self.aggregates: dict[str, list[tuple[str, str]]] = {}
        self.annotations: dict[str, str] = {}
        for m in _TYPEDEF.finditer(prog.text):
            self.typedefs[m.group(2)] = m.group(1)
        for m in _AGGREGATE.finditer(prog.text):
            end = _matching(prog.text, m.end() - 1)
            body = prog.text[m.end() : end - 1]
            fields = re.findall(
                r"(?:@\w+(?:\([^)]*\))?\s*)*(bit\s*<\s*\d+\s*>|varbit\s*<\s*\d+\s*>|\w+)\s+(\w+)\s*;",
                body,
            )
            self.aggregates[m.group(3)] = [(n, re.sub(r"\s+", "", t)) for t, n in fields]
            self.annotations[m.group(3)] = m.group(1)
        for struct, members in arch.items():
            self.aggregates.setdefault(struct, [(n, f"bit<{w}>") for n, w in members.items()])

    def width(self, type_name: str, where: str) -> int:
        seen = 0
        t = re.sub(r"\s+", "", type_name)
        while True:
            m = re.fullmatch(r"bit<(\d+)>", t)
            if m:
                return int(m.group(1))
            if t == "bool":
                return 1
            if t not in self.typedefs or seen > 10:
                raise ExtractError(f"{where}: cannot find the width of type {type_name!r}")
            t = re.sub(r"\s+", "", self.typedefs[t])
            seen += 1

    def member(self, type_name: str, member: str, where: str) -> str:
        t = type_name
        for _ in range(10):
            if t in self.aggregates:
                for n, mt in self.aggregates[t]:
                    if n == member:
                        return mt
                raise ExtractError(f"{where}: {t} has no member {member!r}")
            if t in self.typedefs:
                t = re.sub(r"\s+", "", self.typedefs[t])
                continue
            break
        raise ExtractError(f"{where}: {type_name!r} is not a struct or header known here")

    def fields(self, type_name: str, where: str) -> tuple[tuple[str, int], ...]:
        if type_name not in self.aggregates:
            raise ExtractError(f"{where}: unknown struct/header {type_name!r}")
        return tuple((n, self.width(t, where)) for n, t in self.aggregates[type_name])


def _declared_types(params: str, body: str) -> dict[str, str]:
    """Variables visible in a control: its parameters and its typed declarations."""
    scope: dict[str, str] = {}
    for p in params.split(","):
        m = re.search(r"(bit\s*<\s*\d+\s*>|\w+)\s+(\w+)\s*$", p.strip())
        if m:
            scope[m.group(2)] = re.sub(r"\s+", "", m.group(1))
    for m in re.finditer(
        r"(?:^|[;{}])\s*(bit\s*<\s*\d+\s*>|bool|[A-Za-z_]\w*)\s+([A-Za-z_]\w*)\s*(?:=[^;]*)?;", body
    ):
        if m.group(1) not in ("return", "default_action", "size", "key", "actions", "transition"):
            scope.setdefault(m.group(2), re.sub(r"\s+", "", m.group(1)))
    return scope


def _expr_width(expr: str, scope: dict[str, str], types: _Types, where: str) -> int:
    if re.search(r"\.isValid\s*\(\s*\)\s*$", expr):
        return 1  # a header's validity: p4c gives the key one bit
    sliced = re.fullmatch(r"(.+?)\[\s*(\d+)\s*:\s*(\d+)\s*\]\s*", expr, re.S)
    if sliced:  # a bit slice [hi:lo] of a field
        _expr_width(sliced.group(1), scope, types, where)  # the field must resolve
        return int(sliced.group(2)) - int(sliced.group(3)) + 1
    parts = [p.strip() for p in expr.strip().split(".")]
    if not parts or parts[0] not in scope:
        raise ExtractError(f"{where}: cannot resolve key expression {expr.strip()!r}")
    t = scope[parts[0]]
    for member in parts[1:]:
        t = re.sub(r"\s+", "", types.member(t, member, where))
    return types.width(t, where)


def _table(body: str, prefix: str, scope: dict[str, str], types: _Types, where: str) -> Table:
    keys: list[Key] = []
    km = re.search(r"\bkey\s*=\s*\{", body)
    if km:
        kbody = body[km.end() : _matching(body, km.end() - 1) - 1]
        for entry in kbody.split(";"):
            entry = entry.strip()
            if not entry:
                continue
            m = re.fullmatch(r"((?:[^:\[]|\[[^\]]*\])+?)\s*:\s*(\w+)\s*(.*)", entry, re.S)
            if not m:
                raise ExtractError(f"{where}: malformed key entry {entry!r}")
            ann = _NAME_ANN.search(m.group(3))
            name = ann.group(1) if ann else re.sub(r"\s+", "", m.group(1))
            keys.append(Key(name, m.group(2), _expr_width(m.group(1), scope, types, where)))
    am = re.search(r"\bactions\s*=\s*\{", body)
    actions: set[str] = set()
    if am:
        abody = body[am.end() : _matching(body, am.end() - 1) - 1]
        for a in abody.split(";"):
            a = re.sub(r"@\w+(\([^)]*\))?", "", a).strip()
            if a and a != "NoAction":
                actions.add(prefix + a)
    timeout = bool(re.search(r"\b(support_timeout|idle_timeout)\s*=\s*true\b", body))
    return Table(tuple(keys), frozenset(actions), timeout)


def _controls(prog: _Program) -> dict[str, tuple[str, str, int]]:
    """{control type: (params, body, offset)}."""
    out: dict[str, tuple[str, str, int]] = {}
    for m in _CONTROL.finditer(prog.text):
        close = _matching(prog.text, m.end() - 1, "(", ")")
        brace = prog.text.find("{", close)
        between = prog.text[close:brace].strip()
        if brace < 0 or between:
            continue  # a control type declaration without a body (architecture files)
        end = _matching(prog.text, brace)
        out[m.group(1)] = (
            prog.text[m.end() : close - 1],
            prog.text[brace + 1 : end - 1],
            m.start(),
        )
    return out


def _members(prefix: str, params: str, body: str, types: _Types, names: Names, where: str) -> None:
    scope = _declared_types(params, body)
    for m in _ACTION.finditer(body):
        ann = _NAME_ANN.search(m.group(1))
        name = (
            ann.group(1).lstrip(".")
            if ann and ann.group(1).startswith(".")
            else prefix + (ann.group(1) if ann else m.group(2))
        )
        params_ = []
        for p in filter(None, (x.strip() for x in m.group(3).split(","))):
            pm = re.fullmatch(r"(?:in\s+|out\s+|inout\s+)?(bit\s*<\s*\d+\s*>|\w+)\s+(\w+)", p)
            if not pm:
                raise ExtractError(f"{where}: cannot read action parameter {p!r} of {name}")
            params_.append((pm.group(2), types.width(pm.group(1), where)))
        names.add("action", name, Action(tuple(params_)), where)
    for m in _TABLE.finditer(body):
        end = _matching(body, m.end() - 1)
        names.add(
            "table",
            prefix + m.group(1),
            _table(body[m.end() : end - 1], prefix, scope, types, where),
            where,
        )
    for m in _V1_EXTERN.finditer(body):
        names.add(
            m.group(1),
            prefix + m.group(4),
            Extern(m.group(1), m.group(3).lower(), _int(m.group(2), where)),
            where,
        )
    for m in _TNA_EXTERN.finditer(body):
        kind = m.group(1).lower()
        names.add(
            kind,
            prefix + m.group(4),
            Extern(kind, m.group(3).lower(), _int(m.group(2), where)),
            where,
        )
    for m in _V1_DIGEST.finditer(body):
        names.add("digest", m.group(1), FieldList(types.fields(m.group(1), where)), where)
    for m in _TNA_DIGEST.finditer(body):
        ann = _NAME_ANN.search(m.group(1))
        if ann and ann.group(1).startswith("."):
            name = ann.group(1)[1:]
        else:
            name = prefix + (ann.group(1) if ann else m.group(3))
        names.add("digest", name, FieldList(types.fields(m.group(2), where)), where)


def _walk(
    prefix: str,
    typ: str,
    controls: dict[str, tuple[str, str, int]],
    prog: _Program,
    types: _Types,
    names: Names,
) -> None:
    """The members of control ``typ`` named under ``prefix``, and those of the controls it
    instantiates, at any depth (p4c names them prefix.instance.member)."""
    params, body, offset = controls[typ]
    where = prog.where(offset)
    _members(f"{prefix}.", params, body, types, names, where)
    for inner, inst in _INSTANCE.findall(body):
        if inner in _NO_NAME_EXTERNS:
            continue
        if inner not in controls:
            raise ExtractError(f"{where}: {prefix}.{inst}: control type {inner} not found")
        _walk(f"{prefix}.{inst}", inner, controls, prog, types, names)


def extract(
    main: Path,
    include_dirs: list[Path],
    top_controls: tuple[str, ...],
    defines: dict[str, str] | None = None,
    arch_structs: dict[str, dict[str, int]] | None = None,
    arch_files: list[Path] | None = None,
) -> Names:
    """Control-plane names of the program `main` (see module docstring).

    `top_controls`: the controls the architecture package instantiates, whose names
    start every P4Info name (NveIngress, NveEgress). `arch_files`: architecture
    include files to read for types only (p4sim's v1model.p4); `arch_structs`: widths
    of architecture structs that are not available as files (TNA).
    """
    lines = _preprocess(main, include_dirs, defines or {})
    arch_lines: list[_Line] = []
    for f in arch_files or []:
        arch_lines += _preprocess(f, [], {})
    prog = _Program(lines)
    types = _Types(_Program(arch_lines + lines), arch_structs or {})
    controls = _controls(prog)
    names = Names()
    for top in top_controls:
        if top not in controls:
            raise ExtractError(f"{main.name}: top-level control {top} not found")
        _walk(top, top, controls, prog, types, names)
    for agg, ann in types.annotations.items():
        cm = re.search(r'@controller_header\s*\(\s*"([^"]+)"\s*\)', ann)
        if cm:
            names.add(
                "controller_header", cm.group(1), FieldList(types.fields(agg, main.name)), main.name
            )
    return names


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class Difference:
    kind: str
    name: str
    detail: str


def compare(a: Names, b: Names, a_label: str, b_label: str) -> list[Difference]:
    """Every (kind, name) present in only one program, or with a different shape."""
    out: list[Difference] = []
    for key in sorted(set(a.entities) | set(b.entities)):
        kind, name = key
        if key not in b.entities:
            out.append(Difference(kind, name, f"only in {a_label}"))
        elif key not in a.entities:
            out.append(Difference(kind, name, f"only in {b_label}"))
        elif a.entities[key] != b.entities[key]:
            out.append(
                Difference(
                    kind, name, f"{a_label}: {a.entities[key]} != {b_label}: {b.entities[key]}"
                )
            )
    return out


_DOC_ROW = re.compile(r"^\|\s*`?(\w+)`?\s*\|\s*`([^`]+)`\s*\|(.*)\|\s*$")


def documented_differences(doc: Path, heading: str) -> dict[tuple[str, str], int]:
    """(kind, name) -> line number, from the Markdown table under `heading` in `doc`.

    Row format: | kind | `name` | what differs | why |. The header and separator rows
    are skipped; the table ends at the first non-table line after it starts.
    """
    rows: dict[tuple[str, str], int] = {}
    lines = doc.read_text(encoding="utf-8").split("\n")
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == heading)
    except StopIteration:
        raise ExtractError(f"{doc.name}: heading {heading!r} not found") from None
    in_table = False
    for i in range(start + 1, len(lines)):
        line = lines[i].strip()
        if line.startswith("|"):
            in_table = True
            m = _DOC_ROW.match(line)
            if m and m.group(1) not in ("kind",) and not set(line) <= set("|-: "):
                rows[(m.group(1), m.group(2))] = i + 1
            elif not m and not set(line) <= set("|-: ") and "kind" not in line:
                raise ExtractError(f"{doc.name}:{i + 1}: malformed difference row {line!r}")
        elif in_table or line.startswith("#"):
            break
    return rows
