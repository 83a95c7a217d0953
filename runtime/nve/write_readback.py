"""Which updates of a failed Write took effect, told by reading the switch back.

A switch answers a Write that failed in part with one p4.v1.Error per update, in the
grpc-status-details-bin trailer. When that answer is lost (a trailer over the channel's
metadata limit, a proxy that drops it), the state of the switch still says what happened:
an INSERT or MODIFY whose entity is now there as written was applied, a DELETE whose
entity is gone was applied, anything else was not. This module builds the Reads that cover
a batch and judges each update against what they returned; `nve.p4rt_client` runs them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence

from finsy.proto import p4r
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

INSERT, MODIFY, DELETE = p4r.Update.INSERT, p4r.Update.MODIFY, p4r.Update.DELETE
_OP = {INSERT: "INSERT", MODIFY: "MODIFY", DELETE: "DELETE"}
# Fields a switch changes by itself (traffic, time) or returns only when asked: not compared.
_DYNAMIC = {
    "table_entry": frozenset(
        {"counter_data", "meter_counter_data", "meter_config", "time_since_last_hit"}
    ),
    "counter_entry": frozenset({"data"}),
    "meter_entry": frozenset({"counter_data"}),
}
Read = Callable[[Sequence[p4r.Entity]], Awaitable[list[p4r.Entity]]]


async def failed_updates(
    updates: Sequence[p4r.Update], read: Read, read_error: type[Exception]
) -> dict[int, str]:
    """The updates the switch's state shows not applied, by position, each with why.

    One wildcard `read` per table (PRE kind, digest, cell array) the batch touches; when
    one raises `read_error`, or an entity kind has no key here, its updates count as failed."""
    groups: dict[bytes, tuple[p4r.Entity, list[int]]] = {}
    failed: dict[int, str] = {}
    for i, u in enumerate(updates):
        probe = _probe(u.entity)
        if probe is None:
            kind = u.entity.WhichOneof("entity")
            failed[i] = f"{_OP.get(u.type, u.type)} of a {kind} cannot be read back"
            continue
        groups.setdefault(probe.SerializeToString(deterministic=True), (probe, []))[1].append(i)
    for probe, indexes in groups.values():
        try:
            found = _index_by_key(await read([probe]))
        except read_error as exc:  # nothing known about these updates: not applied
            for i in indexes:
                failed[i] = f"reading it back failed: {exc}"
            continue
        for i in indexes:
            why = outcome(updates[i], found)
            if why is not None:
                failed[i] = why
    return dict(sorted(failed.items()))


def outcome(update: p4r.Update, found: dict[Hashable, p4r.Entity]) -> str | None:
    """None when `found` (the switch's entities by key) shows `update` applied, else why not."""
    op = _OP.get(update.type, str(update.type))
    kind = update.entity.WhichOneof("entity")
    key = entity_key(update.entity)
    if kind is None or key is None:
        return f"{op} of a {kind} cannot be read back"
    now = found.get(key)
    if update.type == DELETE:
        return None if now is None else "DELETE: the entity is still on the switch"
    if now is None:
        return f"{op}: the entity is absent from the switch"
    written = _canonical(getattr(update.entity, kind))
    if not _covers(written, _canonical(getattr(now, kind)), _DYNAMIC.get(kind, frozenset())):
        return f"{op}: the switch holds the entity with other contents"
    return None


def entity_key(e: p4r.Entity) -> Hashable | None:
    """What identifies `e` on the switch (table and match, group id, cell index...), with
    P4Runtime bytestrings compared by value; None for kinds this module does not read."""
    kind = e.WhichOneof("entity")
    if kind == "table_entry":
        te = e.table_entry
        if te.is_default_action:
            return ("default", te.table_id)
        fields = frozenset(_canonical(m).SerializeToString(deterministic=True) for m in te.match)
        return ("table", te.table_id, fields, te.priority)
    if kind == "packet_replication_engine_entry":
        pre = e.packet_replication_engine_entry
        which = pre.WhichOneof("type")
        if which == "multicast_group_entry":
            return ("multicast", pre.multicast_group_entry.multicast_group_id)
        if which == "clone_session_entry":
            return ("clone", pre.clone_session_entry.session_id)
        return None
    if kind == "digest_entry":
        return ("digest", e.digest_entry.digest_id)
    if kind == "meter_entry":
        return ("meter", e.meter_entry.meter_id, e.meter_entry.index.index)
    if kind == "counter_entry":
        return ("counter", e.counter_entry.counter_id, e.counter_entry.index.index)
    if kind == "register_entry":
        return ("register", e.register_entry.register_id, e.register_entry.index.index)
    return None


def _index_by_key(entities: Iterable[p4r.Entity]) -> dict[Hashable, p4r.Entity]:
    found: dict[Hashable, p4r.Entity] = {}
    for e in entities:
        key = entity_key(e)
        if key is not None:
            found[key] = e
    return found


def _probe(e: p4r.Entity) -> p4r.Entity | None:
    """The wildcard Read that returns `e` if the switch holds it."""
    kind = e.WhichOneof("entity")
    if kind == "table_entry":
        te = e.table_entry
        return p4r.Entity(
            table_entry=p4r.TableEntry(table_id=te.table_id, is_default_action=te.is_default_action)
        )
    if kind == "packet_replication_engine_entry":
        which = e.packet_replication_engine_entry.WhichOneof("type")
        if which == "multicast_group_entry":
            pre = p4r.PacketReplicationEngineEntry(multicast_group_entry=p4r.MulticastGroupEntry())
        elif which == "clone_session_entry":
            pre = p4r.PacketReplicationEngineEntry(clone_session_entry=p4r.CloneSessionEntry())
        else:
            return None
        return p4r.Entity(packet_replication_engine_entry=pre)
    if kind == "digest_entry":
        return p4r.Entity(digest_entry=p4r.DigestEntry())
    if kind == "meter_entry":
        return p4r.Entity(meter_entry=p4r.MeterEntry(meter_id=e.meter_entry.meter_id))
    if kind == "counter_entry":
        return p4r.Entity(counter_entry=p4r.CounterEntry(counter_id=e.counter_entry.counter_id))
    if kind == "register_entry":
        return p4r.Entity(
            register_entry=p4r.RegisterEntry(register_id=e.register_entry.register_id)
        )
    return None


def _canonical(msg: Message) -> Message:
    """A copy of `msg` in the form a switch returns on Read: bytestrings without leading
    zero bytes, replica ports as `port` bytestrings (not the older `egress_port`)."""
    out = type(msg)()
    out.CopyFrom(msg)
    _canonicalize(out)
    return out


def _canonicalize(msg: Message) -> None:
    if isinstance(msg, p4r.Replica) and msg.WhichOneof("port_kind") == "egress_port":
        port = msg.egress_port
        msg.port = port.to_bytes(max(1, (port.bit_length() + 7) // 8), "big")
    for fd, value in msg.ListFields():
        if fd.type == FieldDescriptor.TYPE_MESSAGE:
            for sub in value if _repeated(fd) else (value,):
                _canonicalize(sub)
        elif fd.type == FieldDescriptor.TYPE_BYTES and not _repeated(fd):
            setattr(msg, fd.name, value.lstrip(b"\0") or value[:1])


def _repeated(fd: FieldDescriptor) -> bool:
    repeated: bool = fd.is_repeated
    return repeated


def _covers(written: Message, now: Message, skip: frozenset[str] = frozenset()) -> bool:
    """Whether `now` holds every field `written` sets, with the same value (repeated fields
    in any order), apart from `skip`. Both in canonical form."""
    for fd, value in written.ListFields():
        if fd.name in skip:
            continue
        other = getattr(now, fd.name)
        if _repeated(fd):
            if _multiset(fd, value) != _multiset(fd, other):
                return False
        elif fd.type == FieldDescriptor.TYPE_MESSAGE:
            if not now.HasField(fd.name) or not _covers(value, other):
                return False
        elif value != other:
            return False
    return True


def _multiset(fd: FieldDescriptor, values: Sequence[object]) -> Sequence[object]:
    if fd.type == FieldDescriptor.TYPE_MESSAGE:
        return sorted(
            v.SerializeToString(deterministic=True) for v in values if isinstance(v, Message)
        )
    return sorted(values, key=repr)
