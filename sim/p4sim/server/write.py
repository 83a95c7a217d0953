"""Applying P4Runtime Write updates to the runtime state.

Each update is checked completely before anything changes, then applied; each applied update
returns an *undo* closure so ROLLBACK_ON_ERROR and DATAPLANE_ATOMIC batches can be unwound.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from typing import TypeVar

from finsy.proto import p4r, rpc_status
from google.protobuf import any_pb2

from p4sim.server.codec import (
    check_priority,
    decode_action,
    decode_match,
    decode_port,
    decode_uint,
    table_info,
)
from p4sim.server.errors import (
    ALREADY_EXISTS,
    ERROR_SPACE,
    INVALID_ARGUMENT,
    NOT_FOUND,
    OK,
    OUT_OF_RANGE,
    PERMISSION_DENIED,
    RESOURCE_EXHAUSTED,
    UNIMPLEMENTED,
    UNKNOWN,
    P4RuntimeError,
)
from p4sim.state import (
    CloneSession,
    DigestConfig,
    MeterConfig,
    PacketReplicationEngine,
    RuntimeState,
    TableEntry,
    TableError,
    TableInfo,
)
from p4sim.state.pre import Replica, replica_nodes
from p4sim.state.tables import MatchKey, Table

Undo = Callable[[], None]
_V = TypeVar("_V")
INSERT = p4r.Update.INSERT
MODIFY = p4r.Update.MODIFY
DELETE = p4r.Update.DELETE
# One p4.v1.Error per update rides in the grpc-status-details-bin trailer: ~35 bytes for an
# OK update, so a message is capped to keep a large batch's trailer within what clients take.
MAX_ERROR_MESSAGE = 200  # bytes of UTF-8, the cut marker included
CUT_MARKER = " [cut]"


def capped_message(message: str) -> str:
    """`message`, cut to MAX_ERROR_MESSAGE bytes of UTF-8 (ending in CUT_MARKER) when longer."""
    raw = message.encode()
    if len(raw) <= MAX_ERROR_MESSAGE:
        return message
    head = raw[: MAX_ERROR_MESSAGE - len(CUT_MARKER)].decode(errors="ignore")
    return head + CUT_MARKER


def write_failure_status(errors: Iterable[P4RuntimeError | None]) -> rpc_status.Status:
    """The google.rpc.Status of a failed Write: one p4.v1.Error per update, in order, OK
    (an empty error) for the updates that succeeded, as the P4Runtime spec and PI lay it out."""
    ok = any_pb2.Any()
    ok.Pack(p4r.Error(canonical_code=OK))
    status = rpc_status.Status(code=UNKNOWN, message="Write failure.")
    details: list[any_pb2.Any] = []
    for e in errors:
        if e is None:
            details.append(ok)  # extend() copies: one packed OK serves every applied update
            continue
        failed = any_pb2.Any()
        failed.Pack(
            p4r.Error(canonical_code=e.code, message=capped_message(e.message), space=ERROR_SPACE)
        )
        details.append(failed)
    status.details.extend(details)
    return status


def apply_update(state: RuntimeState, update: p4r.Update) -> Undo:
    """Apply one p4.v1.Update; raise P4RuntimeError, or return how to undo it."""
    utype = update.type
    if utype not in (INSERT, MODIFY, DELETE):
        raise P4RuntimeError(INVALID_ARGUMENT, "update type is not set")
    kind = update.entity.WhichOneof("entity")
    if kind == "table_entry":
        return _table_entry(state, utype, update.entity.table_entry)
    if kind == "counter_entry":
        return _counter_entry(state, utype, update.entity.counter_entry)
    if kind == "direct_counter_entry":
        return _direct_counter_entry(state, utype, update.entity.direct_counter_entry)
    if kind == "meter_entry":
        return _meter_entry(state, utype, update.entity.meter_entry)
    if kind == "direct_meter_entry":
        return _direct_meter_entry(state, utype, update.entity.direct_meter_entry)
    if kind == "register_entry":
        return _register_entry(state, utype, update.entity.register_entry)
    if kind == "packet_replication_engine_entry":
        return _pre_entry(state, utype, update.entity.packet_replication_engine_entry)
    if kind == "digest_entry":
        return _digest_entry(state, utype, update.entity.digest_entry)
    if kind is None:
        raise P4RuntimeError(INVALID_ARGUMENT, "update has no entity")
    raise P4RuntimeError(UNIMPLEMENTED, f"{kind} is not supported by p4sim")


def _table_error(exc: TableError) -> P4RuntimeError:
    return P4RuntimeError(exc.code, exc.message)


# -- table entries ---------------------------------------------------------------------------------------
def _table_entry(state: RuntimeState, utype: int, te: p4r.TableEntry) -> Undo:
    info = table_info(state, te.table_id)
    table = info.table
    if te.is_const:
        raise P4RuntimeError(
            INVALID_ARGUMENT, f"table {table.name}: is_const must be false in a write"
        )
    if te.HasField("time_since_last_hit"):
        # PI (device_mgr.cpp table_write) refuses it in every update, default entry included.
        raise P4RuntimeError(
            INVALID_ARGUMENT, f"table {table.name}: time_since_last_hit is read-only"
        )
    if te.is_default_action:
        return _default_entry(state, info, utype, te)
    if not table.fields:
        raise P4RuntimeError(
            INVALID_ARGUMENT,
            f"table {table.name} is keyless: only its default entry can be written",
        )
    match = decode_match(info, te)
    check_priority(info, te.priority)
    if utype == DELETE:
        deleted = table.get(match, te.priority)
        if deleted is None:
            raise P4RuntimeError(NOT_FOUND, f"table {table.name}: no such entry to delete")
        if table.is_const or deleted.is_const:
            raise P4RuntimeError(
                PERMISSION_DENIED, f"table {table.name}: const entries cannot be deleted"
            )
        table.delete(match, te.priority)
        return lambda: table.insert(deleted)
    _check_idle_timeout(table, te)
    _check_direct_resources(info, te)
    if utype == INSERT:
        if table.is_const:
            raise P4RuntimeError(PERMISSION_DENIED, f"table {table.name} is const: no inserts")
        if table.get(match, te.priority) is not None:
            raise P4RuntimeError(ALREADY_EXISTS, f"table {table.name}: entry already exists")
        aid, params = decode_action(state, info, te, default=False)
        entry = TableEntry(
            match,
            aid,
            params,
            te.priority,
            idle_timeout_ns=te.idle_timeout_ns,
            controller_metadata=te.controller_metadata,
            metadata=te.metadata,
            now_ns=time.monotonic_ns(),
        )
        _set_direct_resources(entry, te)
        try:
            table.insert(entry)
        except TableError as exc:
            raise _table_error(exc) from None
        return lambda: _silent_delete(table, match, te.priority)
    # MODIFY
    found = table.get(match, te.priority)
    if found is None:
        raise P4RuntimeError(NOT_FOUND, f"table {table.name}: no such entry to modify")
    entry = found
    const = table.is_const or entry.is_const
    if const and te.HasField("action"):
        raise P4RuntimeError(
            PERMISSION_DENIED, f"table {table.name}: the action of a const entry cannot change"
        )
    if not const and not te.HasField("action"):
        raise P4RuntimeError(INVALID_ARGUMENT, f"table {table.name}: MODIFY needs an action")
    new_action = decode_action(state, info, te, default=False) if te.HasField("action") else None
    saved = (
        entry.action_id,
        entry.params,
        entry.idle_timeout_ns,
        entry.controller_metadata,
        entry.metadata,
        entry.packets,
        entry.bytes,
        entry.meter.config if entry.meter else None,
    )
    if new_action is not None:
        table.modify(match, te.priority, *new_action)
        table.set_idle_timeout(entry, te.idle_timeout_ns)
        entry.controller_metadata = te.controller_metadata
        entry.metadata = te.metadata
        entry.idle_notified = False
        entry.last_hit_ns = time.monotonic_ns()
    _set_direct_resources(entry, te)

    def undo() -> None:
        table.modify(match, te.priority, saved[0], saved[1])
        table.set_idle_timeout(entry, saved[2])
        entry.controller_metadata, entry.metadata = saved[3], saved[4]
        entry.packets, entry.bytes = saved[5], saved[6]
        if entry.meter is not None:
            entry.meter.configure(saved[7], time.monotonic_ns())

    return undo


def _silent_delete(table: Table, match: MatchKey, priority: int) -> None:
    with contextlib.suppress(TableError):
        table.delete(match, priority)


def _default_entry(state: RuntimeState, info: TableInfo, utype: int, te: p4r.TableEntry) -> Undo:
    table = info.table
    if utype != MODIFY:
        raise P4RuntimeError(
            INVALID_ARGUMENT, f"table {table.name}: the default entry can only be modified"
        )
    if len(te.match) or te.priority:
        raise P4RuntimeError(
            INVALID_ARGUMENT, f"table {table.name}: the default entry has no match and priority 0"
        )
    if table.const_default:
        raise P4RuntimeError(PERMISSION_DENIED, f"table {table.name}: the default action is const")
    # As PI (device_mgr.cpp table_modify): the default entry's idle timeout and direct
    # resources are checked like any entry's.
    _check_idle_timeout(table, te)
    _check_direct_resources(info, te)
    saved = table.default_result
    saved_counts = (table.default_packets, table.default_bytes)
    if te.HasField("action"):
        aid, params = decode_action(state, info, te, default=True)
        table.set_default(aid, params)
    else:
        table.reset_default()
    if te.HasField("counter_data"):
        table.default_packets = te.counter_data.packet_count
        table.default_bytes = te.counter_data.byte_count

    def undo() -> None:
        table.set_default(saved[0], saved[1])
        table.default_packets, table.default_bytes = saved_counts

    return undo


def _check_idle_timeout(table: Table, te: p4r.TableEntry) -> None:
    if te.idle_timeout_ns < 0:
        raise P4RuntimeError(INVALID_ARGUMENT, f"table {table.name}: negative idle_timeout_ns")
    if te.idle_timeout_ns and not table.support_timeout:
        raise P4RuntimeError(INVALID_ARGUMENT, f"table {table.name} does not support idle timeout")


def _check_direct_resources(info: TableInfo, te: p4r.TableEntry) -> None:
    if te.HasField("counter_data") and not info.direct_counter_id:
        raise P4RuntimeError(INVALID_ARGUMENT, f"table {info.table.name} has no direct counter")
    if te.HasField("meter_config"):
        if not info.direct_meter_id:
            raise P4RuntimeError(INVALID_ARGUMENT, f"table {info.table.name} has no direct meter")
        meter_config(te.meter_config, f"table {info.table.name}")


def _set_direct_resources(entry: TableEntry, te: p4r.TableEntry) -> None:
    if te.HasField("counter_data"):
        entry.packets = te.counter_data.packet_count
        entry.bytes = te.counter_data.byte_count
    if te.HasField("meter_config") and entry.meter is not None:
        entry.meter.configure(meter_config(te.meter_config, ""), time.monotonic_ns())


# PI stores bursts as uint32 (device_mgr.cpp validate_meter_spec: "CBurst too large").
PI_MAX_BURST = 2**32 - 1


def meter_config(cfg: p4r.MeterConfig, where: str) -> MeterConfig:
    for name in ("cir", "cburst", "pir", "pburst"):
        if getattr(cfg, name) < 0:
            raise P4RuntimeError(INVALID_ARGUMENT, f"{where}: negative meter {name}")
    for name in ("cburst", "pburst"):
        if getattr(cfg, name) > PI_MAX_BURST:
            raise P4RuntimeError(
                UNIMPLEMENTED, f"{where}: meter {name} above {PI_MAX_BURST} (PI's limit)"
            )
    if cfg.pir < cfg.cir:
        raise P4RuntimeError(
            INVALID_ARGUMENT, f"{where}: meter pir {cfg.pir} is below cir {cfg.cir}"
        )
    return MeterConfig(cfg.cir, cfg.cburst, cfg.pir, cfg.pburst)


def _lookup_entry(
    state: RuntimeState, te: p4r.TableEntry, what: str
) -> tuple[TableInfo, TableEntry | None]:
    info = table_info(state, te.table_id)
    if te.is_default_action:
        return info, None
    match = decode_match(info, te)
    check_priority(info, te.priority)
    entry = info.table.get(match, te.priority)
    if entry is None:
        raise P4RuntimeError(NOT_FOUND, f"table {info.table.name}: no such entry for the {what}")
    return info, entry


# -- counters, meters, registers ------------------------------------------------------------------------
def _index(
    index_msg_holder: p4r.CounterEntry | p4r.MeterEntry | p4r.RegisterEntry, size: int, what: str
) -> int | None:
    if not index_msg_holder.HasField("index"):
        return None
    i = index_msg_holder.index.index
    if i < 0:
        raise P4RuntimeError(INVALID_ARGUMENT, f"{what}: negative index {i}")
    if i >= size:
        raise P4RuntimeError(OUT_OF_RANGE, f"{what}: index {i} out of range (size {size})")
    return i


def _counter_entry(state: RuntimeState, utype: int, ce: p4r.CounterEntry) -> Undo:
    arr = state.counters.get(ce.counter_id)
    if arr is None:
        raise P4RuntimeError(NOT_FOUND, f"counter id {ce.counter_id:#x} is not in the P4Info")
    if utype != MODIFY:
        raise P4RuntimeError(INVALID_ARGUMENT, f"counter {arr.name}: only MODIFY is allowed")
    idx = _index(ce, arr.size, f"counter {arr.name}")
    indices = range(arr.size) if idx is None else [idx]
    saved = [(i, arr.packets[i], arr.bytes[i]) for i in indices]
    for i in indices:
        arr.write(i, ce.data.packet_count, ce.data.byte_count)

    def undo() -> None:
        for i, p, b in saved:
            arr.write(i, p, b)

    return undo


def _direct_counter_entry(state: RuntimeState, utype: int, dce: p4r.DirectCounterEntry) -> Undo:
    if utype != MODIFY:
        raise P4RuntimeError(INVALID_ARGUMENT, "direct counter entries can only be modified")
    info, entry = _lookup_entry(state, dce.table_entry, "direct counter")
    if not info.direct_counter_id:
        raise P4RuntimeError(INVALID_ARGUMENT, f"table {info.table.name} has no direct counter")
    table = info.table
    if entry is None:
        saved = (table.default_packets, table.default_bytes)
        table.default_packets, table.default_bytes = dce.data.packet_count, dce.data.byte_count

        def undo_default() -> None:
            table.default_packets, table.default_bytes = saved

        return undo_default
    saved_e = (entry.packets, entry.bytes)
    entry.packets, entry.bytes = dce.data.packet_count, dce.data.byte_count

    def undo() -> None:
        entry.packets, entry.bytes = saved_e

    return undo


def _meter_entry(state: RuntimeState, utype: int, me: p4r.MeterEntry) -> Undo:
    arr = state.meters.get(me.meter_id)
    if arr is None:
        raise P4RuntimeError(NOT_FOUND, f"meter id {me.meter_id:#x} is not in the P4Info")
    if utype != MODIFY:
        raise P4RuntimeError(INVALID_ARGUMENT, f"meter {arr.name}: only MODIFY is allowed")
    idx = _index(me, arr.size, f"meter {arr.name}")
    cfg = meter_config(me.config, f"meter {arr.name}") if me.HasField("config") else None
    cells = arr.cells if idx is None else [arr.cells[idx]]
    saved = [(c, c.config) for c in cells]
    now = time.monotonic_ns()
    for c in cells:
        c.configure(cfg, now)

    def undo() -> None:
        for c, old in saved:
            c.configure(old, time.monotonic_ns())

    return undo


def _direct_meter_entry(state: RuntimeState, utype: int, dme: p4r.DirectMeterEntry) -> Undo:
    if utype != MODIFY:
        raise P4RuntimeError(INVALID_ARGUMENT, "direct meter entries can only be modified")
    info, entry = _lookup_entry(state, dme.table_entry, "direct meter")
    if not info.direct_meter_id:
        raise P4RuntimeError(INVALID_ARGUMENT, f"table {info.table.name} has no direct meter")
    if entry is None or entry.meter is None:
        raise P4RuntimeError(
            UNIMPLEMENTED, f"table {info.table.name}: direct meter of the default entry"
        )
    cfg = meter_config(dme.config, f"table {info.table.name}") if dme.HasField("config") else None
    cell = entry.meter
    old = cell.config
    cell.configure(cfg, time.monotonic_ns())
    return lambda: cell.configure(old, time.monotonic_ns())


def _register_entry(state: RuntimeState, utype: int, re_: p4r.RegisterEntry) -> Undo:
    arr = state.registers.get(re_.register_id)
    if arr is None:
        raise P4RuntimeError(NOT_FOUND, f"register id {re_.register_id:#x} is not in the P4Info")
    if utype != MODIFY:
        raise P4RuntimeError(INVALID_ARGUMENT, f"register {arr.name}: only MODIFY is allowed")
    idx = _index(re_, arr.size, f"register {arr.name}")
    if re_.data.WhichOneof("data") != "bitstring":
        raise P4RuntimeError(INVALID_ARGUMENT, f"register {arr.name}: data must be a bitstring")
    value = decode_uint(re_.data.bitstring, arr.bitwidth, f"register {arr.name}")
    indices = range(arr.size) if idx is None else [idx]
    saved = [(i, arr.cells[i]) for i in indices]
    for i in indices:
        arr.write(i, value)

    def undo() -> None:
        for i, v in saved:
            arr.write(i, v)

    return undo


# -- packet replication engine ----------------------------------------------------------------------------
def _replicas(replicas: Iterable[p4r.Replica], what: str) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for r in replicas:
        rep = (decode_port(r, what), r.instance)
        if rep in out:
            raise P4RuntimeError(
                INVALID_ARGUMENT, f"{what}: replica (port {rep[0]}, instance {rep[1]}) given twice"
            )
        if r.instance >> 16:
            raise P4RuntimeError(
                INVALID_ARGUMENT, f"{what}: instance {r.instance} does not fit v1model's 16-bit rid"
            )
        out.append(rep)
    return tuple(out)


# PI's packet replication limits (simple_switch_grpc's P4Runtime server), which p4sim
# follows so that what runs here runs there: multicast group ids in ]0, 0x8000[ (PI
# programs clone sessions as groups from 0x8000 up) and clone session ids in [1, 32768[.
PI_FIRST_RESERVED_GROUP = 0x8000
PI_CLONE_SESSION_END = 0x8000


def _admit(
    pre: PacketReplicationEngine,
    what: str,
    old: tuple[Replica, ...] | None,
    new: tuple[Replica, ...],
) -> None:
    """Refuse a write that bmv2's PRE could not hold (RESOURCE_EXHAUSTED, as the spec says
    for a full container; PI reports bmv2's TABLE_FULL as UNKNOWN).

    An INSERT needs a free group (bmv2 ``mc_mgrp_create``) and a node per rid.  A MODIFY
    needs room for its new rids *before* the old ones go: PI creates and attaches the new
    nodes first and only then detaches the old ones (pre_mc_mgr.cpp ``group_modify_``).
    """
    if old is None and pre.groups_in_use >= pre.max_groups:
        raise P4RuntimeError(
            RESOURCE_EXHAUSTED,
            f"{what}: the replication engine holds {pre.max_groups} groups and clone sessions"
            " (bmv2's --max-mc-groups)",
        )
    added = replica_nodes(new) - (replica_nodes(old) if old is not None else frozenset())
    if pre.nodes_in_use + len(added) > pre.max_nodes:
        raise P4RuntimeError(
            RESOURCE_EXHAUSTED,
            f"{what}: {len(added)} more replication node(s) (one per new instance) would pass"
            f" the {pre.max_nodes} of bmv2's PRE (--max-l1-entries)",
        )


def _pre_entry(
    state: RuntimeState, utype: int, pre_entry: p4r.PacketReplicationEngineEntry
) -> Undo:
    pre = state.pre
    kind = pre_entry.WhichOneof("type")
    if kind == "multicast_group_entry":
        mg = pre_entry.multicast_group_entry
        gid = mg.multicast_group_id
        what = f"multicast group {gid}"
        if gid == 0:
            raise P4RuntimeError(INVALID_ARGUMENT, "multicast group id 0 is not valid")
        if gid >= PI_FIRST_RESERVED_GROUP:
            raise P4RuntimeError(
                OUT_OF_RANGE,
                f"{what}: id too high (PI keeps ids from {PI_FIRST_RESERVED_GROUP:#x} up "
                "for clone sessions)",
            )
        return _keyed_write(
            pre.groups,
            gid,
            utype,
            what,
            lambda: _replicas(mg.replicas, what),
            lambda old, new: _admit(pre, what, old, new),
        )
    if kind == "clone_session_entry":
        cs = pre_entry.clone_session_entry
        sid = cs.session_id
        what = f"clone session {sid}"
        if sid == 0:
            raise P4RuntimeError(INVALID_ARGUMENT, "clone session id 0 is not valid")
        if sid >= PI_CLONE_SESSION_END:
            raise P4RuntimeError(
                INVALID_ARGUMENT,
                f"{what}: out of range (PI accepts 1..{PI_CLONE_SESSION_END - 1})",
            )
        if cs.packet_length_bytes < 0:
            raise P4RuntimeError(INVALID_ARGUMENT, f"{what}: negative packet_length_bytes")
        return _keyed_write(
            pre.sessions,
            sid,
            utype,
            what,
            lambda: CloneSession(
                _replicas(cs.replicas, what), cs.class_of_service, cs.packet_length_bytes
            ),
            lambda old, new: _admit(pre, what, old.replicas if old else None, new.replicas),
        )
    raise P4RuntimeError(INVALID_ARGUMENT, "packet replication engine entry has no type")


def _keyed_write(
    store: dict[int, _V],
    key: int,
    utype: int,
    what: str,
    make: Callable[[], _V],
    admit: Callable[[_V | None, _V], None],
) -> Undo:
    """INSERT/MODIFY/DELETE ``store[key]``: ``make`` builds (and checks) the new value, then
    ``admit(old, new)`` may refuse it for capacity; nothing changes before both pass."""
    old = store.get(key)
    if utype == INSERT:
        if old is not None:
            raise P4RuntimeError(ALREADY_EXISTS, f"{what} already exists")
        value = make()
        admit(None, value)
        store[key] = value

        def undo_insert() -> None:
            store.pop(key, None)

        return undo_insert
    if old is None:
        raise P4RuntimeError(NOT_FOUND, f"{what} does not exist")
    if utype == MODIFY:
        value = make()
        admit(old, value)
        store[key] = value
    else:
        del store[key]

    def undo() -> None:
        store[key] = old

    return undo


def _digest_entry(state: RuntimeState, utype: int, de: p4r.DigestEntry) -> Undo:
    info = state.digests.get(de.digest_id)
    if info is None:
        raise P4RuntimeError(NOT_FOUND, f"digest id {de.digest_id:#x} is not in the P4Info")
    old = info.config
    if utype == DELETE:
        if old is None:
            raise P4RuntimeError(NOT_FOUND, f"digest {info.name} is not configured")
        info.config = None
    else:
        if utype == INSERT and old is not None:
            raise P4RuntimeError(ALREADY_EXISTS, f"digest {info.name} is already configured")
        if utype == MODIFY and old is None:
            raise P4RuntimeError(NOT_FOUND, f"digest {info.name} is not configured")
        c = de.config
        if c.max_timeout_ns < 0 or c.ack_timeout_ns < 0 or c.max_list_size < 0:
            raise P4RuntimeError(INVALID_ARGUMENT, f"digest {info.name}: negative config value")
        info.config = DigestConfig(c.max_timeout_ns, c.max_list_size, c.ack_timeout_ns)

    def undo() -> None:
        info.config = old

    return undo
