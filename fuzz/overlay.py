"""The overlay both switches run: generated from a seed, written as an `nve` description.

One switch (4 access ports, 2 network ports), three tenants whose customer addresses
partly overlap, IPv4 and IPv6 CAs, routed subnets with host and prefix routes and a VPN
default route, remote NVEs over IPv4 (behind a 3-way ECMP group or one next hop, one of
them with an outer VLAN) and over IPv6, N-way and underlay-multicast flooding, a second
local PA, an access port binding whose MACs are learned, and the sentinel subnet the
runner uses to close each batch (see :mod:`fuzz.sentinel`).

The same :class:`World` renders the YAML for each target (only the gRPC address and the
pipeline files differ) and tells the frame generator every address it may use.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field
from typing import Any

import yaml

ACCESS_PORTS = (1, 2, 3, 4)
NETWORK_PORTS = (5, 6)
ALL_PORTS = ACCESS_PORTS + NETWORK_PORTS
PORT_MTU = {1: 1500, 2: 1500, 3: 1500, 4: 1500, 5: 1500, 6: 1400}
NVE_MAC = "00:00:5e:00:53:01"
LOCAL_PA4, LOCAL_PA4_ALT, LOCAL_PA6 = "192.0.2.1", "192.0.2.2", "2001:db8::1"
SWITCH_NAME = "nve"

# The sentinel subnet: tagged SENTINEL_VLAN on every access port, one remote NVE behind
# each network port (its own /32 underlay route), so that a broadcast from any access port
# leaves by every other port. Addresses from the benchmarking range (RFC 2544).
SENTINEL_VSID = 0xFFF000
SENTINEL_VLAN = 4000
SENTINEL_VRF = 4000
SENTINEL_GW_MAC = "02:5e:ff:00:00:01"
SENTINEL_GW_IP = "10.255.0.1"
SENTINEL_PA = {5: "198.18.0.5", 6: "198.18.0.6"}


def sentinel_local_mac(port: int) -> str:
    return f"02:5e:ff:00:01:{port:02x}"


def sentinel_local_ip(port: int) -> str:
    return f"10.255.0.{10 + port}"


def sentinel_remote_mac(port: int) -> str:
    return f"02:5e:ff:00:02:{port:02x}"


@dataclass(frozen=True)
class NextHop:
    name: str
    port: int
    mac: str
    vlan: int | None = None


@dataclass(frozen=True)
class Subnet:
    name: str
    tenant: str
    vrf: int
    vsid: int
    gw_mac: str
    gw_v4: ipaddress.IPv4Interface
    gw_v6: ipaddress.IPv6Interface | None
    bum_group: str | None  # underlay multicast group (BUM mode multicast), else N-way


@dataclass(frozen=True)
class RemoteNve:
    name: str
    pa: str
    flow_id: bool
    vsids: tuple[int, ...]


@dataclass(frozen=True)
class Endpoint:
    name: str
    vsid: int
    mac: str
    ipv4: str | None
    ipv6: str | None
    port: int | None = None  # local: access port (and vlan); remote: remote NVE name
    vlan: int | None = None
    remote: str | None = None

    @property
    def is_local(self) -> bool:
        return self.port is not None


@dataclass(frozen=True)
class Route:
    tenant: str
    prefix: str
    endpoint: str


@dataclass(frozen=True)
class Tenant:
    name: str
    vrf: int
    vpn_gateway: str | None
    subnets: tuple[Subnet, ...]


@dataclass
class World:
    """Everything the description says, with the look-ups the frame generator needs."""

    seed: int
    tenants: list[Tenant]
    endpoints: list[Endpoint]
    remote_nves: list[RemoteNve]
    routes: list[Route]
    next_hops: list[NextHop]
    ecmp_members: list[str]
    underlay_routes: list[tuple[str, str]]
    extra_bindings: list[tuple[int, int, int | None]]  # (port, vsid, vlan): learned MACs
    outer_ttl: int
    dscp_mode: str
    dscp: int
    # Derived look-ups, filled by __post_init__.
    subnets: dict[int, Subnet] = field(default_factory=dict, init=False)
    local: dict[int, list[Endpoint]] = field(default_factory=dict, init=False)
    remote: dict[int, list[Endpoint]] = field(default_factory=dict, init=False)
    peers: dict[int, list[RemoteNve]] = field(default_factory=dict, init=False)
    bindings: dict[int, dict[int, int | None]] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for t in self.tenants:
            for s in t.subnets:
                self.subnets[s.vsid] = s
                self.local[s.vsid] = []
                self.remote[s.vsid] = []
                self.peers[s.vsid] = []
        for ep in self.endpoints:
            (self.local if ep.is_local else self.remote)[ep.vsid].append(ep)
            if ep.port is not None:
                self.bindings.setdefault(ep.port, {})[ep.vsid] = ep.vlan
        for port, vsid, vlan in self.extra_bindings:
            self.bindings.setdefault(port, {})[vsid] = vlan
        for nve in self.remote_nves:
            for v in nve.vsids:
                self.peers[v].append(nve)

    @property
    def vsids(self) -> list[int]:
        """The customer VSIDs (not the sentinel subnet)."""
        return [v for v in self.subnets if v != SENTINEL_VSID]

    def tenant_of(self, vsid: int) -> Tenant:
        name = self.subnets[vsid].tenant
        return next(t for t in self.tenants if t.name == name)

    def endpoint(self, name: str) -> Endpoint:
        return next(e for e in self.endpoints if e.name == name)

    def remote_nve(self, name: str) -> RemoteNve:
        return next(n for n in self.remote_nves if n.name == name)

    # -- the description ---------------------------------------------------------------------
    def description(self, address: str, p4info: str, device_config: str) -> dict[str, Any]:
        sw: dict[str, Any] = {
            "name": SWITCH_NAME,
            "address": address,
            "device_id": 0,
            "election_id": 1,
            "pipeline": {"p4info": p4info, "device_config": device_config},
            "nve_mac": NVE_MAC,
            "local_pas": [LOCAL_PA4, LOCAL_PA4_ALT, LOCAL_PA6],
            # Meters neutralised: with no rate the punt meters are left unconfigured (GREEN).
            "punt_rate_pps": 0,
            "mac_ageing_s": 86400,
            "outer_ttl": self.outer_ttl,
            "dscp_mode": self.dscp_mode,
            "dscp": self.dscp,
            "ports": [
                {
                    "port": p,
                    "role": "access" if p in ACCESS_PORTS else "network",
                    "mtu": PORT_MTU[p],
                    "bindings": [
                        {"vsid": v, **({"vlan": vl} if vl is not None else {})}
                        for (bp, v, vl) in self.extra_bindings
                        if bp == p
                    ],
                }
                for p in ALL_PORTS
            ],
            "next_hops": [
                {
                    "name": h.name,
                    "port": h.port,
                    "mac": h.mac,
                    **({"vlan": h.vlan} if h.vlan else {}),
                }
                for h in self.next_hops
            ],
            "ecmp_groups": [{"name": "spines", "members": list(self.ecmp_members)}],
            "underlay_routes": [{"prefix": p, "via": via} for p, via in self.underlay_routes],
        }
        tenants = []
        for t in self.tenants:
            subnets = []
            for s in t.subnets:
                gw: dict[str, str] = {"mac": s.gw_mac, "ipv4": str(s.gw_v4)}
                if s.gw_v6 is not None:
                    gw["ipv6"] = str(s.gw_v6)
                bum: dict[str, str] = {"mode": "nway"}
                if s.bum_group is not None:
                    bum = {"mode": "multicast", "group": s.bum_group}
                subnets.append({"name": s.name, "vsid": s.vsid, "gateway": gw, "bum": bum})
            tenant: dict[str, Any] = {"name": t.name, "vrf": t.vrf, "subnets": subnets}
            if t.vpn_gateway is not None:
                tenant["vpn_gateway"] = t.vpn_gateway
            tenants.append(tenant)
        endpoints = []
        for ep in self.endpoints:
            e: dict[str, Any] = {"name": ep.name, "vsid": ep.vsid, "mac": ep.mac}
            if ep.ipv4 is not None:
                e["ipv4"] = ep.ipv4
            if ep.ipv6 is not None:
                e["ipv6"] = ep.ipv6
            if ep.port is not None:
                att: dict[str, Any] = {"switch": SWITCH_NAME, "port": ep.port}
                if ep.vlan is not None:
                    att["vlan"] = ep.vlan
                e["attachment"] = att
            else:
                e["attachment"] = {"remote_nve": ep.remote}
            endpoints.append(e)
        return {
            "switches": [sw],
            "tenants": tenants,
            "endpoints": endpoints,
            "remote_nves": [
                {"name": n.name, "pa": n.pa, "flow_id": n.flow_id, "vsids": list(n.vsids)}
                for n in self.remote_nves
            ],
            "routes": [
                {"tenant": r.tenant, "prefix": r.prefix, "endpoint": r.endpoint}
                for r in self.routes
            ],
        }

    def to_yaml(self, address: str, p4info: str, device_config: str) -> str:
        return yaml.safe_dump(
            self.description(address, p4info, device_config), sort_keys=False, width=200
        )


# -- generation ------------------------------------------------------------------------------


def _underlay(rng: random.Random) -> tuple[list[NextHop], list[str], list[tuple[str, str]]]:
    hops = [
        NextHop("r5", 5, "00:00:5e:00:53:a5"),
        NextHop("r5b", 5, "00:00:5e:00:53:b5"),
        NextHop("r6", 6, "00:00:5e:00:53:a6", vlan=rng.choice([None, 100])),
    ]
    routes = [
        ("198.51.100.0/24", "spines"),
        ("203.0.113.0/24", "r6"),
        ("2001:db8:100::/48", "r5"),
        ("239.0.0.0/8", "r5"),
        (f"{SENTINEL_PA[5]}/32", "r5"),
        (f"{SENTINEL_PA[6]}/32", "r6"),
    ]
    return hops, ["r5", "r6", "r5b"], routes


def _subnets(rng: random.Random) -> list[Tenant]:
    """Three tenants; t1 reuses t0's customer prefixes (isolation by VRF and VSID)."""
    tenants = []
    layout = {"t0": (10, 3, 0), "t1": (20, 2, 0), "t2": (30, 2, 2)}
    for ti, (name, (vrf, count, plane)) in enumerate(layout.items()):
        subnets = []
        for k in range(count):
            vsid = 0x010000 + (ti << 8) + k + 1
            gw6 = ipaddress.IPv6Interface(f"fd00:{plane}:{k}::1/64") if rng.random() < 0.7 else None
            group = f"239.1.{ti}.{k + 1}" if k == count - 1 and ti != 1 else None
            subnets.append(
                Subnet(
                    name=f"{name}-s{k}",
                    tenant=name,
                    vrf=vrf,
                    vsid=vsid,
                    gw_mac=f"02:00:00:00:{ti:02x}:{k + 1:02x}",
                    gw_v4=ipaddress.IPv4Interface(f"10.{plane}.{k}.1/24"),
                    gw_v6=gw6,
                    bum_group=group,
                )
            )
        tenants.append(Tenant(name, vrf, None, tuple(subnets)))
    sentinel = Subnet(
        name="sentinel",
        tenant="sentinel",
        vrf=SENTINEL_VRF,
        vsid=SENTINEL_VSID,
        gw_mac=SENTINEL_GW_MAC,
        gw_v4=ipaddress.IPv4Interface(f"{SENTINEL_GW_IP}/24"),
        gw_v6=None,
        bum_group=None,
    )
    tenants.append(Tenant("sentinel", SENTINEL_VRF, None, (sentinel,)))
    return tenants


def _remote_nves(rng: random.Random, vsids: list[int]) -> list[RemoteNve]:
    pas = (
        [f"198.51.100.{10 + i}" for i in range(8)]
        + [f"203.0.113.{10 + i}" for i in range(3)]
        + [f"2001:db8:100::{10 + i:x}" for i in range(3)]
    )
    nves = []
    for i, pa in enumerate(pas):
        carried = sorted(rng.sample(vsids, rng.randint(1, min(4, len(vsids)))))
        nves.append(RemoteNve(f"hv{i}", pa, rng.random() < 0.6, tuple(carried)))
    # Every VSID has at least two remote NVEs (one IPv4 behind the ECMP group, one other).
    for j, v in enumerate(vsids):
        for idx in (j % 8, 8 + j % 6):
            n = nves[idx]
            if v not in n.vsids:
                nves[idx] = RemoteNve(n.name, n.pa, n.flow_id, tuple(sorted((*n.vsids, v))))
    nves += [
        RemoteNve(f"sentinel{p}", SENTINEL_PA[p], True, (SENTINEL_VSID,)) for p in NETWORK_PORTS
    ]
    return nves


def generate_world(seed: int, endpoints_per_subnet: int = 40) -> World:
    """The overlay for ``seed``: the same seed gives the same description, byte for byte."""
    rng = random.Random(f"overlay/{seed}")
    hops, members, underlay = _underlay(rng)
    tenants = _subnets(rng)
    vsids = [s.vsid for t in tenants for s in t.subnets if s.vsid != SENTINEL_VSID]
    nves = _remote_nves(rng, vsids)
    carriers = {v: [n for n in nves if v in n.vsids] for v in vsids}

    # Per access port: VSID -> tag (None: untagged; at most one untagged VSID per port).
    tags: dict[int, dict[int, int | None]] = {p: {} for p in ACCESS_PORTS}

    def tag_for(port: int, vsid: int) -> int | None:
        bound = tags[port]
        if vsid not in bound:
            if None not in bound.values() and rng.random() < 0.3:
                bound[vsid] = None
            else:
                used = {t for t in bound.values() if t is not None}
                bound[vsid] = rng.choice([t for t in range(100, 140) if t not in used])
        return bound[vsid]

    endpoints: list[Endpoint] = []
    mac_pool: list[str] = []
    for t in tenants:
        for s in t.subnets:
            if s.vsid == SENTINEL_VSID:
                continue
            host4 = rng.sample(range(10, 250), endpoints_per_subnet)
            for i in range(endpoints_per_subnet):
                if mac_pool and rng.random() < 0.1:  # the same MAC in another VSID
                    mac = rng.choice(mac_pool)
                    if any(e.mac == mac and e.vsid == s.vsid for e in endpoints):
                        mac = f"02:{s.vsid >> 8 & 0xFF:02x}:{s.vsid & 0xFF:02x}:00:{i:02x}:01"
                else:
                    mac = f"02:{s.vsid >> 8 & 0xFF:02x}:{s.vsid & 0xFF:02x}:00:{i:02x}:00"
                mac_pool.append(mac)
                net4 = s.gw_v4.network
                ipv4 = str(net4.network_address + host4[i]) if rng.random() < 0.9 else None
                ipv6 = None
                if s.gw_v6 is not None and rng.random() < 0.7:
                    ipv6 = str(s.gw_v6.network.network_address + 0x100 + i)
                name = f"{s.name}-e{i}"
                if rng.random() < 0.4:
                    port = rng.choice(ACCESS_PORTS)
                    endpoints.append(
                        Endpoint(name, s.vsid, mac, ipv4, ipv6, port, tag_for(port, s.vsid))
                    )
                else:
                    nve = rng.choice(carriers[s.vsid])
                    if nve.pa.count(":") and ipv4 is None and ipv6 is None:
                        ipv4 = str(net4.network_address + host4[i])
                    endpoints.append(Endpoint(name, s.vsid, mac, ipv4, ipv6, remote=nve.name))
    endpoints += [
        Endpoint(
            f"sentinel-p{p}",
            SENTINEL_VSID,
            sentinel_local_mac(p),
            sentinel_local_ip(p),
            None,
            p,
            SENTINEL_VLAN,
        )
        for p in ACCESS_PORTS
    ]
    endpoints += [
        Endpoint(
            f"sentinel-r{p}",
            SENTINEL_VSID,
            sentinel_remote_mac(p),
            f"10.255.0.{100 + p}",
            None,
            remote=f"sentinel{p}",
        )
        for p in NETWORK_PORTS
    ]

    # Learned-MAC bindings: one VSID more on port 4 (tagged) and, if free, untagged on port 3.
    extra: list[tuple[int, int, int | None]] = []
    for port, want_untagged in ((4, False), (3, True)):
        free = [v for v in vsids if v not in tags[port]]
        if not free:
            continue
        v = rng.choice(free)
        vlan: int | None = None
        if not want_untagged or None in tags[port].values():
            used = {t for t in tags[port].values() if t is not None}
            vlan = next(t for t in range(300, 400) if t not in used)
        tags[port][v] = vlan
        extra.append((port, v, vlan))

    routes: list[Route] = []
    final_tenants: list[Tenant] = []
    for ti, t in enumerate(tenants):
        if t.name == "sentinel":
            final_tenants.append(t)
            continue
        mine = [e for e in endpoints if e.vsid in {s.vsid for s in t.subnets}]
        with4 = [e for e in mine if e.ipv4 is not None]
        with6 = [e for e in mine if e.ipv6 is not None]
        routes += [
            Route(t.name, f"172.{16 + ti}.{j}.0/24", rng.choice(with4).name) for j in range(2)
        ]
        routes.append(Route(t.name, f"172.{16 + ti}.0.128/25", rng.choice(with4).name))
        if with6:
            routes.append(Route(t.name, f"fd99:{ti}::/48", rng.choice(with6).name))
        vpn = None
        if ti == 0:
            remote4 = [e for e in with4 if not e.is_local]
            vpn = rng.choice(remote4).ipv4
        final_tenants.append(Tenant(t.name, t.vrf, vpn, t.subnets))

    return World(
        seed=seed,
        tenants=final_tenants,
        endpoints=endpoints,
        remote_nves=nves,
        routes=routes,
        next_hops=hops,
        ecmp_members=members,
        underlay_routes=underlay,
        extra_bindings=extra,
        outer_ttl=rng.choice([64, 255, 1]),
        dscp_mode=rng.choice(["uniform", "pipe"]),
        dscp=rng.randrange(64),
    )
