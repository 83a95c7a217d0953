"""The description's static underlay lines in the control-plane host's kernel.

A next hop of the description is a router on a network port known by its MAC only. In
the namespace it becomes a permanent neighbour on the port's TAP under the IPv6
link-local address derived from that MAC (modified EUI-64, RFC 4291 appendix A), and
each `underlay_routes` line a static route through it: IPv6 prefixes with that gateway,
IPv4 prefixes with it as an IPv6 gateway (`via inet6`, RFC 8950's forwarding), an ECMP
group as a multipath route. So the host reaches what the switch reaches, with the
switch's own next hops, without an IPv4 address for the router.

Both carry the routing protocol number NVE_PROTO, which marks them as ours: at each
start, ours that the description no longer has are removed (like the TAPs' addresses).
A next hop's VLAN has no counterpart on the TAP and is not represented.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass

from nve.model import Switch
from nve.underlay import netns

NVE_PROTO = "240"  # rtnetlink protocol of the neighbours and routes made from the description


@dataclass(frozen=True)
class StaticNeighbour:
    address: ipaddress.IPv6Address
    mac: str
    dev: str


@dataclass(frozen=True)
class StaticRoute:
    prefix: ipaddress.IPv4Network | ipaddress.IPv6Network
    paths: tuple[tuple[ipaddress.IPv6Address, str], ...]  # (link-local gateway, dev)

    def args(self) -> list[str]:
        via = ["via", "inet6"] if self.prefix.version == 4 else ["via"]
        if len(self.paths) == 1:
            gw, dev = self.paths[0]
            return [*via, str(gw), "dev", dev]
        out: list[str] = []
        for gw, dev in self.paths:
            out += ["nexthop", *via, str(gw), "dev", dev]
        return out


def link_local(mac: str) -> ipaddress.IPv6Address:
    """fe80::/64 + the modified EUI-64 interface identifier of `mac`."""
    b = bytes.fromhex(mac.replace(":", "").replace("-", ""))
    iid = bytes([b[0] ^ 0x02, b[1], b[2], 0xFF, 0xFE, b[3], b[4], b[5]])
    return ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + iid)


def plan(switch: Switch, tap_of: dict[int, str]) -> tuple[list[StaticNeighbour], list[StaticRoute]]:
    """Neighbours and routes for the description's next hops on network ports (`tap_of`:
    port -> TAP name) and the routes through them; other lines are left out."""
    hops: dict[str, tuple[ipaddress.IPv6Address, str]] = {}
    neighbours: list[StaticNeighbour] = []
    for h in switch.next_hops:
        dev = tap_of.get(h.port)
        if dev is None:
            continue
        mac = str(h.mac).lower()
        hops[h.name] = (link_local(mac), dev)
        neighbour = StaticNeighbour(hops[h.name][0], mac, dev)
        if neighbour not in neighbours:
            neighbours.append(neighbour)
    groups = {g.name: g.members for g in switch.ecmp_groups}
    routes: list[StaticRoute] = []
    for r in switch.underlay_routes:
        members = groups.get(r.via, [r.via])
        paths = tuple(dict.fromkeys(hops[m] for m in members if m in hops))
        if paths:
            routes.append(StaticRoute(r.prefix, paths))
    return neighbours, routes


def apply(namespace: str, neighbours: list[StaticNeighbour], routes: list[StaticRoute]) -> None:
    """Make the namespace's NVE_PROTO neighbours and routes exactly these."""
    ns = namespace
    shown = json.loads(netns.ip("-j", "neigh", "show", "proto", NVE_PROTO, namespace=ns) or "[]")
    have = {(ipaddress.ip_address(n["dst"]), n.get("dev", "")) for n in shown}
    wanted = {(n.address, n.dev) for n in neighbours}
    for address, dev in have - wanted:
        netns.ip("neigh", "del", str(address), "dev", dev, namespace=ns, check=False)
    for n in neighbours:
        netns.ip(
            "-6", "neigh", "replace", str(n.address), "lladdr", n.mac, "dev", n.dev,
            "nud", "permanent", "proto", NVE_PROTO, namespace=ns,
        )  # fmt: skip
    keep = {r.prefix for r in routes}
    for family, default in (("-4", "0.0.0.0/0"), ("-6", "::/0")):
        listed = netns.ip("-j", family, "route", "show", "proto", NVE_PROTO, namespace=ns)
        for r in json.loads(listed or "[]"):
            dst = r.get("dst", "")
            prefix = ipaddress.ip_network(default if dst == "default" else dst, strict=False)
            if prefix not in keep:
                netns.ip(family, "route", "del", str(prefix), "proto", NVE_PROTO, namespace=ns)
    for r in routes:
        family = "-6" if r.prefix.version == 6 else "-4"
        netns.ip(
            family, "route", "replace", str(r.prefix), "proto", NVE_PROTO, *r.args(), namespace=ns
        )
