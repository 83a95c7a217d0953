"""Pipeline entries by their docs/pipeline.md names, as nve.entities dataclasses.

Each function returns what one fact of an overlay needs (a port role, a subnet, a CA, a
remote NVE...), so a test reads as the configuration it sets up. Values are given as
text (MACs, addresses) and converted here; nothing is resolved to P4Info IDs here: the
controller's codec does that when the entries are written.
"""

from __future__ import annotations

import ipaddress

from nve.entities import (
    CloneSession,
    DigestConfig,
    Exact,
    MeterConfig,
    MulticastGroup,
    TableEntry,
    lpm,
    make_match,
    make_params,
)

CPU_PORT = 255
CPU_CLONE_SESSION = 100


def mac(text: str) -> int:
    return int(text.replace(":", ""), 16)


def ip(text: str) -> int:
    return int(ipaddress.ip_address(text))


def _entry(table: str, action: str, match: dict, params: dict | None = None) -> TableEntry:
    return TableEntry(
        table,
        make_match(**{k: Exact(v) if isinstance(v, int) else v for k, v in match.items()}),
        action,
        make_params(**(params or {})),
    )


# -- ports ----------------------------------------------------------------------------------


def access_port(port: int) -> TableEntry:
    return _entry("NveIngress.port.role", "NveIngress.port.set_access", {"port": port})


def network_port(port: int) -> TableEntry:
    return _entry("NveIngress.port.role", "NveIngress.port.set_network", {"port": port})


def attach(port: int, vsi: int, vid: int | None = None) -> list[TableEntry]:
    """Port (untagged, or with 802.1Q VLAN vid) in subnet vsi, both directions."""
    ingress = _entry(
        "NveIngress.access.port_vlan",
        "NveIngress.access.set_vsi",
        {"port": port, "tagged": int(vid is not None), "vid": vid or 0},
        {"vsi": vsi},
    )
    if vid is None:
        egress = _entry(
            "NveEgress.access.port_vsi", "NveEgress.access.untagged", {"port": port, "vsi": vsi}
        )
    else:
        egress = _entry(
            "NveEgress.access.port_vsi",
            "NveEgress.access.tagged",
            {"port": port, "vsi": vsi},
            {"vid": vid},
        )
    return [ingress, egress]


# -- subnets ---------------------------------------------------------------------------------


def subnet(
    vsi: int, vsid: int, *, vrf: int = 0, gw_mac: str = "00:00:00:00:00:00"
) -> list[TableEntry]:
    """A virtual subnet: its attributes, and decapsulation of its VSID into it."""
    return [
        _entry(
            "NveIngress.vsi.info",
            "NveIngress.vsi.set_info",
            {"vsi": vsi},
            {"vsid": vsid, "vrf": vrf, "gw_mac": mac(gw_mac)},
        ),
        _entry("NveIngress.decap.vsid", "NveIngress.decap.set_vsi", {"vsid": vsid}, {"vsi": vsi}),
    ]


def local_ca(vsi: int, ca_mac: str, port: int) -> TableEntry:
    return _entry(
        "NveIngress.l2.dmac",
        "NveIngress.l2.to_port",
        {"vsi": vsi, "mac": mac(ca_mac)},
        {"port": port},
    )


def remote_ca(vsi: int, ca_mac: str, tunnel: int) -> TableEntry:
    return _entry(
        "NveIngress.l2.dmac",
        "NveIngress.l2.to_tunnel",
        {"vsi": vsi, "mac": mac(ca_mac)},
        {"tunnel": tunnel},
    )


def learned(vsi: int, src_mac: str, port: int) -> TableEntry:
    return _entry(
        "NveIngress.learn.smac",
        "NveIngress.learn.known",
        {"vsi": vsi, "mac": mac(src_mac), "port": port},
    )


def arp_entry(vsi: int, ca_ip: str, ca_mac: str) -> TableEntry:
    return _entry(
        "NveIngress.arp.proxy",
        "NveIngress.arp.reply",
        {"vsi": vsi, "ip": ip(ca_ip)},
        {"mac": mac(ca_mac)},
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


def route(vrf: int, prefix: str, *, vsi: int, vsid: int, smac: str, dmac: str) -> TableEntry:
    net = ipaddress.ip_network(prefix)
    table = "NveIngress.routing.routes_v6" if net.version == 6 else "NveIngress.routing.routes_v4"
    width = 128 if net.version == 6 else 32
    match = make_match(vrf=Exact(vrf), dst=lpm(int(net.network_address), net.prefixlen, width))
    return TableEntry(
        table,
        match,
        "NveIngress.routing.route",
        make_params(vsi=vsi, vsid=vsid, smac=mac(smac), dmac=mac(dmac)),
    )


# -- remote NVEs and decapsulation ------------------------------------------------------------


def my_pa(addr: str, *, group: bool = False) -> TableEntry:
    v6 = ":" in addr
    return _entry(
        f"NveIngress.decap.my_pa_v{6 if v6 else 4}",
        "NveIngress.decap.underlay_group" if group else "NveIngress.decap.local_pa",
        {"dst": ip(addr)},
    )


def peer(vsid: int, src_pa: str, tunnel: int) -> TableEntry:
    v6 = ":" in src_pa
    return _entry(
        f"NveIngress.decap.peer_v{6 if v6 else 4}",
        "NveIngress.decap.peer",
        {"vsid": vsid, "src": ip(src_pa)},
        {"tunnel": tunnel},
    )


def remote_nve(tunnel: int, src_pa: str, dst_pa: str, *, flow_id: bool = True) -> TableEntry:
    v6 = ":" in dst_pa
    return _entry(
        "NveIngress.tunnel.remote",
        f"NveIngress.tunnel.set_remote_v{6 if v6 else 4}",
        {"tunnel": tunnel},
        {"src_pa": ip(src_pa), "dst_pa": ip(dst_pa), "flow_id": int(flow_id)},
    )


def replica(
    rid: int, src_pa: str, dst_pa: str, *, flow_id: bool = True, smac: str, dmac: str, vid: int = 0
) -> TableEntry:
    v6 = ":" in dst_pa
    return _entry(
        "NveEgress.replica.tunnel",
        f"NveEgress.replica.replica_v{6 if v6 else 4}",
        {"rid": rid},
        {
            "src_pa": ip(src_pa),
            "dst_pa": ip(dst_pa),
            "flow_id": int(flow_id),
            "smac": mac(smac),
            "dmac": mac(dmac),
            "vid": vid,
        },
    )


# -- underlay ----------------------------------------------------------------------------------


def underlay_route(
    prefix: str, *, nexthop: int | None = None, ecmp: tuple[int, int] | None = None
) -> TableEntry:
    net = ipaddress.ip_network(prefix)
    width = 128 if net.version == 6 else 32
    match = make_match(dst=lpm(int(net.network_address), net.prefixlen, width))
    table = f"NveIngress.underlay.routes_v{net.version}"
    if ecmp is not None:
        return TableEntry(
            table, match, "NveIngress.underlay.set_ecmp", make_params(group=ecmp[0], size=ecmp[1])
        )
    assert nexthop is not None
    return TableEntry(table, match, "NveIngress.underlay.set_nexthop", make_params(nexthop=nexthop))


def ecmp_member(group: int, bucket: int, nexthop: int) -> TableEntry:
    return _entry(
        "NveIngress.underlay.ecmp",
        "NveIngress.underlay.set_nexthop",
        {"group": group, "bucket": bucket},
        {"nexthop": nexthop},
    )


def nexthop(nh: int, port: int, *, smac: str, dmac: str, vid: int = 0) -> TableEntry:
    return _entry(
        "NveIngress.underlay.nexthop",
        "NveIngress.underlay.forward",
        {"nexthop": nh},
        {"port": port, "smac": mac(smac), "dmac": mac(dmac), "vid": vid},
    )


# -- egress settings (default entries: restored after each test) -------------------------------


def encap_config(*, ttl: int = 64, dscp_pipe: bool = False, dscp: int = 0) -> TableEntry:
    return TableEntry(
        "NveEgress.encap.config",
        (),
        "NveEgress.encap.set_config",
        make_params(ttl=ttl, dscp_pipe=int(dscp_pipe), dscp=dscp),
        is_default=True,
    )


def port_mtu(port: int, mtu: int) -> TableEntry:
    return _entry("NveEgress.mtu.port", "NveEgress.mtu.set_mtu", {"port": port}, {"mtu": mtu})


def cpu_session() -> CloneSession:
    return CloneSession(CPU_CLONE_SESSION, ((CPU_PORT, 0),))


def learn_digest() -> DigestConfig:
    return DigestConfig(
        "mac_learn_digest_t", max_timeout_ns=0, max_list_size=1, ack_timeout_ns=1_000_000_000
    )


def meter(name: str, index: int, *, cir: int, cburst: int, pir: int, pburst: int) -> MeterConfig:
    return MeterConfig(name, index, cir, cburst, pir, pburst)
