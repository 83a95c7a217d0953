"""Outer header sanity on network ports, before any NVGRE check (NveIngress.outer).

- the outer destination MAC is this NVE's (NveIngress.outer.my_mac), or the multicast
  MAC of the outer IP destination when that is a group (RFC 1112 6.4, RFC 2464 7);
- the IP version matches the EtherType (RFC 1122 3.2.1.1);
- IPv4 IHL >= 5, and the IP length field fits the frame and holds the IP header plus
  GRE with key and the inner Ethernet header (RFC 1812 5.2.2);
- an outer IPv6 header followed by Hop-by-Hop and/or Destination Options (up to two,
  each up to 32 bytes) is parsed past them to GRE.
Each failure is dropped with its own reason, read back from the drop counters.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP
from scapy.layers.inet6 import (
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    PadN,
)
from scapy.layers.l2 import Dot1Q, Ether
from scapy.packet import Packet

from nve.p4names import Drop
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case
from nve_ptf.expect import expect_drop, expect_forward
from nve_ptf.packets import NVGRE, customer, nvgre, tagged

pytestmark = pytest.mark.root

INNER4 = ("10.1.0.9", "10.1.0.5")
INNER6 = ("fd00:1::9", "fd00:1::5")
HOPOPTS, DSTOPTS, FRAG, GRE = 0, 60, 44, 47


def _base(case: Case) -> None:
    """Subnet A1 on port 1 (untagged) and port 2 (VLAN 100); H1 on port 1, H2 on port 2;
    remote NVE B registered for VSID A1 over IPv4 and IPv6; this NVE's MAC installed."""
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.attach(2, T.VSI_A1, vid=100),
        E.local_ca(T.VSI_A1, T.H1, 1),
        E.local_ca(T.VSI_A1, T.H2, 2),
        T.receiving_nve(),
    )


def _frame() -> Packet:
    return customer("v4", T.HR1, T.H1, *INNER4)


def _from_b(inner: Packet, *, outer: str = "v4", **kw) -> Packet:
    src, dst = (T.REMOTE4, T.PA4) if outer == "v4" else (T.REMOTE6, T.PA6)
    return nvgre(
        inner,
        src_pa=kw.pop("src_pa", src),
        dst_pa=kw.pop("dst_pa", dst),
        vsid=T.VSID_A1,
        flow=0x5A,
        smac=kw.pop("smac", T.ROUTER_MAC[5]),
        dmac=kw.pop("dmac", T.NVE_MAC),
        **kw,
    )


def _rebuilt(pkt: Packet, **fields: int) -> Packet:
    """pkt with outer IP fields changed, its IPv4 checksum recomputed."""
    pkt = pkt.copy()
    layer = pkt.payload.payload if isinstance(pkt.payload, Dot1Q) else pkt.payload
    assert isinstance(layer, (IP, IPv6))
    for name, value in fields.items():
        setattr(layer, name, value)
    if isinstance(layer, IP):
        del layer.chksum
    return Ether(bytes(pkt))


def _opts(nh: int, size: int, cls: type = IPv6ExtHdrHopByHop) -> Packet:
    """A Hop-by-Hop or Destination Options header of ``size`` bytes (PadN only)."""
    return cls(nh=nh, options=[PadN(optdata=b"\x00" * (size - 4))])


def _v6_ext(inner: Packet, first: int, *exts: Packet, plen: int | None = None) -> Packet:
    """NVGRE over IPv6 from remote NVE B with these extension headers before GRE."""
    ip = IPv6(src=T.REMOTE6, dst=T.PA6, nh=first, hlim=64, tc=0, fl=0)
    if plen is not None:
        ip.plen = plen
    chain = ip
    for ext in exts:
        chain = chain / ext
    return Ether(
        bytes(
            Ether(src=T.ROUTER_MAC[6], dst=T.NVE_MAC)
            / chain
            / NVGRE(vsid=T.VSID_A1, flow_id=0x5A)
            / inner
        )
    )


# -- outer destination MAC ---------------------------------------------------------------


@pytest.mark.parametrize(
    "outer,dmac",
    [
        ("v4", T.ROUTER_MAC[5]),  # another station's unicast MAC
        ("v4", "ff:ff:ff:ff:ff:ff"),  # broadcast
        ("v4", "01:00:5e:00:02:01"),  # the IPv4 multicast mapping of the unicast PA 192.0.2.1
        ("v6", T.ROUTER_MAC[5]),
        ("v6", "33:33:00:00:00:01"),  # the IPv6 multicast mapping of the unicast PA ...::1
    ],
    ids=["v4-unicast", "v4-broadcast", "v4-group-mac", "v6-unicast", "v6-group-mac"],
)
def test_drop_outer_dmac_not_local(case: Case, outer: str, dmac: str) -> None:
    _base(case)
    expect_drop(case, 5, _from_b(_frame(), outer=outer, dmac=dmac), Drop.NET_DMAC_NOT_LOCAL)


def test_drop_non_ip_frame_to_another_mac(case: Case) -> None:
    _base(case)
    pkt = customer("l2", T.ROUTER_MAC[5], T.ROUTER_MAC[6])
    expect_drop(case, 5, pkt, Drop.NET_DMAC_NOT_LOCAL)


def test_no_outer_frame_is_accepted_before_the_nve_mac_is_known(case: Case) -> None:
    """Without a my_mac entry (the controller writes the switch's nve_mac) nothing decaps."""
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.local_ca(T.VSI_A1, T.H1, 1),
        E.my_pa(T.PA4),
        E.peer(T.VSID_A1, T.REMOTE4, 1),
    )
    expect_drop(case, 5, _from_b(_frame()), Drop.NET_DMAC_NOT_LOCAL)


def test_group_mac_needs_a_joined_group(case: Case) -> None:
    """The group MAC of a group passes the MAC check; the group must still be joined
    (my_pa underlay_group), else NET_NOT_LOCAL; another group's MAC is not accepted."""
    _base(case)
    case.install(E.my_pa(T.GROUP4, group=True))
    other = "239.1.1.2"
    expect_drop(
        case, 5, _from_b(_frame(), dst_pa=other, dmac="01:00:5e:01:01:02"), Drop.NET_NOT_LOCAL
    )
    expect_drop(
        case,
        5,
        _from_b(_frame(), dst_pa=T.GROUP4, dmac="01:00:5e:01:01:02"),
        Drop.NET_DMAC_NOT_LOCAL,
    )
    expect_drop(
        case,
        5,
        _from_b(_frame(), outer="v6", dst_pa="ff15::1:1", dmac="33:33:00:01:00:01"),
        Drop.NET_NOT_LOCAL,
    )


@pytest.mark.parametrize("action", ["group_mac", "local_mac"])
def test_a_group_mac_entry_does_not_make_the_mac_local(case: Case, action: str) -> None:
    """my_mac entries with group_mac (the joined groups' MACs, which the controller
    installs on TNA) change nothing on v1model: the MAC still passes only as the MAC of
    the outer destination, so NVGRE to the unicast PA, or to a group it is not the MAC
    of, drops as NET_DMAC_NOT_LOCAL; the same MAC with local_mac is the NVE's."""
    _base(case)
    group4_mac = "01:00:5e:01:01:01"  # 239.1.1.1
    entry = E.group_mac(group4_mac) if action == "group_mac" else E.my_mac(group4_mac)
    case.install(E.my_pa(T.GROUP4, group=True), entry)
    to_pa = _from_b(_frame(), dmac=group4_mac)
    if action == "local_mac":
        expect_forward(case, 5, to_pa, {1: _frame()})
        return
    expect_drop(case, 5, to_pa, Drop.NET_DMAC_NOT_LOCAL)
    other = _from_b(_frame(), dst_pa="239.1.1.2", dmac=group4_mac)
    expect_drop(case, 5, other, Drop.NET_DMAC_NOT_LOCAL)


# -- IP version and IHL ----------------------------------------------------------------------


@pytest.mark.parametrize("version", [6, 5, 0, 15])
def test_drop_ipv4_ethertype_with_another_version(case: Case, version: int) -> None:
    _base(case)
    pkt = _from_b(_frame(), outer_extra={"version": version})
    expect_drop(case, 5, pkt, Drop.NET_BAD_VERSION)


@pytest.mark.parametrize("version", [4, 0, 15])
def test_drop_ipv6_ethertype_with_another_version(case: Case, version: int) -> None:
    _base(case)
    pkt = _from_b(_frame(), outer="v6", outer_extra={"version": version})
    expect_drop(case, 5, pkt, Drop.NET_BAD_VERSION)


@pytest.mark.parametrize("ihl", [0, 4])
def test_drop_ipv4_ihl_below_5(case: Case, ihl: int) -> None:
    _base(case)
    good = _from_b(_frame())
    raw = bytearray(bytes(good))
    raw[14] = 0x40 | ihl  # version 4, this IHL; the checksum no longer matters
    expect_drop(case, 5, bytes(raw), Drop.NET_BAD_IHL)


# -- IP length against the frame -------------------------------------------------------------


@pytest.mark.parametrize("vid", [0, 100], ids=["untagged", "tagged"])
def test_drop_ipv4_total_length_beyond_the_frame(case: Case, vid: int) -> None:
    """One byte more than the frame holds drops; exactly the frame (with or without an
    outer 802.1Q tag) is delivered."""
    _base(case)
    good = _from_b(_frame(), vid=vid)
    expect_forward(case, 5, good, {1: _frame()})
    expect_drop(case, 5, _rebuilt(good, len=good[IP].len + 1), Drop.NET_BAD_LENGTH)
    expect_drop(case, 5, _rebuilt(good, len=0xFFFF), Drop.NET_BAD_LENGTH)


def test_drop_ipv6_payload_length_beyond_the_frame(case: Case) -> None:
    _base(case)
    good = _from_b(_frame(), outer="v6")
    expect_drop(case, 5, _rebuilt(good, plen=good[IPv6].plen + 1), Drop.NET_BAD_LENGTH)
    expect_drop(case, 5, _rebuilt(good, plen=0), Drop.NET_BAD_LENGTH)  # or a jumbogram


@pytest.mark.parametrize("total", [0, 19, 20, 20 + 8, 20 + 8 + 13])
def test_drop_ipv4_total_length_too_short(case: Case, total: int) -> None:
    """Shorter than the IPv4 header, or than GRE with key and the inner Ethernet header
    (the rest of the frame is then a trailer, not NVGRE)."""
    _base(case)
    expect_drop(case, 5, _rebuilt(_from_b(_frame()), len=total), Drop.NET_BAD_LENGTH)


def test_drop_ipv6_payload_length_too_short(case: Case) -> None:
    _base(case)
    expect_drop(case, 5, _rebuilt(_from_b(_frame(), outer="v6"), plen=8 + 13), Drop.NET_BAD_LENGTH)
    pkt = _v6_ext(_frame(), HOPOPTS, _opts(GRE, 16), plen=16 + 8 + 13)
    expect_drop(case, 5, pkt, Drop.NET_BAD_LENGTH)


def test_ipv4_total_length_of_exactly_the_headers_is_accepted(case: Case) -> None:
    """A 14-byte inner frame (no payload): the shortest datagram that carries NVGRE."""
    _base(case)
    inner = Ether(src=T.HR1, dst=T.H1, type=0x88B5)
    expect_forward(case, 5, _from_b(inner), {1: inner})


# -- order -----------------------------------------------------------------------------------


def test_outer_checks_come_first_and_in_order(case: Case) -> None:
    """MAC before version; version and length before the PA, fragment and checksum checks."""
    _base(case)
    good = _from_b(_frame())
    expect_drop(
        case,
        5,
        _from_b(_frame(), dmac=T.ROUTER_MAC[5], outer_extra={"version": 6}),
        Drop.NET_DMAC_NOT_LOCAL,
    )
    expect_drop(
        case,
        5,
        _from_b(_frame(), dst_pa="192.0.2.99", outer_extra={"version": 5}),
        Drop.NET_BAD_VERSION,
    )
    raw = bytearray(bytes(_rebuilt(good, len=good[IP].len + 1, flags=3)))
    raw[24] ^= 0x01  # and a bad header checksum (MF and DF set: also a fragment)
    expect_drop(case, 5, bytes(raw), Drop.NET_BAD_LENGTH)


# -- IPv6 extension headers before GRE ---------------------------------------------------------


@pytest.mark.parametrize(
    "chain",
    [
        ("hbh8",),
        ("dst16",),
        ("hbh32", "dst32"),
        ("dst8", "dst24"),
    ],
    ids="+".join,
)
@pytest.mark.parametrize("to", ["untagged", "tagged"])
def test_ipv6_options_headers_before_gre_are_passed(case: Case, chain: tuple, to: str) -> None:
    """Hop-by-Hop and Destination Options (up to two, 8 to 32 bytes each) before GRE:
    decapsulated as without them (RFC 8200 4: a node not the destination ignores...;
    here the NVE is the destination and the options are only PadN)."""
    _base(case)
    dst = T.H1 if to == "untagged" else T.H2
    frame = customer("v6", T.HR1, dst, *INNER6)
    kinds = [(HOPOPTS if c.startswith("hbh") else DSTOPTS, int(c.lstrip("hbdst"))) for c in chain]
    exts = []
    for i, (kind, size) in enumerate(kinds):
        nh = kinds[i + 1][0] if i + 1 < len(kinds) else GRE
        exts.append(_opts(nh, size, IPv6ExtHdrHopByHop if kind == HOPOPTS else IPv6ExtHdrDestOpt))
    exp = frame if to == "untagged" else tagged(frame, 100)
    expect_forward(case, 6, _v6_ext(frame, kinds[0][0], *exts), {1 if to == "untagged" else 2: exp})


def test_ipv6_options_then_trailer_delivers_only_the_customer_frame(case: Case) -> None:
    """The customer frame's length subtracts the extension headers."""
    _base(case)
    frame = _frame()
    wire = bytes(_v6_ext(frame, HOPOPTS, _opts(DSTOPTS, 8), _opts(GRE, 24, IPv6ExtHdrDestOpt)))
    expect_forward(case, 6, wire + bytes.fromhex("a5a5a5a5a5a5a5a5"), {1: frame})


@pytest.mark.parametrize(
    "first,exts",
    [
        (HOPOPTS, [_opts(GRE, 40)]),  # longer than 32 bytes
        (HOPOPTS, [_opts(DSTOPTS, 8), _opts(GRE, 40, IPv6ExtHdrDestOpt)]),
        (
            HOPOPTS,
            [
                _opts(DSTOPTS, 8),
                _opts(DSTOPTS, 8, IPv6ExtHdrDestOpt),
                _opts(GRE, 8, IPv6ExtHdrDestOpt),
            ],
        ),  # three
        (DSTOPTS, [_opts(HOPOPTS, 8, IPv6ExtHdrDestOpt), _opts(GRE, 8)]),  # HbH not first
    ],
    ids=["hbh40", "hbh8+dst40", "three", "dst+hbh"],
)
def test_ipv6_extension_headers_beyond_the_bound_are_not_nvgre(
    case: Case, first: int, exts: list
) -> None:
    _base(case)
    expect_drop(case, 6, _v6_ext(_frame(), first, *exts), Drop.NET_NOT_NVGRE)


def test_ipv6_options_then_fragment_is_a_fragment(case: Case) -> None:
    _base(case)
    pkt = _v6_ext(_frame(), HOPOPTS, _opts(FRAG, 8), IPv6ExtHdrFragment(nh=GRE, m=1))
    expect_drop(case, 6, pkt, Drop.NET_FRAGMENT)


def test_customer_ipv6_options_are_bridged_unchanged(case: Case) -> None:
    """On an access port the parser now goes past options headers too: the frame must
    leave with them (deparser), byte for byte."""
    _base(case)
    frame = (
        Ether(src=T.H1, dst=T.H2)
        / IPv6(src=INNER6[1], dst=INNER6[0], nh=HOPOPTS)
        / _opts(DSTOPTS, 16)
        / _opts(17, 8, IPv6ExtHdrDestOpt)
        / bytes(8)
    )
    frame = Ether(bytes(frame))
    expect_forward(case, 1, frame, {2: tagged(frame, 100)})


def test_outer_tag_counts_in_the_frame(case: Case) -> None:
    """An outer 802.1Q tag (4 bytes) is not part of the datagram."""
    _base(case)
    pkt = _from_b(_frame(), outer="v6", vid=7)
    assert Dot1Q in pkt
    expect_forward(case, 6, pkt, {1: _frame()})
    expect_drop(case, 6, _rebuilt(pkt, plen=pkt[IPv6].plen + 1), Drop.NET_BAD_LENGTH)
