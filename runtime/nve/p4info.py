"""P4Info name resolution and value encoding: the only place that knows numeric IDs.

The controller names tables, actions, fields and parameters as the P4 program does
(fully-qualified names or the aliases P4Info gives them); this index turns those names
into IDs and bit widths at run time, so one controller drives any target's compile of
the program. Unknown names raise `P4InfoError` listing what exists.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from finsy.proto import p4i
from google.protobuf import text_format

TNA_ARCHS = frozenset({"tna", "t2na"})


class P4InfoError(LookupError):
    """A name the program does not have (or a value that does not fit its field)."""


@dataclass(frozen=True)
class MatchFieldInfo:
    id: int
    name: str
    bitwidth: int
    match_type: str  # "exact" | "lpm" | "ternary" | "range" | "optional"


@dataclass(frozen=True)
class ParamInfo:
    id: int
    name: str
    bitwidth: int


@dataclass(frozen=True)
class ActionInfo:
    id: int
    name: str
    alias: str
    params: dict[str, ParamInfo]
    params_by_id: dict[int, ParamInfo]


@dataclass(frozen=True)
class TableInfo:
    id: int
    name: str
    alias: str
    size: int
    match_fields: dict[str, MatchFieldInfo]
    fields_by_id: dict[int, MatchFieldInfo]
    action_ids: frozenset[int]
    const_default_action_id: int
    supports_idle_timeout: bool
    is_const: bool


@dataclass(frozen=True)
class SimpleInfo:
    """Counters, meters, digests, registers: an id, a name and a size (0 if not applicable)."""

    id: int
    name: str
    alias: str
    size: int = 0
    members: tuple[str, ...] = ()  # a digest's struct members, in order (P4Info type_info)


_MATCH_TYPES = {
    p4i.MatchField.EXACT: "exact",
    p4i.MatchField.LPM: "lpm",
    p4i.MatchField.TERNARY: "ternary",
    p4i.MatchField.RANGE: "range",
    p4i.MatchField.OPTIONAL: "optional",
}


def load_p4info(path: str | Path) -> p4i.P4Info:
    """Read P4Info in text format (.txt, .txtpb, .pbtxt) or binary (anything else that parses)."""
    data = Path(path).read_bytes()
    info = p4i.P4Info()
    try:
        text_format.Parse(data.decode("utf-8"), info)
        return info
    except (UnicodeDecodeError, text_format.ParseError) as text_error:
        try:
            info.ParseFromString(data)
            return info
        except Exception:  # noqa: BLE001  # whatever the binary parser rejects is not a P4Info
            raise P4InfoError(f"{path}: not a P4Info file ({text_error})") from None


_Info = TypeVar("_Info")


@dataclass
class _Names(Generic[_Info]):
    """Lookup by fully-qualified name or alias."""

    kind: str
    by_name: dict[str, _Info] = field(default_factory=dict)
    by_id: dict[int, _Info] = field(default_factory=dict)

    def add(self, name: str, alias: str, id_: int, obj: _Info, *, also: str = "") -> None:
        self.by_name[name] = obj
        if also:
            self.by_name.setdefault(also, obj)
        if alias:
            self.by_name.setdefault(alias, obj)
        self.by_id[id_] = obj

    def get(self, name: str) -> _Info:
        try:
            return self.by_name[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self.by_name), n=3)
            hint = (
                f"; did you mean {', '.join(close)}?"
                if close
                else f"; the program has {len(self.by_name)}"
            )
            raise P4InfoError(f"no {self.kind} named {name!r} in P4Info{hint}") from None


class P4Index:
    """Names, IDs and widths of one P4Info, plus conversions between ints and P4Runtime bytes."""

    def __init__(self, info: p4i.P4Info):
        self.info = info
        # TNA P4Info (p4c's Tofino backend) prefixes table names with the Pipeline instance;
        # the same controller code resolves them by the names the v1model program has.
        pipe_prefixed = info.pkg_info.arch in TNA_ARCHS
        self._tables: _Names[TableInfo] = _Names("table")
        self._actions: _Names[ActionInfo] = _Names("action")
        self._counters: _Names[SimpleInfo] = _Names("counter")
        self._direct_counters: _Names[SimpleInfo] = _Names("direct counter")
        self._meters: _Names[SimpleInfo] = _Names("meter")
        self._digests: _Names[SimpleInfo] = _Names("digest")
        self._registers: _Names[SimpleInfo] = _Names("register")
        self._packet_meta: dict[str, dict[str, ParamInfo]] = {}
        for a in info.actions:
            params = {p.name: ParamInfo(p.id, p.name, p.bitwidth) for p in a.params}
            self._actions.add(
                a.preamble.name,
                a.preamble.alias,
                a.preamble.id,
                ActionInfo(
                    a.preamble.id,
                    a.preamble.name,
                    a.preamble.alias,
                    params,
                    {p.id: p for p in params.values()},
                ),
            )
        for t in info.tables:
            fields = {
                m.name: MatchFieldInfo(
                    m.id, m.name, m.bitwidth, _MATCH_TYPES.get(m.match_type, "other")
                )
                for m in t.match_fields
            }
            name = t.preamble.name
            if pipe_prefixed and "." in name:
                name = name.split(".", 1)[1]  # canonical: the program's own name
            self._tables.add(
                name,
                t.preamble.alias,
                t.preamble.id,
                also=t.preamble.name,
                obj=TableInfo(
                    t.preamble.id,
                    name,
                    t.preamble.alias,
                    int(t.size),
                    fields,
                    {f.id: f for f in fields.values()},
                    frozenset(r.id for r in t.action_refs),
                    t.const_default_action_id,
                    t.idle_timeout_behavior == p4i.Table.NOTIFY_CONTROL,
                    t.is_const_table,
                ),
            )
        for c in info.counters:
            self._counters.add(
                c.preamble.name,
                c.preamble.alias,
                c.preamble.id,
                SimpleInfo(c.preamble.id, c.preamble.name, c.preamble.alias, int(c.size)),
            )
        for dc in info.direct_counters:
            self._direct_counters.add(
                dc.preamble.name,
                dc.preamble.alias,
                dc.preamble.id,
                SimpleInfo(dc.preamble.id, dc.preamble.name, dc.preamble.alias, dc.direct_table_id),
            )
        for m in info.meters:
            self._meters.add(
                m.preamble.name,
                m.preamble.alias,
                m.preamble.id,
                SimpleInfo(m.preamble.id, m.preamble.name, m.preamble.alias, int(m.size)),
            )
        for d in info.digests:
            struct = info.type_info.structs.get(d.type_spec.struct.name)
            members = tuple(m.name for m in struct.members) if struct is not None else ()
            self._digests.add(
                d.preamble.name,
                d.preamble.alias,
                d.preamble.id,
                SimpleInfo(d.preamble.id, d.preamble.name, d.preamble.alias, members=members),
            )
        for r in info.registers:
            self._registers.add(
                r.preamble.name,
                r.preamble.alias,
                r.preamble.id,
                SimpleInfo(r.preamble.id, r.preamble.name, r.preamble.alias, int(r.size)),
            )
        for cpm in info.controller_packet_metadata:
            meta = {m.name: ParamInfo(m.id, m.name, m.bitwidth) for m in cpm.metadata}
            self._packet_meta[cpm.preamble.name] = meta

    # -- lookups ---------------------------------------------------------------------------
    def table(self, name: str) -> TableInfo:
        return self._tables.get(name)

    def table_by_id(self, id_: int) -> TableInfo:
        return self._by_id(self._tables, id_)

    def action(self, name: str) -> ActionInfo:
        return self._actions.get(name)

    def action_by_id(self, id_: int) -> ActionInfo:
        return self._by_id(self._actions, id_)

    def counter(self, name: str) -> SimpleInfo:
        return self._counters.get(name)

    def direct_counter(self, name: str) -> SimpleInfo:
        return self._direct_counters.get(name)

    def meter(self, name: str) -> SimpleInfo:
        return self._meters.get(name)

    def meter_by_id(self, id_: int) -> SimpleInfo:
        return self._by_id(self._meters, id_)

    def digest(self, name: str) -> SimpleInfo:
        return self._digests.get(name)

    def digest_by_id(self, id_: int) -> SimpleInfo:
        return self._by_id(self._digests, id_)

    def counter_by_id(self, id_: int) -> SimpleInfo:
        return self._by_id(self._counters, id_)

    def has_table(self, name: str) -> bool:
        return name in self._tables.by_name

    def has(self, kind: str, name: str) -> bool:
        return name in getattr(self, f"_{kind}").by_name

    def tables(self) -> list[TableInfo]:
        return list(self._tables.by_id.values())

    def counters(self) -> list[SimpleInfo]:
        return list(self._counters.by_id.values())

    def digests(self) -> list[SimpleInfo]:
        return list(self._digests.by_id.values())

    def meters(self) -> list[SimpleInfo]:
        return list(self._meters.by_id.values())

    def match_field(self, table: TableInfo, name: str) -> MatchFieldInfo:
        try:
            return table.match_fields[name]
        except KeyError:
            raise P4InfoError(
                f"table {table.name} has no match field {name!r} "
                f"(it has {', '.join(table.match_fields) or 'none'})"
            ) from None

    def param(self, action: ActionInfo, name: str) -> ParamInfo:
        try:
            return action.params[name]
        except KeyError:
            raise P4InfoError(
                f"action {action.name} has no parameter {name!r} "
                f"(it has {', '.join(action.params) or 'none'})"
            ) from None

    def packet_metadata(self, header: str) -> dict[str, ParamInfo]:
        """Fields of the packet_in / packet_out controller headers, by name."""
        try:
            return self._packet_meta[header]
        except KeyError:
            raise P4InfoError(
                f"no controller_packet_metadata {header!r} (have {', '.join(self._packet_meta)})"
            ) from None

    @staticmethod
    def _by_id(names: _Names[_Info], id_: int) -> _Info:
        try:
            return names.by_id[id_]
        except KeyError:
            raise P4InfoError(f"no {names.kind} with id {id_} in P4Info") from None


def encode_int(value: int, bitwidth: int, what: str = "value") -> bytes:
    """Canonical P4Runtime bytestring (no leading zero bytes, at least one byte)."""
    if value < 0 or (bitwidth and value >> bitwidth):
        raise P4InfoError(f"{what}: {value:#x} does not fit in {bitwidth} bits")
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def decode_int(data: bytes) -> int:
    return int.from_bytes(data, "big")
