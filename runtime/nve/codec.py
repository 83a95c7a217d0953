"""Convert between nve.entities dataclasses and P4Runtime protobuf messages.

Encoding resolves every name through `P4Index`; decoding turns what a switch returns
into the same canonical dataclasses the compiler produces, so installed and desired
state compare directly.
"""

from __future__ import annotations

from finsy.proto import p4r

from nve.entities import (
    CloneSession,
    DigestConfig,
    Entity,
    Exact,
    FieldMatch,
    Lpm,
    MeterConfig,
    MulticastGroup,
    Optional,
    Params,
    Range,
    TableEntry,
    Ternary,
)
from nve.p4info import P4Index, P4InfoError, decode_int, encode_int


def encode(entity: Entity, index: P4Index, into: p4r.Entity | None = None) -> p4r.Entity:
    """Protobuf for an entity (full contents: fit for INSERT and MODIFY).

    With `into` (e.g. an Update's entity), the message is filled in place: building a
    100,000-entry Write then copies no nested message.
    """
    if isinstance(entity, TableEntry):
        out = p4r.Entity() if into is None else into
        _fill_table_entry(out.table_entry, entity, index, with_action=True)
        return out
    msg = _encode_other(entity, index)
    if into is None:
        return msg
    into.CopyFrom(msg)
    return into


def _encode_other(entity: Entity, index: P4Index) -> p4r.Entity:
    if isinstance(entity, MulticastGroup):
        return p4r.Entity(
            packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
                multicast_group_entry=p4r.MulticastGroupEntry(
                    multicast_group_id=entity.group_id,
                    replicas=[
                        p4r.Replica(egress_port=port, instance=rid) for port, rid in entity.replicas
                    ],
                )
            )
        )
    if isinstance(entity, CloneSession):
        return p4r.Entity(
            packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
                clone_session_entry=p4r.CloneSessionEntry(
                    session_id=entity.session_id,
                    replicas=[
                        p4r.Replica(egress_port=port, instance=rid) for port, rid in entity.replicas
                    ],
                    class_of_service=entity.class_of_service,
                    packet_length_bytes=entity.packet_length_bytes,
                )
            )
        )
    if isinstance(entity, MeterConfig):
        info = index.meter(entity.meter)
        return p4r.Entity(
            meter_entry=p4r.MeterEntry(
                meter_id=info.id,
                index=p4r.Index(index=entity.index),
                config=p4r.MeterConfig(
                    cir=entity.cir, cburst=entity.cburst, pir=entity.pir, pburst=entity.pburst
                ),
            )
        )
    if isinstance(entity, DigestConfig):
        info = index.digest(entity.digest)
        return p4r.Entity(
            digest_entry=p4r.DigestEntry(
                digest_id=info.id,
                config=p4r.DigestEntry.Config(
                    max_timeout_ns=entity.max_timeout_ns,
                    max_list_size=entity.max_list_size,
                    ack_timeout_ns=entity.ack_timeout_ns,
                ),
            )
        )
    raise TypeError(f"cannot encode {type(entity).__name__}")


def encode_key(entity: Entity, index: P4Index) -> p4r.Entity:
    """Protobuf naming an entity only (for DELETE, and MODIFY-to-reset of meters)."""
    if isinstance(entity, TableEntry):
        out = p4r.Entity()
        _fill_table_entry(out.table_entry, entity, index, with_action=False)
        return out
    if isinstance(entity, MeterConfig):
        info = index.meter(entity.meter)
        return p4r.Entity(
            meter_entry=p4r.MeterEntry(meter_id=info.id, index=p4r.Index(index=entity.index))
        )
    if isinstance(entity, DigestConfig):
        return p4r.Entity(digest_entry=p4r.DigestEntry(digest_id=index.digest(entity.digest).id))
    if isinstance(entity, MulticastGroup):
        return p4r.Entity(
            packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
                multicast_group_entry=p4r.MulticastGroupEntry(multicast_group_id=entity.group_id)
            )
        )
    if isinstance(entity, CloneSession):
        return p4r.Entity(
            packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
                clone_session_entry=p4r.CloneSessionEntry(session_id=entity.session_id)
            )
        )
    raise TypeError(f"cannot encode {type(entity).__name__}")


def _fill_table_entry(
    msg: p4r.TableEntry, e: TableEntry, index: P4Index, with_action: bool
) -> None:
    table = index.table(e.table)
    msg.table_id = table.id
    if e.priority:
        msg.priority = e.priority
    if e.is_default:
        msg.is_default_action = True
    fields = table.match_fields
    for name, m in e.match:
        f = fields.get(name) or index.match_field(table, name)
        fm = msg.match.add()
        fm.field_id = f.id
        if isinstance(m, Exact):
            v, w = m.value, f.bitwidth
            if v < 0 or (w and v >> w):
                encode_int(v, w, f"{table.name}.{name}")  # raises, naming the field
            fm.exact.value = v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")
        elif isinstance(m, Lpm):
            what = f"{table.name}.{name}"
            if m.prefix_len > f.bitwidth:
                raise P4InfoError(f"{what}: prefix length {m.prefix_len} exceeds {f.bitwidth} bits")
            fm.lpm.value = encode_int(m.value, f.bitwidth, what)
            fm.lpm.prefix_len = m.prefix_len
        elif isinstance(m, Ternary):
            what = f"{table.name}.{name}"
            fm.ternary.value = encode_int(m.value, f.bitwidth, what)
            fm.ternary.mask = encode_int(m.mask, f.bitwidth, what)
        elif isinstance(m, Range):
            what = f"{table.name}.{name}"
            fm.range.low = encode_int(m.low, f.bitwidth, what)
            fm.range.high = encode_int(m.high, f.bitwidth, what)
        elif isinstance(m, Optional):
            fm.optional.value = encode_int(m.value, f.bitwidth, f"{table.name}.{name}")
    if with_action and e.action:
        action = index.action(e.action)
        if action.id not in table.action_ids:
            raise P4InfoError(f"action {action.name} is not an action of table {table.name}")
        act = msg.action.action
        act.action_id = action.id
        params = action.params
        for name, value in e.params:
            p = params.get(name) or index.param(action, name)
            ap = act.params.add()
            ap.param_id = p.id
            w = p.bitwidth
            if value < 0 or (w and value >> w):
                encode_int(value, w, f"{action.name}({name})")  # raises, naming the parameter
            ap.value = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
        if e.idle_timeout_ns:
            msg.idle_timeout_ns = e.idle_timeout_ns


def decode(msg: p4r.Entity, index: P4Index, tiers: dict[str, int] | None = None) -> Entity | None:
    """The canonical dataclass for an entity read from a switch (None for kinds nve does not manage)."""
    which = msg.WhichOneof("entity")
    if which == "table_entry":
        return _decode_table_entry(msg.table_entry, index, tiers or {})
    if which == "packet_replication_engine_entry":
        pre = msg.packet_replication_engine_entry
        if pre.WhichOneof("type") == "multicast_group_entry":
            g = pre.multicast_group_entry
            return MulticastGroup(
                g.multicast_group_id,
                tuple(sorted((_replica_port(r), r.instance) for r in g.replicas)),
            )
        if pre.WhichOneof("type") == "clone_session_entry":
            c = pre.clone_session_entry
            return CloneSession(
                c.session_id,
                tuple(sorted((_replica_port(r), r.instance) for r in c.replicas)),
                c.class_of_service,
                c.packet_length_bytes,
            )
        return None
    if which == "meter_entry":
        m = msg.meter_entry
        cfg = m.config
        return MeterConfig(
            index.meter_by_id(m.meter_id).name,
            m.index.index,
            cfg.cir,
            cfg.cburst,
            cfg.pir,
            cfg.pburst,
        )
    if which == "digest_entry":
        d = msg.digest_entry
        dcfg = d.config
        return DigestConfig(
            index.digest_by_id(d.digest_id).name,
            dcfg.max_timeout_ns,
            dcfg.max_list_size,
            dcfg.ack_timeout_ns,
        )
    return None


def _replica_port(r: p4r.Replica) -> int:
    """P4Runtime 1.4 carries the port as bytes (`port`); older servers use `egress_port`."""
    return decode_int(r.port) if r.WhichOneof("port_kind") == "port" else r.egress_port


def _decode_table_entry(t: p4r.TableEntry, index: P4Index, tiers: dict[str, int]) -> TableEntry:
    table = index.table_by_id(t.table_id)
    fields_by_id = table.fields_by_id
    match = []
    for fm in t.match:
        f = fields_by_id.get(fm.field_id)
        if f is None:
            raise P4InfoError(f"table {table.name} has no match field id {fm.field_id}")
        kind = fm.WhichOneof("field_match_type")
        m: FieldMatch
        if kind == "exact":
            m = Exact(int.from_bytes(fm.exact.value, "big"))
        elif kind == "lpm":
            m = Lpm(decode_int(fm.lpm.value), fm.lpm.prefix_len)
        elif kind == "ternary":
            m = Ternary(decode_int(fm.ternary.value), decode_int(fm.ternary.mask))
        elif kind == "range":
            m = Range(decode_int(fm.range.low), decode_int(fm.range.high))
        else:
            m = Optional(decode_int(fm.optional.value))
        match.append((f.name, m))
    match.sort()
    action_name = ""
    params: Params = ()
    if t.action.WhichOneof("type") == "action":
        act = t.action.action
        a = index.action_by_id(act.action_id)
        action_name = a.name
        by_id = a.params_by_id
        values = []
        for p in act.params:
            info = by_id.get(p.param_id)
            if info is not None:
                values.append((info.name, int.from_bytes(p.value, "big")))
        values.sort()
        params = tuple(values)
    return TableEntry(
        table.name,
        tuple(match),
        action_name,
        params,
        t.priority,
        t.is_default_action,
        t.idle_timeout_ns,
        tier=tiers.get(table.name, 0),
    )


def canonical_names(entity: Entity, index: P4Index) -> Entity:
    """The same entity with table/action/meter/digest names in P4Info's fully-qualified form.

    The compiler may use aliases; what a switch returns decodes to full names. Normalising
    both sides keeps the diff exact.
    """
    from dataclasses import replace

    if isinstance(entity, TableEntry):
        table = index.table(entity.table).name
        action = index.action(entity.action).name if entity.action else ""
        if table == entity.table and action == entity.action:
            return entity
        return replace(entity, table=table, action=action)
    if isinstance(entity, MeterConfig):
        return replace(entity, meter=index.meter(entity.meter).name)
    if isinstance(entity, DigestConfig):
        return replace(entity, digest=index.digest(entity.digest).name)
    return entity
