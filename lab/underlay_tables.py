"""A switch's underlay tables (next hops, ECMP groups, LPM routes) read back over
P4Runtime, and the same view computed from a control-plane host's kernel, to compare."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from nve.entities import Exact, Lpm, TableEntry
from nve.p4info import P4Index, load_p4info
from nve.p4names import Action, Table
from nve.p4rt_client import SwitchClient
from nve.reconcile import read_installed

Path_ = tuple[int, str]  # (port, destination MAC)


@dataclass
class Underlay:
    nexthops: dict[int, Path_]  # id -> (port, dmac)
    groups: dict[int, set[int]]  # ECMP group id -> next hop ids in its buckets
    routes: dict[str, tuple[str, int]]  # prefix -> ("nexthop" | "group", id)

    def paths(self, prefix: str) -> set[Path_]:
        """(port, dmac) of every path the switch uses for `prefix`."""
        kind, ident = self.routes[prefix]
        ids = {ident} if kind == "nexthop" else self.groups[ident]
        return {self.nexthops[i] for i in ids}

    def all_paths(self) -> dict[str, set[Path_]]:
        return {prefix: self.paths(prefix) for prefix in self.routes}

    def group_size(self, prefix: str) -> int:
        """Buckets of the ECMP group `prefix` points at (0: a single next hop)."""
        kind, ident = self.routes[prefix]
        return len(self.groups[ident]) if kind == "group" else 0


def read_underlay(grpc_addr: str, p4info: Path) -> Underlay:
    index = P4Index(load_p4info(p4info))

    async def read() -> list:
        async with SwitchClient(grpc_addr, 0, 1) as client:
            return await read_installed(client, index)

    out = Underlay({}, {}, {})
    for e in asyncio.run(read()):
        if not isinstance(e, TableEntry) or e.is_default:
            continue
        params = dict(e.params)
        match = {name: m.value for name, m in e.match if isinstance(m, Exact)}
        if e.table == Table.UNDERLAY_NEXTHOP:
            dmac = int(params["dmac"]).to_bytes(6, "big")
            out.nexthops[match["nexthop"]] = (params["port"], dmac.hex(":"))
        elif e.table == Table.UNDERLAY_ECMP:
            out.groups.setdefault(match["group"], set()).add(params["nexthop"])
        elif e.table in (Table.UNDERLAY_ROUTES_V4, Table.UNDERLAY_ROUTES_V6):
            (_, dst), *_ = e.match
            assert isinstance(dst, Lpm)
            net: ipaddress.IPv4Network | ipaddress.IPv6Network = (
                ipaddress.IPv4Network((dst.value, dst.prefix_len))
                if e.table == Table.UNDERLAY_ROUTES_V4
                else ipaddress.IPv6Network((dst.value, dst.prefix_len))
            )
            if e.action == Action.UNDERLAY_SET_NEXTHOP:
                out.routes[str(net)] = ("nexthop", params["nexthop"])
            else:
                out.routes[str(net)] = ("group", params["group"])
    return out


def _ip_json(ns: str, *args: str) -> list[dict]:
    out = subprocess.run(
        ["ip", "-n", ns, "-j", *args], capture_output=True, text=True, timeout=10, check=True
    )
    return json.loads(out.stdout or "[]")


def kernel_paths(ns: str) -> dict[str, set[Path_]]:
    """IPv4 prefix -> paths, as the host's kernel routes out of its portN interfaces: a
    gateway route by its resolved gateways, a connected subnet by a host route per
    resolved neighbour (what the switch should hold; docs/underlay.md)."""

    def port(dev: str) -> int | None:
        return int(dev[4:]) if dev.startswith("port") and dev[4:].isdigit() else None

    usable = {"REACHABLE", "STALE", "DELAY", "PROBE", "PERMANENT", "NOARP"}
    neigh: dict[tuple[str, int], str] = {}
    for n in _ip_json(ns, "neigh", "show"):
        p = port(n["dev"])
        if n.get("lladdr") and p is not None and usable & set(n.get("state", [])):
            neigh[(n["dst"], p)] = n["lladdr"].lower()
    out: dict[str, set[Path_]] = {}
    for r in _ip_json(ns, "-4", "route", "show", "table", "main"):
        if r.get("type", "unicast") != "unicast" or "nhid" in r:
            continue
        hops = r.get("nexthops") or [r]
        if any(port(h.get("dev", "")) is None for h in hops):
            continue
        dst = "0.0.0.0/0" if r["dst"] == "default" else r["dst"]
        prefix = str(ipaddress.ip_network(dst))
        if all("gateway" not in h for h in hops):
            net = ipaddress.ip_network(prefix)
            for (ip, p), mac in neigh.items():
                if p == port(r["dev"]) and ipaddress.ip_address(ip) in net:
                    out[f"{ip}/32"] = {(p, mac)}
            continue
        paths: set[Path_] = set()
        for h in hops:
            p = port(h["dev"])
            if p is not None and (h["gateway"], p) in neigh:
                paths.add((p, neigh[(h["gateway"], p)]))
        if paths:
            out[prefix] = paths
    return out
