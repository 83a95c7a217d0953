"""Fragmenting the customer IPv4 packet inside an NVGRE packet (nve.fragment), checked with
scapy: every outer packet fits, the outer headers are the original's (lengths and checksum
redone), and scapy's reassembly of the fragments gives back the customer packet."""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP, UDP, defragment
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Dot1Q, Ether
from scapy.utils import checksum

from nve.fragment import NotFragmentable, fragment_nvgre
from nve_ptf.packets import NVGRE

OPTS = (
    b"\x94\x04\x00\x00"  # Router Alert: copy flag set, in every fragment
    b"\x07\x07\x04"
    + b"\x00" * 4  # Record Route: copy flag clear, first fragment only
    + b"\x00"  # end of options
)


def customer(length: int, options: bytes = b"", flags: int = 0, frag: int = 0):
    head = (
        Ether(src="52:54:00:00:00:01", dst="52:54:00:00:00:02")
        / IP(src="10.1.0.5", dst="10.1.0.9", id=0x4242, flags=flags, frag=frag, options=options)
        / UDP(sport=1, dport=2)
    )
    pad = length - len(bytes(head[IP]))
    return Ether(bytes(head / bytes(i & 0xFF for i in range(pad))))


def nvgre(inner, v6: bool = False, vlan: int | None = None):
    eth = Ether(src="02:00:0a:00:00:01", dst="02:00:0b:00:00:01")
    if vlan is not None:
        eth = eth / Dot1Q(vlan=vlan)
    ip = (
        IPv6(src="fd00:a::1", dst="fd00:9::9", nh=47)
        if v6
        else IP(src="10.0.0.1", dst="10.0.9.9", proto=47, flags="DF", id=77)
    )
    return Ether(bytes(eth / ip / NVGRE(vsid=0x1001, flow_id=0x2A) / inner))


def outer_len(pkt: Ether) -> int:
    return pkt[IP].len if IP in pkt and pkt[IP].proto == 47 else 40 + pkt[IPv6].plen


@pytest.mark.parametrize("v6", [False, True])
@pytest.mark.parametrize("vlan", [None, 7])
@pytest.mark.parametrize("options", [b"", OPTS])
def test_fragments_fit_and_reassemble_to_the_customer_packet(v6, vlan, options) -> None:
    inner = customer(1400, options)
    original = nvgre(inner, v6, vlan)
    mtu = 576
    pieces = [Ether(p) for p in fragment_nvgre(bytes(original), mtu)]
    assert len(pieces) >= 3
    frags: list[IP] = []
    data_so_far = 0
    for i, p in enumerate(pieces):
        assert outer_len(p) <= mtu
        outer = p[IPv6] if v6 else p[IP]
        if not v6:
            assert checksum(bytes(outer)[: outer.ihl * 4]) == 0
            assert (outer.src, outer.dst, outer.flags, outer.id) == ("10.0.0.1", "10.0.9.9", 2, 77)
        assert (p.src, p.dst) == (original.src, original.dst)
        gre = bytes(outer.payload)
        assert gre[:4] == bytes.fromhex("20006558") and gre[4:8] == bytes.fromhex("0010012a")
        cust = Ether(gre[8:])
        assert (cust.src, cust.dst) == (inner.src, inner.dst)
        ip = cust[IP]
        assert checksum(bytes(ip)[: ip.ihl * 4]) == 0, f"fragment {i}: bad checksum"
        assert bool(ip.flags.MF) == (i < len(pieces) - 1)
        assert ip.frag * 8 == data_so_far, "offsets follow the data"
        data_so_far += len(bytes(ip.payload))
        if options and i > 0:
            assert bytes(ip)[20 : ip.ihl * 4] == b"\x94\x04\x00\x00", "only copied options"
        frags.append(ip)
    whole = defragment(frags)
    assert len(whole) == 1 and bytes(whole[0]) == bytes(inner[IP])


def test_a_fragment_is_fragmented_further_with_its_offset_and_mf() -> None:
    inner = customer(1000, flags=1, frag=100)  # MF set, offset 800 bytes
    pieces = [Ether(p) for p in fragment_nvgre(bytes(nvgre(inner)), 500)]
    ips = [Ether(bytes(p[IP].payload)[8:])[IP] for p in pieces]
    assert ips[0].frag == 100 and all(ip.flags.MF for ip in ips), "the last keeps MF"
    data = b"".join(bytes(ip.payload) for ip in ips)
    assert data == bytes(inner[IP].payload)


@pytest.mark.parametrize(
    "packet,why",
    [
        (nvgre(customer(1000, flags=2)), "DF"),
        (Ether(bytes(Ether() / IP(proto=17) / UDP() / (b"x" * 100))), "not GRE"),
        (nvgre(Ether() / IPv6() / UDP() / (b"x" * 1000)), "not IPv4"),
        (b"\x00" * 10, "shorter"),
    ],
)
def test_what_cannot_be_fragmented_says_why(packet, why: str) -> None:
    with pytest.raises(NotFragmentable, match=why):
        fragment_nvgre(bytes(packet), 576)


def test_an_mtu_without_room_for_data_is_refused() -> None:
    with pytest.raises(NotFragmentable, match="no room"):
        fragment_nvgre(bytes(nvgre(customer(1000))), 20 + 8 + 14 + 20 + 7)
