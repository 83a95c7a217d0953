"""An overlay as etcd records and back: one record per object, plus the index and counter
records of its endpoints and routes (docs/fleet.md). Pure: no I/O.

Every object record is `{"seq": N, "object": {...}}` (subnets also carry their tenant):
N is the object's place in the imported description, or ADDED for an endpoint added
since. Reading back orders a kind's objects by N, then the added ones by create revision
and, for several added in one transaction, by their place in it (`at`), so the order of the description survives a round trip (however the import's transactions
interleave) and endpoints added later come after it, a move keeping its place.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from nve.model import Endpoint, LocalAttachment, Overlay, Switch
from nve.store.keys import Gen, unpart
from nve.validate import GRE_WITH_KEY, INNER_ETHERNET, IPV6_MIN_MTU, OUTER_IP_HEADER

Record = tuple[bytes, bytes]
ADDED = -1  # the seq of an endpoint added after the import


def dumps(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def loads(raw: bytes) -> Any:
    return json.loads(raw)


def object_value(obj: dict[str, Any], seq: int, **extra: object) -> bytes:
    """`extra`: more fields of the record (a subnet's tenant, an added endpoint's `at`)."""
    return dumps({"seq": seq, "object": obj, **extra})


@dataclass(frozen=True)
class Claims:
    """What one endpoint holds in the index and counter keys of its generation."""

    # key -> value: values unique in their scope (MAC and CA per VSID, CA per tenant)
    unique: dict[bytes, bytes] = field(default_factory=dict)
    # key -> identity: shared by endpoints that agree on it, with a count of them
    # ((switch, port, tag) -> VSID; (switch, port, VSID) -> tag)
    counted: dict[bytes, dict[str, object]] = field(default_factory=dict)
    # keys whose holder, if any, must be this endpoint (host routes of a tenant)
    guarded: tuple[bytes, ...] = ()
    # the switch whose local endpoint count it adds to
    local_switch: str | None = None
    # counter keys it adds one to (deleted at zero)
    counters: tuple[bytes, ...] = ()


def holder_value(ep: Endpoint) -> bytes:
    return dumps({"endpoint": ep.name, "vsid": ep.vsid})


def endpoint_claims(gen: Gen, ep: Endpoint, tenant: str | None) -> Claims:
    holder = holder_value(ep)
    unique = {gen.mac(ep.vsid, ep.mac): holder}
    guarded = []
    for ca in (ep.ipv4, ep.ipv6):
        if ca is None:
            continue
        unique[gen.ca(ep.vsid, ca)] = holder
        if tenant is not None:
            unique[gen.tenant_ca(tenant, ca)] = holder
            guarded.append(gen.host_route(tenant, ca))
    counted: dict[bytes, dict[str, object]] = {}
    counters = []
    local = None
    att = ep.attachment
    if isinstance(att, LocalAttachment):
        local = att.switch
        counted[gen.port_vlan(att.switch, att.port, att.vlan)] = {"vsid": ep.vsid}
        counted[gen.port_vsid(att.switch, att.port, ep.vsid)] = {"vlan": att.vlan}
        if tenant is not None:
            counters.append(gen.tenant_on(tenant, att.switch))
    if tenant is not None and ep.ipv6 is not None:
        counters.append(gen.tenant_ipv6(tenant))
    return Claims(unique, counted, tuple(guarded), local, tuple(counters))


def mtu_short(sw: Switch, tenant_of: dict[int, str]) -> dict[str, object] | None:
    """A switch whose network ports cannot carry a minimum-MTU IPv6 customer packet in
    NVGRE (the rule of nve.validate): its first such port, and the tenants bound to its
    ports (bindings: they are on it whatever its endpoints)."""
    family = max(pa.version for pa in sw.local_pas)
    needed = IPV6_MIN_MTU + INNER_ETHERNET + GRE_WITH_KEY + OUTER_IP_HEADER[family]
    short = [p for p in sw.ports if p.role == "network" and p.mtu < needed]
    if not short:
        return None
    bound = sorted({tenant_of[b.vsid] for p in sw.ports for b in p.bindings if b.vsid in tenant_of})
    return {"port": short[0].port, "mtu": short[0].mtu, "needed": needed, "bound": bound}


def counted_value(identity: dict[str, object], endpoints: int) -> bytes:
    return dumps({**identity, "endpoints": endpoints})


def overlay_records(
    gen: Gen, overlay: Overlay, meta: dict[str, object], max_local_endpoints: int | None
) -> Iterator[Record]:
    """Every record of a (valid) overlay, objects first in description order."""
    yield gen.meta, dumps({"version": overlay.version, **meta})
    tenant_of = {sub.vsid: t.name for t in overlay.tenants for sub in t.subnets}
    for i, sw in enumerate(overlay.switches):
        yield gen.switch(sw.name), object_value(sw.model_dump(mode="json"), i)
        if max_local_endpoints is not None:
            yield gen.limits(sw.name), dumps({"local_endpoints": max_local_endpoints})
        short = mtu_short(sw, tenant_of)
        if short is not None:
            yield gen.mtu_short(sw.name), dumps(short)
    seq = 0
    for t, tenant in enumerate(overlay.tenants):
        gw6 = any(s.gateway is not None and s.gateway.ipv6 is not None for s in tenant.subnets)
        yield (
            gen.tenant(tenant.name),
            object_value(tenant.model_dump(mode="json", exclude={"subnets"}), t, ipv6_gateway=gw6),
        )
        for sub in tenant.subnets:
            yield (
                gen.subnet(sub.vsid),
                object_value(sub.model_dump(mode="json"), seq, tenant=tenant.name),
            )
            seq += 1
    for r, nve in enumerate(overlay.remote_nves):
        yield gen.remote_nve(nve.name), object_value(nve.model_dump(mode="json"), r)
        for vsid in dict.fromkeys(nve.vsids):
            yield gen.carrier(vsid, nve.name), b""
    for r, route in enumerate(overlay.routes):
        yield gen.route(route.tenant, route.prefix), object_value(route.model_dump(mode="json"), r)
        yield gen.ref_route(route.endpoint, route.tenant, route.prefix), b""
        if route.prefix.prefixlen == route.prefix.max_prefixlen:
            yield (
                gen.host_route(route.tenant, route.prefix.network_address),
                dumps({"endpoint": route.endpoint}),
            )
    by_ca = {(ep.vsid, ca): ep.name for ep in overlay.endpoints for ca in (ep.ipv4, ep.ipv6) if ca}
    for tenant in overlay.tenants:
        if tenant.vpn_gateway is not None:
            owner = next(
                (
                    by_ca[(s.vsid, tenant.vpn_gateway)]
                    for s in tenant.subnets
                    if (s.vsid, tenant.vpn_gateway) in by_ca
                ),
                None,
            )
            if owner is not None:
                yield gen.ref_vpn_gateway(owner, tenant.name), b""
    yield from endpoint_records(gen, overlay.endpoints, tenant_of)
    local = Counter(
        ep.attachment.switch
        for ep in overlay.endpoints
        if isinstance(ep.attachment, LocalAttachment)
    )
    for sw in overlay.switches:
        yield gen.local_count(sw.name), str(local[sw.name]).encode()


def endpoint_records(
    gen: Gen, endpoints: Iterable[Endpoint], tenant_of: dict[int, str]
) -> Iterator[Record]:
    counts: Counter[bytes] = Counter()
    identity: dict[bytes, dict[str, object]] = {}
    counters: Counter[bytes] = Counter()
    for e, ep in enumerate(endpoints):
        yield gen.endpoint(ep.name), object_value(ep.model_dump(mode="json"), e)
        claims = endpoint_claims(gen, ep, tenant_of.get(ep.vsid))
        yield from claims.unique.items()
        for key, ident in claims.counted.items():
            counts[key] += 1
            identity.setdefault(key, ident)
        counters.update(claims.counters)
    for key, n in counts.items():
        yield key, counted_value(identity[key], n)
    for key, n in counters.items():
        yield key, str(n).encode()


# Reading back ---------------------------------------------------------------------------

OBJECT_KINDS = ("switches", "tenants", "subnets", "remote_nves", "endpoints", "routes")


@dataclass
class Collected:
    """Object records of one generation, grouped by kind, before ordering."""

    meta: dict[str, Any] | None = None
    objects: dict[str, list[tuple[tuple[int, int, int], dict[str, Any]]]] = field(
        default_factory=lambda: {k: [] for k in OBJECT_KINDS}
    )

    def add(self, gen: Gen, key: bytes, value: bytes, create_revision: int) -> None:
        rest = key[len(gen.prefix) :].decode()
        kind = rest.split("/", 1)[0]
        if rest == "meta":
            self.meta = loads(value)
        elif kind in self.objects:
            rec = loads(value)
            obj = rec["object"]
            if kind == "subnets":
                obj = {**obj, "_tenant": rec["tenant"]}
            seq = int(rec["seq"])
            place = (0, seq, 0) if seq != ADDED else (1, create_revision, int(rec.get("at", 0)))
            self.objects[kind].append((place, obj))

    def ordered(self, kind: str) -> list[dict[str, Any]]:
        # Imported objects by their place in the description, then those added since
        # (seq ADDED) in the order they were created: by revision, then (several added
        # in one transaction) by their place in it, `at`.
        return [obj for _, obj in sorted(self.objects[kind], key=lambda r: r[0])]

    def overlay_data(self) -> dict[str, Any]:
        """The description as the loader would see it (subnets back inside their tenants)."""
        tenants = self.ordered("tenants")
        by_name = {t["name"]: {**t, "subnets": []} for t in tenants}
        for sub in self.ordered("subnets"):
            by_name[sub.pop("_tenant")]["subnets"].append(sub)
        return {
            "version": (self.meta or {}).get("version", 1),
            "switches": self.ordered("switches"),
            "tenants": [by_name[t["name"]] for t in tenants],
            "endpoints": self.ordered("endpoints"),
            "remote_nves": self.ordered("remote_nves"),
            "routes": self.ordered("routes"),
        }


def key_name(gen: Gen, key: bytes) -> str:
    """The last component of a key, unquoted (an object's name)."""
    return unpart(key.decode().rsplit("/", 1)[1])
