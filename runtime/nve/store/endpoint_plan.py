"""The check and the writes of one endpoint change (add, move, remove) against what a
batch read from the store, as later changes of the same batch will see it
(nve.store.endpoints runs the batches; docs/fleet.md, "Endpoint changes").

A change is planned against a `View`: the keys the batch read at one revision, with the
writes of the changes planned before it in the batch applied over them. The plan names
every index, counter and endpoint key it read or writes ("touched"): the transaction
compares each with its revision in the store, so if any moved since, nothing is written
and the batch is read and checked again. The index keys (MAC and CA per VSID, CA per
tenant, port tags) and counter keys (local endpoints per switch) thus make concurrent
writers serialise on exactly the keys they share. A move keeps its MAC and CA keys: they
are neither written nor compared (only a change of the endpoint's own key, which is
compared, can release them).

The rules of one endpoint are `nve.validate`'s own: they run on a small description
holding the endpoint, its subnet and tenant, its switch and the remote NVEs, and the
problems the endpoint adds to it are the change's. Uniqueness across endpoints and the
port tags of other endpoints come from the index keys, which that small description
lacks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pydantic

from nve.model import (
    Endpoint,
    LocalAttachment,
    Overlay,
    RemoteAttachment,
    RemoteNve,
    Subnet,
    Switch,
    Tenant,
)
from nve.problems import ConfigPath, Problem, format_path
from nve.store.etcd import KeyValue, StoreError
from nve.store.keys import Gen, unpart
from nve.store.records import (
    ADDED,
    Claims,
    counted_value,
    endpoint_claims,
    loads,
    object_value,
)
from nve.validate import validate_overlay, vsid_text

Attachment = LocalAttachment | RemoteAttachment


class ChangeRefused(Exception):
    """The change would make the overlay invalid; one line per reason."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("\n".join(reasons))


@dataclass
class View:
    """What a batch read at one revision, with the writes of its planned changes applied
    over it. `mod` stays the store's revision of a key, for the transaction's compares."""

    gen: Gen
    gen_id: str
    found: dict[bytes, KeyValue] = field(default_factory=dict)
    mods: dict[bytes, int] = field(default_factory=dict)
    added: int = 0  # endpoints added by the changes planned so far
    # Parsed records (by key), and the small descriptions endpoints are validated
    # against (by VSID, switch, remote NVE): a batch parses and validates each once.
    parsed: dict[bytes, Any] = field(default_factory=dict)
    bases: dict[tuple[int, str | None, str | None], Base] = field(default_factory=dict)

    def take(self, keys: Sequence[bytes], found: dict[bytes, KeyValue]) -> None:
        """A read's result: the keys asked for (absent from `found`: not in the store)
        and every key found (some under prefixes)."""
        for k in keys:
            if k not in found:
                self.found.pop(k, None)
                self.parsed.pop(k, None)
                self.mods[k] = 0
        for k, kv in found.items():
            self.found[k] = kv
            self.parsed.pop(k, None)
            self.mods[k] = kv.mod_revision

    def mod(self, key: bytes) -> int:
        return self.mods.get(key, 0)

    def json(self, key: bytes) -> Any:
        """The record, parsed (shared: do not change it)."""
        if key in self.parsed:
            return self.parsed[key]
        kv = self.found.get(key)
        rec = self.parsed[key] = loads(kv.value) if kv else None
        return rec

    def object(self, key: bytes) -> Any:
        rec = self.json(key)
        return None if rec is None else rec["object"]

    def endpoint(self, name: str) -> Endpoint | None:
        """The endpoint as the batch has it so far."""
        rec = self.json(self.gen.endpoint(name))
        return None if rec is None else Endpoint.model_validate(rec["object"], strict=True)

    def place(self, name: str) -> dict[str, int]:
        """The fields of the endpoint's record that give its place (records.Collected):
        kept by a move, ADDED (and the place in its batch, `at`) for a new endpoint."""
        rec = self.json(self.gen.endpoint(name))
        if rec is None:
            return {"seq": ADDED, "at": self.added}
        return {k: int(rec[k]) for k in ("seq", "at") if k in rec}

    def apply(self, plan: Plan) -> None:
        self.added += plan.added
        for k, v in plan.writes.items():
            self.parsed.pop(k, None)
            if v is None:
                self.found.pop(k, None)
            else:
                self.found[k] = KeyValue(k, v, -1, -1)


@dataclass(frozen=True)
class Plan:
    """One change's writes (None: delete) and every key its check depends on."""

    writes: dict[bytes, bytes | None]
    touched: set[bytes]
    added: int = 0  # 1: the change adds an endpoint


def context_keys(
    gen: Gen, name: str, old: Endpoint | None, new: Endpoint | None
) -> tuple[list[bytes], list[bytes]]:
    """The keys and prefixes a change reads first (its subnet, switch, remote NVE,...)."""
    keys = [gen.endpoint(name)]
    prefixes = [gen.refs_prefix(name)]
    for ep in (old, new):
        if ep is None:
            continue
        keys.append(gen.subnet(ep.vsid))
        if isinstance(ep.attachment, LocalAttachment):
            sw = ep.attachment.switch
            keys += [gen.switch(sw), gen.limits(sw), gen.local_count(sw)]
        else:
            keys.append(gen.remote_nve(ep.attachment.remote_nve))
    if new is not None:
        prefixes.append(gen.carriers_prefix(new.vsid))
    return keys, prefixes


def claim_keys(view: View, old: Endpoint | None, new: Endpoint | None) -> list[bytes]:
    """The index and counter keys a change reads once its context is known (they depend
    on the subnet's tenant)."""
    gen = view.gen
    out: list[bytes] = []
    for ep in (old, new):
        if ep is not None:
            c = endpoint_claims(gen, ep, _tenant_of(view, ep.vsid))
            out += [*c.unique, *c.counted, *c.guarded, *c.counters]
    tenant = _tenant_of(view, new.vsid) if new is not None else None
    if tenant is not None:
        out += [gen.tenant(tenant), gen.tenant_ipv6(tenant)]
        out += [gen.tenant_on(tenant, sw) for sw in _short_switches(view)]
    if new is not None:
        carriers = gen.carriers_prefix(new.vsid)
        out += [
            gen.remote_nve(k[len(carriers) :].decode())
            for k in view.found
            if k.startswith(carriers)
        ]
    return out


def _short_switches(read: View) -> dict[str, dict[str, Any]]:
    """Switches that cannot carry IPv6 customers: name -> their mtu_short record."""
    prefix = read.gen.mtu_short_prefix
    return {
        k[len(prefix) :].decode(): loads(kv.value)
        for k, kv in read.found.items()
        if k.startswith(prefix)
    }


def _tenant_of(read: View, vsid: int) -> str | None:
    rec = read.json(read.gen.subnet(vsid))
    return None if rec is None else str(rec["tenant"])


def plan_change(read: View, name: str, old: Endpoint | None, new: Endpoint | None) -> Plan:
    """Replace `old` (None: absent) by `new` (None: remove); ChangeRefused with every
    reason when the overlay would become invalid. `read` is not changed."""
    gen = read.gen
    place = read.place(name)
    reasons: list[str] = []
    if new is not None:
        reasons += _endpoint_problems(read, new)
    if old is not None and (new is None or _addresses(old) != _addresses(new)):
        refs = sorted(k for k in read.found if k.startswith(gen.refs_prefix(name)))
        if refs:
            used = ", ".join(k[len(gen.refs_prefix(name)) :].decode() for k in refs)
            reasons.append(f"endpoint {name} is in use ({used}): change those first")
    old_c = endpoint_claims(gen, old, _tenant_of(read, old.vsid)) if old else Claims()
    new_c = endpoint_claims(gen, new, _tenant_of(read, new.vsid)) if new else Claims()
    writes: dict[bytes, bytes | None] = {}  # key -> new value (None: delete)
    touched: set[bytes] = {gen.endpoint(name)}
    # Unique keys: release the old endpoint's, then take the new one's; those it keeps
    # (a move) are left alone.
    held = {k: kv.value for k, kv in read.found.items() if k in new_c.unique or k in old_c.unique}
    kept = {k for k, v in new_c.unique.items() if old_c.unique.get(k) == v and held.get(k) == v}
    for k in old_c.unique.keys() - kept:
        touched.add(k)
        if k in held and loads(held[k])["endpoint"] == name:
            del held[k]
            writes[k] = None
    for k, v in new_c.unique.items():
        if k in kept:
            continue
        touched.add(k)
        if k in held and new is not None:
            reasons.append(_unique_conflict(gen, new, k, loads(held[k])))
        writes[k] = v
    # Host routes change only with an import (a new generation, which `current`'s compare
    # catches): the guards are read, not compared.
    for k in new_c.guarded:
        holder = read.json(k)
        if holder is not None and holder["endpoint"] != name:
            reasons.append(
                f"{_guard_text(k)} is a host route via endpoint {holder['endpoint']}; "
                f"endpoint {name} cannot own that CA"
            )
    # Counted keys: the same, with counts.
    counts: dict[bytes, tuple[dict[str, object], int]] = {}
    for k in {*old_c.counted, *new_c.counted}:
        rec = read.json(k)
        if rec is not None:
            ident = {f: v for f, v in rec.items() if f != "endpoints"}
            counts[k] = (ident, int(rec["endpoints"]))
    before = dict(counts)
    for k, ident in old_c.counted.items():
        ident_now, n = counts.get(k, (ident, 1))
        counts[k] = (ident_now, n - 1)
    for k, ident in new_c.counted.items():
        ident_now, n = counts.get(k, (ident, 0))
        if n > 0 and ident_now != ident and new is not None:
            reasons.append(_tag_conflict(gen, new, k, ident_now))
        counts[k] = (ident, n + 1)
    for k, (ident, n) in counts.items():
        if before.get(k) == (ident, n):
            continue  # held before and after (a move on the same port): left alone
        touched.add(k)
        writes[k] = counted_value(ident, n) if n > 0 else None
    # Plain counters (IPv6 endpoints per tenant, local endpoints per tenant and switch).
    after: dict[bytes, int] = {}
    for k, delta in [(k, -1) for k in old_c.counters] + [(k, 1) for k in new_c.counters]:
        kv = read.found.get(k)
        after[k] = after.get(k, int(kv.value) if kv else 0) + delta
    for k, n in after.items():
        kv = read.found.get(k)
        if n == (int(kv.value) if kv else 0):
            continue  # unchanged (a move on the same switch): no write, no compare
        touched.add(k)
        writes[k] = str(n).encode() if n > 0 else None
    if new is not None:
        reasons += _ipv6_mtu(read, new, after, touched)
    # Local endpoints per switch against the switch's limit.
    for sw, delta in _local_deltas(old_c, new_c).items():
        key = gen.local_count(sw)
        touched.add(key)
        kv = read.found.get(key)
        n = (int(kv.value) if kv else 0) + delta
        limit = read.json(gen.limits(sw))
        if delta > 0 and limit is not None and n > int(limit["local_endpoints"]):
            reasons.append(
                f"switch {sw} already holds {n - delta} local endpoints, its limit"
                f" ({limit['local_endpoints']})"
            )
        writes[key] = str(n).encode()
    if reasons:
        raise ChangeRefused(list(dict.fromkeys(reasons)))
    writes[gen.endpoint(name)] = (
        object_value(new.model_dump(mode="json"), **place) if new is not None else None
    )
    return Plan(writes, touched, int(old is None and new is not None))


def _ipv6_mtu(read: View, ep: Endpoint, after: dict[bytes, int], touched: set[bytes]) -> list[str]:
    """nve.validate's underlay MTU rule across endpoints: a switch whose network ports
    cannot carry IPv6 customers must carry no tenant with an IPv6 gateway or endpoint."""
    gen = read.gen
    tenant = _tenant_of(read, ep.vsid)
    shorts = _short_switches(read)
    if tenant is None or not shorts:
        return []

    def count(key: bytes) -> int:
        touched.add(key)
        if key in after:
            return after[key]
        kv = read.found.get(key)
        return int(kv.value) if kv else 0

    rec = read.json(gen.tenant(tenant)) or {}
    ipv6 = bool(rec.get("ipv6_gateway")) or count(gen.tenant_ipv6(tenant)) > 0
    out = []
    for sw, short in sorted(shorts.items()):
        on = count(gen.tenant_on(tenant, sw)) > 0 or tenant in short["bound"]
        if on and ipv6:
            out.append(
                f"switch {sw} port {short['port']} (mtu {short['mtu']}) cannot carry the IPv6"
                f" customers of tenant {tenant} in NVGRE (needs >= {short['needed']};"
                " RFC 7637 §4.4, RFC 8200 §5)"
            )
    return out


def _addresses(ep: Endpoint) -> tuple[object, ...]:
    return (ep.vsid, ep.ipv4, ep.ipv6)


def _local_deltas(old: Claims, new: Claims) -> dict[str, int]:
    out: dict[str, int] = {}
    if old.local_switch is not None:
        out[old.local_switch] = out.get(old.local_switch, 0) - 1
    if new.local_switch is not None:
        out[new.local_switch] = out.get(new.local_switch, 0) + 1
    return {sw: d for sw, d in out.items() if d != 0}


def _unique_conflict(gen: Gen, ep: Endpoint, key: bytes, holder: dict[str, Any]) -> str:
    what = key[len(gen.prefix) :].decode().split("/")
    value = unpart(what[-1])
    other = holder["endpoint"]
    if what[1] == "mac":
        return f"MAC {value} is already in VSID {vsid_text(ep.vsid)} (endpoint {other})"
    if what[1] == "ca":
        return f"CA {value} is already in VSID {vsid_text(ep.vsid)} (endpoint {other})"
    if holder["vsid"] == ep.vsid:  # the same CA in the same VSID: said above
        return f"CA {value} is already in VSID {vsid_text(ep.vsid)} (endpoint {other})"
    return (
        f"CA {value} is also in VSID {vsid_text(int(holder['vsid']))} of tenant {what[2]}"
        f" (endpoint {other}): its routes would conflict"
    )


def _tag_conflict(gen: Gen, ep: Endpoint, key: bytes, ident: dict[str, object]) -> str:
    kind, sw, port, last = key[len(gen.prefix) :].decode().split("/")[1:5]
    if kind == "port_vlan":
        tag = "untagged" if last == "untagged" else f"VLAN {last}"
        return f"{tag} on {sw} port {port} is already used by VSID {vsid_text(int(str(ident['vsid'])))}"
    vlan = ident["vlan"]
    other = "untagged" if vlan is None else f"VLAN {vlan}"
    return (
        f"VSID {vsid_text(ep.vsid)} is already {other} on {sw} port {port};"
        " one subnet has one tag per port"
    )


def _guard_text(key: bytes) -> str:
    parts = key.decode().split("/")
    return f"CA {unpart(parts[-1])} of tenant {parts[-2]}"


@dataclass(frozen=True)
class Base:
    """The small description an endpoint is validated against, and its own problems."""

    overlay: Overlay
    problems: frozenset[tuple[ConfigPath, str]]
    switches: list[Switch]


def _endpoint_problems(read: View, ep: Endpoint) -> list[str]:
    """nve.validate's rules for one endpoint: the problems it adds to a description of
    its subnet, tenant, switch and the remote NVEs."""
    local = ep.attachment.switch if isinstance(ep.attachment, LocalAttachment) else None
    remote = ep.attachment.remote_nve if isinstance(ep.attachment, RemoteAttachment) else None
    key = (ep.vsid, local, remote)
    base = read.bases.get(key)
    if base is None:
        base = read.bases[key] = _base(read, *key)
    with_ep = base.overlay.model_copy(update={"endpoints": [ep]})
    added = [p for p in validate_overlay(with_ep) if (p.path, p.message) not in base.problems]
    return [_say(p, ep, base.switches) for p in added]


def _base(read: View, vsid: int, local: str | None, remote: str | None) -> Base:
    """The description of the subnet, the switch, the remote NVEs that carry the VSID and
    the one the endpoint is behind (all static within a generation)."""
    gen = read.gen
    sub_rec = read.json(gen.subnet(vsid))
    tenants: list[Tenant] = []
    if sub_rec is not None:
        subnet = Subnet.model_validate(sub_rec["object"], strict=True)
        tenants = [Tenant(name=sub_rec["tenant"], vrf=1, subnets=[subnet])]
    switches: list[Switch] = []
    if local is not None:
        sw = read.object(gen.switch(local))
        if sw is not None:
            switches = [Switch.model_validate(sw, strict=True)]
    # Each remote NVE as if it carried only that VSID (of their other VSIDs the endpoint
    # changes nothing).
    carriers = gen.carriers_prefix(vsid)
    names = {k[len(carriers) :].decode() for k in read.found if k.startswith(carriers)}
    if remote is not None:
        names.add(remote)
    remotes = []
    for name in sorted(names):
        rec = read.json(gen.remote_nve(name))
        if rec is not None:
            obj = {**rec["object"], "vsids": [v for v in rec["object"]["vsids"] if v == vsid]}
            remotes.append(RemoteNve.model_validate(obj, strict=True))
    try:
        overlay = Overlay(switches=switches, tenants=tenants, remote_nves=remotes)
    except pydantic.ValidationError as exc:  # not reached: every part was validated
        raise StoreError(f"{gen.base}: {exc}") from None
    problems = frozenset((p.path, p.message) for p in validate_overlay(overlay))
    return Base(overlay, problems, switches)


def _say(p: Problem, ep: Endpoint, switches: list[Switch]) -> str:
    path: ConfigPath = p.path
    if path[:2] == ("endpoints", 0):
        where = f"endpoint {ep.name}" + (f" {format_path(path[2:])}" if path[2:] else "")
    elif path[:1] == ("switches",) and switches:
        where = f"switch {switches[0].name}" + (f" {format_path(path[2:])}" if path[2:] else "")
    else:
        where = format_path(path)
    return f"{where}: {p.message}"
