"""nve.nvgre: splitting an NVGRE packet punted from a network port and answering it in NVGRE."""

from __future__ import annotations

import ipaddress

import pytest
from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Dot1Q, Ether

from nve.nvgre import NotNvgre, parse_nvgre, reply_nvgre
from nve_ptf.packets import NVGRE

INNER = bytes(Ether(src="52:54:00:00:00:01", dst="02:00:00:00:00:01") / b"customer")


def _packet(**gre) -> bytes:
    return bytes(
        Ether(src="02:00:0b:00:00:01", dst="02:00:0a:00:00:01")
        / Dot1Q(vlan=7)
        / IP(src="10.0.9.9", dst="10.0.0.1", proto=47)
        / NVGRE(vsid=0x00ABCD, flow_id=0x5A, **gre)
        / INNER
    )


def test_parse_keeps_what_a_reply_needs() -> None:
    got = parse_nvgre(_packet())
    assert (got.vsid, got.flow_id, got.underlay_vlan) == (0x00ABCD, 0x5A, 7)
    assert (str(got.outer_src), str(got.outer_dst)) == ("10.0.9.9", "10.0.0.1")
    assert got.inner == INNER


def test_reserved_bits_6_to_12_are_ignored() -> None:
    """RFC 2784 §2.3: bits 6-12 MUST be ignored on receipt."""
    assert parse_nvgre(_packet(reserved0=0x7F)).vsid == 0x00ABCD


@pytest.mark.parametrize(
    "gre", [{"c": 1}, {"r0": 1}, {"k": 0}, {"s": 1}, {"reserved0": 0x100}, {"ver": 1}]
)
def test_bits_1_to_5_version_and_a_missing_key_are_not_nvgre(gre: dict[str, int]) -> None:
    with pytest.raises(NotNvgre, match="not NVGRE"):
        parse_nvgre(_packet(**gre))


@pytest.mark.parametrize("cut", [10, 20, 40, 52])
def test_truncated_packets_are_not_nvgre(cut: int) -> None:
    with pytest.raises(NotNvgre):
        parse_nvgre(_packet()[:cut])


def test_the_reply_goes_back_the_way_the_packet_came() -> None:
    answer = bytes(Ether(src="02:00:00:00:00:01", dst="52:54:00:00:00:01") / b"answer")
    p = Ether(reply_nvgre(parse_nvgre(_packet()), answer, ttl=33))
    assert (p.dst, p.src, p[Dot1Q].vlan) == ("02:00:0b:00:00:01", "02:00:0a:00:00:01", 7)
    assert (p[IP].src, p[IP].dst, p[IP].ttl, p[IP].flags.DF) == ("10.0.0.1", "10.0.9.9", 33, True)
    gre = NVGRE(bytes(p[IP].payload)[:8])
    assert (gre.k, gre.vsid, gre.flow_id) == (1, 0x00ABCD, 0)
    assert bytes(p[IP].payload)[8:] == answer


def test_an_ipv6_underlay_reply_is_ipv6() -> None:
    packet = bytes(Ether() / IPv6(src="fd00:9::9", dst="fd00:a::1", nh=47) / NVGRE(vsid=3) / INNER)
    p = Ether(reply_nvgre(parse_nvgre(packet), INNER, ttl=64))
    assert (p[IPv6].src, p[IPv6].dst, p[IPv6].hlim) == ("fd00:a::1", "fd00:9::9", 64)
    assert p[IPv6].plen == 8 + len(INNER)
    assert parse_nvgre(bytes(p)).outer_src == ipaddress.IPv6Address("fd00:a::1")
