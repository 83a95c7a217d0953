"""Cross-object rules of the overlay description, checked before anything is written.

Every rule reports a `Problem` naming the config path of the offending value, so the
loader can turn it into file:line:col. All problems are collected, not just the first:
an operator fixing a file wants the whole list.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

from nve.index import OverlayIndex
from nve.model import Endpoint, LocalAttachment, Overlay, RemoteAttachment, Switch, Tenant
from nve.problems import ConfigPath, Problem, format_path
from nve.validate_bgp import check_bgp
from nve.validate_qos import check_qos


@dataclass
class PortVlan:
    """The tags bound so far, both ways round: (switch, port, VLAN or None for untagged) ->
    (VSID, where it was first bound), and (switch, port, VSID) -> (VLAN, where)."""

    by_tag: dict[tuple[str, int, int | None], tuple[int, ConfigPath]] = field(default_factory=dict)
    by_vsid: dict[tuple[str, int, int], tuple[int | None, ConfigPath]] = field(default_factory=dict)


RESERVED_LOW_MAX = 0x000FFF
RESERVED_VENDOR = 0xFFFFFF

# A customer IPv6 packet of the IPv6 minimum link MTU (RFC 8200 §5) in NVGRE: inner
# Ethernet header (untagged, as encapsulated) + GRE with key + the outer IP header.
IPV6_MIN_MTU = 1280
INNER_ETHERNET = 14
GRE_WITH_KEY = 8
OUTER_IP_HEADER = {4: 20, 6: 40}


def vsid_text(vsid: int) -> str:
    return f"0x{vsid:06X}"


def is_reserved_vsid(vsid: int) -> bool:
    """RFC 7637 §3.4: 0x000000-0x000FFF reserved for future use, 0xFFFFFF vendor-specific."""
    return vsid <= RESERVED_LOW_MAX or vsid == RESERVED_VENDOR


def endpoint_cas(ep: Endpoint) -> list[tuple[str, ipaddress.IPv4Address | ipaddress.IPv6Address]]:
    return [
        (name, addr) for name, addr in (("ipv4", ep.ipv4), ("ipv6", ep.ipv6)) if addr is not None
    ]


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, path: ConfigPath, message: str) -> None:
        self.problems.append(Problem(tuple(path), message))


def _duplicates(c: _Collector, items: Iterable[tuple[ConfigPath, object]], what: str) -> None:
    first: dict[object, ConfigPath] = {}
    for path, key in items:
        if key in first:
            c.add(path, f"duplicate {what} {key!s} (first at {format_path(first[key])})")
        else:
            first[key] = path


def validate_overlay(overlay: Overlay) -> list[Problem]:
    """Every cross-object rule; an empty list means the description may be applied."""
    c = _Collector()
    idx = OverlayIndex.build(overlay)
    _check_names(c, overlay)
    _check_switches(c, overlay)
    _check_subnets(c, overlay)
    port_vlan = PortVlan()
    _check_bindings(c, overlay, idx, port_vlan)
    _check_endpoints(c, overlay, idx, port_vlan)
    _check_remote_nves(c, overlay, idx)
    _check_routes(c, overlay, idx)
    _check_underlay_mtu(c, overlay, idx)
    c.problems.extend(check_qos(overlay))
    c.problems.extend(check_bgp(overlay))
    return c.problems


def _check_names(c: _Collector, o: Overlay) -> None:
    _duplicates(
        c, ((("switches", i, "name"), s.name) for i, s in enumerate(o.switches)), "switch name"
    )
    _duplicates(
        c,
        ((("switches", i, "address"), (s.address, s.device_id)) for i, s in enumerate(o.switches)),
        "switch (address, device id)",
    )
    _duplicates(
        c, ((("tenants", i, "name"), t.name) for i, t in enumerate(o.tenants)), "tenant name"
    )
    _duplicates(c, ((("tenants", i, "vrf"), t.vrf) for i, t in enumerate(o.tenants)), "tenant vrf")
    _duplicates(
        c,
        (
            (("tenants", t, "subnets", s, "name"), sub.name)
            for t, ten in enumerate(o.tenants)
            for s, sub in enumerate(ten.subnets)
        ),
        "subnet name",
    )
    _duplicates(
        c, ((("endpoints", i, "name"), e.name) for i, e in enumerate(o.endpoints)), "endpoint name"
    )
    _duplicates(
        c,
        ((("remote_nves", i, "name"), r.name) for i, r in enumerate(o.remote_nves)),
        "remote NVE name",
    )


def _check_switches(c: _Collector, o: Overlay) -> None:
    pa_owner: dict[object, ConfigPath] = {}
    for i, sw in enumerate(o.switches):
        base: ConfigPath = ("switches", i)
        for j, pa in enumerate(sw.local_pas):
            path = base + ("local_pas", j)
            if pa.is_multicast or pa.is_unspecified or pa.is_loopback:
                c.add(path, f"{pa} cannot be a provider address")
            if pa in pa_owner:
                c.add(path, f"PA {pa} is already used at {format_path(pa_owner[pa])}")
            else:
                pa_owner[pa] = path
        _duplicates(
            c, ((base + ("ports", j, "port"), p.port) for j, p in enumerate(sw.ports)), "port"
        )
        _duplicates(
            c,
            ((base + ("next_hops", j, "name"), n.name) for j, n in enumerate(sw.next_hops)),
            "next hop",
        )
        _duplicates(
            c,
            ((base + ("ecmp_groups", j, "name"), g.name) for j, g in enumerate(sw.ecmp_groups)),
            "ECMP group",
        )
        roles = {p.port: p.role for p in sw.ports}
        hops = {n.name for n in sw.next_hops}
        groups = {g.name for g in sw.ecmp_groups}
        for j, hop in enumerate(sw.next_hops):
            role = roles.get(hop.port)
            if role is None:
                c.add(
                    base + ("next_hops", j, "port"),
                    f"port {hop.port} is not a port of switch {sw.name}",
                )
            elif role != "network":
                c.add(
                    base + ("next_hops", j, "port"),
                    f"port {hop.port} is an {role} port, next hops need a network port",
                )
        for j, group in enumerate(sw.ecmp_groups):
            for k, member in enumerate(group.members):
                if member not in hops:
                    c.add(
                        base + ("ecmp_groups", j, "members", k),
                        f"unknown next hop {member!r} on switch {sw.name}",
                    )
            if group.name in hops:
                c.add(base + ("ecmp_groups", j, "name"), f"{group.name!r} is also a next hop name")
        _duplicates(
            c,
            (
                (base + ("underlay_routes", j, "prefix"), r.prefix)
                for j, r in enumerate(sw.underlay_routes)
            ),
            "underlay route",
        )
        for j, route in enumerate(sw.underlay_routes):
            if route.via not in hops and route.via not in groups:
                c.add(
                    base + ("underlay_routes", j, "via"),
                    f"unknown next hop or ECMP group {route.via!r} on switch {sw.name}",
                )


def _check_subnets(c: _Collector, o: Overlay) -> None:
    first: dict[int, ConfigPath] = {}
    for t, tenant in enumerate(o.tenants):
        for s, sub in enumerate(tenant.subnets):
            base: ConfigPath = ("tenants", t, "subnets", s)
            if is_reserved_vsid(sub.vsid):
                c.add(base + ("vsid",), f"{vsid_text(sub.vsid)} is reserved (RFC 7637 §3.4)")
            if sub.vsid in first:
                c.add(
                    base + ("vsid",),
                    f"{vsid_text(sub.vsid)} is already used by {format_path(first[sub.vsid])}",
                )
            else:
                first[sub.vsid] = base
            gw = sub.gateway
            if gw is not None:
                if gw.ipv4 is not None and gw.ipv4.version != 4:
                    c.add(
                        base + ("gateway", "ipv4"), f"{gw.ipv4} is an IPv6 address in an IPv4 field"
                    )
                if gw.ipv6 is not None and gw.ipv6.version != 6:
                    c.add(
                        base + ("gateway", "ipv6"), f"{gw.ipv6} is an IPv4 address in an IPv6 field"
                    )
            bum = sub.bum
            if bum.mode == "multicast":
                if bum.group is None:
                    c.add(base + ("bum",), "multicast mode needs an underlay group address")
                elif not bum.group.is_multicast:
                    c.add(base + ("bum", "group"), f"{bum.group} is not a multicast address")
            elif bum.group is not None:
                c.add(base + ("bum", "group"), "a group address is only used with mode: multicast")


def _bind(
    c: _Collector,
    path: ConfigPath,
    switch: str,
    port: int,
    vlan: int | None,
    vsid: int,
    port_vlan: PortVlan,
) -> None:
    """One (switch, port, VLAN) carries one VSID, and one VSID one tag per port (egress pushes it)."""
    key = (switch, port, vlan)
    tag = "untagged" if vlan is None else f"VLAN {vlan}"
    bound = port_vlan.by_tag.get(key)
    if bound is not None and bound[0] != vsid:
        c.add(
            path,
            f"{tag} on {switch} port {port} is already used by VSID "
            f"{vsid_text(bound[0])} ({format_path(bound[1])})",
        )
        return
    # at most one tag per (switch, port, VSID) is ever bound: a second one stops here
    tagged = port_vlan.by_vsid.get((switch, port, vsid))
    if tagged is not None and tagged[0] != vlan:
        other = "untagged" if tagged[0] is None else f"VLAN {tagged[0]}"
        c.add(
            path,
            f"VSID {vsid_text(vsid)} is already {other} on {switch} port {port} "
            f"({format_path(tagged[1])}); one subnet has one tag per port",
        )
        return
    where = path[:-1] if path[-1] == "vlan" else path
    port_vlan.by_tag.setdefault(key, (vsid, where))
    port_vlan.by_vsid.setdefault((switch, port, vsid), (vlan, where))


def _check_bindings(c: _Collector, o: Overlay, idx: OverlayIndex, port_vlan: PortVlan) -> None:
    for i, sw in enumerate(o.switches):
        for j, port in enumerate(sw.ports):
            for k, b in enumerate(port.bindings):
                base: ConfigPath = ("switches", i, "ports", j, "bindings", k)
                if port.role != "access":
                    c.add(
                        base,
                        f"port {port.port} is a {port.role} port, only access ports carry subnets",
                    )
                if b.vsid not in idx.subnets:
                    c.add(
                        base + ("vsid",), f"VSID {vsid_text(b.vsid)} is not a subnet of any tenant"
                    )
                _bind(c, base + ("vlan",), sw.name, port.port, b.vlan, b.vsid, port_vlan)


def _check_endpoints(c: _Collector, o: Overlay, idx: OverlayIndex, port_vlan: PortVlan) -> None:
    ca_seen: dict[tuple[int, object], ConfigPath] = {}
    mac_seen: dict[tuple[int, int], ConfigPath] = {}
    tenant_ca: dict[tuple[str, object], tuple[ConfigPath, int]] = {}
    for e, ep in enumerate(o.endpoints):
        base: ConfigPath = ("endpoints", e)
        sub_entry = idx.subnets.get(ep.vsid)
        if sub_entry is None:
            c.add(base + ("vsid",), f"VSID {vsid_text(ep.vsid)} is not a subnet of any tenant")
        if ep.ipv4 is not None and ep.ipv4.version != 4:
            c.add(base + ("ipv4",), f"{ep.ipv4} is an IPv6 address in an IPv4 field")
        if ep.ipv6 is not None and ep.ipv6.version != 6:
            c.add(base + ("ipv6",), f"{ep.ipv6} is an IPv4 address in an IPv6 field")
        if ep.mac.is_multicast:
            c.add(
                base + ("mac",), f"{ep.mac} is a group MAC address, an endpoint needs a unicast one"
            )
        key_mac = (ep.vsid, ep.mac)
        if key_mac in mac_seen:
            c.add(
                base + ("mac",),
                f"MAC {ep.mac} is already in VSID {vsid_text(ep.vsid)} at {format_path(mac_seen[key_mac])}",
            )
        else:
            mac_seen[key_mac] = base + ("mac",)
        for field_name, ca in endpoint_cas(ep):
            key = (ep.vsid, ca)
            if key in ca_seen:
                c.add(
                    base + (field_name,),
                    f"CA {ca} is already in VSID {vsid_text(ep.vsid)} at {format_path(ca_seen[key])}",
                )
                continue
            ca_seen[key] = base + (field_name,)
            if sub_entry is not None:
                _, sub, tenant = sub_entry
                gw = sub.gateway
                net = None if gw is None else (gw.ipv4 if ca.version == 4 else gw.ipv6)
                if net is not None and net.version == ca.version and ca not in net.network:
                    c.add(
                        base + (field_name,),
                        f"CA {ca} is outside subnet {net.network} of VSID {vsid_text(ep.vsid)}",
                    )
                tkey = (tenant.name, ca)
                if tkey in tenant_ca and tenant_ca[tkey][1] != ep.vsid:
                    c.add(
                        base + (field_name,),
                        f"CA {ca} is also in VSID {vsid_text(tenant_ca[tkey][1])} of tenant "
                        f"{tenant.name} ({format_path(tenant_ca[tkey][0])}): its routes would conflict",
                    )
                else:
                    tenant_ca.setdefault(tkey, (base + (field_name,), ep.vsid))
        att = ep.attachment
        if isinstance(att, LocalAttachment):
            _check_local_attachment(c, base + ("attachment",), ep, att, idx, port_vlan)
        elif isinstance(att, RemoteAttachment):
            r = idx.remote_nves.get(att.remote_nve)
            if r is None:
                c.add(base + ("attachment", "remote_nve"), f"unknown remote NVE {att.remote_nve!r}")
            elif ep.vsid not in o.remote_nves[r].vsids:
                c.add(
                    base + ("attachment", "remote_nve"),
                    f"remote NVE {att.remote_nve} does not carry VSID {vsid_text(ep.vsid)} (remote_nves[{r}].vsids)",
                )


def _check_local_attachment(
    c: _Collector,
    base: ConfigPath,
    ep: Endpoint,
    att: LocalAttachment,
    idx: OverlayIndex,
    port_vlan: PortVlan,
) -> None:
    found = idx.switches.get(att.switch)
    if found is None:
        c.add(base + ("switch",), f"unknown switch {att.switch!r}")
        return
    _, sw = found
    role = {p.port: p.role for p in sw.ports}.get(att.port)
    if role is None:
        c.add(base + ("port",), f"port {att.port} is not a port of switch {sw.name}")
    elif role != "access":
        c.add(
            base + ("port",),
            f"port {att.port} of switch {sw.name} is a {role} port, endpoints attach to access ports",
        )
    _bind(c, base + ("vlan",), sw.name, att.port, att.vlan, ep.vsid, port_vlan)
    if att.pa is not None and att.pa not in sw.local_pas:
        c.add(base + ("pa",), f"{att.pa} is not a local PA of switch {sw.name}")


def _check_remote_nves(c: _Collector, o: Overlay, idx: OverlayIndex) -> None:
    local_pas = {pa: sw.name for sw in o.switches for pa in sw.local_pas}
    _duplicates(
        c, ((("remote_nves", i, "pa"), r.pa) for i, r in enumerate(o.remote_nves)), "remote NVE PA"
    )
    for i, nve in enumerate(o.remote_nves):
        base: ConfigPath = ("remote_nves", i)
        if nve.pa in local_pas:
            c.add(base + ("pa",), f"{nve.pa} is a local PA of switch {local_pas[nve.pa]}")
        if nve.pa.is_multicast or nve.pa.is_unspecified:
            c.add(base + ("pa",), f"{nve.pa} cannot be a provider address")
        _duplicates(
            c, ((base + ("vsids", j), vsid_text(v)) for j, v in enumerate(nve.vsids)), "VSID"
        )
        for j, vsid in enumerate(nve.vsids):
            if vsid not in idx.subnets:
                c.add(base + ("vsids", j), f"VSID {vsid_text(vsid)} is not a subnet of any tenant")
        # The outer header's source must be a local PA of the same family (§4.5 lets CA and
        # PA families differ, but outer source and destination are one IP header).
        for sw in o.switches:
            if not any(pa.version == nve.pa.version for pa in sw.local_pas) and _switch_shares_vsid(
                o, sw, nve.vsids
            ):
                c.add(
                    base + ("pa",),
                    f"switch {sw.name} has no IPv{nve.pa.version} local PA to reach {nve.pa}",
                )
    for t, tenant in enumerate(o.tenants):
        for s, sub in enumerate(tenant.subnets):
            grp = sub.bum.group
            if sub.bum.mode == "multicast" and grp is not None:
                for sw in o.switches:
                    if not any(pa.version == grp.version for pa in sw.local_pas):
                        c.add(
                            ("tenants", t, "subnets", s, "bum", "group"),
                            f"switch {sw.name} has no IPv{grp.version} local PA to send to group {grp}",
                        )


def _switch_shares_vsid(o: Overlay, sw: Switch, vsids: list[int]) -> bool:
    wanted = set(vsids)
    return any(
        isinstance(ep.attachment, LocalAttachment)
        and ep.attachment.switch == sw.name
        and ep.vsid in wanted
        for ep in o.endpoints
    )


def _check_routes(c: _Collector, o: Overlay, idx: OverlayIndex) -> None:
    seen: dict[tuple[str, object], tuple[ConfigPath, str]] = {}
    for t, tenant in enumerate(o.tenants):
        if tenant.vpn_gateway is not None and _find_ca(o, idx, tenant, tenant.vpn_gateway) is None:
            c.add(
                ("tenants", t, "vpn_gateway"),
                f"no endpoint of tenant {tenant.name} has CA {tenant.vpn_gateway}",
            )
        if tenant.vpn_gateway is not None:
            default = ipaddress.ip_network(
                "0.0.0.0/0" if tenant.vpn_gateway.version == 4 else "::/0"
            )
            seen[(tenant.name, default)] = (("tenants", t, "vpn_gateway"), "vpn_gateway")
    for i, route in enumerate(o.routes):
        base: ConfigPath = ("routes", i)
        found_t = idx.tenants.get(route.tenant)
        if found_t is None:
            c.add(base + ("tenant",), f"unknown tenant {route.tenant!r}")
        found_e = idx.endpoints.get(route.endpoint)
        if found_e is None:
            c.add(base + ("endpoint",), f"unknown endpoint {route.endpoint!r}")
        if found_t is None or found_e is None:
            continue
        _, tenant = found_t
        _, ep = found_e
        sub_entry = idx.subnets.get(ep.vsid)
        if sub_entry is not None and sub_entry[2].name != tenant.name:
            c.add(
                base + ("endpoint",),
                f"endpoint {ep.name} belongs to tenant {sub_entry[2].name}, not {tenant.name}",
            )
        ca = ep.ipv4 if route.prefix.version == 4 else ep.ipv6
        if ca is None:
            c.add(
                base + ("prefix",),
                f"IPv{route.prefix.version} prefix {route.prefix} via endpoint {ep.name}, "
                f"which has no IPv{route.prefix.version} CA",
            )
        key = (tenant.name, route.prefix)
        if key in seen:
            c.add(
                base + ("prefix",),
                f"route {route.prefix} of tenant {tenant.name} conflicts with "
                f"{format_path(seen[key][0])}",
            )
        else:
            seen[key] = (base, ep.name)
        if route.prefix.prefixlen == route.prefix.max_prefixlen:
            owner = _find_ca(o, idx, tenant, route.prefix.network_address)
            if owner is not None and owner.name != ep.name:
                c.add(
                    base + ("prefix",),
                    f"host route {route.prefix} conflicts with endpoint {owner.name}, "
                    "which owns that CA",
                )


def _find_ca(o: Overlay, idx: OverlayIndex, tenant: Tenant, ca: object) -> Endpoint | None:
    vsids = {s.vsid for s in tenant.subnets}
    for ep in o.endpoints:
        if ep.vsid in vsids and ca in (ep.ipv4, ep.ipv6):
            return ep
    return None


def _check_underlay_mtu(c: _Collector, o: Overlay, idx: OverlayIndex) -> None:
    """RFC 7637 §4.4: the underlay must carry the encapsulated frame, and IPv6 customers
    are promised 1280-byte packets (RFC 8200 §5), which the NVE must not fragment. Only
    switches that carry IPv6 customer traffic are held to it."""
    local = local_vsids(o)
    ipv6 = {ep.vsid for ep in o.endpoints if ep.ipv6 is not None}
    ipv6 |= {
        v
        for v, (_, sub, _) in idx.subnets.items()
        if sub.gateway is not None and sub.gateway.ipv6 is not None
    }
    for i, sw in enumerate(o.switches):
        if not switch_vsids(o, idx, sw, local) & ipv6:
            continue
        family = max(
            pa.version for pa in sw.local_pas
        )  # the largest outer header this switch may write
        needed = IPV6_MIN_MTU + INNER_ETHERNET + GRE_WITH_KEY + OUTER_IP_HEADER[family]
        for j, port in enumerate(sw.ports):
            if port.role == "network" and port.mtu < needed:
                c.add(
                    ("switches", i, "ports", j, "mtu"),
                    f"{port.mtu} cannot carry a {IPV6_MIN_MTU}-byte IPv6 customer packet in NVGRE over "
                    f"IPv{family} (needs >= {needed}; RFC 7637 §4.4, RFC 8200 §5)",
                )


def local_vsids(o: Overlay) -> dict[str, set[int]]:
    """Switch name -> the VSIDs of the endpoints attached to it (one pass over them)."""
    out: dict[str, set[int]] = {}
    for ep in o.endpoints:
        if isinstance(ep.attachment, LocalAttachment):
            out.setdefault(ep.attachment.switch, set()).add(ep.vsid)
    return out


def switch_vsids(
    o: Overlay, idx: OverlayIndex, sw: Switch, local: dict[str, set[int]] | None = None
) -> set[int]:
    """The subnets installed on a switch: every subnet of every tenant with a subnet bound
    here (by a port binding or a local endpoint), as the compiler installs them, since
    routing may lead to any of them. `local`: `local_vsids(o)`, when asked for many
    switches (else the endpoints are scanned)."""
    here = {b.vsid for p in sw.ports for b in p.bindings}
    here |= (local_vsids(o) if local is None else local).get(sw.name, set())
    tenants = {idx.subnets[v][2].name for v in here if v in idx.subnets}
    return {v for v, (_, _, t) in idx.subnets.items() if t.name in tenants}
