"""Emitting phases: the table entries, groups and sessions a plan needs."""

from __future__ import annotations

import ipaddress

from nve import contract as C
from nve import p4names
from nve.compile import ecmp
from nve.compile.base import CompilerBase
from nve.compile.common import (
    _PUNT_REASONS,
    IP,
    Allocator,
    EcmpGroups,
    IPNetwork,
    NexthopKey,
    Nexthops,
    TunnelKey,
    UnderlayRoutes,
    _entry,
    _Host,
    _tier,
    _tunnel_for_endpoint,
    multicast_mac,
)
from nve.compile.plan import Plan
from nve.entities import (
    CloneSession,
    DigestConfig,
    Entity,
    Exact,
    Match,
    MeterConfig,
    MulticastGroup,
    TableEntry,
    lpm,
    make_match,
    make_params,
)
from nve.model import Endpoint, LocalAttachment, Subnet, Tenant
from nve.p4names import Action, Digest, Key, Meter, Param, Table

_DMAC_TIER = _tier(Table.L2_DMAC)
_SMAC_TIER = _tier(Table.LEARN_SMAC)
_ARP_TIER = _tier(Table.ARP_PROXY)


class EmitPhases(CompilerBase):
    """Turn a `Plan` into entities (appended to `self.out`)."""

    def _plan_underlay(self, p: Plan) -> None:
        """Ports and the underlay (next hops, ECMP groups, routes)."""
        self.emit_ports()
        nexthops, groups, routes = self.emit_underlay()
        p.nexthops = nexthops
        p.groups = groups
        p.routes = routes

    def _emit_tunnels(self, p: Plan) -> None:
        """Tunnels: encap (unicast), replicas (BUM) with their resolved next hop."""
        sw = self.sw
        nexthops = p.nexthops
        groups = p.groups
        routes = p.routes
        tunnel_keys = p.tunnel_keys
        tunnel_ids = p.tunnel_ids
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
                        Param.USE_FLOW_ID: int(key.flow_id),
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
            p.tunnel_hops[t] = (port, dmac, vid)
            self.out.append(
                _entry(
                    Table.REPLICA_TUNNEL,
                    Action.REPLICA_REPLICA_V6 if v6 else Action.REPLICA_REPLICA_V4,
                    {Key.RID: Exact(t)},
                    params={
                        Param.SRC_PA: int(key.src),
                        Param.DST_PA: int(key.dst),
                        Param.USE_FLOW_ID: int(key.flow_id),
                        Param.SMAC: sw.nve_mac,
                        Param.DMAC: dmac,
                        Param.VID: vid,
                    },
                )
            )
        p.tunnel_port = tunnel_port

    def _emit_subnets(self, p: Plan) -> None:
        """Subnets: VSI info, decap VSID, peers, gateway ARP, flood groups."""
        bindings = p.bindings
        local_vsids = p.local_vsids
        vsids = p.vsids
        vsi = p.vsi
        remotes = p.remotes
        peers = p.peers
        host_tunnel = p.host_tunnel
        group_tunnels = p.group_tunnels
        tunnel_ids = p.tunnel_ids
        tunnel_port = p.tunnel_port
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

    def _emit_bindings(self, p: Plan) -> None:
        """Access bindings: (port, VLAN) -> VSI in, VSI -> tag out."""
        bindings = p.bindings
        vsi = p.vsi
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

    def _emit_group_pas(self, p: Plan) -> None:
        """Underlay multicast groups this switch receives on (and, where the pipeline
        does not derive it, each group's MAC as one the outer frame may be sent to:
        groups sharing a MAC, RFC 1112's 32 to 1, share the entry)."""
        local_vsids = p.local_vsids
        macs = {int(self.sw.nve_mac)}  # emit_ports' entry
        kind = Action.OUTER_GROUP_MAC if self.target.group_mac_action else Action.OUTER_LOCAL_MAC
        for v in p.vsids:
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
                mac = multicast_mac(g)
                if self.target.group_macs and mac not in macs:
                    macs.add(mac)
                    self.out.append(_entry(Table.OUTER_MY_MAC, kind, {Key.DST: Exact(mac)}))

    def _emit_endpoints(self, p: Plan) -> None:
        """Endpoints: bridging, ARP proxy, learning."""
        endpoints = p.endpoints
        vsi = p.vsi
        tunnel_ids = p.tunnel_ids
        # This loop runs once per endpoint (100,000s): the tunnel is looked up per host.
        out = self.out
        host_tunnel_id: dict[_Host, int | None] = {}  # by host: an endpoint may pick its PA
        for ep, host in endpoints:
            vi = vsi.get(ep.vsid)
            if vi is None:
                continue
            tid: int | None = None
            if host.name != self.sw.name:
                if host not in host_tunnel_id:
                    k = _tunnel_for_endpoint(ep, host, self.local_pa)
                    host_tunnel_id[host] = tunnel_ids.get(k) if k is not None else None
                tid = host_tunnel_id[host]
                if tid is None:
                    continue
            out.extend(self.endpoint_entries(ep, host, vi, tid))

    def endpoint_entries(
        self, ep: Endpoint, host: _Host, vi: int, tid: int | None
    ) -> list[TableEntry]:
        """One endpoint's bridging, learning and ARP proxy entries in subnet `vi`: toward
        its port here, or toward tunnel `tid` (its host's). Entries are built with their
        match and params already in make_match/make_params order (sorted by name)."""
        mac = Exact(ep.mac)
        out: list[TableEntry] = []
        if tid is None:
            att = ep.attachment
            assert isinstance(att, LocalAttachment)
            out.append(
                TableEntry(
                    Table.L2_DMAC,
                    ((Key.MAC, mac), (Key.VSI, Exact(vi))),
                    Action.L2_TO_PORT,
                    ((Param.PORT, att.port),),
                    tier=_DMAC_TIER,
                )
            )
            out.append(
                TableEntry(
                    Table.LEARN_SMAC,
                    ((Key.MAC, mac), (Key.PORT, Exact(att.port)), (Key.VSI, Exact(vi))),
                    Action.LEARN_KNOWN,
                    (),
                    tier=_SMAC_TIER,
                )
            )
        else:
            out.append(
                TableEntry(
                    Table.L2_DMAC,
                    ((Key.MAC, mac), (Key.VSI, Exact(vi))),
                    Action.L2_TO_TUNNEL,
                    ((Param.TUNNEL, tid),),
                    tier=_DMAC_TIER,
                )
            )
        if ep.ipv4 is not None and ep.ipv4.version == 4:
            out.append(
                TableEntry(
                    Table.ARP_PROXY,
                    ((Key.IP, Exact(int(ep.ipv4))), (Key.VSI, Exact(vi))),
                    Action.ARP_REPLY,
                    ((Param.MAC, mac.value),),
                    tier=_ARP_TIER,
                )
            )
        return out

    def _emit_learned(self, p: Plan) -> None:
        """Learned endpoints: bridging (and ageing where learned here)."""
        ageing_ns = self.sw.mac_ageing_s * 1_000_000_000
        sw = self.sw
        vsi = p.vsi
        learned_here = p.learned_here
        host_tunnel = p.host_tunnel
        tunnel_ids = p.tunnel_ids
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
        # Outer frames are accepted only when sent to this MAC (or an underlay group's).
        self.out.append(
            _entry(Table.OUTER_MY_MAC, Action.OUTER_LOCAL_MAC, {Key.DST: Exact(int(sw.nve_mac))})
        )
        for pa in sw.local_pas:
            self.out.append(
                _entry(
                    Table.DECAP_MY_PA_V6 if pa.version == 6 else Table.DECAP_MY_PA_V4,
                    Action.DECAP_LOCAL_PA,
                    {Key.DST: Exact(int(pa))},
                )
            )
        self.emit_host_addresses()
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
            for meter in (Meter.INGRESS_PUNT_RATE, Meter.EGRESS_PUNT_RATE):
                for reason in _PUNT_REASONS:
                    self.out.append(
                        MeterConfig(
                            meter, reason, sw.punt_rate_pps, burst, sw.punt_rate_pps, burst, tier=0
                        )
                    )

    def emit_host_addresses(self) -> None:
        """The switch's own addresses, for its control-plane host: IP to them that is not
        GRE is punted (PUNT_UNDERLAY_LOCAL) and relayed to the TAP of its port. Where the
        pipeline has no punt_local tables (TNA), the ports' addresses join the PAs in
        decap.my_pa, whose checks punt the same."""
        sw = self.sw
        if sw.underlay is None:
            return
        ports = {a.ip for p in sw.ports if p.role == "network" for a in p.addresses}
        if self.target.port_addresses_in_my_pa:
            for addr in sorted(ports - set(sw.local_pas), key=lambda a: (a.version, int(a))):
                self.out.append(
                    _entry(
                        Table.DECAP_MY_PA_V6 if addr.version == 6 else Table.DECAP_MY_PA_V4,
                        Action.DECAP_LOCAL_PA,
                        {Key.DST: Exact(int(addr))},
                    )
                )
        if not self.target.host_addresses:
            return
        own = {*sw.local_pas, *ports}
        for addr in sorted(own, key=lambda a: (a.version, int(a))):
            self.out.append(
                _entry(
                    Table.PUNT_LOCAL_ADDRESSES_V6
                    if addr.version == 6
                    else Table.PUNT_LOCAL_ADDRESSES_V4,
                    Action.PUNT_LOCAL_TO_HOST,
                    {Key.DST: Exact(int(addr))},
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
        sizes, current = self.ecmp_layout(member_keys)
        gids, errs = Allocator(1, 0xFFFF, current).assign(list(member_keys.values()), "ECMP group")
        for e in errs:
            self.problem(self.base + ("ecmp_groups",), e)
        groups: EcmpGroups = {}
        for name, members in member_keys.items():
            gid = gids.get(members)
            if gid is None or not members or not sizes.get(members):
                continue
            groups[name] = (gid, members)
            for bucket, nid in enumerate(ecmp.buckets(members, sizes[members])):
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
                    make_params({Param.GROUP: gid, Param.SIZE: sizes[members]}),
                    tier=_tier(table),
                )
            else:
                continue
            self.out.append(entry)
            routes.append((r.prefix, r.via))
        return nexthops, groups, routes

    def ecmp_layout(
        self, member_keys: dict[str, ecmp.Members]
    ) -> tuple[dict[ecmp.Members, int], dict[ecmp.Members, int]]:
        """Buckets per group (its set_ecmp size) and the installed group ids to keep.

        v1model: one bucket per member, and a group keeps its id if the switch holds the
        same member list. TNA: 16 buckets per group (nve.compile.ecmp); a group keeps its
        id if the switch holds its members on any power-of-two count."""
        wanted = [k for k in dict.fromkeys(member_keys.values()) if k]
        count = self.target.ecmp_buckets
        if not count:
            return {k: len(k) for k in wanted}, dict(self.previous.ecmp)
        counts, unfit = ecmp.fixed_sizes([len(k) for k in wanted], self.target.ecmp_capacity, count)
        sizes = dict(zip(wanted, counts))
        positions = {g.name: j for j, g in enumerate(self.sw.ecmp_groups)}
        for u in unfit:
            members = wanted[u.position]
            if u.members > count:
                why = (
                    f"has {u.members} members: the {self.target.arch} pipeline spreads a"
                    f" group over {count} buckets (the hash's low bits), so at most {count}"
                )
            else:
                why = (
                    f"needs {count} buckets (the {self.target.arch} pipeline's fixed count)"
                    f" but {Table.UNDERLAY_ECMP} has {u.left} of its"
                    f" {self.target.ecmp_capacity} entries left"
                )
            for name, key in member_keys.items():
                if key == members:
                    self.problem(
                        self.base + ("ecmp_groups", positions[name]), f"ECMP group {name!r} {why}"
                    )
        fitting = {k: ecmp.buckets(k, n) for k, n in sizes.items() if n}
        return sizes, ecmp.reuse_power_of_two(self.previous.ecmp, fitting)

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
        gateways = self._gateway_routes(vsi)
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
                    self._route(tenant, ipaddress.ip_network(ca), ep, sub, vsi, gateways)
        for t in self.o.tenants:
            if t.vpn_gateway is not None:
                gw_ep = by_tenant_ca.get((t.name, t.vpn_gateway))
                if gw_ep is not None:
                    default = ipaddress.ip_network(
                        "0.0.0.0/0" if t.vpn_gateway.version == 4 else "::/0"
                    )
                    self._route(t, default, gw_ep, self.idx.subnets[gw_ep.vsid][1], vsi, gateways)
        for r in self.o.routes:
            found_t = self.idx.tenants.get(r.tenant)
            found_e = self.idx.endpoints.get(r.endpoint)
            if found_t is None or found_e is None or found_e[1].vsid not in vsi:
                continue
            ep = found_e[1]
            sub = self.idx.subnets[ep.vsid][1]
            if sub.gateway is not None:
                self._route(found_t[1], r.prefix, ep, sub, vsi, gateways)

    def endpoint_routes(self, ep: Endpoint, vsi: dict[int, int]) -> list[Entity]:
        """The host routes emit_routes gives endpoint `ep` (none for an endpoint that a
        route names or that is a VPN gateway: nve.compile.delta leaves those to a full
        compilation)."""
        if ep.vsid not in vsi:
            return []
        _, sub, tenant = self.idx.subnets[ep.vsid]
        if sub.gateway is None:
            return []
        saved, self.out = self.out, []
        try:
            gateways = self._gateway_routes(vsi)
            self.out = []
            for ca in (ep.ipv4, ep.ipv6):
                if ca is not None:
                    self._route(tenant, ipaddress.ip_network(ca), ep, sub, vsi, gateways)
            return self.out
        finally:
            self.out = saved

    def _gateway_routes(self, vsi: dict[int, int]) -> set[tuple[str, Match]]:
        """A host route to_gateway per gateway address of every routed subnet on this
        switch: packets for the gateway itself are not routed (the controller answers ICMP
        echo; the rest is dropped), docs/pipeline.md. Returns their (table, match) keys."""
        keys: set[tuple[str, Match]] = set()
        for vsid in sorted(vsi):
            _, sub, tenant = self.idx.subnets[vsid]
            if sub.gateway is None:
                continue
            for iface in (sub.gateway.ipv4, sub.gateway.ipv6):
                if iface is None:
                    continue
                table, match = self._route_key(tenant, ipaddress.ip_network(iface.ip))
                if (table, match) in keys:
                    continue
                keys.add((table, match))
                self.out.append(
                    TableEntry(table, match, Action.ROUTING_TO_GATEWAY, (), tier=_tier(table))
                )
        return keys

    @staticmethod
    def _route_key(tenant: Tenant, prefix: IPNetwork) -> tuple[str, Match]:
        table = Table.ROUTING_ROUTES_V6 if prefix.version == 6 else Table.ROUTING_ROUTES_V4
        width = 128 if prefix.version == 6 else 32
        m = lpm(int(prefix.network_address), prefix.prefixlen, width)
        return table, make_match({Key.VRF: Exact(tenant.vrf), Key.DST: m})

    def _route(
        self,
        tenant: Tenant,
        prefix: IPNetwork,
        ep: Endpoint,
        sub: Subnet,
        vsi: dict[int, int],
        gateways: set[tuple[str, Match]],
    ) -> None:
        assert sub.gateway is not None
        table, match = self._route_key(tenant, prefix)
        if (table, match) in gateways:
            return  # the gateway's own address is never routed to an endpoint
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
