"""The control-plane host's neighbours and routes, as the switch's underlay tables.

The namespace's kernel resolves its neighbours (ARP/ND through the relay) and holds its
routes (connected subnets, static routes, and later BGP's through FRR). They are read
with iproute2's JSON output (`ip -j neigh`, `ip -j route`: the same netlink dumps a
netlink library would make, without a new dependency) and become next hops (one per
resolved neighbour on a network port), ECMP groups (multipath routes: members = their
resolved gateways) and underlay LPM routes. Routes of the description keep precedence
over the kernel's for the same prefix; kernel-made names start with `kernel-`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import dataclass, field
from typing import Any

from nve.model import EcmpGroup, NextHop, Overlay, Switch, UnderlayRoute
from nve.underlay import netns

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# Neighbour states with a usable link-layer address (ip-neighbour(8)).
USABLE = {"REACHABLE", "STALE", "DELAY", "PROBE", "PERMANENT", "NOARP"}
PREFIX = "kernel-"


@dataclass(frozen=True)
class Route:
    prefix: IPNetwork
    gateways: tuple[tuple[IPAddress, int], ...] = ()  # (gateway, port) of each path
    on_link: int | None = None  # a connected subnet: the port it is on


@dataclass(frozen=True)
class KernelView:
    neighbours: dict[tuple[IPAddress, int], str] = field(default_factory=dict)  # -> MAC
    routes: tuple[Route, ...] = ()

    @property
    def resolved(self) -> bool:
        """Every gateway of every route has a usable neighbour entry."""
        return all(g in self.neighbours for r in self.routes for g in r.gateways)


def _port_of(dev: str | None, ports: set[int]) -> int | None:
    if not dev or not dev.startswith("port") or not dev[4:].isdigit():
        return None
    port = int(dev[4:])
    return port if port in ports else None


def _route(r: dict[str, Any], family: str, ports: set[int]) -> Route | None:
    if r.get("type", "unicast") != "unicast" or "nhid" in r:
        return None  # unreachable/blackhole; nexthop objects: FRR runs without them
    dst = r.get("dst", "")
    default = "0.0.0.0/0" if family == "-4" else "::/0"
    prefix = ipaddress.ip_network(default if dst == "default" else dst, strict=False)
    if prefix.is_link_local or prefix.is_multicast:
        return None
    paths = r.get("nexthops") or [r]
    gateways = []
    for path in paths:
        port = _port_of(path.get("dev"), ports)
        if port is None:
            return None  # a path out of another interface: not the switch's route
        if "gateway" in path:
            gateways.append((ipaddress.ip_address(path["gateway"]), port))
    if gateways:
        return Route(prefix, tuple(gateways))
    if len(paths) == 1:  # no gateway: a subnet on the port's link (connected or not)
        return Route(prefix, on_link=_port_of(r.get("dev"), ports))
    return None


def _routes(namespace: str, family: str, ports: set[int]) -> list[Route]:
    shown = netns.ip("-j", family, "route", "show", "table", "main", namespace=namespace)
    routes = (_route(r, family, ports) for r in json.loads(shown or "[]"))
    return [r for r in routes if r is not None]


def read_view(namespace: str, switch: Switch) -> KernelView:
    ports = {p.port for p in switch.ports if p.role == "network"}
    neighbours: dict[tuple[IPAddress, int], str] = {}
    for n in json.loads(netns.ip("-j", "neigh", "show", namespace=namespace) or "[]"):
        port = _port_of(n.get("dev"), ports)
        if port is None or not n.get("lladdr") or not USABLE & set(n.get("state", [])):
            continue
        neighbours[(ipaddress.ip_address(n["dst"]), port)] = n["lladdr"].lower()
    routes = _routes(namespace, "-4", ports) + _routes(namespace, "-6", ports)
    return KernelView(
        neighbours, tuple(sorted(routes, key=lambda r: (r.prefix.version, str(r.prefix))))
    )


def _hop_name(ip: IPAddress, port: int) -> str:
    return f"{PREFIX}{str(ip).replace(':', '-')}-p{port}"


def underlay_of(
    view: KernelView, switch: Switch
) -> tuple[list[NextHop], list[EcmpGroup], list[UnderlayRoute]]:
    """Next hops, ECMP groups and routes for the kernel's view, beside the description's."""
    hops = {
        key: NextHop.model_validate({"name": _hop_name(*key), "port": key[1], "mac": mac})
        for key, mac in sorted(
            view.neighbours.items(), key=lambda kv: (kv[0][0].version, str(kv[0][0]), kv[0][1])
        )
    }
    static = {r.prefix for r in switch.underlay_routes}
    groups: dict[tuple[str, ...], EcmpGroup] = {}
    routes: list[UnderlayRoute] = []

    def route(prefix: IPNetwork, members: list[str]) -> None:
        if prefix in static or not members:
            return  # the description's route wins; no resolved gateway: no route
        if len(members) == 1:
            routes.append(UnderlayRoute(prefix=prefix, via=members[0]))
            return
        key = tuple(sorted(set(members)))
        if key not in groups:
            digest = hashlib.sha256("\n".join(key).encode()).hexdigest()[:12]
            groups[key] = EcmpGroup(name=f"{PREFIX}ecmp-{digest}", members=list(key))
        routes.append(UnderlayRoute(prefix=prefix, via=groups[key].name))

    for r in view.routes:
        if r.on_link is not None:  # a connected subnet: each resolved neighbour, a host route
            for (ip, p), hop in hops.items():
                if p == r.on_link and ip in r.prefix:
                    host = ipaddress.ip_network(f"{ip}/{ip.max_prefixlen}")
                    if host not in static:
                        routes.append(UnderlayRoute(prefix=host, via=hop.name))
            continue
        route(r.prefix, [hops[g].name for g in r.gateways if g in hops])
    return list(hops.values()), list(groups.values()), routes


def with_kernel(overlay: Overlay, name: str, view: KernelView) -> Overlay:
    """The overlay with switch `name`'s underlay tables extended by the kernel's view."""
    switches = []
    for sw in overlay.switches:
        if sw.name == name:
            hops, groups, routes = underlay_of(view, sw)
            sw = sw.model_copy(
                update={
                    "next_hops": [*sw.next_hops, *hops],
                    "ecmp_groups": [*sw.ecmp_groups, *groups],
                    "underlay_routes": [*sw.underlay_routes, *routes],
                }
            )
        switches.append(sw)
    return overlay.model_copy(update={"switches": switches})
