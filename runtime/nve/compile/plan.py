"""Planning phases: which subnets, endpoints, remote NVEs, peers and tunnels a switch needs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from nve import contract as C
from nve.compile.base import CompilerBase
from nve.compile.common import (
    IP,
    Allocator,
    EcmpGroups,
    LearnedEndpoint,
    NexthopKey,
    Nexthops,
    TunnelKey,
    UnderlayRoutes,
    _Host,
)
from nve.model import Endpoint, LocalAttachment, Switch


@dataclass
class Plan:
    """What the planning phases of one switch's compilation decide, for the emit phases."""

    bindings: dict[tuple[int, int | None], int] = field(default_factory=dict)  # (port, VLAN)
    endpoints: list[tuple[Endpoint, _Host]] = field(default_factory=list)  # of installed subnets
    local_vsids: set[int] = field(default_factory=set)  # bound to a port here
    vsids: list[int] = field(default_factory=list)  # installed here
    vsi: dict[int, int] = field(default_factory=dict)  # vsid -> vsi
    learned_here: list[tuple[LearnedEndpoint, _Host]] = field(default_factory=list)
    remotes: dict[int, dict[str, _Host]] = field(default_factory=dict)  # vsid -> hosts
    others: list[Switch] = field(default_factory=list)  # the other switches
    served: dict[str, set[int]] = field(default_factory=dict)  # switch -> VSIDs it serves
    peers: dict[int, dict[str, _Host]] = field(default_factory=dict)  # vsid -> allowed senders
    nexthops: Nexthops = field(default_factory=dict)
    groups: EcmpGroups = field(default_factory=dict)
    routes: UnderlayRoutes = field(default_factory=list)
    tunnel_keys: dict[TunnelKey, str] = field(default_factory=dict)  # -> host name
    host_tunnel: dict[str, TunnelKey] = field(default_factory=dict)
    group_tunnels: dict[int, TunnelKey] = field(default_factory=dict)  # vsid -> flood tunnel
    tunnel_ids: dict[TunnelKey, int] = field(default_factory=dict)
    tunnel_port: dict[TunnelKey, int] = field(default_factory=dict)  # -> underlay port
    tunnel_hops: dict[int, NexthopKey] = field(default_factory=dict)  # tunnel -> next hop


class PlanPhases(CompilerBase):
    """Decide what the switch needs; the result goes into a `Plan`."""

    def _plan_subnets(self, p: Plan) -> None:
        """Which subnets this switch installs, and their VSIs: bindings (port, VLAN) -> VSID
        from the ports and the attached endpoints, every subnet of a tenant present here,
        and the endpoints of those subnets (found through the index: the walk is as long
        as what the switch installs, not as the description)."""
        sw = self.sw
        idx = self.idx
        # Bindings: (port, vlan) -> vsid on this switch, from port bindings and endpoints.
        bindings: dict[tuple[int, int | None], int] = {}
        for sw_port in sw.ports:
            for b in sw_port.bindings:
                bindings.setdefault((sw_port.port, b.vlan), b.vsid)
        for ep in idx.attached_to(sw.name):
            att = ep.attachment
            if isinstance(att, LocalAttachment) and ep.vsid in idx.subnets:
                bindings.setdefault((att.port, att.vlan), ep.vsid)
        local_vsids = set(bindings.values())
        # Every subnet of a tenant present here is installed (routing may lead to any of them).
        tenants_here = {idx.subnets[v][2].name for v in local_vsids if v in idx.subnets}
        vsids = sorted(v for v, (_, _, t) in idx.subnets.items() if t.name in tenants_here)
        vsi_map, errs = Allocator(1, min(C.VSI_MAX, 0xFFFF), dict(self.previous.vsi)).assign(
            vsids, "virtual subnet"
        )
        for e in errs:
            self.problem(self.base, e)
        endpoints: list[tuple[Endpoint, _Host]] = []
        for ep in idx.in_subnets(vsids):
            host = self.host_of(ep)
            if host is not None:
                endpoints.append((ep, host))
        p.bindings = bindings
        p.endpoints = endpoints
        p.local_vsids = local_vsids
        p.vsids = vsids
        p.vsi = dict(vsi_map.items())

    def _plan_learned(self, p: Plan) -> None:
        """Learned endpoints of installed subnets, unless a configured endpoint has the MAC."""
        endpoints = p.endpoints
        vsi = p.vsi
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
        p.learned_here = learned_here

    def _plan_remotes(self, p: Plan) -> None:
        """Remote NVEs per installed VSID: the hosts of its endpoints, the other switches serving it, its flood list."""
        sw = self.sw
        endpoints = p.endpoints
        vsi = p.vsi
        learned_here = p.learned_here
        # Remote NVEs per installed VSID: hosts of its endpoints (not us), plus its flood list.
        remotes: dict[int, dict[str, _Host]] = defaultdict(dict)
        for ep, host in endpoints:
            if ep.vsid in vsi and host.name != sw.name:
                remotes[ep.vsid][host.name] = host
        for le, host in learned_here:
            if host.name != sw.name:
                remotes[le.vsid][host.name] = host
        # The VSIDs each other switch serves (port bindings and attached endpoints), once:
        # of its endpoints' subnets, only those installed here count (the tenants here),
        # which is all that remotes and the peer check below ask about.
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
        p.remotes = remotes
        p.others = others
        p.served = served

    def _plan_peers(self, p: Plan) -> None:
        """Who may send frames of each VSID (the decap peer check)."""
        vsi = p.vsi
        remotes = p.remotes
        others = p.others
        served = p.served
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
        p.peers = peers

    def _plan_tunnels(self, p: Plan) -> None:
        """Tunnels (local PA, remote PA, FlowID) toward every peer, endpoint host and flood group, with ids."""
        sw = self.sw
        endpoints = p.endpoints
        local_vsids = p.local_vsids
        vsids = p.vsids
        vsi = p.vsi
        remotes = p.remotes
        peers = p.peers
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
        p.tunnel_keys = tunnel_keys
        p.host_tunnel = host_tunnel
        p.group_tunnels = group_tunnels
        p.tunnel_ids = tunnel_ids
