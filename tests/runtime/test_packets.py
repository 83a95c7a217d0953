"""Controller-built frames, checked by scapy (an independent parser and checksum implementation)."""

import ipaddress

from scapy.layers.inet import ICMP, IP, TCP
from scapy.layers.inet6 import (
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6NDOptDstLLAddr,
    ICMPv6PacketTooBig,
    IPv6,
)
from scapy.layers.l2 import Dot1Q, Ether

from nve.packets import frag_needed, neighbor_advertisement, packet_too_big, parse_ethernet

VM_MAC, GW_MAC = "52:54:00:00:00:01", "02:00:00:00:10:01"


def test_frag_needed_quotes_header_and_reports_mtu():
    orig = (
        Ether(src=VM_MAC, dst=GW_MAC)
        / Dot1Q(vlan=100)
        / IP(src="192.168.1.10", dst="10.9.9.9", flags="DF")
        / TCP(sport=1234, dport=80)
        / (b"x" * 1400)
    )
    out = frag_needed(
        parse_ethernet(bytes(orig)),
        1400,
        bytes.fromhex(GW_MAC.replace(":", "")),
        ipaddress.IPv4Address("192.168.1.1"),
    )
    pkt = Ether(out)
    assert pkt[Ether].dst == VM_MAC and pkt[Dot1Q].vlan == 100
    assert pkt[IP].src == "192.168.1.1" and pkt[IP].dst == "192.168.1.10"
    assert pkt[ICMP].type == 3 and pkt[ICMP].code == 4 and pkt[ICMP].nexthopmtu == 1400
    # checksums verified by recomputation in scapy
    again = Ether(bytes(pkt))
    del again[IP].chksum, again[ICMP].chksum
    again = Ether(bytes(again))
    assert again[IP].chksum == pkt[IP].chksum and again[ICMP].chksum == pkt[ICMP].chksum
    assert bytes(pkt[ICMP].payload)[:20] == bytes(orig[IP])[:20]


def test_packet_too_big_for_ipv6():
    orig = Ether(src=VM_MAC, dst=GW_MAC) / IPv6(src="fd00::10", dst="fd00:9::1") / (b"y" * 1500)
    out = packet_too_big(
        parse_ethernet(bytes(orig)), 1400, bytes(6), ipaddress.IPv6Address("fd00::1")
    )
    pkt = Ether(out)
    assert pkt[IPv6].dst == "fd00::10"
    assert pkt[ICMPv6PacketTooBig].mtu == 1400
    assert len(bytes(pkt[IPv6])) <= 1280
    want = pkt[ICMPv6PacketTooBig].cksum
    del pkt[ICMPv6PacketTooBig].cksum
    assert Ether(bytes(pkt))[ICMPv6PacketTooBig].cksum == want


def test_neighbor_advertisement_answers_solicitation():
    ns = (
        Ether(src=VM_MAC, dst="33:33:ff:00:00:20")
        / IPv6(src="fd00::10", dst="ff02::1:ff00:20")
        / ICMPv6ND_NS(tgt="fd00::20")
    )
    target_mac = bytes.fromhex("525400000020")
    out = neighbor_advertisement(
        parse_ethernet(bytes(ns)), ipaddress.IPv6Address("fd00::20"), target_mac
    )
    pkt = Ether(out)
    na = pkt[ICMPv6ND_NA]
    assert pkt[IPv6].dst == "fd00::10" and pkt[Ether].dst == VM_MAC
    assert na.tgt == "fd00::20" and na.S == 1 and na.O == 1 and na.R == 0
    assert pkt[ICMPv6NDOptDstLLAddr].lladdr == "52:54:00:00:00:20"
    want = na.cksum
    del pkt[ICMPv6ND_NA].cksum
    assert Ether(bytes(pkt))[ICMPv6ND_NA].cksum == want


def test_non_matching_frames_give_none():
    arp = bytes(Ether(type=0x0806) / (b"\x00" * 30))
    assert (
        frag_needed(parse_ethernet(arp), 1400, bytes(6), ipaddress.IPv4Address("1.1.1.1")) is None
    )
    assert parse_ethernet(b"\x00" * 5) is None
