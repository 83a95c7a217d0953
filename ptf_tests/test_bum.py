"""Broadcast, unknown unicast and multicast in a virtual subnet (RFC 7637 section 4.2).

N-way unicast: one encapsulated copy per remote NVE of the VSID plus the local access
ports; underlay group mode: one copy to the VSID's administratively scoped group. Exact
copies to exactly the right ports; split horizon for frames from the network.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Packet

from nve.p4names import Drop
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case
from nve_ptf.expect import expect_forward
from nve_ptf.packets import customer, flow_id, nvgre, outer_flow_label, tagged

pytestmark = pytest.mark.root

BCAST = "ff:ff:ff:ff:ff:ff"


def _locals(case: Case) -> None:
    """A1 on ports 1 (untagged), 2 (VLAN 100) and 3 (untagged); B (tunnel 1, via port 5,
    FlowID on) and C (tunnel 4, via port 6, FlowID off) are A1's remote NVEs."""
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.attach(2, T.VSI_A1, vid=100),
        E.attach(3, T.VSI_A1),
        E.my_mac(T.NVE_MAC),
        E.my_pa(T.PA4),
        E.peer(T.VSID_A1, T.REMOTE4, 1),
        E.peer(T.VSID_A1, T.REMOTE4_C, 4),
    )


def _n_way(case: Case) -> None:
    _locals(case)
    case.install(
        E.flood_group(T.VSI_A1, [1, 2, 3], [(5, 1), (6, 4)]),
        E.replica(1, T.PA4, T.REMOTE4, smac=T.NVE_MAC, dmac=T.ROUTER_MAC[5]),
        E.replica(4, T.PA4, T.REMOTE4_C, flow_id=False, smac=T.NVE_MAC, dmac=T.ROUTER_MAC[6]),
    )


@pytest.mark.parametrize(
    "dst",
    [BCAST, "01:00:5e:00:00:fb", "02:00:00:00:0e:0e"],
    ids=["broadcast", "multicast", "unknown-unicast"],
)
@pytest.mark.parametrize("inner", ["v4", "l2"])
def test_n_way_unicast_replication(case: Case, dst: str, inner: str) -> None:
    """One copy per local port (with its tag) except the ingress port, one NVGRE copy per remote NVE."""
    _n_way(case)
    f = customer(inner, T.H1, dst, "10.1.0.5", "10.1.0.255")
    to_b = nvgre(
        f,
        src_pa=T.PA4,
        dst_pa=T.REMOTE4,
        vsid=T.VSID_A1,
        flow=flow_id(f),
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[5],
    )
    to_c = nvgre(
        f,
        src_pa=T.PA4,
        dst_pa=T.REMOTE4_C,
        vsid=T.VSID_A1,
        flow=0,
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[6],
    )
    expect_forward(
        case, 1, f, {2: tagged(f, 100), 3: f, 5: to_b, 6: to_c}, drops={Drop.PRUNE_INGRESS_PORT: 1}
    )


def test_from_a_tagged_port(case: Case) -> None:
    _n_way(case)
    f = customer("v4", T.H2, BCAST, "10.1.0.6", "10.1.0.255")
    to_b = nvgre(
        f,
        src_pa=T.PA4,
        dst_pa=T.REMOTE4,
        vsid=T.VSID_A1,
        flow=flow_id(f),
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[5],
    )
    to_c = nvgre(
        f,
        src_pa=T.PA4,
        dst_pa=T.REMOTE4_C,
        vsid=T.VSID_A1,
        flow=0,
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[6],
    )
    expect_forward(
        case, 2, tagged(f, 100), {1: f, 3: f, 5: to_b, 6: to_c}, drops={Drop.PRUNE_INGRESS_PORT: 1}
    )


def test_two_remote_nves_behind_one_port(case: Case) -> None:
    """Both copies leave by the same underlay port, each to its own remote NVE."""
    _locals(case)
    case.install(
        E.flood_group(T.VSI_A1, [1, 3], [(5, 1), (5, 4)]),
        E.replica(1, T.PA4, T.REMOTE4, smac=T.NVE_MAC, dmac=T.ROUTER_MAC[5]),
        E.replica(4, T.PA4, T.REMOTE4_C, smac=T.NVE_MAC, dmac=T.ROUTER_MAC[5]),
    )
    f = customer("l2", T.H3, BCAST)
    copies = [
        nvgre(
            f,
            src_pa=T.PA4,
            dst_pa=pa,
            vsid=T.VSID_A1,
            flow=flow_id(f),
            smac=T.NVE_MAC,
            dmac=T.ROUTER_MAC[5],
        )
        for pa in (T.REMOTE4, T.REMOTE4_C)
    ]
    expect_forward(case, 3, f, {1: f, 5: copies}, drops={Drop.PRUNE_INGRESS_PORT: 1})


def test_underlay_group_mode(case: Case) -> None:
    """One copy to the VSID's underlay multicast group (its multicast MAC), not one per NVE."""
    _locals(case)
    case.install(
        E.flood_group(T.VSI_A1, [1, 2, 3], [(7, 7)]),
        E.replica(7, T.PA4, T.GROUP4, smac=T.NVE_MAC, dmac=T.GROUP4_MAC),
    )
    f = customer("v4", T.H1, BCAST, "10.1.0.5", "10.1.0.255")
    grp = nvgre(
        f,
        src_pa=T.PA4,
        dst_pa=T.GROUP4,
        vsid=T.VSID_A1,
        flow=flow_id(f),
        smac=T.NVE_MAC,
        dmac=T.GROUP4_MAC,
    )
    expect_forward(
        case, 1, f, {2: tagged(f, 100), 3: f, 7: grp}, drops={Drop.PRUNE_INGRESS_PORT: 1}
    )


def test_receive_from_underlay_group(case: Case) -> None:
    """NVGRE addressed to a group of a local VSID is accepted and flooded to local ports only:
    the VSI's group also holds the two remote NVEs, whose copies egress drops."""
    _n_way(case)
    case.install(E.my_pa(T.GROUP4, group=True))
    f = customer("v4", T.HR1, BCAST, "10.1.0.9", "10.1.0.255")
    pkt = nvgre(
        f,
        src_pa=T.REMOTE4,
        dst_pa=T.GROUP4,
        vsid=T.VSID_A1,
        smac=T.ROUTER_MAC[7],
        dmac=T.GROUP4_MAC,
    )
    expect_forward(
        case, 7, pkt, {1: f, 2: tagged(f, 100), 3: f}, drops={Drop.EGRESS_SPLIT_HORIZON: 2}
    )


@pytest.mark.parametrize("dst", [BCAST, "02:00:00:00:0e:0e"], ids=["broadcast", "unknown-unicast"])
def test_split_horizon_decapsulated_flood_stays_local(case: Case, dst: str) -> None:
    """A frame from the network is flooded to local access ports only, never back into
    tunnels: each of the two tunnel copies is dropped in egress and counted."""
    _n_way(case)
    f = customer("v4", T.HR1, dst, "10.1.0.9", "10.1.0.255")
    pkt = nvgre(
        f, src_pa=T.REMOTE4, dst_pa=T.PA4, vsid=T.VSID_A1, smac=T.ROUTER_MAC[5], dmac=T.NVE_MAC
    )
    expect_forward(
        case, 5, pkt, {1: f, 2: tagged(f, 100), 3: f}, drops={Drop.EGRESS_SPLIT_HORIZON: 2}
    )


def test_drop_egress_split_horizon(case: Case) -> None:
    """A decapsulated frame floods with the VSI's one group; egress drops its tunnel copy
    (split horizon) and counts it under its own reason."""
    _locals(case)
    case.install(
        E.MulticastGroup(T.VSI_A1, ((1, 0), (3, 0), (6, 4))),
        E.replica(4, T.PA4, T.REMOTE4_C, smac=T.NVE_MAC, dmac=T.ROUTER_MAC[6]),
    )
    f = customer("v4", T.HR1, BCAST, "10.1.0.9", "10.1.0.255")
    pkt = nvgre(
        f, src_pa=T.REMOTE4, dst_pa=T.PA4, vsid=T.VSID_A1, smac=T.ROUTER_MAC[5], dmac=T.NVE_MAC
    )
    expect_forward(case, 5, pkt, {1: f, 3: f}, drops={Drop.EGRESS_SPLIT_HORIZON: 1})


def test_drop_replica_unknown(case: Case) -> None:
    """A group member with a rid that has no replica entry is dropped; the other copies leave."""
    _locals(case)
    case.install(E.flood_group(T.VSI_A1, [1, 3], [(5, 9)]))
    f = customer("l2", T.H1, BCAST)
    expect_forward(case, 1, f, {3: f}, drops={Drop.REPLICA_UNKNOWN: 1, Drop.PRUNE_INGRESS_PORT: 1})


# -- remote NVEs over IPv6 (NveEgress.replica.replica_v6) -------------------------------------


def _mixed(case: Case, *, v6_flow_id: bool = True) -> None:
    """A1 on ports 1 (untagged), 2 (VLAN 100) and 3 (untagged); remote NVE B over IPv4
    (tunnel 1, via port 5) and remote NVE B' over IPv6 (tunnel 2, via port 6), N-way unicast."""
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.attach(2, T.VSI_A1, vid=100),
        E.attach(3, T.VSI_A1),
        E.my_mac(T.NVE_MAC),
        E.my_pa(T.PA4),
        E.my_pa(T.PA6),
        E.peer(T.VSID_A1, T.REMOTE4, 1),
        E.peer(T.VSID_A1, T.REMOTE6, 2),
        E.flood_group(T.VSI_A1, [1, 2, 3], [(5, 1), (6, 2)]),
        E.replica(1, T.PA4, T.REMOTE4, smac=T.NVE_MAC, dmac=T.ROUTER_MAC[5]),
        E.replica(2, T.PA6, T.REMOTE6, flow_id=v6_flow_id, smac=T.NVE_MAC, dmac=T.ROUTER_MAC[6]),
    )


def _outer_v6_fields(pkt: Packet, frame: Packet) -> None:
    """The expected IPv6 copy states what docs/pipeline.md prescribes, whatever scapy fills in."""
    outer = Ether(bytes(pkt))[IPv6]
    assert outer.nh == 47
    assert outer.plen == len(bytes(frame)) + 8
    assert outer.fl == outer_flow_label(frame) != 0  # RFC 6438, with or without FlowID


@pytest.mark.parametrize("inner", ["v4", "v6", "l2"])
def test_n_way_unicast_to_an_ipv6_remote_nve(case: Case, inner: str) -> None:
    """One copy per other local port, one NVGRE-over-IPv4 copy and one NVGRE-over-IPv6 copy
    (next header 47, payload length = frame + 8, hop limit 64, traffic class = customer
    DSCP and ECN, RFC 6040 normal mode; flow label hashed from the customer flow, RFC 6438;
    key = VSID << 8 | FlowID)."""
    _mixed(case)
    src, dst = {
        "v4": ("10.1.0.5", "10.1.0.255"),
        "v6": ("fd00:1::5", "ff02::1"),
        "l2": (None, None),
    }[inner]
    f = customer(inner, T.H1, BCAST, src, dst, tos=(26 << 2) | 1)
    dscp, ecn = (26, 1) if inner != "l2" else (0, 0)
    to_b = nvgre(
        f,
        src_pa=T.PA4,
        dst_pa=T.REMOTE4,
        vsid=T.VSID_A1,
        flow=flow_id(f),
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[5],
        dscp=dscp,
        ecn=ecn,
    )
    to_b6 = nvgre(
        f,
        src_pa=T.PA6,
        dst_pa=T.REMOTE6,
        vsid=T.VSID_A1,
        flow=flow_id(f),
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[6],
        dscp=dscp,
        ecn=ecn,
    )
    _outer_v6_fields(to_b6, f)
    assert (
        Ether(bytes(to_b6))[IPv6].hlim == 64 and Ether(bytes(to_b6))[IPv6].tc == (dscp << 2) | ecn
    )
    expect_forward(
        case, 1, f, {2: tagged(f, 100), 3: f, 5: to_b, 6: to_b6}, drops={Drop.PRUNE_INGRESS_PORT: 1}
    )


def test_ipv6_replica_without_flow_id_and_configured_outer_header(case: Case) -> None:
    """A replica with flow_id 0 sends FlowID 0; encap.config's hop limit and pipe DSCP apply
    to the IPv6 copy, the customer's ECN is still copied."""
    _mixed(case, v6_flow_id=False)
    case.install(E.encap_config(ttl=9, dscp_pipe=True, dscp=46))
    f = customer("v6", T.H2, BCAST, "fd00:1::6", "ff02::1", tos=(8 << 2) | 2)
    assert flow_id(f) != 0
    to_b = nvgre(
        f,
        src_pa=T.PA4,
        dst_pa=T.REMOTE4,
        vsid=T.VSID_A1,
        flow=flow_id(f),
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[5],
        ttl=9,
        dscp=46,
        ecn=2,
    )
    to_b6 = nvgre(
        f,
        src_pa=T.PA6,
        dst_pa=T.REMOTE6,
        vsid=T.VSID_A1,
        flow=0,
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[6],
        ttl=9,
        dscp=46,
        ecn=2,
    )
    _outer_v6_fields(to_b6, f)
    assert Ether(bytes(to_b6))[IPv6].hlim == 9 and Ether(bytes(to_b6))[IPv6].tc == (46 << 2) | 2
    expect_forward(
        case, 2, tagged(f, 100), {1: f, 3: f, 5: to_b, 6: to_b6}, drops={Drop.PRUNE_INGRESS_PORT: 1}
    )


@pytest.mark.parametrize("outer", ["v4", "v6"])
def test_split_horizon_with_an_ipv6_remote_nve(case: Case, outer: str) -> None:
    """A broadcast decapsulated from either remote NVE reaches the local ports only: no copy
    goes to the IPv6 replica (nor the IPv4 one)."""
    _mixed(case)
    f = customer("v4", T.HR1, BCAST, "10.1.0.9", "10.1.0.255")
    if outer == "v4":
        port, pkt = (
            5,
            nvgre(
                f,
                src_pa=T.REMOTE4,
                dst_pa=T.PA4,
                vsid=T.VSID_A1,
                smac=T.ROUTER_MAC[5],
                dmac=T.NVE_MAC,
            ),
        )
    else:
        port, pkt = (
            6,
            nvgre(
                f,
                src_pa=T.REMOTE6,
                dst_pa=T.PA6,
                vsid=T.VSID_A1,
                smac=T.ROUTER_MAC[6],
                dmac=T.NVE_MAC,
            ),
        )
    expect_forward(
        case, port, pkt, {1: f, 2: tagged(f, 100), 3: f}, drops={Drop.EGRESS_SPLIT_HORIZON: 2}
    )


def test_drop_egress_split_horizon_ipv6_replica(case: Case) -> None:
    """A decapsulated frame's IPv6 tunnel copy is dropped in egress (split horizon)."""
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.attach(3, T.VSI_A1),
        E.my_mac(T.NVE_MAC),
        E.my_pa(T.PA6),
        E.peer(T.VSID_A1, T.REMOTE6, 2),
        E.MulticastGroup(T.VSI_A1, ((1, 0), (3, 0), (6, 2))),
        E.replica(2, T.PA6, T.REMOTE6, smac=T.NVE_MAC, dmac=T.ROUTER_MAC[6]),
    )
    f = customer("v4", T.HR1, BCAST, "10.1.0.9", "10.1.0.255")
    pkt = nvgre(
        f, src_pa=T.REMOTE6, dst_pa=T.PA6, vsid=T.VSID_A1, smac=T.ROUTER_MAC[6], dmac=T.NVE_MAC
    )
    expect_forward(case, 6, pkt, {1: f, 3: f}, drops={Drop.EGRESS_SPLIT_HORIZON: 1})
