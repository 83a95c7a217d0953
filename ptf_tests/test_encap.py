"""Encapsulation: customer frames from access ports to remote NVEs (RFC 7637 sections 3, 4.1, 4.3, 4.5).

Each expected packet is built here from the RFC's header layout (section 3.2: GRE with
C=0, K=1, S=0, protocol 0x6558, key = VSID << 8 | FlowID) and docs/pipeline.md's outer
header rules; the FlowID is recomputed by the test's own CRC-16/ARC.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from nve.p4names import Counter, Drop
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case
from nve_ptf.expect import expect_drop, expect_forward
from nve_ptf.packets import customer, flow_id, nvgre, tagged

pytestmark = pytest.mark.root

INNER_ADDR = {"v4": ("10.1.0.5", "10.1.0.9"), "v6": ("fd00:1::5", "fd00:1::9"), "l2": (None, None)}


def _base(case: Case, *, flow: bool = True) -> None:
    """Subnet A1 on port 1 (untagged) and port 2 (VLAN 100); HR1 behind remote NVE B over
    IPv4 (tunnel 1) and HR2 behind B over IPv6 (tunnel 2)."""
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.attach(2, T.VSI_A1, vid=100),
        E.remote_nve(1, T.PA4, T.REMOTE4, flow_id=flow),
        E.remote_nve(2, T.PA6, T.REMOTE6, flow_id=flow),
        E.remote_ca(T.VSI_A1, T.HR1, 1),
        E.remote_ca(T.VSI_A1, T.HR2, 2),
        T.underlay_v4(nh=1, port=5),
        T.underlay_v6(nh=2, port=6),
    )


@pytest.mark.parametrize("outer", ["v4", "v6"])
@pytest.mark.parametrize("inner", ["v4", "v6", "l2"])
@pytest.mark.parametrize("access", ["untagged", "tagged"])
def test_unicast_encap_every_family_combination(
    case: Case, outer: str, inner: str, access: str
) -> None:
    """Inner and outer families are independent (section 4.5); an access tag is removed before
    encapsulation (section 3.3 MUST); the key carries VSID and FlowID (section 3.2)."""
    _base(case)
    dst = T.HR1 if outer == "v4" else T.HR2
    src_ip, dst_ip = INNER_ADDR[inner]
    frame = customer(inner, T.H1, dst, src_ip, dst_ip, tos=(10 << 2) | 2)
    port, sent = (1, frame) if access == "untagged" else (2, tagged(frame, 100))
    if outer == "v4":
        exp = nvgre(
            frame,
            src_pa=T.PA4,
            dst_pa=T.REMOTE4,
            vsid=T.VSID_A1,
            flow=flow_id(frame),
            smac=T.NVE_MAC,
            dmac=T.ROUTER_MAC[5],
            dscp=10 if inner != "l2" else 0,
            ecn=2 if inner != "l2" else 0,
        )
        expect_forward(case, port, sent, {5: exp})
    else:
        exp = nvgre(
            frame,
            src_pa=T.PA6,
            dst_pa=T.REMOTE6,
            vsid=T.VSID_A1,
            flow=flow_id(frame),
            smac=T.NVE_MAC,
            dmac=T.ROUTER_MAC[6],
            dscp=10 if inner != "l2" else 0,
            ecn=2 if inner != "l2" else 0,
        )
        expect_forward(case, port, sent, {6: exp})


def test_flow_id_follows_the_flow(case: Case) -> None:
    """Different flows of one VSID get the FlowIDs their 5-tuples hash to (section 3.2)."""
    _base(case)
    frames = [
        customer("v4tcp", T.H1, T.HR1, "10.1.0.5", "10.1.0.9", sport=s, dport=443)
        for s in range(1000, 1008)
    ]
    assert len({flow_id(f) for f in frames}) > 1, "test flows must differ in FlowID"
    for f in frames:
        exp = nvgre(
            f,
            src_pa=T.PA4,
            dst_pa=T.REMOTE4,
            vsid=T.VSID_A1,
            flow=flow_id(f),
            smac=T.NVE_MAC,
            dmac=T.ROUTER_MAC[5],
        )
        expect_forward(case, 1, f, {5: exp})


@pytest.mark.parametrize("inner", ["v4", "v6", "l2"])
def test_flow_id_zero_toward_peers_without_flow_id(case: Case, inner: str) -> None:
    """Peers that match the whole 32-bit key (Linux gretap, Open vSwitch) get FlowID 0."""
    _base(case, flow=False)
    src_ip, dst_ip = INNER_ADDR[inner]
    frame = customer(inner, T.H1, T.HR1, src_ip, dst_ip)
    assert flow_id(frame) != 0
    exp = nvgre(
        frame,
        src_pa=T.PA4,
        dst_pa=T.REMOTE4,
        vsid=T.VSID_A1,
        flow=0,
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[5],
    )
    expect_forward(case, 1, frame, {5: exp})


def test_outer_ttl_and_dscp_pipe_mode(case: Case) -> None:
    """encap.config: configured outer TTL / hop limit and DSCP (pipe); ECN still copied (RFC 6040)."""
    _base(case)
    case.install(E.encap_config(ttl=9, dscp_pipe=True, dscp=46))
    f4 = customer("v4", T.H1, T.HR1, "10.1.0.5", "10.1.0.9", tos=(8 << 2) | 1)
    exp4 = nvgre(
        f4,
        src_pa=T.PA4,
        dst_pa=T.REMOTE4,
        vsid=T.VSID_A1,
        flow=flow_id(f4),
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[5],
        ttl=9,
        dscp=46,
        ecn=1,
    )
    expect_forward(case, 1, f4, {5: exp4})
    f6 = customer("v6", T.H1, T.HR2, "fd00:1::5", "fd00:1::9", tos=(8 << 2) | 3)
    exp6 = nvgre(
        f6,
        src_pa=T.PA6,
        dst_pa=T.REMOTE6,
        vsid=T.VSID_A1,
        flow=flow_id(f6),
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[6],
        ttl=9,
        dscp=46,
        ecn=3,
    )
    expect_forward(case, 1, f6, {6: exp6})


def test_outer_vlan_tag_toward_the_next_hop(case: Case) -> None:
    """A next hop with an underlay VLAN gets an 802.1Q-tagged outer frame."""
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.remote_nve(1, T.PA4, T.REMOTE4),
        E.remote_ca(T.VSI_A1, T.HR1, 1),
        T.underlay_v4(nh=1, port=7, vid=30),
    )
    f = customer("v4", T.H1, T.HR1, "10.1.0.5", "10.1.0.9")
    exp = nvgre(
        f,
        src_pa=T.PA4,
        dst_pa=T.REMOTE4,
        vsid=T.VSID_A1,
        flow=flow_id(f),
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[7],
        vid=30,
    )
    expect_forward(case, 1, f, {7: exp})


def test_each_ca_mapping_selects_its_local_pa(case: Case) -> None:
    """Section 3.2: with several local PAs, the PA is chosen per CA mapping."""
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.remote_nve(1, T.PA4, T.REMOTE4),
        E.remote_nve(3, T.PA4_ALT, T.REMOTE4),
        E.remote_ca(T.VSI_A1, T.HR1, 1),
        E.remote_ca(T.VSI_A1, T.HR2, 3),
        T.underlay_v4(),
    )
    for dst, pa in ((T.HR1, T.PA4), (T.HR2, T.PA4_ALT)):
        f = customer("v4", T.H1, dst, "10.1.0.5", "10.1.0.9")
        exp = nvgre(
            f,
            src_pa=pa,
            dst_pa=T.REMOTE4,
            vsid=T.VSID_A1,
            flow=flow_id(f),
            smac=T.NVE_MAC,
            dmac=T.ROUTER_MAC[5],
        )
        expect_forward(case, 1, f, {5: exp})


def test_encap_counters_per_vsid_and_remote_nve(case: Case) -> None:
    """Per-VSID encapsulated packets and per-remote-NVE transmitted packets count each frame."""
    _base(case)
    vsi0 = case.counter(Counter.COUNTERS_VSI_ENCAP, T.VSI_A1)[0]
    tun0 = case.counter(Counter.COUNTERS_TUNNEL_TX, 1)[0]
    for sport in (1, 2, 3):
        f = customer("v4", T.H1, T.HR1, "10.1.0.5", "10.1.0.9", sport=sport)
        exp = nvgre(
            f,
            src_pa=T.PA4,
            dst_pa=T.REMOTE4,
            vsid=T.VSID_A1,
            flow=flow_id(f),
            smac=T.NVE_MAC,
            dmac=T.ROUTER_MAC[5],
        )
        expect_forward(case, 1, f, {5: exp})
    assert case.counter(Counter.COUNTERS_VSI_ENCAP, T.VSI_A1)[0] - vsi0 == 3
    assert case.counter(Counter.COUNTERS_TUNNEL_TX, 1)[0] - tun0 == 3


def test_drop_tunnel_unknown(case: Case) -> None:
    """A CA mapped to a remote NVE index without tunnel.remote entry is dropped, not sent anywhere."""
    _base(case)
    case.install(E.remote_ca(T.VSI_A1, "02:00:00:00:09:09", 9))
    expect_drop(case, 1, customer("v4", T.H1, "02:00:00:00:09:09"), Drop.TUNNEL_UNKNOWN)


def test_drop_underlay_route_miss(case: Case) -> None:
    """No underlay route to the remote PA: dropped (this NVE does not guess a next hop)."""
    _base(case)
    case.install(
        E.remote_nve(9, T.PA4, "203.0.113.9"), E.remote_ca(T.VSI_A1, "02:00:00:00:09:09", 9)
    )
    expect_drop(case, 1, customer("v4", T.H1, "02:00:00:00:09:09"), Drop.UNDERLAY_ROUTE_MISS)


def test_drop_nexthop_miss(case: Case) -> None:
    _base(case)
    case.install(
        E.remote_nve(9, T.PA4, "203.0.113.9"),
        E.remote_ca(T.VSI_A1, "02:00:00:00:09:09", 9),
        E.underlay_route("203.0.113.0/24", nexthop=33),
    )
    expect_drop(case, 1, customer("v4", T.H1, "02:00:00:00:09:09"), Drop.NEXTHOP_MISS)


def test_flow_id_of_an_inner_fragment_uses_ports_zero(case: Case) -> None:
    """A customer IPv4 fragment has no usable L4 header: the FlowID hashes ports 0 (docs, Hashes)."""
    _base(case)
    f = Ether(
        bytes(
            Ether(src=T.H1, dst=T.HR1)
            / IP(src="10.1.0.5", dst="10.1.0.9", flags="MF", id=9)
            / UDP(sport=4242, dport=53)
            / (b"f" * 40)
        )
    )
    whole = customer("v4", T.H1, T.HR1, "10.1.0.5", "10.1.0.9", sport=4242, dport=53)
    assert flow_id(f) != flow_id(whole), "test frame must show the difference"
    exp = nvgre(
        f,
        src_pa=T.PA4,
        dst_pa=T.REMOTE4,
        vsid=T.VSID_A1,
        flow=flow_id(f),
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[5],
    )
    expect_forward(case, 1, f, {5: exp})
