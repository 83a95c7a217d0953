"""Decapsulation on network ports and every check RFC 7637 asks of a receiving NVE.

Section 3.2 (GRE must be exactly NVGRE), 3.3 (an inner 802.1Q tag MUST be dropped),
3.4 (reserved VSIDs), 4.4 (no fragments), 5 (only registered remote NVEs of the VSID);
each failure is dropped with its own reason, read back from the drop counters over
P4Runtime. The FlowID is ignored on receipt (section 3.2).
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP, UDP, IPOption_NOP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment
from scapy.layers.l2 import Ether

from nve.p4names import Counter, Drop
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case
from nve_ptf.expect import expect_drop, expect_forward
from nve_ptf.packets import ETH_QINQ, NVGRE, customer, nvgre, tagged

pytestmark = pytest.mark.root

INNER = {"v4": ("10.1.0.9", "10.1.0.5"), "v6": ("fd00:1::9", "fd00:1::5"), "l2": (None, None)}


def _base(case: Case) -> None:
    """Subnet A1 on port 1 (untagged) and port 2 (VLAN 100); H1 on port 1, H2 on port 2;
    remote NVE B registered for VSID A1 over IPv4 (tunnel 1) and IPv6 (tunnel 2)."""
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.attach(2, T.VSI_A1, vid=100),
        E.local_ca(T.VSI_A1, T.H1, 1),
        E.local_ca(T.VSI_A1, T.H2, 2),
        T.receiving_nve(),
    )


def _from_b(inner, *, outer: str = "v4", vsid: int = T.VSID_A1, flow: int = 0x5A, **kw):
    src, dst = (T.REMOTE4, T.PA4) if outer == "v4" else (T.REMOTE6, T.PA6)
    return nvgre(
        inner,
        src_pa=kw.pop("src_pa", src),
        dst_pa=kw.pop("dst_pa", dst),
        vsid=vsid,
        flow=flow,
        smac=T.ROUTER_MAC[5],
        dmac=T.NVE_MAC,
        **kw,
    )


@pytest.mark.parametrize("outer", ["v4", "v6"])
@pytest.mark.parametrize("inner", ["v4", "v6", "l2"])
@pytest.mark.parametrize("to", ["untagged", "tagged"])
def test_decap_every_family_combination(case: Case, outer: str, inner: str, to: str) -> None:
    """Outer headers removed, inner frame delivered to the CA's port (tag of that port pushed)."""
    _base(case)
    dst = T.H1 if to == "untagged" else T.H2
    frame = customer(inner, T.HR1, dst, *INNER[inner])
    exp = frame if to == "untagged" else tagged(frame, 100)
    expect_forward(case, 5, _from_b(frame, outer=outer), {1 if to == "untagged" else 2: exp})


def test_flow_id_is_ignored_on_receipt(case: Case) -> None:
    _base(case)
    frame = customer("v4", T.HR1, T.H1, *INNER["v4"])
    for flow in (0x00, 0x01, 0xFF):
        expect_forward(case, 6, _from_b(frame, flow=flow), {1: frame})


def test_decap_counters_per_vsid_and_remote_nve(case: Case) -> None:
    _base(case)
    frame = customer("v4", T.HR1, T.H1, *INNER["v4"])
    vsi0 = case.counter(Counter.COUNTERS_VSI_DECAP, T.VSI_A1)[0]
    rx1, rx2 = (
        case.counter(Counter.COUNTERS_TUNNEL_RX, 1)[0],
        case.counter(Counter.COUNTERS_TUNNEL_RX, 2)[0],
    )
    expect_forward(case, 5, _from_b(frame), {1: frame})
    expect_forward(case, 5, _from_b(frame), {1: frame})
    expect_forward(case, 5, _from_b(frame, outer="v6"), {1: frame})
    assert case.counter(Counter.COUNTERS_VSI_DECAP, T.VSI_A1)[0] - vsi0 == 3
    assert case.counter(Counter.COUNTERS_TUNNEL_RX, 1)[0] - rx1 == 2
    assert case.counter(Counter.COUNTERS_TUNNEL_RX, 2)[0] - rx2 == 1


def test_drop_not_local(case: Case) -> None:
    """This NVE is not an underlay router: NVGRE to another address, and non-IP frames, drop."""
    _base(case)
    frame = customer("v4", T.HR1, T.H1, *INNER["v4"])
    expect_drop(case, 5, _from_b(frame, dst_pa="192.0.2.99"), Drop.NET_NOT_LOCAL)
    expect_drop(case, 5, _from_b(frame, outer="v6", dst_pa="2001:db8::99"), Drop.NET_NOT_LOCAL)
    expect_drop(case, 5, customer("l2", T.ROUTER_MAC[5], T.NVE_MAC), Drop.NET_NOT_LOCAL)


@pytest.mark.parametrize("frag", ["v4-more-fragments", "v4-offset", "v6-fragment-header"])
def test_drop_outer_fragment(case: Case, frag: str) -> None:
    """Section 4.4: fragmented NVGRE packets are not reassembled here; dropped and counted."""
    _base(case)
    frame = customer("v4", T.HR1, T.H1, *INNER["v4"])
    if frag == "v4-more-fragments":
        pkt = (
            Ether(src=T.ROUTER_MAC[5], dst=T.NVE_MAC)
            / IP(src=T.REMOTE4, dst=T.PA4, proto=47, flags="MF")
            / NVGRE(vsid=T.VSID_A1)
            / frame
        )
    elif frag == "v4-offset":
        # A non-first fragment: its payload is the middle of some NVGRE packet.
        pkt = (
            Ether(src=T.ROUTER_MAC[5], dst=T.NVE_MAC)
            / IP(src=T.REMOTE4, dst=T.PA4, proto=47, frag=64)
            / bytes(frame)
        )
    else:
        pkt = (
            Ether(src=T.ROUTER_MAC[5], dst=T.NVE_MAC)
            / IPv6(src=T.REMOTE6, dst=T.PA6)
            / IPv6ExtHdrFragment(nh=47, m=1, offset=0, id=5)
            / NVGRE(vsid=T.VSID_A1)
            / frame
        )
    expect_drop(case, 5, pkt, Drop.NET_FRAGMENT)


def test_drop_bad_outer_checksum(case: Case) -> None:
    _base(case)
    frame = customer("v4", T.HR1, T.H1, *INNER["v4"])
    good = _from_b(frame)
    bad = Ether(bytes(good))
    bad[IP].chksum = bad[IP].chksum ^ 0x0101
    expect_drop(case, 5, bad, Drop.NET_BAD_CHECKSUM)


@pytest.mark.parametrize(
    "gre",
    [
        {"c": 1},
        {"r0": 1},
        {"k": 0},
        {"s": 1},
        {"reserved0": 0x100},  # bit 4
        {"reserved0": 0x080},  # bit 5
        {"ver": 1},
        {"proto": 0x0800},
        {"proto": 0x88BE},
    ],
    ids=lambda g: "-".join(f"{k}={v:#x}" for k, v in g.items()),
)
def test_drop_gre_that_is_not_nvgre(case: Case, gre: dict) -> None:
    """Section 3.2: C=0, K=1, S=0, version 0, protocol 0x6558; RFC 2784 section 2.3: bits
    1-5 (R and bits 4-5) set are discarded. Anything else drops."""
    _base(case)
    frame = customer("v4", T.HR1, T.H1, *INNER["v4"])
    expect_drop(case, 5, _from_b(frame, gre=gre), Drop.NET_NOT_NVGRE)


@pytest.mark.parametrize("reserved0", [0x040, 0x001, 0x07F], ids=["bit6", "bit12", "bits6-12"])
def test_gre_bits_6_to_12_are_ignored_on_receipt(case: Case, reserved0: int) -> None:
    """RFC 2784 section 2.3: a receiver MUST ignore bits 6-12 (0x2200 6558 and 0x2008 6558
    are NVGRE); the frame is decapsulated and delivered."""
    _base(case)
    frame = customer("v4", T.HR1, T.H1, *INNER["v4"])
    expect_forward(case, 5, _from_b(frame, gre={"reserved0": reserved0}), {1: frame})


def test_drop_ip_to_local_pa_that_is_not_gre(case: Case) -> None:
    _base(case)
    pkt = (
        Ether(src=T.ROUTER_MAC[5], dst=T.NVE_MAC)
        / IP(src=T.REMOTE4, dst=T.PA4)
        / UDP(sport=5, dport=4789)
        / (b"u" * 40)
    )
    expect_drop(case, 5, pkt, Drop.NET_NOT_NVGRE)


@pytest.mark.parametrize("vsid", [0x000000, 0x000001, 0x000FFF, 0xFFFFFF])
def test_drop_reserved_vsid(case: Case, vsid: int) -> None:
    """Section 3.4: VSIDs 0-0xFFF and 0xFFFFFF are reserved, even when (mis)configured as a subnet."""
    _base(case)
    case.install(E.subnet(9, vsid), E.attach(3, 9), E.peer(vsid, T.REMOTE4, 1))
    frame = customer("v4", T.HR1, "ff:ff:ff:ff:ff:ff", *INNER["v4"])
    expect_drop(case, 5, _from_b(frame, vsid=vsid), Drop.NET_VSID_RESERVED)


def test_first_unreserved_vsid_is_accepted(case: Case) -> None:
    """0x001000 is the first VSID outside the reserved range (boundary of section 3.4)."""
    _base(case)
    case.install(
        E.subnet(9, 0x001000),
        E.attach(3, 9),
        E.local_ca(9, T.H3, 3),
        E.peer(0x001000, T.REMOTE4, 1),
    )
    frame = customer("v4", T.HR1, T.H3, *INNER["v4"])
    expect_forward(case, 5, _from_b(frame, vsid=0x001000), {3: frame})


def test_drop_vsid_unknown(case: Case) -> None:
    _base(case)
    frame = customer("v4", T.HR1, T.H1, *INNER["v4"])
    expect_drop(case, 5, _from_b(frame, vsid=0x00ABCD), Drop.NET_VSID_UNKNOWN)


def test_drop_spoofed_peer(case: Case) -> None:
    """Section 5: only registered remote NVEs of the VSID may inject into it."""
    _base(case)
    case.install(E.subnet(T.VSI_A2, T.VSID_A2), E.peer(T.VSID_A2, T.REMOTE4_C, 4))
    frame = customer("v4", T.HR1, T.H1, *INNER["v4"])
    expect_drop(case, 5, _from_b(frame, src_pa=T.ROGUE4), Drop.NET_PEER_UNKNOWN)
    # C is a peer of A2 only: it cannot send into A1.
    expect_drop(case, 5, _from_b(frame, src_pa=T.REMOTE4_C), Drop.NET_PEER_UNKNOWN)
    expect_drop(
        case, 5, _from_b(frame, outer="v6", src_pa="2001:db8:100::66"), Drop.NET_PEER_UNKNOWN
    )


@pytest.mark.parametrize("tpid", [0x8100, ETH_QINQ])
def test_drop_inner_tagged(case: Case, tpid: int) -> None:
    """Section 3.3: a decapsulating NVE MUST drop an inner frame that carries an 802.1Q tag."""
    _base(case)
    frame = tagged(customer("v4", T.HR1, T.H1, *INNER["v4"]), 100, tpid=tpid)
    expect_drop(case, 5, _from_b(frame), Drop.NET_INNER_TAGGED)


def test_checks_are_made_in_order(case: Case) -> None:
    """A fragment with a bad checksum counts as a fragment; a reserved VSID from a rogue source as reserved."""
    _base(case)
    frame = customer("v4", T.HR1, T.H1, *INNER["v4"])
    frag = Ether(
        bytes(
            Ether(src=T.ROUTER_MAC[5], dst=T.NVE_MAC)
            / IP(src=T.REMOTE4, dst=T.PA4, proto=47, flags="MF")
            / NVGRE(vsid=T.VSID_A1)
            / frame
        )
    )
    frag[IP].chksum ^= 0x0001
    expect_drop(case, 5, frag, Drop.NET_FRAGMENT)
    expect_drop(case, 5, _from_b(frame, vsid=0x000010, src_pa=T.ROGUE4), Drop.NET_VSID_RESERVED)
    expect_drop(case, 5, _from_b(frame, vsid=0x00ABCD, src_pa=T.ROGUE4), Drop.NET_VSID_UNKNOWN)


def test_drop_split_horizon_for_remote_destinations(case: Case) -> None:
    """A decapsulated frame whose destination lives behind a remote NVE never goes back into a tunnel."""
    _base(case)
    case.install(
        E.remote_nve(1, T.PA4, T.REMOTE4_C), E.remote_ca(T.VSI_A1, T.HR2, 1), T.underlay_v4()
    )
    frame = customer("v4", T.HR1, T.HR2, *INNER["v4"])
    expect_drop(case, 5, _from_b(frame), Drop.SPLIT_HORIZON)


def test_inner_ipv4_with_options_then_without(case: Case) -> None:
    """A decapsulated IPv4 packet with options, then one without: both delivered unchanged.

    The inner header checksum is verified on decap (for routing). Hashing the options of
    a packet that has none read the options field of an invalid header, and on
    simple_switch the value the previous packet left there (options ending in a 1 bit)
    crashed the switch (docs/fuzzing.md)."""
    _base(case)
    with_options = (
        Ether(src=T.HR1, dst=T.H1)
        / IP(src=INNER["v4"][0], dst=INNER["v4"][1], options=[IPOption_NOP()] * 4)
        / UDP(sport=1, dport=2)
    )
    without = customer("v4", T.HR1, T.H1, *INNER["v4"])
    for frame in (with_options, without, with_options, without):
        expect_forward(case, 5, _from_b(frame), {1: frame})


@pytest.mark.parametrize("to", ["untagged", "tagged"])
def test_bytes_after_the_outer_datagram_are_not_delivered(case: Case, to: str) -> None:
    """An NVGRE frame followed by 8 bytes of L2 trailer (or padding): only the customer frame
    the outer datagram carries is delivered (RFC 1812 5.2.2 spirit: the datagram is what
    its length says)."""
    _base(case)
    dst = T.H1 if to == "untagged" else T.H2
    frame = customer("v4", T.HR1, dst, *INNER["v4"])
    wire = bytes(_from_b(frame)) + bytes.fromhex("a5a5a5a5a5a5a5a5")
    exp = frame if to == "untagged" else tagged(frame, 100)
    expect_forward(case, 5, wire, {1 if to == "untagged" else 2: exp})
