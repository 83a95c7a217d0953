"""Frames for the packet tests, built independently of the pipeline with scapy.

The NVGRE header is declared here from RFC 7637 section 3.2 (not taken from scapy's
generic GRE layer), so that a test states every bit it expects on the wire. FlowIDs and
ECMP buckets are recomputed with the test's own CRC-16/ARC, outer IPv6 flow labels with
its own CRC-32 (docs/pipeline.md, "Hashes"): nothing expected by a test comes from the
code under test.
"""

from __future__ import annotations

import ipaddress

from scapy.fields import BitField, ThreeBytesField, XByteField, XShortField
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Dot1Q, Ether
from scapy.packet import Packet, Raw

ETH_IPV4, ETH_IPV6, ETH_ARP, ETH_VLAN, ETH_QINQ, ETH_TEB = (
    0x0800,
    0x86DD,
    0x0806,
    0x8100,
    0x88A8,
    0x6558,
)


class NVGRE(Packet):
    """GRE (RFC 2784/2890) as NVGRE uses it: C=0, K=1, S=0, version 0, protocol 0x6558,
    the 32-bit key split into VSID (24 bits) and FlowID (8 bits), RFC 7637 section 3.2."""

    name = "NVGRE"
    fields_desc = [  # noqa: RUF012 (scapy reads this class attribute; it is never mutated)
        BitField("c", 0, 1),
        BitField("r0", 0, 1),
        BitField("k", 1, 1),
        BitField("s", 0, 1),
        BitField("reserved0", 0, 9),
        BitField("ver", 0, 3),
        XShortField("proto", ETH_TEB),
        ThreeBytesField("vsid", 0),
        XByteField("flow_id", 0),
    ]


# -- CRC-16/ARC and the pipeline's hashes ----------------------------------------------


def crc16_arc(data: bytes) -> int:
    """CRC-16/ARC: polynomial 0x8005 reflected (0xA001), init 0, no final XOR (check: 0xBB3D)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def crc32_ieee(data: bytes) -> int:
    """CRC-32 (IEEE 802.3, as zlib): polynomial 0x04C11DB7 reflected (0xEDB88320), init
    0xFFFFFFFF, final XOR 0xFFFFFFFF (check: 0xCBF43926)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xEDB88320 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def _ip_bytes(addr: str) -> bytes:
    return ipaddress.ip_address(addr).packed


def _mac_bytes(mac: str) -> bytes:
    return bytes(int(x, 16) for x in mac.split(":"))


def flow_hash_input(customer: Packet) -> bytes:
    """The bytes the FlowID and the outer flow label hash, of a customer frame (untagged, as
    encapsulated): the 5-tuple for IPv4/IPv6 (ports 0 without a first TCP/UDP header or
    for fragments), else destination MAC, source MAC and EtherType."""
    frame = Ether(bytes(customer))
    if IP in frame:
        ip = frame[IP]
        is_frag = bool(ip.flags & 0x1) or ip.frag != 0
        sport = dport = 0
        if not is_frag and ip.proto in (6, 17) and (TCP in ip or UDP in ip):
            l4 = ip.payload
            sport, dport = l4.sport, l4.dport
        data = (
            _ip_bytes(ip.src)
            + _ip_bytes(ip.dst)
            + bytes([ip.proto])
            + sport.to_bytes(2, "big")
            + dport.to_bytes(2, "big")
        )
    elif IPv6 in frame:
        ip6 = frame[IPv6]
        sport = dport = 0
        if ip6.nh in (6, 17) and (TCP in ip6 or UDP in ip6):
            l4 = ip6.payload
            sport, dport = l4.sport, l4.dport
        data = (
            _ip_bytes(ip6.src)
            + _ip_bytes(ip6.dst)
            + bytes([ip6.nh])
            + sport.to_bytes(2, "big")
            + dport.to_bytes(2, "big")
        )
    else:
        data = _mac_bytes(frame.dst) + _mac_bytes(frame.src) + frame.type.to_bytes(2, "big")
    return data


def flow_id(customer: Packet) -> int:
    """FlowID of a customer frame (untagged, as encapsulated): low 8 bits of CRC-16 over
    :func:`flow_hash_input`."""
    return crc16_arc(flow_hash_input(customer)) & 0xFF


FLOW_LABEL_FOR_ZERO_HASH = 1  # sent when the 20 hashed bits are 0 ("no label", RFC 6437)


def outer_flow_label(customer: Packet) -> int:
    """Outer IPv6 flow label of an encapsulated customer frame (RFC 6438): low 20 bits of
    CRC-32 over :func:`flow_hash_input`, 0 replaced by FLOW_LABEL_FOR_ZERO_HASH. Sent toward
    every IPv6 remote NVE, with or without FlowID."""
    return crc32_ieee(flow_hash_input(customer)) & 0xFFFFF or FLOW_LABEL_FOR_ZERO_HASH


def gre_key(vsid: int, customer: Packet, with_flow_id: bool) -> int:
    return (vsid << 8) | (flow_id(customer) if with_flow_id else 0)


def ecmp_bucket(src_pa: str, dst_pa: str, key: int, size: int) -> int:
    """ECMP member index: CRC-16 over outer source PA, destination PA and the 32-bit key, mod size (RFC 7637 4.1)."""
    return crc16_arc(_ip_bytes(src_pa) + _ip_bytes(dst_pa) + key.to_bytes(4, "big")) % size


# -- customer frames ----------------------------------------------------------------------

PAYLOAD = bytes(range(48))  # makes every frame longer than the Ethernet minimum


def customer(
    kind: str,
    smac: str,
    dmac: str,
    src: str | None = None,
    dst: str | None = None,
    *,
    sport: int = 1234,
    dport: int = 80,
    ttl: int = 64,
    tos: int = 0,
    flags: str | int = "DF",
    payload: bytes = PAYLOAD,
) -> Packet:
    """A customer frame, untagged. kind: "v4" (UDP), "v4tcp", "v6" (UDP), "v6tcp", "l2" (EtherType 0x88B5)."""
    eth = Ether(src=smac, dst=dmac)
    if kind in ("v4", "v4tcp"):
        l4 = (
            UDP(sport=sport, dport=dport)
            if kind == "v4"
            else TCP(sport=sport, dport=dport, flags="S")
        )
        return (
            eth
            / IP(src=src or "10.0.0.1", dst=dst or "10.0.0.2", ttl=ttl, tos=tos, flags=flags, id=7)
            / l4
            / payload
        )
    if kind in ("v6", "v6tcp"):
        l4 = (
            UDP(sport=sport, dport=dport)
            if kind == "v6"
            else TCP(sport=sport, dport=dport, flags="S")
        )
        return (
            eth / IPv6(src=src or "fd00::1", dst=dst or "fd00::2", hlim=ttl, tc=tos) / l4 / payload
        )
    if kind == "l2":
        return Ether(src=smac, dst=dmac, type=0x88B5) / payload
    raise ValueError(f"unknown customer frame kind {kind!r}")


def tagged(frame: Packet, vid: int, tpid: int = ETH_VLAN, pcp: int = 0) -> Packet:
    """The same frame with an 802.1Q (or, tpid=0x88A8, 802.1ad) tag after the MACs."""
    eth = Ether(bytes(frame))
    inner = eth.payload
    out = (
        Ether(src=eth.src, dst=eth.dst, type=tpid)
        / Dot1Q(vlan=vid, prio=pcp, type=eth.type)
        / inner
    )
    return Ether(bytes(out))


def untag(frame: Packet) -> Packet:
    eth = Ether(bytes(frame))
    if Dot1Q not in eth:
        return eth
    return Ether(src=eth.src, dst=eth.dst, type=eth[Dot1Q].type) / eth[Dot1Q].payload


# -- NVGRE encapsulation as a test expects it on the wire -------------------------------


def nvgre(
    inner: Packet,
    *,
    src_pa: str,
    dst_pa: str,
    vsid: int,
    flow: int = 0,
    smac: str,
    dmac: str,
    vid: int = 0,
    ttl: int = 64,
    dscp: int = 0,
    ecn: int = 0,
    df: bool = True,
    ip_id: int = 0,
    gre: dict | None = None,
    outer_extra: dict | None = None,
    flow_label: int | None = None,
) -> Packet:
    """An NVGRE packet: outer Ethernet (+ tag), outer IPv4 or IPv6 (by the PA family), NVGRE, inner frame.

    An outer IPv6 header carries flow_label, by default the one this NVE computes from the
    inner frame (:func:`outer_flow_label`, RFC 6438)."""
    v6 = ":" in src_pa
    eth_type = ETH_IPV6 if v6 else ETH_IPV4
    if vid:
        outer_eth = Ether(src=smac, dst=dmac, type=ETH_VLAN) / Dot1Q(vlan=vid, type=eth_type)
    else:
        outer_eth = Ether(src=smac, dst=dmac, type=eth_type)
    tos = (dscp << 2) | ecn
    extra = outer_extra or {}
    ip: Packet
    if v6:
        fl = outer_flow_label(inner) if flow_label is None else flow_label
        ip = IPv6(src=src_pa, dst=dst_pa, nh=47, hlim=ttl, tc=tos, fl=fl, **extra)
    else:
        ip = IP(
            src=src_pa,
            dst=dst_pa,
            proto=47,
            ttl=ttl,
            tos=tos,
            flags="DF" if df else 0,
            id=ip_id,
            **extra,
        )
    return Ether(bytes(outer_eth / ip / NVGRE(vsid=vsid, flow_id=flow, **(gre or {})) / inner))


def arp_request(smac: str, sip: str, tip: str, *, dmac: str = "ff:ff:ff:ff:ff:ff") -> Packet:
    return Ether(src=smac, dst=dmac) / ARP(
        op=1, hwsrc=smac, psrc=sip, hwdst="00:00:00:00:00:00", pdst=tip
    )


def arp_reply(answer_mac: str, answer_ip: str, to_mac: str, to_ip: str) -> Packet:
    """The ARP reply RFC 826 prescribes, from answer_mac/answer_ip to the requester."""
    return Ether(src=answer_mac, dst=to_mac) / ARP(
        op=2, hwsrc=answer_mac, psrc=answer_ip, hwdst=to_mac, pdst=to_ip
    )


def raw(data: bytes) -> Packet:
    return Ether(data) if len(data) >= 14 else Raw(data)
