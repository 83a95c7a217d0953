"""P4Runtime bytestrings and messages <-> the plain ints of :mod:`p4sim.state`.

Every check the P4Runtime specification asks of a server for a table entry or action lives
here, each failing with the canonical code the specification names and a message that says
which table, field or parameter was wrong.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from finsy.proto import p4d, p4r

from p4sim.server.errors import (
    INVALID_ARGUMENT,
    NOT_FOUND,
    OUT_OF_RANGE,
    PERMISSION_DENIED,
    UNIMPLEMENTED,
    P4RuntimeError,
)
from p4sim.state import ActionInfo, FieldSpec, MatchKind, RuntimeState, Table, TableInfo
from p4sim.state.runtime import DEFAULT_ONLY, TABLE_ONLY
from p4sim.state.tables import FieldMatch, MatchKey


def decode_uint(data: bytes, bitwidth: int, what: str) -> int:
    """An unsigned bytestring of any length whose value fits ``bitwidth`` bits (spec 8.4)."""
    if not data:
        raise P4RuntimeError(OUT_OF_RANGE, f"{what}: empty bytestring")
    value = int.from_bytes(data, "big")
    if bitwidth and value >> bitwidth:
        raise P4RuntimeError(
            OUT_OF_RANGE, f"{what}: value 0x{data.hex()} does not fit in {bitwidth} bits"
        )
    return value


def encode_uint(value: int) -> bytes:
    """The canonical (shortest) bytestring of a non-negative int; 0 is one zero byte."""
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


_ONEOF = {
    MatchKind.EXACT: "exact",
    MatchKind.LPM: "lpm",
    MatchKind.TERNARY: "ternary",
    MatchKind.RANGE: "range",
    MatchKind.OPTIONAL: "optional",
}


def table_info(state: RuntimeState, table_id: int) -> TableInfo:
    info = state.tables.get(table_id)
    if info is None:
        raise P4RuntimeError(NOT_FOUND, f"table id {table_id:#x} is not in the P4Info")
    return info


def decode_match(info: TableInfo, entry: p4r.TableEntry) -> MatchKey:
    """The normalised match key of a p4.v1.TableEntry (don't-care fields filled in)."""
    table = info.table
    fields = table.fields
    by_id = table.field_positions
    # FieldMatch | None, every None filled in before the return (Any: returned as a MatchKey)
    values: list[Any] = [None] * len(fields)
    for fm in entry.match:
        i = by_id.get(fm.field_id)
        if i is None:
            raise P4RuntimeError(
                INVALID_ARGUMENT, f"table {table.name}: unknown match field id {fm.field_id}"
            )
        if values[i] is not None:
            raise P4RuntimeError(
                INVALID_ARGUMENT, f"table {table.name}: match field id {fm.field_id} given twice"
            )
        f = fields[i]
        kind = fm.WhichOneof("field_match_type")
        if kind == "exact" and f.kind == MatchKind.EXACT:
            # The common case, inlined: decode_uint's checks, the message built only on failure.
            data = fm.exact.value
            value = int.from_bytes(data, "big")
            if not data or (f.bitwidth and value >> f.bitwidth):
                decode_uint(data, f.bitwidth, f"table {table.name}, field {f.name}")
            values[i] = value
        else:
            values[i] = _decode_field(table, f, fm, kind)
    for i, f in enumerate(fields):
        if values[i] is None:
            if f.kind == MatchKind.EXACT:
                raise P4RuntimeError(
                    INVALID_ARGUMENT, f"table {table.name}: exact field {f.name} is missing"
                )
            values[i] = (0, f.full_mask) if f.kind == MatchKind.RANGE else (0, 0)
    return tuple(values)


def _decode_field(table: Table, f: FieldSpec, fm: p4r.FieldMatch, kind: str | None) -> FieldMatch:
    where = f"table {table.name}, field {f.name}"
    if kind != _ONEOF[f.kind]:
        raise P4RuntimeError(
            INVALID_ARGUMENT, f"{where}: match type {kind} given, P4Info says {_ONEOF[f.kind]}"
        )
    w = f.bitwidth
    if kind == "exact":
        return decode_uint(fm.exact.value, w, where)
    if kind == "lpm":
        v = decode_uint(fm.lpm.value, w, where)
        plen = fm.lpm.prefix_len
        if plen <= 0 or plen > w:
            raise P4RuntimeError(
                INVALID_ARGUMENT,
                f"{where}: prefix_len {plen} out of 1..{w} (omit the field for a zero-length prefix)",
            )
        if v & ((1 << (w - plen)) - 1):
            raise P4RuntimeError(
                INVALID_ARGUMENT, f"{where}: bits below the /{plen} prefix are not zero"
            )
        return (v, plen)
    if kind == "ternary":
        v = decode_uint(fm.ternary.value, w, where)
        m = decode_uint(fm.ternary.mask, w, where + " mask")
        if m == 0:
            raise P4RuntimeError(
                INVALID_ARGUMENT, f"{where}: mask is zero (omit the field for don't care)"
            )
        if v & ~m:
            raise P4RuntimeError(INVALID_ARGUMENT, f"{where}: value has bits set outside the mask")
        return (v, m)
    if kind == "range":
        lo = decode_uint(fm.range.low, w, where + " low")
        hi = decode_uint(fm.range.high, w, where + " high")
        if lo > hi:
            raise P4RuntimeError(INVALID_ARGUMENT, f"{where}: range low {lo} > high {hi}")
        if lo == 0 and hi == f.full_mask:
            raise P4RuntimeError(
                INVALID_ARGUMENT, f"{where}: full range (omit the field for don't care)"
            )
        return (lo, hi)
    return (decode_uint(fm.optional.value, w, where), f.full_mask)


def check_priority(info: TableInfo, priority: int) -> None:
    table = info.table
    if table.needs_priority:
        if priority <= 0:
            raise P4RuntimeError(
                INVALID_ARGUMENT, f"table {table.name}: a positive priority is required"
            )
    elif priority != 0:
        raise P4RuntimeError(
            INVALID_ARGUMENT,
            f"table {table.name}: priority must be 0 (no ternary, range or optional field)",
        )


def decode_action(
    state: RuntimeState, info: TableInfo, entry: p4r.TableEntry, *, default: bool
) -> tuple[int, tuple[int, ...]]:
    """Action id and params of a table entry, checked against the table's actions and scopes."""
    table = info.table
    kind = entry.action.WhichOneof("type")
    if kind is None:
        raise P4RuntimeError(INVALID_ARGUMENT, f"table {table.name}: the entry has no action")
    if kind != "action":
        raise P4RuntimeError(
            UNIMPLEMENTED, f"table {table.name}: action profiles are not supported ({kind})"
        )
    return decode_action_msg(state, info, entry.action.action, default=default)


def decode_action_msg(
    state: RuntimeState, info: TableInfo, action: p4r.Action, *, default: bool
) -> tuple[int, tuple[int, ...]]:
    table = info.table
    aid = action.action_id
    scope = info.action_scopes.get(aid)
    if scope is None:
        known = "is not an action of this table" if aid in state.actions else "is not in the P4Info"
        raise P4RuntimeError(INVALID_ARGUMENT, f"table {table.name}: action id {aid:#x} {known}")
    ainfo = state.actions[aid]
    if default and scope == TABLE_ONLY:
        raise P4RuntimeError(
            PERMISSION_DENIED, f"table {table.name}: action {ainfo.name} is @tableonly"
        )
    if not default and scope == DEFAULT_ONLY:
        raise P4RuntimeError(
            PERMISSION_DENIED, f"table {table.name}: action {ainfo.name} is @defaultonly"
        )
    return aid, decode_params(ainfo, action.params)


def decode_params(ainfo: ActionInfo, params: Iterable[p4r.Action.Param]) -> tuple[int, ...]:
    index = ainfo.positions
    specs = ainfo.params
    values: list[int | None] = [None] * len(specs)
    for p in params:
        i = index.get(p.param_id)
        if i is None:
            raise P4RuntimeError(
                INVALID_ARGUMENT, f"action {ainfo.name}: unknown param id {p.param_id}"
            )
        if values[i] is not None:
            raise P4RuntimeError(
                INVALID_ARGUMENT, f"action {ainfo.name}: param id {p.param_id} given twice"
            )
        spec = specs[i]
        data = p.value
        value = int.from_bytes(data, "big")
        if not data or (spec.bitwidth and value >> spec.bitwidth):
            try:
                decode_uint(data, spec.bitwidth, f"action {ainfo.name}, param {spec.name}")
            except P4RuntimeError as exc:
                # Action data follows the bytestring rules, but the spec files a bad param under INVALID_ARGUMENT.
                raise P4RuntimeError(INVALID_ARGUMENT, exc.message) from None
        values[i] = value
    if None in values:
        missing = [specs[i].name for i, v in enumerate(values) if v is None]
        raise P4RuntimeError(
            INVALID_ARGUMENT, f"action {ainfo.name}: missing param(s) {', '.join(missing)}"
        )
    return tuple(values)  # type: ignore[arg-type]  # `None in values` was ruled out above


# -- encoding for Read ------------------------------------------------------------------------------
def encode_match(info: TableInfo, match: MatchKey) -> list[p4r.FieldMatch]:
    out = []
    for f, m in zip(info.table.fields, match):
        fm = p4r.FieldMatch(field_id=f.id)
        if f.kind == MatchKind.EXACT:
            fm.exact.value = encode_uint(m)  # type: ignore[arg-type]  # EXACT: an int
        elif f.kind == MatchKind.LPM:
            v, plen = m  # type: ignore[misc]  # LPM: (value, prefix_len)
            if plen == 0:
                continue
            fm.lpm.value = encode_uint(v)
            fm.lpm.prefix_len = plen
        elif f.kind == MatchKind.TERNARY:
            v, mask = m  # type: ignore[misc]  # TERNARY: (value, mask)
            if mask == 0:
                continue
            fm.ternary.value = encode_uint(v)
            fm.ternary.mask = encode_uint(mask)
        elif f.kind == MatchKind.RANGE:
            lo, hi = m  # type: ignore[misc]  # RANGE: (low, high)
            if lo == 0 and hi == f.full_mask:
                continue
            fm.range.low = encode_uint(lo)
            fm.range.high = encode_uint(hi)
        else:
            v, mask = m  # type: ignore[misc]  # OPTIONAL: (value, mask)
            if mask == 0:
                continue
            fm.optional.value = encode_uint(v)
        out.append(fm)
    return out


def encode_action(state: RuntimeState, action_id: int, params: tuple[int, ...]) -> p4r.Action:
    a = p4r.Action(action_id=action_id)
    ainfo = state.actions.get(action_id)
    if ainfo is not None:
        for spec, v in zip(ainfo.params, params):
            a.params.add(param_id=spec.id, value=encode_uint(v))
    return a


def encode_bitstring_data(values: tuple[int, ...], as_struct: bool) -> p4d.P4Data:
    """P4Data for a digest: a struct of bitstrings, or one bitstring for a bit<W> digest."""
    if not as_struct and len(values) == 1:
        return p4d.P4Data(bitstring=encode_uint(values[0]))
    data = p4d.P4Data()
    for v in values:
        data.struct.members.add(bitstring=encode_uint(v))
    return data


def decode_port(replica: p4r.Replica, what: str) -> int:
    """The egress port of a Replica: ``port`` bytes (P4Runtime 1.4) or the older ``egress_port``."""
    has_oneof = "port_kind" in [o.name for o in replica.DESCRIPTOR.oneofs]
    which = replica.WhichOneof("port_kind") if has_oneof else None
    if which == "port" or (which is None and replica.port):
        port = _pi_port(replica.port, what)
    elif which is None and has_oneof:
        # PI (pre_mc_mgr.cpp GetReplicaPort): a replica must name its port.
        raise P4RuntimeError(INVALID_ARGUMENT, f"{what}: replica without a port")
    else:
        port = replica.egress_port
    if port > 511:
        raise P4RuntimeError(
            INVALID_ARGUMENT, f"{what}: port {port} does not fit v1model's 9-bit port"
        )
    return port


def _pi_port(data: bytes, what: str) -> int:
    """A replica's ``port`` bytes, refused as PI refuses them (common.cpp
    ``bytestring_to_pi_port``): empty or a value that is not a positive int32 is
    INVALID_ARGUMENT (so port 0 must be given as ``egress_port``), more than 4 bytes
    UNIMPLEMENTED."""
    if not data:
        raise P4RuntimeError(INVALID_ARGUMENT, f"{what}: empty port")
    if len(data) > 4:
        raise P4RuntimeError(
            UNIMPLEMENTED, f"{what}: port of {len(data)} bytes (PI takes at most 4)"
        )
    port = int.from_bytes(data, "big")
    if port == 0 or port >> 31:
        raise P4RuntimeError(
            INVALID_ARGUMENT,
            f"{what}: port bytes 0x{data.hex()} (PI takes 1..2**31-1 as bytes; give port 0"
            " as egress_port)",
        )
    return port
