"""Overlay description (+ learned endpoints) -> the entities each switch should hold.

Indices the pipeline uses (vsi, tunnel, nexthop, ECMP group) are allocated here. They
are reused from what a switch already holds (`Allocations.from_installed`) and new ones
take the lowest free number, so an edit changes only the entries it is about.
The meaning of every table and parameter is in docs/pipeline.md.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from nve import contract as C
from nve import p4names
from nve.entities import (
    CloneSession,
    DigestConfig,
    Entity,
    Exact,
    FieldMatch,
    MeterConfig,
    MulticastGroup,
    TableEntry,
    lpm,
    make_match,
    make_params,
    match_value,
)
from nve.loader import ConfigPath, Problem
from nve.mac import Mac
from nve.model import Endpoint, LocalAttachment, Overlay, Subnet, Switch, Tenant
from nve.p4names import Action, Digest, Key, Meter, Param, Punt, Table
from nve.validate import OverlayIndex

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
NexthopKey = tuple[int, int, int]  # (port, dmac, vid)
Nexthops = dict[str, tuple[int, NexthopKey]]  # next hop name -> (id, key)
EcmpGroups = dict[str, tuple[int, tuple[int, ...]]]  # group name -> (id, member next hop ids)
UnderlayRoutes = list[tuple[IPNetwork, str]]  # (prefix, next hop or group name)

K = TypeVar("K", bound=Hashable)


def multicast_mac(group: IP) -> int:
    """RFC 1112 / RFC 2464 group MAC of an IP multicast address."""
    if group.version == 4:
        return 0x01005E000000 | (int(group) & 0x7FFFFF)
    return 0x333300000000 | (int(group) & 0xFFFFFFFF)


@dataclass(frozen=True)
class LearnedEndpoint:
    """A MAC learned from a digest: part of the desired state until it ages out."""

    switch: str
    vsid: int
    mac: Mac
    port: int


@dataclass(frozen=True)
class TunnelKey:
    src: IP
    dst: IP
    flow_id: bool


@dataclass
class Allocator(Generic[K]):
    """Stable small-integer ids: keep what exists, give new keys the lowest free id."""

    low: int
    high: int
    current: dict[K, int] = field(default_factory=dict)

    def assign(self, keys: Iterable[K], what: str) -> tuple[dict[K, int], list[str]]:
        wanted = list(dict.fromkeys(keys))
        out: dict[K, int] = {}
        used: set[int] = set()
        for k in wanted:
            if (
                k in self.current
                and self.low <= self.current[k] <= self.high
                and self.current[k] not in used
            ):
                out[k] = self.current[k]
                used.add(out[k])
        errors: list[str] = []
        free = (i for i in range(self.low, self.high + 1) if i not in used)
        for k in wanted:
            if k not in out:
                nxt = next(free, None)
                if nxt is None:
                    errors.append(f"more {what}s than the {self.high - self.low + 1} ids available")
                    break
                out[k] = nxt
        return out, errors


@dataclass
class Allocations:
    """Ids already in use on a switch, recovered from its tables."""

    vsi: dict[int, int] = field(default_factory=dict)  # vsid -> vsi
    tunnel: dict[TunnelKey, int] = field(default_factory=dict)  # TunnelKey -> tunnel
    nexthop: dict[NexthopKey, int] = field(default_factory=dict)  # (port, dmac, vid) -> nexthop
    ecmp: dict[tuple[int, ...], int] = field(default_factory=dict)  # tuple(nexthop ids) -> group

    @classmethod
    def from_installed(cls, installed: Iterable[Entity]) -> Allocations:
        a = cls()
        ecmp_members: dict[int, dict[int, int]] = defaultdict(dict)
        for e in installed:
            if not isinstance(e, TableEntry) or e.is_default:
                continue
            params = dict(e.params)
            match = dict(e.match)
            if e.table == Table.VSI_INFO and Param.VSID in params:
                a.vsi[params[Param.VSID]] = match_value(match[Key.VSI])
            elif e.table == Table.TUNNEL_REMOTE and Param.DST_PA in params:
                ctor = (
                    ipaddress.IPv4Address
                    if e.action == Action.TUNNEL_SET_REMOTE_V4
                    else ipaddress.IPv6Address
                )
                key = TunnelKey(
                    ctor(params[Param.SRC_PA]),
                    ctor(params[Param.DST_PA]),
                    bool(params[Param.FLOW_ID]),
                )
                a.tunnel[key] = match_value(match[Key.TUNNEL])
            elif e.table == Table.REPLICA_TUNNEL and Param.DST_PA in params:
                ctor = (
                    ipaddress.IPv4Address
                    if e.action == Action.REPLICA_REPLICA_V4
                    else ipaddress.IPv6Address
                )
                key = TunnelKey(
                    ctor(params[Param.SRC_PA]),
                    ctor(params[Param.DST_PA]),
                    bool(params[Param.FLOW_ID]),
                )
                a.tunnel.setdefault(key, match_value(match[Key.RID]))
            elif e.table == Table.UNDERLAY_NEXTHOP and Param.PORT in params:
                a.nexthop[(params[Param.PORT], params[Param.DMAC], params[Param.VID])] = (
                    match_value(match[Key.NEXTHOP])
                )
            elif e.table == Table.UNDERLAY_ECMP and Param.NEXTHOP in params:
                group, bucket = match_value(match[Key.GROUP]), match_value(match[Key.BUCKET])
                ecmp_members[group][bucket] = params[Param.NEXTHOP]
        for group, buckets in ecmp_members.items():
            a.ecmp[tuple(buckets[b] for b in sorted(buckets))] = group
        return a


@dataclass
class SwitchState:
    """The desired entities of one switch and the ids chosen for them (for show/stats)."""

    switch: str
    entities: list[Entity]
    vsi: dict[int, int]  # vsid -> vsi
    tunnels: dict[TunnelKey, int]  # -> tunnel index
    tunnel_names: dict[int, str]  # tunnel index -> remote NVE name
    problems: list[Problem]


_PUNT_REASONS = tuple(p for p in Punt if p != Punt.NONE)  # the punt meters' indices


def _tier(table: str) -> int:
    return C.TIERS[table]


def _entry(
    table: str,
    action: str,
    match: Mapping[str, FieldMatch | None] | None = None,
    *,
    priority: int = 0,
    idle_timeout_ns: int = 0,
    params: Mapping[str, int] | None = None,
) -> TableEntry:
    return TableEntry(
        table,
        make_match(match),
        action,
        make_params(params),
        priority=priority,
        idle_timeout_ns=idle_timeout_ns,
        tier=_tier(table),
    )


def is_local_attachment(e: Entity) -> bool:
    """Entries that deliver to a locally attached endpoint: replacing them is a 'break'."""
    return isinstance(e, TableEntry) and e.table == Table.L2_DMAC and e.action == Action.L2_TO_PORT


@dataclass(frozen=True)
class _Host:
    """Where an endpoint lives: a switch of this overlay or a remote NVE."""

    name: str
    pas: tuple[IP, ...]  # the PAs it may send from (peer check) - first is where we send to
    flow_id: bool
    is_switch: bool


class _SwitchCompiler:
    def __init__(
        self,
        overlay: Overlay,
        idx: OverlayIndex,
        sw_pos: int,
        learned: Sequence[LearnedEndpoint],
        previous: Allocations,
    ):
        self.o = overlay
        self.idx = idx
        self.pos = sw_pos
        self.sw: Switch = overlay.switches[sw_pos]
        self.learned = learned
        self.previous = previous
        self.out: list[Entity] = []
        self.problems: list[Problem] = []
        self.base: ConfigPath = ("switches", sw_pos)
        self._local_pa: dict[int, IP | None] = {}
        self._hosts: dict[object, _Host | None] = {}

    def problem(self, path: ConfigPath, msg: str) -> None:
        self.problems.append(Problem(path, msg))

    # -- where things are --------------------------------------------------------------------
    def host_of(self, ep: Endpoint) -> _Host | None:
        key = (type(ep.attachment), tuple(vars(ep.attachment).values()))
        if key not in self._hosts:
            self._hosts[key] = self._host_of(ep)
        return self._hosts[key]

    def _host_of(self, ep: Endpoint) -> _Host | None:
        att = ep.attachment
        if isinstance(att, LocalAttachment):
            found = self.idx.switches.get(att.switch)
            if found is None:
                return None
            sw = found[1]
            return _Host(sw.name, _pas_first(sw.local_pas, att.pa), True, True)
        r = self.idx.remote_nves.get(att.remote_nve)
        if r is None:
            return None
        nve = self.o.remote_nves[r]
        return _Host(nve.name, (nve.pa,), nve.flow_id, False)

    def local_pa(self, family: int) -> IP | None:
        if family not in self._local_pa:
            self._local_pa[family] = next(
                (pa for pa in self.sw.local_pas if pa.version == family), None
            )
        return self._local_pa[family]

    def run(self) -> SwitchState:
        sw = self.sw
        # Bindings: (port, vlan) -> vsid on this switch, from port bindings and endpoints.
        bindings: dict[tuple[int, int | None], int] = {}
        for sw_port in sw.ports:
            for b in sw_port.bindings:
                bindings.setdefault((sw_port.port, b.vlan), b.vsid)
        endpoints: list[tuple[Endpoint, _Host]] = []
        for ep in self.o.endpoints:
            host = self.host_of(ep)
            if host is None or ep.vsid not in self.idx.subnets:
                continue
            endpoints.append((ep, host))
            att = ep.attachment
            if isinstance(att, LocalAttachment) and att.switch == sw.name:
                bindings.setdefault((att.port, att.vlan), ep.vsid)
        local_vsids = set(bindings.values())
        # Every subnet of a tenant present here is installed (routing may lead to any of them).
        tenants_here = {self.idx.subnets[v][2].name for v in local_vsids if v in self.idx.subnets}
        vsids = sorted(v for v, (_, _, t) in self.idx.subnets.items() if t.name in tenants_here)
        vsi_map, errs = Allocator(1, min(C.VSI_MAX, 0xFFFF), dict(self.previous.vsi)).assign(
            vsids, "virtual subnet"
        )
        for e in errs:
            self.problem(self.base, e)
        vsi = dict(vsi_map.items())

        # Endpoints of installed subnets, configured first; learned ones unless they clash.
        known_macs = {(ep.vsid, ep.mac) for ep, _ in endpoints} if self.learned else set()
        learned_here: list[tuple[LearnedEndpoint, _Host]] = []
        for le in self.learned:
            if le.vsid not in vsi or (le.vsid, le.mac) in known_macs:
                continue
            found = self.idx.switches.get(le.switch)
            if found is None:
                continue
            lsw = found[1]
            learned_here.append((le, _Host(lsw.name, tuple(lsw.local_pas), True, True)))
            known_macs.add((le.vsid, le.mac))

        # Remote NVEs per installed VSID: hosts of its endpoints (not us), plus its flood list.
        remotes: dict[int, dict[str, _Host]] = defaultdict(dict)
        for ep, host in endpoints:
            if ep.vsid in vsi and host.name != sw.name:
                remotes[ep.vsid][host.name] = host
        for le, host in learned_here:
            if host.name != sw.name:
                remotes[le.vsid][host.name] = host
        # The VSIDs each other switch serves (port bindings and attached endpoints), once.
        others = [o for o in self.o.switches if o.name != sw.name]
        served: dict[str, set[int]] = {
            o.name: {b.vsid for p in o.ports for b in p.bindings} for o in others
        }
        for ep, h in endpoints:
            if h.name in served:
                served[h.name].add(ep.vsid)
        for other in others:
            for v in served[other.name] & set(vsi):
                remotes[v].setdefault(
                    other.name, _Host(other.name, tuple(other.local_pas), True, True)
                )
        for nve in self.o.remote_nves:
            for v in nve.vsids:
                if v in vsi:
                    remotes[v].setdefault(nve.name, _Host(nve.name, (nve.pa,), nve.flow_id, False))

        # Who may send us frames of a VSID (the decap peer check, RFC 7637 §5): its remote
        # NVEs, plus, for a routed subnet, every other switch of the tenant, because that
        # switch routes its own subnets' traffic into this one and encapsulates it there.
        peers: dict[int, dict[str, _Host]] = {v: dict(h) for v, h in remotes.items()}
        for other in others:
            other_tenants = {
                self.idx.subnets[v][2].name for v in served[other.name] if v in self.idx.subnets
            }
            for v in vsi:
                _, sub, tenant = self.idx.subnets[v]
                if sub.gateway is not None and tenant.name in other_tenants:
                    peers.setdefault(v, {}).setdefault(
                        other.name, _Host(other.name, tuple(other.local_pas), True, True)
                    )

        self.emit_ports()
        nexthops, groups, routes = self.emit_underlay()
        tunnel_keys: dict[TunnelKey, str] = {}
        host_tunnel: dict[str, TunnelKey] = {}

        def tunnel_for(host: _Host, dst: IP | None = None) -> TunnelKey | None:
            target = dst or host.pas[0]
            src = self.local_pa(target.version)
            if src is None:
                self.problem(
                    self.base + ("local_pas",),
                    f"no IPv{target.version} local PA to reach {host.name} at {target}",
                )
                return None
            key = TunnelKey(src, target, host.flow_id)
            tunnel_keys.setdefault(key, host.name)
            return key

        for hosts in peers.values():
            for h in hosts.values():
                k = tunnel_for(h)
                if k is not None:
                    host_tunnel.setdefault(h.name, k)
        seen_hosts: set[_Host] = set()
        for ep, host in endpoints:
            if ep.vsid in vsi and host.name != sw.name and host not in seen_hosts:
                seen_hosts.add(host)
                tunnel_for(host)  # an endpoint may be reached at a PA of its own choosing (§3.2)
        group_tunnels: dict[int, TunnelKey] = {}
        for v in vsids:
            _, sub, _ = self.idx.subnets[v]
            if sub.bum.mode == "multicast" and sub.bum.group is not None and v in local_vsids:
                flow = all(h.flow_id for h in remotes.get(v, {}).values())
                k = tunnel_for(_Host(f"group {sub.bum.group}", (sub.bum.group,), flow, False))
                if k is not None:
                    group_tunnels[v] = k
        tunnel_ids, errs = Allocator(1, 0xFFFF, dict(self.previous.tunnel)).assign(
            sorted(tunnel_keys, key=lambda k: (k.dst.version, int(k.dst), int(k.src), k.flow_id)),
            "tunnel",
        )
        for e in errs:
            self.problem(self.base, e)

        # Tunnels: encap (unicast), replicas (BUM) with their resolved next hop.
        tunnel_port: dict[TunnelKey, int] = {}
        for key, t in tunnel_ids.items():
            v6 = key.dst.version == 6
            self.out.append(
                _entry(
                    Table.TUNNEL_REMOTE,
                    Action.TUNNEL_SET_REMOTE_V6 if v6 else Action.TUNNEL_SET_REMOTE_V4,
                    {Key.TUNNEL: Exact(t)},
                    params={
                        Param.SRC_PA: int(key.src),
                        Param.DST_PA: int(key.dst),
                        Param.FLOW_ID: int(key.flow_id),
                    },
                )
            )
            hop = self.resolve(key.dst, routes, nexthops, groups)
            if hop is None:
                self.problem(
                    self.base + ("underlay_routes",),
                    f"no underlay route to {key.dst} ({tunnel_keys[key]})",
                )
                continue
            port, dmac, vid = hop
            if key.dst.is_multicast:
                dmac = multicast_mac(key.dst)
            tunnel_port[key] = port
            self.out.append(
                _entry(
                    Table.REPLICA_TUNNEL,
                    Action.REPLICA_REPLICA_V6 if v6 else Action.REPLICA_REPLICA_V4,
                    {Key.RID: Exact(t)},
                    params={
                        Param.SRC_PA: int(key.src),
                        Param.DST_PA: int(key.dst),
                        Param.FLOW_ID: int(key.flow_id),
                        Param.SMAC: sw.nve_mac,
                        Param.DMAC: dmac,
                        Param.VID: vid,
                    },
                )
            )

        # Subnets.
        for v in vsids:
            _path, sub, tenant = self.idx.subnets[v]
            i = vsi[v]
            gw_mac = sub.gateway.mac if sub.gateway else 0
            vrf = tenant.vrf if sub.gateway else 0
            self.out.append(
                _entry(
                    Table.VSI_INFO,
                    Action.VSI_SET_INFO,
                    {Key.VSI: Exact(i)},
                    params={Param.VSID: v, Param.VRF: vrf, Param.GW_MAC: gw_mac},
                )
            )
            self.out.append(
                _entry(
                    Table.DECAP_VSID,
                    Action.DECAP_SET_VSI,
                    {Key.VSID: Exact(v)},
                    params={Param.VSI: i},
                )
            )
            for h in peers.get(v, {}).values():
                for pa in h.pas:
                    table = Table.DECAP_PEER_V6 if pa.version == 6 else Table.DECAP_PEER_V4
                    k = host_tunnel.get(h.name)
                    self.out.append(
                        _entry(
                            table,
                            Action.DECAP_PEER,
                            {Key.VSID: Exact(v), Key.SRC: Exact(int(pa))},
                            params={Param.TUNNEL: tunnel_ids.get(k, 0) if k else 0},
                        )
                    )
            if sub.gateway and sub.gateway.ipv4 is not None and sub.gateway.ipv4.version == 4:
                self.out.append(
                    _entry(
                        Table.ARP_PROXY,
                        Action.ARP_REPLY,
                        {Key.VSI: Exact(i), Key.IP: Exact(int(sub.gateway.ipv4.ip))},
                        params={Param.MAC: gw_mac},
                    )
                )
            local_ports = sorted({p for (p, _vl), vs in bindings.items() if vs == v})
            if v in local_vsids:
                members = {(p, 0) for p in local_ports}
                if sub.bum.mode == "multicast" and v in group_tunnels:
                    k = group_tunnels[v]
                    if k in tunnel_port:
                        members.add((tunnel_port[k], tunnel_ids[k]))
                else:
                    for h in remotes.get(v, {}).values():
                        k = host_tunnel.get(h.name)
                        if k in tunnel_port:
                            members.add((tunnel_port[k], tunnel_ids[k]))
                # One flood group per VSI (id = vsi): the pipeline drops a decapsulated
                # frame's tunnel copies in egress (split horizon).
                self.out.append(MulticastGroup(i, tuple(sorted(members)), tier=C.MCAST_TIER))
        for (port, vlan), v in sorted(bindings.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
            if v not in vsi:
                continue
            self.out.append(
                _entry(
                    Table.ACCESS_PORT_VLAN,
                    Action.ACCESS_SET_VSI,
                    {
                        Key.PORT: Exact(port),
                        Key.TAGGED: Exact(int(vlan is not None)),
                        Key.VID: Exact(vlan or 0),
                    },
                    params={Param.VSI: vsi[v]},
                )
            )
            if vlan is None:
                self.out.append(
                    _entry(
                        Table.ACCESS_PORT_VSI,
                        Action.ACCESS_UNTAGGED,
                        {Key.PORT: Exact(port), Key.VSI: Exact(vsi[v])},
                    )
                )
            else:
                self.out.append(
                    _entry(
                        Table.ACCESS_PORT_VSI,
                        Action.ACCESS_TAGGED,
                        {Key.PORT: Exact(port), Key.VSI: Exact(vsi[v])},
                        params={Param.VID: vlan},
                    )
                )
        for v in vsids:
            _, sub, _ = self.idx.subnets[v]
            if sub.bum.mode == "multicast" and sub.bum.group is not None and v in local_vsids:
                g = sub.bum.group
                self.out.append(
                    _entry(
                        Table.DECAP_MY_PA_V6 if g.version == 6 else Table.DECAP_MY_PA_V4,
                        Action.DECAP_UNDERLAY_GROUP,
                        {Key.DST: Exact(int(g))},
                    )
                )

        # Endpoints: bridging, ARP proxy, learning, host routes. This loop runs once per
        # endpoint (100,000s), so entries are built with their match and params already in
        # make_match/make_params order (sorted by name) and the tunnel is looked up per host.
        ageing_ns = sw.mac_ageing_s * 1_000_000_000
        out = self.out
        dmac_tier, smac_tier, arp_tier = (
            _tier(Table.L2_DMAC),
            _tier(Table.LEARN_SMAC),
            _tier(Table.ARP_PROXY),
        )
        host_tunnel_id: dict[_Host, int | None] = {}  # by host: an endpoint may pick its PA
        for ep, host in endpoints:
            vi = vsi.get(ep.vsid)
            if vi is None:
                continue
            mac = Exact(ep.mac)
            if host.name == sw.name:
                att = ep.attachment
                assert isinstance(att, LocalAttachment)
                out.append(
                    TableEntry(
                        Table.L2_DMAC,
                        ((Key.MAC, mac), (Key.VSI, Exact(vi))),
                        Action.L2_TO_PORT,
                        ((Param.PORT, att.port),),
                        tier=dmac_tier,
                    )
                )
                out.append(
                    TableEntry(
                        Table.LEARN_SMAC,
                        ((Key.MAC, mac), (Key.PORT, Exact(att.port)), (Key.VSI, Exact(vi))),
                        Action.LEARN_KNOWN,
                        (),
                        tier=smac_tier,
                    )
                )
            else:
                if host not in host_tunnel_id:
                    k = _tunnel_for_endpoint(ep, host, self.local_pa)
                    host_tunnel_id[host] = tunnel_ids.get(k) if k is not None else None
                tid = host_tunnel_id[host]
                if tid is None:
                    continue
                out.append(
                    TableEntry(
                        Table.L2_DMAC,
                        ((Key.MAC, mac), (Key.VSI, Exact(vi))),
                        Action.L2_TO_TUNNEL,
                        ((Param.TUNNEL, tid),),
                        tier=dmac_tier,
                    )
                )
            if ep.ipv4 is not None and ep.ipv4.version == 4:
                out.append(
                    TableEntry(
                        Table.ARP_PROXY,
                        ((Key.IP, Exact(int(ep.ipv4))), (Key.VSI, Exact(vi))),
                        Action.ARP_REPLY,
                        ((Param.MAC, mac.value),),
                        tier=arp_tier,
                    )
                )
        for le, host in learned_here:
            i = vsi[le.vsid]
            if host.name == sw.name:
                self.out.append(
                    _entry(
                        Table.L2_DMAC,
                        Action.L2_TO_PORT,
                        {Key.VSI: Exact(i), Key.MAC: Exact(le.mac)},
                        params={Param.PORT: le.port},
                    )
                )
                self.out.append(
                    _entry(
                        Table.LEARN_SMAC,
                        Action.LEARN_KNOWN,
                        {
                            Key.VSI: Exact(i),
                            Key.MAC: Exact(le.mac),
                            Key.PORT: Exact(le.port),
                        },
                        idle_timeout_ns=ageing_ns,
                    )
                )
            else:
                k = host_tunnel.get(host.name)
                if k in tunnel_ids:
                    self.out.append(
                        _entry(
                            Table.L2_DMAC,
                            Action.L2_TO_TUNNEL,
                            {Key.VSI: Exact(i), Key.MAC: Exact(le.mac)},
                            params={Param.TUNNEL: tunnel_ids[k]},
                        )
                    )
        self.emit_routes(vsi, endpoints)
        return SwitchState(
            sw.name,
            self.out,
            vsi,
            tunnel_ids,
            {t: tunnel_keys[k] for k, t in tunnel_ids.items()},
            self.problems,
        )

    # -- pieces ------------------------------------------------------------------------------
    def emit_ports(self) -> None:
        sw = self.sw
        for port in sw.ports:
            self.out.append(
                _entry(
                    Table.PORT_ROLE,
                    Action.PORT_SET_ACCESS if port.role == "access" else Action.PORT_SET_NETWORK,
                    {Key.PORT: Exact(port.port)},
                )
            )
            self.out.append(
                _entry(
                    Table.MTU_PORT,
                    Action.MTU_SET_MTU,
                    {Key.PORT: Exact(port.port)},
                    params={Param.MTU: port.mtu},
                )
            )
        for pa in sw.local_pas:
            self.out.append(
                _entry(
                    Table.DECAP_MY_PA_V6 if pa.version == 6 else Table.DECAP_MY_PA_V4,
                    Action.DECAP_LOCAL_PA,
                    {Key.DST: Exact(int(pa))},
                )
            )
        self.out.append(
            TableEntry(
                Table.ENCAP_CONFIG,
                (),
                Action.ENCAP_SET_CONFIG,
                make_params(
                    {
                        Param.TTL: sw.outer_ttl,
                        Param.DSCP_PIPE: int(sw.dscp_mode == "pipe"),
                        Param.DSCP: sw.dscp,
                    }
                ),
                is_default=True,
                tier=_tier(Table.ENCAP_CONFIG),
            )
        )
        self.out.append(CloneSession(p4names.CPU_CLONE_SESSION, ((sw.cpu_port, 0),), tier=0))
        self.out.append(
            DigestConfig(
                Digest.MAC_LEARN_DIGEST,
                max_timeout_ns=10_000_000,
                max_list_size=64,
                ack_timeout_ns=1_000_000_000,
                tier=0,
            )
        )
        if sw.punt_rate_pps:
            burst = max(1, sw.punt_rate_pps // 10)
            for meter in (Meter.PUNT_RATE, Meter.MTU_PUNT_RATE):
                for reason in _PUNT_REASONS:
                    self.out.append(
                        MeterConfig(
                            meter, reason, sw.punt_rate_pps, burst, sw.punt_rate_pps, burst, tier=0
                        )
                    )

    def emit_underlay(self) -> tuple[Nexthops, EcmpGroups, UnderlayRoutes]:
        sw = self.sw
        keys = {h.name: (h.port, h.mac, h.vlan or 0) for h in sw.next_hops}
        ids, errs = Allocator(1, 0xFFFF, dict(self.previous.nexthop)).assign(
            [keys[h.name] for h in sw.next_hops], "next hop"
        )
        for e in errs:
            self.problem(self.base + ("next_hops",), e)
        nexthops: Nexthops = {name: (ids[k], k) for name, k in keys.items() if k in ids}
        for nid, (port, dmac, vid) in nexthops.values():
            self.out.append(
                _entry(
                    Table.UNDERLAY_NEXTHOP,
                    Action.UNDERLAY_FORWARD,
                    {Key.NEXTHOP: Exact(nid)},
                    params={
                        Param.PORT: port,
                        Param.SMAC: sw.nve_mac,
                        Param.DMAC: dmac,
                        Param.VID: vid,
                    },
                )
            )
        member_keys = {
            g.name: tuple(nexthops[m][0] for m in g.members if m in nexthops)
            for g in sw.ecmp_groups
        }
        gids, errs = Allocator(1, 0xFFFF, dict(self.previous.ecmp)).assign(
            list(member_keys.values()), "ECMP group"
        )
        for e in errs:
            self.problem(self.base + ("ecmp_groups",), e)
        groups: EcmpGroups = {}
        for name, members in member_keys.items():
            gid = gids.get(members)
            if gid is None or not members:
                continue
            groups[name] = (gid, members)
            for bucket, nid in enumerate(members):
                self.out.append(
                    _entry(
                        Table.UNDERLAY_ECMP,
                        Action.UNDERLAY_SET_NEXTHOP,
                        {Key.GROUP: Exact(gid), Key.BUCKET: Exact(bucket)},
                        params={Param.NEXTHOP: nid},
                    )
                )
        routes: UnderlayRoutes = []
        for r in sw.underlay_routes:
            table = Table.UNDERLAY_ROUTES_V6 if r.prefix.version == 6 else Table.UNDERLAY_ROUTES_V4
            width = 128 if r.prefix.version == 6 else 32
            m = lpm(int(r.prefix.network_address), r.prefix.prefixlen, width)
            if r.via in nexthops:
                entry = TableEntry(
                    table,
                    make_match({Key.DST: m}),
                    Action.UNDERLAY_SET_NEXTHOP,
                    make_params({Param.NEXTHOP: nexthops[r.via][0]}),
                    tier=_tier(table),
                )
            elif r.via in groups:
                gid, members = groups[r.via]
                entry = TableEntry(
                    table,
                    make_match({Key.DST: m}),
                    Action.UNDERLAY_SET_ECMP,
                    make_params({Param.GROUP: gid, Param.SIZE: len(members)}),
                    tier=_tier(table),
                )
            else:
                continue
            self.out.append(entry)
            routes.append((r.prefix, r.via))
        return nexthops, groups, routes

    def resolve(
        self, dst: IP, routes: UnderlayRoutes, nexthops: Nexthops, groups: EcmpGroups
    ) -> NexthopKey | None:
        """(port, next hop MAC, VLAN) toward dst: longest prefix; an ECMP group uses its first member."""
        best: tuple[IPNetwork, str] | None = None
        for prefix, via in routes:
            if (
                prefix.version == dst.version
                and dst in prefix
                and (best is None or prefix.prefixlen > best[0].prefixlen)
            ):
                best = (prefix, via)
        if best is None:
            return None
        via = best[1]
        if via in nexthops:
            return nexthops[via][1]
        _gid, members = groups[via]
        for nid, key in nexthops.values():
            if nid == members[0]:
                return key
        return None

    def emit_routes(self, vsi: dict[int, int], endpoints: list[tuple[Endpoint, _Host]]) -> None:
        by_tenant_ca: dict[tuple[str, object], Endpoint] = {}
        for ep, _ in endpoints:
            if ep.vsid not in vsi:
                continue
            _, sub, tenant = self.idx.subnets[ep.vsid]
            if sub.gateway is None:
                continue
            for ca in (ep.ipv4, ep.ipv6):
                if ca is not None:
                    by_tenant_ca[(tenant.name, ca)] = ep
                    self._route(tenant, ipaddress.ip_network(ca), ep, sub, vsi)
        for t in self.o.tenants:
            if t.vpn_gateway is not None:
                gw_ep = by_tenant_ca.get((t.name, t.vpn_gateway))
                if gw_ep is not None:
                    default = ipaddress.ip_network(
                        "0.0.0.0/0" if t.vpn_gateway.version == 4 else "::/0"
                    )
                    self._route(t, default, gw_ep, self.idx.subnets[gw_ep.vsid][1], vsi)
        for r in self.o.routes:
            found_t = self.idx.tenants.get(r.tenant)
            found_e = self.idx.endpoints.get(r.endpoint)
            if found_t is None or found_e is None or found_e[1].vsid not in vsi:
                continue
            ep = found_e[1]
            sub = self.idx.subnets[ep.vsid][1]
            if sub.gateway is not None:
                self._route(found_t[1], r.prefix, ep, sub, vsi)

    def _route(
        self, tenant: Tenant, prefix: IPNetwork, ep: Endpoint, sub: Subnet, vsi: dict[int, int]
    ) -> None:
        assert sub.gateway is not None
        table = Table.ROUTING_ROUTES_V6 if prefix.version == 6 else Table.ROUTING_ROUTES_V4
        width = 128 if prefix.version == 6 else 32
        m = lpm(int(prefix.network_address), prefix.prefixlen, width)
        match = make_match({Key.VRF: Exact(tenant.vrf), Key.DST: m})
        self.out.append(
            TableEntry(
                table,
                match,
                Action.ROUTING_ROUTE,
                make_params(
                    {
                        Param.VSI: vsi[ep.vsid],
                        Param.VSID: ep.vsid,
                        Param.SMAC: sub.gateway.mac,
                        Param.DMAC: ep.mac,
                    }
                ),
                tier=_tier(table),
            )
        )


def _pas_first(pas: Sequence[IP], first: IP | None) -> tuple[IP, ...]:
    if first is None:
        return tuple(pas)
    return (first,) + tuple(p for p in pas if p != first)


def _tunnel_for_endpoint(
    ep: Endpoint, host: _Host, local_pa: Callable[[int], IP | None]
) -> TunnelKey | None:
    dst = host.pas[0]
    src = local_pa(dst.version)
    return None if src is None else TunnelKey(src, dst, host.flow_id)


def compile_switch(
    overlay: Overlay,
    switch: str,
    learned: Sequence[LearnedEndpoint] = (),
    previous: Allocations | None = None,
) -> SwitchState:
    """Desired entities for one switch of a validated overlay."""
    idx = OverlayIndex.build(overlay)
    found = idx.switches.get(switch)
    if found is None:
        raise KeyError(f"no switch named {switch!r}")
    return _SwitchCompiler(overlay, idx, found[0], learned, previous or Allocations()).run()


def capacity_problems(state: SwitchState, sizes: dict[str, int], sw_pos: int) -> list[Problem]:
    """Entries per table against the table sizes the pipeline declares (P4Info `size`)."""
    counts: dict[str, int] = defaultdict(int)
    for e in state.entities:
        if isinstance(e, TableEntry) and not e.is_default:
            counts[e.table] += 1
    out = []
    for table, n in sorted(counts.items()):
        size = sizes.get(table)
        if size and n > size:
            out.append(
                Problem(
                    ("switches", sw_pos), f"table {table} would need {n} entries; it holds {size}"
                )
            )
    return out
