"""Pipeline entries by their docs/pipeline.md names, as nve.entities dataclasses.

Each function returns what one fact of an overlay needs (a port role, a subnet, a CA, a
remote NVE...), so a test reads as the configuration it sets up. Values are given as
text (MACs, addresses) and converted here; nothing is resolved to P4Info IDs here: the
controller's codec does that when the entries are written.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from nve.entities import (
    CloneSession,
    DigestConfig,
    Exact,
    FieldMatch,
    MeterConfig,
    MulticastGroup,
    TableEntry,
    lpm,
    make_match,
    make_params,
)
from nve.p4names import CPU_CLONE_SESSION, CPU_PORT, Action, Digest, Key, Meter, Param, Table


def mac(text: str) -> int:
    return int(text.replace(":", ""), 16)


def ip(text: str) -> int:
    return int(ipaddress.ip_address(text))


def _entry(
    table: str,
    action: str,
    match: Mapping[str, int | FieldMatch],
    params: Mapping[str, int] | None = None,
) -> TableEntry:
    return TableEntry(
        table,
        make_match({k: Exact(v) if isinstance(v, int) else v for k, v in match.items()}),
        action,
        make_params(params),
    )


# -- ports ----------------------------------------------------------------------------------


def access_port(port: int) -> TableEntry:
    return _entry(Table.PORT_ROLE, Action.PORT_SET_ACCESS, {Key.PORT: port})


def network_port(port: int) -> TableEntry:
    return _entry(Table.PORT_ROLE, Action.PORT_SET_NETWORK, {Key.PORT: port})


def attach(port: int, vsi: int, vid: int | None = None) -> list[TableEntry]:
    """Port (untagged, or with 802.1Q VLAN vid) in subnet vsi, both directions."""
    ingress = _entry(
        Table.ACCESS_PORT_VLAN,
        Action.ACCESS_SET_VSI,
        {Key.PORT: port, Key.TAGGED: int(vid is not None), Key.VID: vid or 0},
        {Param.VSI: vsi},
    )
    if vid is None:
        egress = _entry(
            Table.ACCESS_PORT_VSI, Action.ACCESS_UNTAGGED, {Key.PORT: port, Key.VSI: vsi}
        )
    else:
        egress = _entry(
            Table.ACCESS_PORT_VSI,
            Action.ACCESS_TAGGED,
            {Key.PORT: port, Key.VSI: vsi},
            {Param.VID: vid},
        )
    return [ingress, egress]


# -- subnets ---------------------------------------------------------------------------------


def subnet(
    vsi: int, vsid: int, *, vrf: int = 0, gw_mac: str = "00:00:00:00:00:00"
) -> list[TableEntry]:
    """A virtual subnet: its attributes, and decapsulation of its VSID into it."""
    return [
        _entry(
            Table.VSI_INFO,
            Action.VSI_SET_INFO,
            {Key.VSI: vsi},
            {Param.VSID: vsid, Param.VRF: vrf, Param.GW_MAC: mac(gw_mac)},
        ),
        _entry(Table.DECAP_VSID, Action.DECAP_SET_VSI, {Key.VSID: vsid}, {Param.VSI: vsi}),
    ]


def local_ca(vsi: int, ca_mac: str, port: int) -> TableEntry:
    return _entry(
        Table.L2_DMAC,
        Action.L2_TO_PORT,
        {Key.VSI: vsi, Key.MAC: mac(ca_mac)},
        {Param.PORT: port},
    )


def remote_ca(vsi: int, ca_mac: str, tunnel: int) -> TableEntry:
    return _entry(
        Table.L2_DMAC,
        Action.L2_TO_TUNNEL,
        {Key.VSI: vsi, Key.MAC: mac(ca_mac)},
        {Param.TUNNEL: tunnel},
    )


def learned(vsi: int, src_mac: str, port: int) -> TableEntry:
    return _entry(
        Table.LEARN_SMAC,
        Action.LEARN_KNOWN,
        {Key.VSI: vsi, Key.MAC: mac(src_mac), Key.PORT: port},
    )


def arp_entry(vsi: int, ca_ip: str, ca_mac: str) -> TableEntry:
    return _entry(
        Table.ARP_PROXY,
        Action.ARP_REPLY,
        {Key.VSI: vsi, Key.IP: ip(ca_ip)},
        {Param.MAC: mac(ca_mac)},
    )


def flood_group(
    vsi: int,
    local_ports: list[int],
    remote: tuple[tuple[int, int], ...] | list[tuple[int, int]] = (),
) -> MulticastGroup:
    """The VSI's flood group, id vsi: each local port with rid 0, and one (port, tunnel)
    copy per remote NVE. Decapsulated frames use it too; egress drops their tunnel copies."""
    local = [(p, 0) for p in local_ports]
    return MulticastGroup(vsi, tuple(sorted(local + list(remote))))


# -- routing ---------------------------------------------------------------------------------


def to_gateway(vrf: int, address: str) -> TableEntry:
    """The host route of a gateway address: not routed (punted if ICMP, else dropped)."""
    ip = ipaddress.ip_address(address)
    table = Table.ROUTING_ROUTES_V6 if ip.version == 6 else Table.ROUTING_ROUTES_V4
    width = 128 if ip.version == 6 else 32
    match = make_match({Key.VRF: Exact(vrf), Key.DST: lpm(int(ip), width, width)})
    return TableEntry(table, match, Action.ROUTING_TO_GATEWAY)


def route(vrf: int, prefix: str, *, vsi: int, vsid: int, smac: str, dmac: str) -> TableEntry:
    net = ipaddress.ip_network(prefix)
    table = Table.ROUTING_ROUTES_V6 if net.version == 6 else Table.ROUTING_ROUTES_V4
    width = 128 if net.version == 6 else 32
    match = make_match(
        {Key.VRF: Exact(vrf), Key.DST: lpm(int(net.network_address), net.prefixlen, width)}
    )
    return TableEntry(
        table,
        match,
        Action.ROUTING_ROUTE,
        make_params(
            {Param.VSI: vsi, Param.VSID: vsid, Param.SMAC: mac(smac), Param.DMAC: mac(dmac)}
        ),
    )


# -- remote NVEs and decapsulation ------------------------------------------------------------


def my_mac(addr: str) -> TableEntry:
    """An outer destination MAC this NVE accepts on network ports (its nve_mac)."""
    return _entry(Table.OUTER_MY_MAC, Action.OUTER_LOCAL_MAC, {Key.DST: mac(addr)})


def group_mac(addr: str) -> TableEntry:
    """An underlay group's MAC in my_mac (what the controller installs on TNA)."""
    return _entry(Table.OUTER_MY_MAC, Action.OUTER_GROUP_MAC, {Key.DST: mac(addr)})


def my_pa(addr: str, *, group: bool = False) -> TableEntry:
    v6 = ":" in addr
    return _entry(
        Table.DECAP_MY_PA_V6 if v6 else Table.DECAP_MY_PA_V4,
        Action.DECAP_UNDERLAY_GROUP if group else Action.DECAP_LOCAL_PA,
        {Key.DST: ip(addr)},
    )


def host_address(addr: str) -> TableEntry:
    """An address of the switch (a PA, a network port's address): IP to it that is not
    GRE goes to the control-plane host (PUNT_UNDERLAY_LOCAL)."""
    v6 = ":" in addr
    return _entry(
        Table.PUNT_LOCAL_ADDRESSES_V6 if v6 else Table.PUNT_LOCAL_ADDRESSES_V4,
        Action.PUNT_LOCAL_TO_HOST,
        {Key.DST: ip(addr)},
    )


def peer(vsid: int, src_pa: str, tunnel: int) -> TableEntry:
    v6 = ":" in src_pa
    return _entry(
        Table.DECAP_PEER_V6 if v6 else Table.DECAP_PEER_V4,
        Action.DECAP_PEER,
        {Key.VSID: vsid, Key.SRC: ip(src_pa)},
        {Param.TUNNEL: tunnel},
    )


def remote_nve(tunnel: int, src_pa: str, dst_pa: str, *, flow_id: bool = True) -> TableEntry:
    v6 = ":" in dst_pa
    return _entry(
        Table.TUNNEL_REMOTE,
        Action.TUNNEL_SET_REMOTE_V6 if v6 else Action.TUNNEL_SET_REMOTE_V4,
        {Key.TUNNEL: tunnel},
        {Param.SRC_PA: ip(src_pa), Param.DST_PA: ip(dst_pa), Param.USE_FLOW_ID: int(flow_id)},
    )


def replica(
    rid: int, src_pa: str, dst_pa: str, *, flow_id: bool = True, smac: str, dmac: str, vid: int = 0
) -> TableEntry:
    v6 = ":" in dst_pa
    return _entry(
        Table.REPLICA_TUNNEL,
        Action.REPLICA_REPLICA_V6 if v6 else Action.REPLICA_REPLICA_V4,
        {Key.RID: rid},
        {
            Param.SRC_PA: ip(src_pa),
            Param.DST_PA: ip(dst_pa),
            Param.USE_FLOW_ID: int(flow_id),
            Param.SMAC: mac(smac),
            Param.DMAC: mac(dmac),
            Param.VID: vid,
        },
    )


# -- underlay ----------------------------------------------------------------------------------


def underlay_route(
    prefix: str, *, nexthop: int | None = None, ecmp: tuple[int, int] | None = None
) -> TableEntry:
    net = ipaddress.ip_network(prefix)
    width = 128 if net.version == 6 else 32
    match = make_match({Key.DST: lpm(int(net.network_address), net.prefixlen, width)})
    table = Table.UNDERLAY_ROUTES_V6 if net.version == 6 else Table.UNDERLAY_ROUTES_V4
    if ecmp is not None:
        return TableEntry(
            table,
            match,
            Action.UNDERLAY_SET_ECMP,
            make_params({Param.GROUP: ecmp[0], Param.SIZE: ecmp[1]}),
        )
    assert nexthop is not None
    return TableEntry(
        table, match, Action.UNDERLAY_SET_NEXTHOP, make_params({Param.NEXTHOP: nexthop})
    )


def ecmp_member(group: int, bucket: int, nexthop: int) -> TableEntry:
    return _entry(
        Table.UNDERLAY_ECMP,
        Action.UNDERLAY_SET_NEXTHOP,
        {Key.GROUP: group, Key.BUCKET: bucket},
        {Param.NEXTHOP: nexthop},
    )


def nexthop(nh: int, port: int, *, smac: str, dmac: str, vid: int = 0) -> TableEntry:
    return _entry(
        Table.UNDERLAY_NEXTHOP,
        Action.UNDERLAY_FORWARD,
        {Key.NEXTHOP: nh},
        {Param.PORT: port, Param.SMAC: mac(smac), Param.DMAC: mac(dmac), Param.VID: vid},
    )


# -- egress settings (default entries: restored after each test) -------------------------------


def encap_config(*, ttl: int = 64, dscp_pipe: bool = False, dscp: int = 0) -> TableEntry:
    return TableEntry(
        Table.ENCAP_CONFIG,
        (),
        Action.ENCAP_SET_CONFIG,
        make_params({Param.TTL: ttl, Param.DSCP_PIPE: int(dscp_pipe), Param.DSCP: dscp}),
        is_default=True,
    )


def port_mtu(port: int, mtu: int) -> TableEntry:
    return _entry(Table.MTU_PORT, Action.MTU_SET_MTU, {Key.PORT: port}, {Param.MTU: mtu})


def cpu_session() -> CloneSession:
    return CloneSession(CPU_CLONE_SESSION, ((CPU_PORT, 0),))


def learn_digest() -> DigestConfig:
    return DigestConfig(
        Digest.MAC_LEARN_DIGEST, max_timeout_ns=0, max_list_size=1, ack_timeout_ns=1_000_000_000
    )


def meter(name: str, index: int, *, cir: int, cburst: int, pir: int, pburst: int) -> MeterConfig:
    return MeterConfig(name, index, cir, cburst, pir, pburst)


# -- priorities (IEEE 802.1Q PCP) and storm control --------------------------------------------


def default_pcp(port: int, pcp: int) -> list[TableEntry]:
    """The port's default priority: of untagged frames it receives (ingress), and of
    decapsulated frames it sends tagged that no DSCP -> PCP entry mapped (egress)."""
    return [
        _entry(
            Table.INGRESS_ACCESS_PORT_PCP,
            Action.INGRESS_ACCESS_SET_DEFAULT_PCP,
            {Key.PORT: port},
            {Param.PCP: pcp},
        ),
        _entry(
            Table.EGRESS_ACCESS_PORT_PCP,
            Action.EGRESS_ACCESS_SET_DEFAULT_PCP,
            {Key.PORT: port},
            {Param.PCP: pcp},
        ),
    ]


def pcp_dscp(pcp: int, dscp: int, *, ip_too: bool) -> TableEntry:
    """Outer DSCP of frames of priority pcp: of every frame (ip_too), or only of frames
    without an IP header."""
    action = Action.ENCAP_SET_DSCP if ip_too else Action.ENCAP_SET_DSCP_NON_IP
    return _entry(Table.ENCAP_PCP_DSCP, action, {Key.PCP: pcp}, {Param.DSCP: dscp})


def dscp_pcp(dscp: int, pcp: int) -> TableEntry:
    """Priority of a decapsulated frame whose outer DSCP is dscp."""
    return _entry(Table.DECAP_DSCP_PCP, Action.DECAP_SET_PCP, {Key.DSCP: dscp}, {Param.PCP: pcp})


def storm_limit(port: int, pps: int, burst: int = 1) -> list[MeterConfig | TableEntry]:
    """Storm control on an access port: its BUM frames metered at pps (burst frames)."""
    return [
        MeterConfig(Meter.STORM_RATE, port, pps, burst, pps, burst),
        _entry(Table.STORM_PORT, Action.STORM_LIMIT, {Key.PORT: port}),
    ]


def port_full(port: int) -> TableEntry:
    """The port is at its learning limit (drop mode): unknown source MACs are dropped."""
    return _entry(Table.LEARN_PORT_FULL, Action.LEARN_FULL, {Key.PORT: port})


def vsi_full(vsi: int) -> TableEntry:
    """The subnet is at its learning limit (drop mode)."""
    return _entry(Table.LEARN_VSI_FULL, Action.LEARN_FULL, {Key.VSI: vsi})
