"""Answering P4Runtime Read requests from the runtime state (wildcards, filters, chunking)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

from finsy.proto import p4r

from p4sim.server.codec import (
    check_priority,
    decode_match,
    encode_action,
    encode_match,
    encode_uint,
    table_info,
)
from p4sim.server.errors import (
    INVALID_ARGUMENT,
    NOT_FOUND,
    OUT_OF_RANGE,
    UNIMPLEMENTED,
    P4RuntimeError,
)
from p4sim.server.write import PI_FIRST_RESERVED_GROUP, _index
from p4sim.state import (
    CounterArray,
    MatchKind,
    MeterArray,
    RegisterArray,
    RuntimeState,
    TableEntry,
    TableInfo,
)

_Array = TypeVar("_Array", bound=CounterArray | MeterArray | RegisterArray)


def read_entities(state: RuntimeState, entity: p4r.Entity) -> Iterator[p4r.Entity]:
    """All entities one request entity selects (each a p4.v1.Entity)."""
    kind = entity.WhichOneof("entity")
    if kind == "table_entry":
        yield from _table_entries(state, entity.table_entry)
    elif kind == "counter_entry":
        yield from _counter_entries(state, entity.counter_entry)
    elif kind == "direct_counter_entry":
        yield from _direct_counter_entries(state, entity.direct_counter_entry.table_entry)
    elif kind == "meter_entry":
        yield from _meter_entries(state, entity.meter_entry)
    elif kind == "register_entry":
        yield from _register_entries(state, entity.register_entry)
    elif kind == "packet_replication_engine_entry":
        yield from _pre_entries(state, entity.packet_replication_engine_entry)
    elif kind == "digest_entry":
        yield from _digest_entries(state, entity.digest_entry)
    elif kind is None:
        raise P4RuntimeError(INVALID_ARGUMENT, "read entity has no type")
    else:
        raise P4RuntimeError(UNIMPLEMENTED, f"reading {kind} is not supported by p4sim")


def _key_only(te: p4r.TableEntry) -> p4r.TableEntry:
    return p4r.TableEntry(
        table_id=te.table_id,
        match=te.match,
        priority=te.priority,
        is_default_action=te.is_default_action,
    )


def _direct_counter_entries(state: RuntimeState, req: p4r.TableEntry) -> Iterator[p4r.Entity]:
    """DirectCounterEntry reads: table id 0 reads the tables that have a direct counter; a
    named table without one is INVALID_ARGUMENT (as PI, device_mgr.cpp
    ``direct_counter_read_one``), and a named entry that does not exist NOT_FOUND (the spec;
    PI says INVALID_ARGUMENT)."""
    if req.table_id == 0:
        infos = [i for i in state.tables.values() if i.direct_counter_id]
    else:
        info = table_info(state, req.table_id)
        if not info.direct_counter_id:
            raise P4RuntimeError(INVALID_ARGUMENT, f"table {info.table.name} has no direct counter")
        if len(req.match) and not req.is_default_action:
            match = decode_match(info, req)
            check_priority(info, req.priority)
            if info.table.get(match, req.priority) is None:
                raise P4RuntimeError(
                    NOT_FOUND, f"table {info.table.name}: no such entry for the direct counter"
                )
        infos = [info]
    for info in infos:
        for e in _table_entries(state, req, want_counters=True, infos=[info]):
            te = e.table_entry
            yield p4r.Entity(
                direct_counter_entry=p4r.DirectCounterEntry(
                    table_entry=_key_only(te), data=te.counter_data
                )
            )


def _check_last_hit(infos: list[TableInfo], req: p4r.TableEntry) -> None:
    """As PI (device_mgr.cpp ``table_read_one``, ``table_read_default``): asking for
    time_since_last_hit of a table without idle-timeout support (a wildcard read over all
    tables included) or of the default entry is INVALID_ARGUMENT."""
    if not req.HasField("time_since_last_hit"):
        return
    if req.is_default_action:
        raise P4RuntimeError(
            INVALID_ARGUMENT, "the default entry has no time_since_last_hit (do not ask for it)"
        )
    for info in infos:
        if not info.table.support_timeout:
            raise P4RuntimeError(
                INVALID_ARGUMENT,
                f"table {info.table.name} does not support idle timeout: do not ask for"
                " time_since_last_hit",
            )


def _table_entries(
    state: RuntimeState,
    req: p4r.TableEntry,
    want_counters: bool = False,
    infos: list[TableInfo] | None = None,
) -> Iterator[p4r.Entity]:
    if req.table_id == 0 and (len(req.match) or req.HasField("action")):
        # Match fields and actions belong to one table: across all tables they mean nothing,
        # and ignoring them would answer a question the client did not ask.
        raise P4RuntimeError(
            INVALID_ARGUMENT,
            "a wildcard read (table_id 0) cannot filter on match fields or an action",
        )
    if infos is None:
        infos = (
            list(state.tables.values()) if req.table_id == 0 else [table_info(state, req.table_id)]
        )
    _check_last_hit(infos, req)
    counters = want_counters or req.HasField("counter_data")
    meters = req.HasField("meter_config")
    last_hit = req.HasField("time_since_last_hit")
    now = time.monotonic_ns()
    for info in infos:
        table = info.table
        if req.is_default_action:
            te = p4r.TableEntry(table_id=table.id, is_default_action=True)
            aid, params, _ = table.default_result
            if aid:
                te.action.action.CopyFrom(encode_action(state, aid, params))
            if counters and info.direct_counter_id:
                te.counter_data.packet_count = table.default_packets
                te.counter_data.byte_count = table.default_bytes
            yield p4r.Entity(table_entry=te)
            continue
        if req.table_id != 0 and len(req.match):
            match = decode_match(info, req)
            check_priority(info, req.priority)
            entry = table.get(match, req.priority)
            selected = [entry] if entry is not None else []
        else:
            selected = table.entries()
            if req.priority:
                selected = [e for e in selected if e.priority == req.priority]
        for e in selected:
            ent = p4r.Entity()
            _fill_entry(ent.table_entry, state, info, e, counters, meters, last_hit, now)
            yield ent


def _fill_entry(
    te: p4r.TableEntry,
    state: RuntimeState,
    info: TableInfo,
    e: TableEntry,
    counters: bool,
    meters: bool,
    last_hit: bool,
    now: int,
) -> None:
    """Write one installed entry into ``te`` in place (no intermediate messages to copy)."""
    table = info.table
    te.table_id = table.id
    fields = table.fields
    if all(f.kind == MatchKind.EXACT for f in fields):
        for f, v in zip(fields, e.match):
            fm = te.match.add()
            fm.field_id = f.id
            fm.exact.value = v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")  # type: ignore[union-attr]  # all fields exact: each match is an int
    else:
        te.match.extend(encode_match(info, e.match))
    if e.priority:
        te.priority = e.priority
    if e.controller_metadata:
        te.controller_metadata = e.controller_metadata
    if e.metadata:
        te.metadata = e.metadata
    if e.idle_timeout_ns:
        te.idle_timeout_ns = e.idle_timeout_ns
    if e.is_const:
        te.is_const = True
    act = te.action.action
    act.action_id = e.action_id
    ainfo = state.actions.get(e.action_id)
    if ainfo is not None:
        for spec, v in zip(ainfo.params, e.params):
            p = act.params.add()
            p.param_id = spec.id
            p.value = v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")
    if counters and info.direct_counter_id:
        te.counter_data.packet_count = e.packets
        te.counter_data.byte_count = e.bytes
    if meters and e.meter is not None and e.meter.config is not None:
        c = e.meter.config
        te.meter_config.CopyFrom(
            p4r.MeterConfig(cir=c.cir, cburst=c.cburst, pir=c.pir, pburst=c.pburst)
        )
    if last_hit and table.support_timeout:
        te.time_since_last_hit.elapsed_ns = max(0, now - e.last_hit_ns)


def _counter_data(arr: CounterArray, i: int) -> p4r.CounterData:
    d = p4r.CounterData()
    if arr.unit in ("packets", "both"):
        d.packet_count = arr.packets[i]
    if arr.unit in ("bytes", "both"):
        d.byte_count = arr.bytes[i]
    return d


def _cells(
    arrays: dict[int, _Array],
    req: p4r.CounterEntry | p4r.MeterEntry | p4r.RegisterEntry,
    array_id: int,
    kind: str,
) -> Iterator[tuple[_Array, int]]:
    """(array, index) pairs a counter/meter/register read asks for: every cell of every
    array (id 0), every cell of one, or one cell (an index given)."""
    if array_id == 0:
        chosen = list(arrays.values())
    else:
        arr = arrays.get(array_id)
        if arr is None:
            raise P4RuntimeError(NOT_FOUND, f"{kind} id {array_id:#x} is not in the P4Info")
        chosen = [arr]
    for arr in chosen:
        idx = _index(req, arr.size, f"{kind} {arr.name}") if array_id else None
        for i in range(arr.size) if idx is None else [idx]:
            yield arr, i


def _counter_entries(state: RuntimeState, req: p4r.CounterEntry) -> Iterator[p4r.Entity]:
    for arr, i in _cells(state.counters, req, req.counter_id, "counter"):
        yield p4r.Entity(
            counter_entry=p4r.CounterEntry(
                counter_id=arr.id, index=p4r.Index(index=i), data=_counter_data(arr, i)
            )
        )


def _meter_entries(state: RuntimeState, req: p4r.MeterEntry) -> Iterator[p4r.Entity]:
    for arr, i in _cells(state.meters, req, req.meter_id, "meter"):
        me = p4r.MeterEntry(meter_id=arr.id, index=p4r.Index(index=i))
        c = arr.cells[i].config
        if c is not None:
            me.config.CopyFrom(
                p4r.MeterConfig(cir=c.cir, cburst=c.cburst, pir=c.pir, pburst=c.pburst)
            )
        yield p4r.Entity(meter_entry=me)


def _register_entries(state: RuntimeState, req: p4r.RegisterEntry) -> Iterator[p4r.Entity]:
    for arr, i in _cells(state.registers, req, req.register_id, "register"):
        re_ = p4r.RegisterEntry(register_id=arr.id, index=p4r.Index(index=i))
        re_.data.bitstring = encode_uint(arr.cells[i])
        yield p4r.Entity(register_entry=re_)


def _replica_msgs(replicas: Iterable[tuple[int, int]]) -> list[p4r.Replica]:
    return [p4r.Replica(port=encode_uint(port), instance=rid) for port, rid in replicas]


def _pre_entries(
    state: RuntimeState, req: p4r.PacketReplicationEngineEntry
) -> Iterator[p4r.Entity]:
    pre = state.pre
    kind = req.WhichOneof("type")
    if kind == "multicast_group_entry":
        gid = req.multicast_group_entry.multicast_group_id
        if gid >= PI_FIRST_RESERVED_GROUP:  # as PI (device_mgr.cpp pre_mc_read)
            raise P4RuntimeError(OUT_OF_RANGE, f"multicast group {gid}: id too high")
        ids = sorted(pre.groups) if gid == 0 else ([gid] if gid in pre.groups else [])
        if gid and not ids:
            raise P4RuntimeError(NOT_FOUND, f"multicast group {gid} does not exist")
        for g in ids:
            mg = p4r.MulticastGroupEntry(
                multicast_group_id=g, replicas=_replica_msgs(pre.groups[g])
            )
            yield p4r.Entity(
                packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
                    multicast_group_entry=mg
                )
            )
    elif kind == "clone_session_entry":
        sid = req.clone_session_entry.session_id
        ids = sorted(pre.sessions) if sid == 0 else ([sid] if sid in pre.sessions else [])
        if sid and not ids:
            raise P4RuntimeError(NOT_FOUND, f"clone session {sid} does not exist")
        for s in ids:
            cs = pre.sessions[s]
            msg = p4r.CloneSessionEntry(
                session_id=s,
                replicas=_replica_msgs(cs.replicas),
                class_of_service=cs.class_of_service,
                packet_length_bytes=cs.packet_length_bytes,
            )
            yield p4r.Entity(
                packet_replication_engine_entry=p4r.PacketReplicationEngineEntry(
                    clone_session_entry=msg
                )
            )
    else:
        raise P4RuntimeError(INVALID_ARGUMENT, "packet replication engine entry has no type")


def _digest_entries(state: RuntimeState, req: p4r.DigestEntry) -> Iterator[p4r.Entity]:
    if req.digest_id == 0:
        infos = list(state.digests.values())
    else:
        info = state.digests.get(req.digest_id)
        if info is None:
            raise P4RuntimeError(NOT_FOUND, f"digest id {req.digest_id:#x} is not in the P4Info")
        if info.config is None:  # as PI (digest_mgr.cpp get_config)
            raise P4RuntimeError(NOT_FOUND, f"digest {info.name} is not configured")
        infos = [info]
    for info in infos:
        if info.config is None:
            continue
        c = info.config
        yield p4r.Entity(
            digest_entry=p4r.DigestEntry(
                digest_id=info.id,
                config=p4r.DigestEntry.Config(
                    max_timeout_ns=c.max_timeout_ns,
                    max_list_size=c.max_list_size,
                    ack_timeout_ns=c.ack_timeout_ns,
                ),
            )
        )
