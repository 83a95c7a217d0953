"""NVGRE packets as the controller sees them in punts from network ports.

A punt from a network port carries the packet as received: the underlay Ethernet header
(an 802.1Q tag allowed), the outer IPv4 or IPv6 header, GRE with the key (RFC 7637 §3.2:
VSID in the upper 24 bits, FlowID in the lower 8) and the customer frame. `parse_nvgre`
splits such a packet; `reply_nvgre` wraps a frame the controller answers with (an echo
reply or Time Exceeded of a tenant gateway) in the reverse outer headers, so that it goes
back to the NVE that sent the punted packet, by the underlay neighbour that delivered it.
Plain struct code, like nve.packets.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

from nve.packets import ETH_IPV4, ETH_IPV6, ETH_VLAN, ethernet, ipv4_header, ipv6_header

ETHERNET_BYTES = 14
GRE_KEY_BYTES = 8
GRE_TEB = 0x6558
IP_PROTO_GRE = 47
# C, R, K, S, the reserved bits 4-5 and the version: only K may be set (RFC 7637 §3.2,
# RFC 2784 §2.3: bits 6-12 are ignored on receipt).
GRE_CHECKED_BITS, GRE_KEY_ONLY = 0xFC07, 0x2000


class NotNvgre(ValueError):
    """The bytes are not an NVGRE packet (the message says why)."""


@dataclass(frozen=True)
class OuterIp:
    """Where the outer IP header is in a packet."""

    offset: int
    length: int
    is_ipv4: bool


def outer_ip(packet: bytes) -> OuterIp:
    """The outer IPv4/IPv6 header of an underlay frame carrying GRE; raises NotNvgre."""
    if len(packet) < ETHERNET_BYTES:
        raise NotNvgre("shorter than an Ethernet header")
    etype = struct.unpack_from("!H", packet, 12)[0]
    off = ETHERNET_BYTES
    if etype == ETH_VLAN:
        if len(packet) < off + 4:
            raise NotNvgre("truncated 802.1Q tag")
        etype = struct.unpack_from("!H", packet, off + 2)[0]
        off += 4
    if etype == ETH_IPV4:
        if len(packet) < off + 20 or packet[off] >> 4 != 4:
            raise NotNvgre("bad outer IPv4 header")
        ihl = (packet[off] & 0x0F) * 4
        if ihl < 20 or packet[off + 9] != IP_PROTO_GRE:
            raise NotNvgre("outer IPv4 header is not GRE")
        return OuterIp(off, ihl, True)
    if etype == ETH_IPV6:
        if len(packet) < off + 40 or packet[off] >> 4 != 6 or packet[off + 6] != IP_PROTO_GRE:
            raise NotNvgre("outer IPv6 header is not GRE")
        return OuterIp(off, 40, False)
    raise NotNvgre(f"outer EtherType 0x{etype:04x}")


@dataclass(frozen=True)
class NvgrePacket:
    """The parts of a received NVGRE packet that a reply needs."""

    underlay_dst_mac: bytes
    underlay_src_mac: bytes
    underlay_vlan: int | None
    outer_src: ipaddress.IPv4Address | ipaddress.IPv6Address
    outer_dst: ipaddress.IPv4Address | ipaddress.IPv6Address
    vsid: int
    flow_id: int
    inner: bytes


def parse_nvgre(packet: bytes) -> NvgrePacket:
    """Split an NVGRE packet as received on a network port; raises NotNvgre."""
    where = outer_ip(packet)
    vlan = None
    if where.offset > ETHERNET_BYTES:
        vlan = struct.unpack_from("!H", packet, ETHERNET_BYTES)[0] & 0x0FFF
    ip = packet[where.offset :]
    src: ipaddress.IPv4Address | ipaddress.IPv6Address
    dst: ipaddress.IPv4Address | ipaddress.IPv6Address
    if where.is_ipv4:
        src, dst = ipaddress.IPv4Address(ip[12:16]), ipaddress.IPv4Address(ip[16:20])
    else:
        src, dst = ipaddress.IPv6Address(ip[8:24]), ipaddress.IPv6Address(ip[24:40])
    gre = where.offset + where.length
    if len(packet) < gre + GRE_KEY_BYTES + ETHERNET_BYTES:
        raise NotNvgre("truncated NVGRE packet")
    flags_ver, proto, key = struct.unpack_from("!HHI", packet, gre)
    if proto != GRE_TEB or flags_ver & GRE_CHECKED_BITS != GRE_KEY_ONLY:
        raise NotNvgre("not NVGRE (GRE with key only, protocol 0x6558)")
    return NvgrePacket(
        underlay_dst_mac=packet[0:6],
        underlay_src_mac=packet[6:12],
        underlay_vlan=vlan,
        outer_src=src,
        outer_dst=dst,
        vsid=key >> 8,
        flow_id=key & 0xFF,
        inner=packet[gre + GRE_KEY_BYTES :],
    )


def reply_nvgre(received: NvgrePacket, frame: bytes, ttl: int) -> bytes:
    """`frame` in NVGRE back to the sender of `received`: underlay MACs and outer addresses
    swapped (the reply leaves from the PA the packet was sent to, toward the neighbour
    that delivered it), the same VSID, `ttl` as the outer TTL / hop limit, the underlay
    tag kept (nvgre_packet)."""
    return nvgre_packet(
        received.underlay_src_mac,
        received.underlay_dst_mac,
        received.underlay_vlan,
        received.outer_dst,
        received.outer_src,
        received.vsid,
        frame,
        ttl,
    )


def nvgre_packet(
    dst_mac: bytes,
    src_mac: bytes,
    vlan: int | None,
    src: ipaddress.IPv4Address | ipaddress.IPv6Address,
    dst: ipaddress.IPv4Address | ipaddress.IPv6Address,
    vsid: int,
    frame: bytes,
    ttl: int,
) -> bytes:
    """`frame` in NVGRE from PA `src` to PA `dst` (one family), VSID `vsid`, FlowID 0
    (RFC 7637 §3.2: an NVE that does not compute one sends 0), DF on an outer IPv4 header
    (RFC 7637 §4.4), `ttl` as the outer TTL / hop limit, in an underlay Ethernet header
    (802.1Q-tagged when `vlan` is set)."""
    payload = struct.pack("!HHI", GRE_KEY_ONLY, GRE_TEB, vsid << 8) + frame
    if isinstance(src, ipaddress.IPv4Address) and isinstance(dst, ipaddress.IPv4Address):
        ip = ipv4_header(src, dst, IP_PROTO_GRE, len(payload), ttl)
        etype = ETH_IPV4
    elif isinstance(src, ipaddress.IPv6Address) and isinstance(dst, ipaddress.IPv6Address):
        ip = ipv6_header(src, dst, IP_PROTO_GRE, len(payload), ttl)
        etype = ETH_IPV6
    else:
        raise NotNvgre("outer addresses of two families")
    return ethernet(dst_mac, src_mac, etype, ip + payload, vlan)
