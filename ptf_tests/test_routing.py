"""Routing between the virtual subnets of one tenant (RFC 7637 section 4.6).

Frames to the subnet gateway's MAC are routed by (VRF, destination) to a CA: the source
MAC becomes the destination subnet's gateway MAC, the destination MAC the CA's, TTL /
hop limit drops by one (IPv4 checksum recomputed, options kept). The expected frames are
rebuilt here with scapy, which recomputes the checksum independently.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from nve.p4names import Drop
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case
from nve_ptf.expect import expect_drop, expect_forward
from nve_ptf.packets import customer, flow_id, nvgre, tagged

pytestmark = pytest.mark.root

H1_IP, H3_IP, HR2_IP = "10.1.0.5", "10.2.0.7", "10.2.0.8"
H1_IP6, H3_IP6 = "fd00:1::5", "fd00:2::7"


def _tenant(case: Case) -> None:
    """Tenant A (VRF 10): A1 (10.1.0.0/24) on port 1, A2 (10.2.0.0/24) on port 3, H3 in A2,
    HR2 in A2 behind remote NVE B; host routes to H3 and HR2."""
    case.install(
        T.routed_tenant(),
        E.remote_ca(T.VSI_A2, T.HR2, 1),
        E.remote_nve(1, T.PA4, T.REMOTE4),
        T.underlay_v4(),
        E.my_mac(T.NVE_MAC),
        E.my_pa(T.PA4),
        E.peer(T.VSID_A1, T.REMOTE4, 1),
        E.peer(T.VSID_A2, T.REMOTE4, 1),
        E.route(T.VRF_A, f"{H3_IP}/32", vsi=T.VSI_A2, vsid=T.VSID_A2, smac=T.GW_A2, dmac=T.H3),
        E.route(T.VRF_A, f"{HR2_IP}/32", vsi=T.VSI_A2, vsid=T.VSID_A2, smac=T.GW_A2, dmac=T.HR2),
        E.route(T.VRF_A, f"{H3_IP6}/128", vsi=T.VSI_A2, vsid=T.VSID_A2, smac=T.GW_A2, dmac=T.H3),
    )


def _routed(frame, smac: str, dmac: str):
    """What a router makes of frame: new MACs, TTL/hop limit - 1, IPv4 checksum recomputed by scapy."""
    f = Ether(bytes(frame))
    f.src, f.dst = smac, dmac
    if IP in f:
        f[IP].ttl -= 1
        del f[IP].chksum
    else:
        f[IPv6].hlim -= 1
    return Ether(bytes(f))


@pytest.mark.parametrize("fam", ["v4", "v6"])
def test_route_to_local_ca(case: Case, fam: str) -> None:
    _tenant(case)
    src, dst = (H1_IP, H3_IP) if fam == "v4" else (H1_IP6, H3_IP6)
    f = customer(fam, T.H1, T.GW_A1, src, dst, ttl=20)
    expect_forward(case, 1, f, {3: _routed(f, T.GW_A2, T.H3)})


def test_route_to_remote_ca_encapsulates_in_the_destination_vsid(case: Case) -> None:
    """The routed frame is encapsulated with the destination subnet's VSID; FlowID over the routed frame."""
    _tenant(case)
    f = customer("v4", T.H1, T.GW_A1, H1_IP, HR2_IP, ttl=20)
    r = _routed(f, T.GW_A2, T.HR2)
    exp = nvgre(
        r,
        src_pa=T.PA4,
        dst_pa=T.REMOTE4,
        vsid=T.VSID_A2,
        flow=flow_id(r),
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[5],
    )
    expect_forward(case, 1, f, {5: exp})


def test_route_decapsulated_frame_to_local_ca(case: Case) -> None:
    """A frame from the network to A1's gateway is routed into A2 and delivered locally."""
    _tenant(case)
    f = customer("v4", T.HR1, T.GW_A1, "10.1.0.9", H3_IP, ttl=30)
    pkt = nvgre(
        f, src_pa=T.REMOTE4, dst_pa=T.PA4, vsid=T.VSID_A1, smac=T.ROUTER_MAC[5], dmac=T.NVE_MAC
    )
    expect_forward(case, 5, pkt, {3: _routed(f, T.GW_A2, T.H3)})


def test_routed_between_subnets_on_the_same_port(case: Case) -> None:
    """A2 also on port 1 with VLAN 200: a routed frame may leave by its ingress port, with A2's tag."""
    _tenant(case)
    case.install(
        E.attach(1, T.VSI_A2, vid=200),
        E.local_ca(T.VSI_A2, T.H4, 1),
        E.route(T.VRF_A, "10.2.0.44/32", vsi=T.VSI_A2, vsid=T.VSID_A2, smac=T.GW_A2, dmac=T.H4),
    )
    f = customer("v4", T.H1, T.GW_A1, H1_IP, "10.2.0.44")
    expect_forward(case, 1, f, {1: tagged(_routed(f, T.GW_A2, T.H4), 200)})


def test_ipv4_options_kept_and_checksum_correct(case: Case) -> None:
    _tenant(case)
    f = Ether(
        bytes(
            Ether(src=T.H1, dst=T.GW_A1)
            / IP(src=H1_IP, dst=H3_IP, ttl=9, options=b"\x94\x04\x00\x00\x01\x01\x01\x00")
            / UDP(sport=9, dport=9)
            / (b"p" * 30)
        )
    )
    assert f[IP].ihl == 7
    expect_forward(case, 1, f, {3: _routed(f, T.GW_A2, T.H3)})


def test_vrf_default_route_to_vpn_gateway(case: Case) -> None:
    """Section 4.6: a VRF default route sends everything else to the tenant's VPN gateway CA."""
    _tenant(case)
    gw_ca = "02:00:00:00:0a:0a"
    case.install(
        E.local_ca(T.VSI_A2, gw_ca, 3),
        E.route(T.VRF_A, "0.0.0.0/0", vsi=T.VSI_A2, vsid=T.VSID_A2, smac=T.GW_A2, dmac=gw_ca),
    )
    f = customer("v4", T.H1, T.GW_A1, H1_IP, "8.8.4.4")
    expect_forward(case, 1, f, {3: _routed(f, T.GW_A2, gw_ca)})
    # The longer host route still wins.
    f2 = customer("v4", T.H1, T.GW_A1, H1_IP, H3_IP)
    expect_forward(case, 1, f2, {3: _routed(f2, T.GW_A2, T.H3)})


@pytest.mark.parametrize("fam", ["v4", "v6"])
@pytest.mark.parametrize("ttl", [1, 0])
def test_drop_ttl_expired(case: Case, fam: str, ttl: int) -> None:
    _tenant(case)
    src, dst = (H1_IP, H3_IP) if fam == "v4" else (H1_IP6, H3_IP6)
    expect_drop(case, 1, customer(fam, T.H1, T.GW_A1, src, dst, ttl=ttl), Drop.TTL_EXPIRED)


def test_ttl_two_is_routed_with_ttl_one(case: Case) -> None:
    _tenant(case)
    f = customer("v4", T.H1, T.GW_A1, H1_IP, H3_IP, ttl=2)
    r = _routed(f, T.GW_A2, T.H3)
    assert r[IP].ttl == 1
    expect_forward(case, 1, f, {3: r})


@pytest.mark.parametrize("fam", ["v4", "v6"])
def test_drop_route_miss(case: Case, fam: str) -> None:
    _tenant(case)
    src, dst = (H1_IP, "10.9.9.9") if fam == "v4" else (H1_IP6, "fd00:9::9")
    expect_drop(case, 1, customer(fam, T.H1, T.GW_A1, src, dst), Drop.ROUTE_MISS)


def test_drop_routed_dmac_unknown(case: Case) -> None:
    _tenant(case)
    case.install(
        E.route(
            T.VRF_A,
            "10.2.0.99/32",
            vsi=T.VSI_A2,
            vsid=T.VSID_A2,
            smac=T.GW_A2,
            dmac="02:00:00:00:99:99",
        )
    )
    expect_drop(
        case, 1, customer("v4", T.H1, T.GW_A1, H1_IP, "10.2.0.99"), Drop.ROUTED_DMAC_UNKNOWN
    )


def test_no_routing_in_a_subnet_without_vrf(case: Case) -> None:
    """vrf 0 disables routing: a frame to the gateway MAC is just bridged (here: flooded, group has port 2)."""
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1, vrf=0, gw_mac=T.GW_A1),
        E.attach(1, T.VSI_A1),
        E.attach(2, T.VSI_A1),
        E.flood_group(T.VSI_A1, [1, 2]),
        E.route(0, f"{H3_IP}/32", vsi=T.VSI_A2, vsid=T.VSID_A2, smac=T.GW_A2, dmac=T.H3),
    )
    f = customer("v4", T.H1, T.GW_A1, H1_IP, H3_IP)
    expect_forward(case, 1, f, {2: f}, drops={Drop.PRUNE_INGRESS_PORT: 1})


def _bad_checksum(frame):
    """frame with its (first) IPv4 header checksum corrupted; nothing else changed."""
    bad = Ether(bytes(frame))
    bad[IP].chksum ^= 0x0101
    assert bytes(bad) != bytes(frame)
    return Ether(bytes(bad))


@pytest.mark.parametrize("ttl", [20, 1])
def test_drop_routed_bad_checksum_from_access(case: Case, ttl: int) -> None:
    """RFC 1812 5.2.2: a router verifies the header checksum first (before TTL), and drops
    a wrong one instead of forwarding it under a freshly computed checksum."""
    _tenant(case)
    f = _bad_checksum(customer("v4", T.H1, T.GW_A1, H1_IP, H3_IP, ttl=ttl))
    expect_drop(case, 1, f, Drop.ROUTED_BAD_CHECKSUM, count=2)


def test_drop_routed_bad_checksum_with_options(case: Case) -> None:
    """The options are part of the verified header: a corrupted option byte is a bad checksum."""
    _tenant(case)
    good = Ether(
        bytes(
            Ether(src=T.H1, dst=T.GW_A1)
            / IP(src=H1_IP, dst=H3_IP, ttl=9, options=b"\x94\x04\x00\x00\x01\x01\x01\x00")
            / UDP(sport=9, dport=9)
            / (b"p" * 30)
        )
    )
    raw = bytearray(bytes(good))
    raw[14 + 20 + 5] ^= 0x10  # inside the options, checksum left as it was
    expect_drop(case, 1, raw, Drop.ROUTED_BAD_CHECKSUM)


def test_drop_routed_bad_inner_checksum_after_decap(case: Case) -> None:
    """From the network, the inner IPv4 header is what is routed: it is verified too, and the
    drop says ROUTED_BAD_CHECKSUM, not the outer header's NET_BAD_CHECKSUM."""
    _tenant(case)
    f = _bad_checksum(customer("v4", T.HR1, T.GW_A1, "10.1.0.9", H3_IP, ttl=30))
    pkt = nvgre(
        f, src_pa=T.REMOTE4, dst_pa=T.PA4, vsid=T.VSID_A1, smac=T.ROUTER_MAC[5], dmac=T.NVE_MAC
    )
    expect_drop(case, 5, pkt, Drop.ROUTED_BAD_CHECKSUM)


def _ipv4_header_changed(frame, **fields: int) -> bytes:
    """frame (Ethernet + IPv4, no options) with its IPv4 version, ihl or total_len changed
    and the header checksum recomputed over the 20 fixed bytes: only that field is wrong."""
    raw = bytearray(bytes(frame))
    ip = 14
    version, ihl = raw[ip] >> 4, raw[ip] & 0xF
    version, ihl = fields.get("version", version), fields.get("ihl", ihl)
    raw[ip] = (version << 4) | ihl
    if "total_len" in fields:
        raw[ip + 2 : ip + 4] = fields["total_len"].to_bytes(2, "big")
    raw[ip + 10 : ip + 12] = b"\x00\x00"
    total = sum(int.from_bytes(raw[i : i + 2], "big") for i in range(ip, ip + 20, 2))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    raw[ip + 10 : ip + 12] = (~total & 0xFFFF).to_bytes(2, "big")
    return bytes(raw)


# The frame below has 14 + 20 + 8 + len(PAYLOAD) bytes; its IP bytes are len(frame) - 14.
BAD_HEADERS = {
    "version 5": lambda n: {"version": 5},
    "version 6 under EtherType 0x0800": lambda n: {"version": 6},
    "IHL 4": lambda n: {"ihl": 4},
    "total length one past the frame": lambda n: {"total_len": n + 1},
    "total length shorter than the header": lambda n: {"total_len": 19},
}


@pytest.mark.parametrize("bad", list(BAD_HEADERS))
def test_drop_routed_bad_ipv4_header_from_access(case: Case, bad: str) -> None:
    """RFC 1812 5.2.2: after the checksum, a router checks version, IHL and total length;
    each case has a right checksum, so only ROUTED_BAD_HEADER can drop it."""
    _tenant(case)
    f = customer("v4", T.H1, T.GW_A1, H1_IP, H3_IP, ttl=20)
    raw = _ipv4_header_changed(f, **BAD_HEADERS[bad](len(bytes(f)) - 14))
    expect_drop(case, 1, raw, Drop.ROUTED_BAD_HEADER)


@pytest.mark.parametrize("bad", ["version 5", "total length one past the frame"])
def test_drop_routed_bad_inner_ipv4_header_after_decap(case: Case, bad: str) -> None:
    """From the network the inner header is the one routed: its version and total length
    (against the customer frame the outer datagram carries) are checked the same way."""
    _tenant(case)
    f = customer("v4", T.HR1, T.GW_A1, "10.1.0.9", H3_IP, ttl=30)
    inner = Raw(_ipv4_header_changed(f, **BAD_HEADERS[bad](len(bytes(f)) - 14)))
    pkt = nvgre(
        inner, src_pa=T.REMOTE4, dst_pa=T.PA4, vsid=T.VSID_A1, smac=T.ROUTER_MAC[5], dmac=T.NVE_MAC
    )
    expect_drop(case, 5, pkt, Drop.ROUTED_BAD_HEADER)


def test_route_ipv4_with_padding_after_the_datagram(case: Case) -> None:
    """A total length shorter than the frame (Ethernet padding, a trailer) is allowed: the
    check's neighbour is routed."""
    _tenant(case)
    f = customer("v4", T.H1, T.GW_A1, H1_IP, H3_IP, ttl=20)
    padded = Ether(bytes(f) + b"\x00" * 6)
    expect_forward(case, 1, padded, {3: _routed(padded, T.GW_A2, T.H3)})


def test_route_decapsulated_frame_after_ecn_rewrite(case: Case) -> None:
    """Outer CE onto inner ECT(0) rewrites the inner ECN (RFC 6040) before routing; the inner
    checksum is judged on the header as received, so this correct packet is still routed."""
    _tenant(case)
    f = customer("v4", T.HR1, T.GW_A1, "10.1.0.9", H3_IP, ttl=30, tos=2)
    pkt = nvgre(
        f,
        src_pa=T.REMOTE4,
        dst_pa=T.PA4,
        vsid=T.VSID_A1,
        smac=T.ROUTER_MAC[5],
        dmac=T.NVE_MAC,
        ecn=3,
    )
    marked = Ether(bytes(f))
    marked[IP].tos = 3
    del marked[IP].chksum
    expect_forward(case, 5, pkt, {3: _routed(Ether(bytes(marked)), T.GW_A2, T.H3)})


@pytest.mark.parametrize("side", ["access", "network"])
def test_bridged_bad_checksum_delivered_unchanged(case: Case, side: str) -> None:
    """Bridging is layer 2: an IPv4 packet with a wrong checksum that is not routed leaves
    byte for byte as it came (no drop, no repaired checksum)."""
    _tenant(case)
    case.install(E.attach(2, T.VSI_A1), E.local_ca(T.VSI_A1, T.H2, 2))
    if side == "access":
        f = _bad_checksum(customer("v4", T.H1, T.H2, H1_IP, "10.1.0.6"))
        expect_forward(case, 1, f, {2: f})
    else:
        f = _bad_checksum(customer("v4", T.HR1, T.H1, "10.1.0.9", H1_IP))
        pkt = nvgre(
            f, src_pa=T.REMOTE4, dst_pa=T.PA4, vsid=T.VSID_A1, smac=T.ROUTER_MAC[5], dmac=T.NVE_MAC
        )
        expect_forward(case, 5, pkt, {1: f})


HR3, HR3_IP = "02:00:00:00:02:03", "10.2.0.9"  # in A2, behind remote NVE C


def test_route_decapsulated_frame_to_a_ca_behind_another_remote_nve(case: Case) -> None:
    """The gateway of hosts behind other NVEs (RFC 7637 section 4.6): a frame from B to A1's
    gateway, for a CA of A2 behind C, is routed and encapsulated toward C in A2's VSID.
    Split horizon is for bridged frames only."""
    _tenant(case)
    case.install(
        E.remote_nve(2, T.PA4, T.REMOTE4_C),
        E.remote_ca(T.VSI_A2, HR3, 2),
        E.route(T.VRF_A, f"{HR3_IP}/32", vsi=T.VSI_A2, vsid=T.VSID_A2, smac=T.GW_A2, dmac=HR3),
    )
    f = customer("v4", T.HR1, T.GW_A1, "10.1.0.9", HR3_IP, ttl=30)
    pkt = nvgre(
        f, src_pa=T.REMOTE4, dst_pa=T.PA4, vsid=T.VSID_A1, smac=T.ROUTER_MAC[5], dmac=T.NVE_MAC
    )
    r = _routed(f, T.GW_A2, HR3)
    exp = nvgre(
        r,
        src_pa=T.PA4,
        dst_pa=T.REMOTE4_C,
        vsid=T.VSID_A2,
        flow=flow_id(r),
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[5],
    )
    expect_forward(case, 5, pkt, {5: exp})


def test_decapsulated_frame_bridged_toward_a_tunnel_is_still_split_horizon(case: Case) -> None:
    """A frame from B for HR2 (A2, behind B) in A2 itself is bridged, and never re-enters a
    tunnel (RFC 7637 section 4.2)."""
    _tenant(case)
    f = customer("v4", T.HR1, T.HR2, "10.2.0.50", HR2_IP)
    pkt = nvgre(
        f, src_pa=T.REMOTE4, dst_pa=T.PA4, vsid=T.VSID_A2, smac=T.ROUTER_MAC[5], dmac=T.NVE_MAC
    )
    expect_drop(case, 5, pkt, Drop.SPLIT_HORIZON)


# RFC 1812 section 5.3.7, RFC 3927 section 7, RFC 4291 sections 2.5.2-2.5.6 and 2.7: a
# router never forwards martian sources or destinations. A default route in the VRF
# makes every destination routable, so only the martian check can stop these.
MARTIAN_V4 = ["0.1.2.3", "127.0.0.1", "169.254.1.1", "224.0.0.5", "239.255.255.250"]
MARTIAN_V4 += ["240.0.0.1", "255.255.255.255"]
MARTIAN_V6 = ["::", "::1", "fe80::1", "febf::1", "ff02::1", "ff0e::5"]


def _tenant_with_default_routes(case: Case) -> None:
    _tenant(case)
    case.install(
        E.route(T.VRF_A, "0.0.0.0/0", vsi=T.VSI_A2, vsid=T.VSID_A2, smac=T.GW_A2, dmac=T.H3),
        E.route(T.VRF_A, "::/0", vsi=T.VSI_A2, vsid=T.VSID_A2, smac=T.GW_A2, dmac=T.H3),
    )


@pytest.mark.parametrize("addr", MARTIAN_V4 + MARTIAN_V6)
def test_drop_routed_martian_source(case: Case, addr: str) -> None:
    _tenant_with_default_routes(case)
    fam, dst = ("v6", H3_IP6) if ":" in addr else ("v4", H3_IP)
    f = customer(fam, T.H1, T.GW_A1, addr, dst)
    expect_drop(case, 1, f, Drop.ROUTED_MARTIAN_SRC)


@pytest.mark.parametrize("addr", MARTIAN_V4 + MARTIAN_V6)
def test_drop_routed_martian_destination(case: Case, addr: str) -> None:
    _tenant_with_default_routes(case)
    fam, src = ("v6", H1_IP6) if ":" in addr else ("v4", H1_IP)
    f = customer(fam, T.H1, T.GW_A1, src, addr)
    expect_drop(case, 1, f, Drop.ROUTED_MARTIAN_DST)


@pytest.mark.parametrize(
    "src,dst",
    [
        ("1.0.0.1", "126.255.255.255"),
        ("128.0.0.1", "169.253.255.255"),
        ("169.255.0.1", "223.255.255.255"),
        ("fec0::1", "fe7f::1"),
        ("2001:db8::1", "::2"),
    ],
)
def test_addresses_next_to_the_martian_ranges_are_routed(case: Case, src: str, dst: str) -> None:
    _tenant_with_default_routes(case)
    fam = "v6" if ":" in src else "v4"
    f = customer(fam, T.H1, T.GW_A1, src, dst, ttl=9)
    expect_forward(case, 1, f, {3: _routed(f, T.GW_A2, T.H3)})
