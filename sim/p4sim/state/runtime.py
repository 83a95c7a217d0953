"""The whole runtime state of one forwarding pipeline, built from its P4Info.

One :class:`RuntimeState` per pipeline config: SetForwardingPipelineConfig builds a new one
(the old program's entries do not survive a new program) and the switch swaps it in whole.
Everything here is keyed both by P4Info id (what the P4Runtime server sees) and by P4Info
fully qualified name (what the engine's generated code uses to bind its tables and externs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from p4sim.state.externs import CounterArray, RegisterArray
from p4sim.state.meters import MeterArray, MeterSpec
from p4sim.state.pre import PacketReplicationEngine
from p4sim.state.tables import FieldSpec, MatchKind, Table, make_table

if TYPE_CHECKING:
    from finsy.proto import p4i

# p4.config.v1.ActionRef.Scope
TABLE_AND_DEFAULT = 0
TABLE_ONLY = 1
DEFAULT_ONLY = 2


class StateBuildError(ValueError):
    """The P4Info cannot be turned into runtime state; the message names the entity."""


@dataclass(frozen=True)
class ParamSpec:
    id: int
    name: str
    bitwidth: int


@dataclass(frozen=True)
class ActionInfo:
    id: int
    name: str
    params: tuple[ParamSpec, ...]

    def param_index(self) -> dict[int, int]:
        return dict(self.positions)

    @cached_property
    def positions(self) -> dict[int, int]:
        """Param id -> position, computed once: the Write path looks it up for every entry."""
        return {p.id: i for i, p in enumerate(self.params)}


@dataclass(frozen=True)
class PacketMetadataField:
    id: int
    name: str
    bitwidth: int


@dataclass
class DigestConfig:
    """P4Runtime DigestEntry.Config; ``None`` on the DigestInfo means "not configured"."""

    max_timeout_ns: int = 0
    max_list_size: int = 1
    ack_timeout_ns: int = 0


@dataclass
class DigestInfo:
    id: int
    name: str
    config: DigestConfig | None = None


@dataclass
class TableInfo:
    """What the control plane needs beyond the lookup structure: allowed actions and scopes."""

    table: Table
    action_scopes: dict[int, int]
    direct_counter_id: int = 0
    direct_meter_id: int = 0


# What a P4Info fully qualified name stands for in :attr:`RuntimeState.names`.
NamedEntity = TableInfo | ActionInfo | CounterArray | MeterArray | RegisterArray | DigestInfo


@dataclass
class RuntimeState:
    tables: dict[int, TableInfo] = field(default_factory=dict)
    actions: dict[int, ActionInfo] = field(default_factory=dict)
    counters: dict[int, CounterArray] = field(default_factory=dict)
    direct_counters: dict[int, int] = field(default_factory=dict)  # direct counter id -> table id
    meters: dict[int, MeterArray] = field(default_factory=dict)
    direct_meters: dict[int, int] = field(default_factory=dict)  # direct meter id -> table id
    registers: dict[int, RegisterArray] = field(default_factory=dict)
    digests: dict[int, DigestInfo] = field(default_factory=dict)
    packet_in_fields: tuple[PacketMetadataField, ...] = ()
    packet_out_fields: tuple[PacketMetadataField, ...] = ()
    pre: PacketReplicationEngine = field(default_factory=PacketReplicationEngine)
    names: dict[str, NamedEntity] = field(default_factory=dict)

    # -- access by name (for the engine, when it binds a program: not per packet) ----------------
    # Each raises KeyError, as for an unknown name, when the name is another kind of entity.
    def table(self, name: str) -> Table:
        info = self.names[name]
        if not isinstance(info, TableInfo):
            raise KeyError(f"{name} is not a table")
        return info.table

    def counter(self, name: str) -> CounterArray:
        arr = self.names[name]
        if not isinstance(arr, CounterArray):
            raise KeyError(f"{name} is not a counter")
        return arr

    def meter(self, name: str) -> MeterArray:
        arr = self.names[name]
        if not isinstance(arr, MeterArray):
            raise KeyError(f"{name} is not a meter")
        return arr

    def register(self, name: str) -> RegisterArray:
        arr = self.names[name]
        if not isinstance(arr, RegisterArray):
            raise KeyError(f"{name} is not a register")
        return arr

    def digest_id(self, name: str) -> int:
        info = self.names[name]
        if not isinstance(info, DigestInfo):
            raise KeyError(f"{name} is not a digest")
        return info.id

    def action_id(self, name: str) -> int:
        info = self.names[name]
        if not isinstance(info, ActionInfo):
            raise KeyError(f"{name} is not an action")
        return info.id

    def reset(self) -> None:
        """Back to the state right after the pipeline was set (entries, cells, PRE cleared)."""
        for info in self.tables.values():
            info.table.clear()
            info.table.reset_default()
        for c in self.counters.values():
            c.reset()
        for r in self.registers.values():
            r.reset()
        for m in self.meters.values():
            for cell in m.cells:
                cell.configure(None)
        self.pre.groups.clear()
        self.pre.sessions.clear()
        for d in self.digests.values():
            d.config = None


def _unit(spec: p4i.CounterSpec | p4i.MeterSpec, kind: str) -> str:
    u = spec.unit
    if kind == "counter":
        return {1: "bytes", 2: "packets", 3: "both"}.get(u, "both")
    return {1: "bytes", 2: "packets"}.get(u, "bytes")


def _bytes_to_int(b: bytes) -> int:
    return int.from_bytes(b, "big") if b else 0


def build_state(p4info: p4i.P4Info) -> RuntimeState:
    """Build the runtime state for a ``p4.config.v1.P4Info`` message.

    Raises :class:`StateBuildError` for a P4Info that refers to entities it does not define.
    """
    st = RuntimeState()
    for a in p4info.actions:
        ainfo = ActionInfo(
            a.preamble.id,
            a.preamble.name,
            tuple(ParamSpec(p.id, p.name, p.bitwidth) for p in a.params),
        )
        st.actions[ainfo.id] = ainfo
        st.names[ainfo.name] = ainfo
    dmeters = {m.preamble.id: m for m in p4info.direct_meters}
    dcounters = {c.preamble.id: c for c in p4info.direct_counters}
    for t in p4info.tables:
        name = t.preamble.name
        fields = []
        for mf in t.match_fields:
            if (
                mf.WhichOneof("match") != "match_type"
                or mf.match_type not in MatchKind._value2member_map_
            ):
                raise StateBuildError(
                    f"table {name}: match field {mf.name} has an unsupported match type"
                )
            fields.append(FieldSpec(mf.id, mf.name, mf.bitwidth, MatchKind(mf.match_type)))
        scopes: dict[int, int] = {}
        for ref in t.action_refs:
            if ref.id not in st.actions:
                raise StateBuildError(
                    f"table {name}: action id {ref.id:#x} is not defined in the P4Info"
                )
            scopes[ref.id] = ref.scope
        default: tuple[int, tuple[int, ...]] = (0, ())
        if t.HasField("initial_default_action"):
            ia = t.initial_default_action
            action = st.actions.get(ia.action_id)
            if action is None:
                raise StateBuildError(
                    f"table {name}: initial default action {ia.action_id:#x} is not defined"
                )
            by_id = {a.param_id: _bytes_to_int(a.value) for a in ia.arguments}
            default = (action.id, tuple(by_id.get(p.id, 0) for p in action.params))
        elif t.const_default_action_id:
            action = st.actions.get(t.const_default_action_id)
            if action is not None:
                default = (action.id, tuple(0 for _ in action.params))
        table = make_table(
            t.preamble.id,
            name,
            tuple(fields),
            t.size or 1024,
            default_action=default,
            const_default=bool(t.const_default_action_id),
            is_const=t.is_const_table,
            support_timeout=t.idle_timeout_behavior == 1,  # NOTIFY_CONTROL
        )
        info = TableInfo(table, scopes)
        for rid in t.direct_resource_ids:
            if rid in dcounters:
                info.direct_counter_id = rid
                table.has_direct_counter = True
                st.direct_counters[rid] = table.id
            elif rid in dmeters:
                info.direct_meter_id = rid
                table.direct_meter_spec = MeterSpec(_unit(dmeters[rid].spec, "meter"))
                st.direct_meters[rid] = table.id
        st.tables[table.id] = info
        st.names[name] = info
    for c in p4info.counters:
        arr = CounterArray(c.preamble.id, c.preamble.name, c.size, _unit(c.spec, "counter"))
        st.counters[arr.id] = arr
        st.names[arr.name] = arr
    for m in p4info.meters:
        marr = MeterArray(m.preamble.id, m.preamble.name, m.size, MeterSpec(_unit(m.spec, "meter")))
        st.meters[marr.id] = marr
        st.names[marr.name] = marr
    for r in p4info.registers:
        ts = r.type_spec
        if ts.WhichOneof("type_spec") != "bitstring":
            raise StateBuildError(f"register {r.preamble.name}: only bit<W> cells are supported")
        bs = ts.bitstring
        width = bs.bit.bitwidth if bs.HasField("bit") else bs.int.bitwidth
        reg = RegisterArray(r.preamble.id, r.preamble.name, r.size, width)
        st.registers[reg.id] = reg
        st.names[reg.name] = reg
    for d in p4info.digests:
        dig = DigestInfo(d.preamble.id, d.preamble.name)
        st.digests[dig.id] = dig
        st.names[dig.name] = dig
    for cpm in p4info.controller_packet_metadata:
        fields_ = tuple(PacketMetadataField(m.id, m.name, m.bitwidth) for m in cpm.metadata)
        if cpm.preamble.name == "packet_in":
            st.packet_in_fields = fields_
        elif cpm.preamble.name == "packet_out":
            st.packet_out_fields = fields_
    return st
