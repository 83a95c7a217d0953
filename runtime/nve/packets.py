"""Frames the controller builds for packet-out: ICMP "fragmentation needed", "time
exceeded" and echo replies; ICMPv6 "packet too big", "time exceeded", echo replies and
Neighbor Advertisements. Plain struct code: the runtime does not
depend on scapy (tests check these frames with scapy, independently).
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

ETH_IPV4, ETH_IPV6, ETH_VLAN = 0x0800, 0x86DD, 0x8100
IPV4_MIN_MTU, IPV6_MIN_MTU = 68, 1280


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


@dataclass(frozen=True)
class Frame:
    """The parts of a customer frame the handlers need."""

    dst_mac: bytes
    src_mac: bytes
    vlan: int | None
    ether_type: int
    payload: bytes


def parse_ethernet(data: bytes) -> Frame | None:
    if len(data) < 14:
        return None
    dst, src, etype = data[:6], data[6:12], struct.unpack("!H", data[12:14])[0]
    vlan = None
    rest = data[14:]
    if etype == ETH_VLAN:
        if len(rest) < 4:
            return None
        tci, etype = struct.unpack("!HH", rest[:4])
        vlan, rest = tci & 0x0FFF, rest[4:]
    return Frame(dst, src, vlan, etype, rest)


def ethernet(
    dst: bytes, src: bytes, ether_type: int, payload: bytes, vlan: int | None = None
) -> bytes:
    if vlan is not None:
        return dst + src + struct.pack("!HHH", ETH_VLAN, vlan & 0x0FFF, ether_type) + payload
    return dst + src + struct.pack("!H", ether_type) + payload


def ipv4_header(
    src: ipaddress.IPv4Address,
    dst: ipaddress.IPv4Address,
    proto: int,
    payload_len: int,
    ttl: int = 64,
) -> bytes:
    hdr = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, 0, 0x4000, ttl, proto, 0, src.packed, dst.packed
    )
    return hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]


def ipv6_header(
    src: ipaddress.IPv6Address,
    dst: ipaddress.IPv6Address,
    next_header: int,
    payload_len: int,
    hop_limit: int = 64,
) -> bytes:
    return struct.pack(
        "!IHBB16s16s", 6 << 28, payload_len, next_header, hop_limit, src.packed, dst.packed
    )


def icmpv6_checksum(src: ipaddress.IPv6Address, dst: ipaddress.IPv6Address, body: bytes) -> int:
    pseudo = src.packed + dst.packed + struct.pack("!IxxxB", len(body), 58)
    return checksum(pseudo + body)


def frag_needed(
    original: Frame, mtu: int, router_mac: bytes, router_ip: ipaddress.IPv4Address
) -> bytes | None:
    """ICMP type 3 code 4 (RFC 1191) to the sender of `original` (an IPv4 packet with DF)."""
    ip = original.payload
    if original.ether_type != ETH_IPV4 or len(ip) < 20 or ip[0] >> 4 != 4:
        return None
    ihl = (ip[0] & 0x0F) * 4
    sender = ipaddress.IPv4Address(ip[12:16])
    quoted = ip[: ihl + 8]
    body = struct.pack("!BBHHH", 3, 4, 0, 0, max(IPV4_MIN_MTU, mtu)) + quoted
    body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
    packet = ipv4_header(router_ip, sender, 1, len(body)) + body
    return ethernet(original.src_mac, router_mac, ETH_IPV4, packet, original.vlan)


def packet_too_big(
    original: Frame, mtu: int, router_mac: bytes, router_ip: ipaddress.IPv6Address
) -> bytes | None:
    """ICMPv6 type 2 (RFC 4443) with as much of the original as fits in 1280 bytes."""
    ip = original.payload
    if original.ether_type != ETH_IPV6 or len(ip) < 40:
        return None
    sender = ipaddress.IPv6Address(ip[8:24])
    quoted = ip[: IPV6_MIN_MTU - 40 - 8]
    body = struct.pack("!BBHI", 2, 0, 0, max(IPV6_MIN_MTU, mtu)) + quoted
    body = body[:2] + struct.pack("!H", icmpv6_checksum(router_ip, sender, body)) + body[4:]
    packet = ipv6_header(router_ip, sender, 58, len(body), 255) + body
    return ethernet(original.src_mac, router_mac, ETH_IPV6, packet, original.vlan)


def ns_target(original: Frame) -> tuple[ipaddress.IPv6Address, ipaddress.IPv6Address] | None:
    """(solicitation source, target address) of an ICMPv6 Neighbor Solicitation, else None."""
    ip = original.payload
    if original.ether_type != ETH_IPV6 or len(ip) < 40 + 24 or ip[6] != 58:
        return None
    icmp = ip[40:]
    if icmp[0] != 135 or icmp[1] != 0:
        return None
    return ipaddress.IPv6Address(ip[8:24]), ipaddress.IPv6Address(icmp[8:24])


def neighbor_advertisement(
    original: Frame, target: ipaddress.IPv6Address, target_mac: bytes
) -> bytes | None:
    """The answer to a Neighbor Solicitation (RFC 4861 §7.2.4), solicited, with the target's MAC."""
    parsed = ns_target(original)
    if parsed is None:
        return None
    src, _ = parsed
    dst = src if not src.is_unspecified else ipaddress.IPv6Address("ff02::1")
    flags = 0x20000000 | (
        0 if src.is_unspecified else 0x40000000
    )  # Override, + Solicited unless DAD
    body = struct.pack("!BBHI16s", 136, 0, 0, flags, target.packed) + struct.pack(
        "!BB6s", 2, 1, target_mac
    )
    body = body[:2] + struct.pack("!H", icmpv6_checksum(target, dst, body)) + body[4:]
    packet = ipv6_header(target, dst, 58, len(body), 255) + body
    dst_mac = original.src_mac if not src.is_unspecified else bytes.fromhex("333300000001")
    return ethernet(dst_mac, target_mac, ETH_IPV6, packet, original.vlan)


def _ip_parts(original: Frame) -> tuple[int, bytes] | None:
    """(IP version, IP packet) of a frame carrying IPv4 or IPv6, else None."""
    ip = original.payload
    if original.ether_type == ETH_IPV4 and len(ip) >= 20 and ip[0] >> 4 == 4:
        return 4, ip
    if original.ether_type == ETH_IPV6 and len(ip) >= 40 and ip[0] >> 4 == 6:
        return 6, ip
    return None


def time_exceeded(
    original: Frame, router_mac: bytes, router_ip: ipaddress.IPv4Address | ipaddress.IPv6Address
) -> bytes | None:
    """ICMP Time Exceeded in transit (type 11 code 0, RFC 792 and RFC 1812 §4.3.2.3: as much
    of the original as fits in 576 bytes) or ICMPv6 Time Exceeded (type 3 code 0, RFC 4443
    §3.3: as much as fits in 1280), from router_ip to the sender of `original`."""
    parts = _ip_parts(original)
    if parts is None or parts[0] != router_ip.version:
        return None
    _, ip = parts
    if isinstance(router_ip, ipaddress.IPv4Address):
        total = int.from_bytes(ip[2:4], "big")
        sender4 = ipaddress.IPv4Address(ip[12:16])
        quoted = ip[: min(total, len(ip), 576 - 20 - 8)]
        body = struct.pack("!BBHI", 11, 0, 0, 0) + quoted
        body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
        packet = ipv4_header(router_ip, sender4, 1, len(body)) + body
        return ethernet(original.src_mac, router_mac, ETH_IPV4, packet, original.vlan)
    sender6 = ipaddress.IPv6Address(ip[8:24])
    quoted = ip[: min(40 + int.from_bytes(ip[4:6], "big"), len(ip), IPV6_MIN_MTU - 40 - 8)]
    body = struct.pack("!BBHI", 3, 0, 0, 0) + quoted
    body = body[:2] + struct.pack("!H", icmpv6_checksum(router_ip, sender6, body)) + body[4:]
    packet = ipv6_header(router_ip, sender6, 58, len(body), 255) + body
    return ethernet(original.src_mac, router_mac, ETH_IPV6, packet, original.vlan)


def echo_reply(
    original: Frame, router_mac: bytes, router_ip: ipaddress.IPv4Address | ipaddress.IPv6Address
) -> bytes | None:
    """The Echo Reply (ICMP type 0, RFC 792; ICMPv6 type 129, RFC 4443 §4.2) to an Echo
    Request addressed to router_ip, with its identifier, sequence number and data; None for
    anything else (a fragment, another message, another destination, a bad length)."""
    parts = _ip_parts(original)
    if parts is None or parts[0] != router_ip.version:
        return None
    _, ip = parts
    if isinstance(router_ip, ipaddress.IPv4Address):
        ihl, total = (ip[0] & 0x0F) * 4, int.from_bytes(ip[2:4], "big")
        flags_frag = int.from_bytes(ip[6:8], "big")
        if ihl < 20 or total > len(ip) or total < ihl + 8 or ip[9] != 1 or flags_frag & 0x3FFF:
            return None
        if ipaddress.IPv4Address(ip[16:20]) != router_ip:
            return None
        icmp = ip[ihl:total]
        if icmp[0] != 8 or icmp[1] != 0 or checksum(icmp) != 0:
            return None
        sender4 = ipaddress.IPv4Address(ip[12:16])
        body = struct.pack("!BBH", 0, 0, 0) + icmp[4:]
        body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
        packet = ipv4_header(router_ip, sender4, 1, len(body)) + body
        return ethernet(original.src_mac, router_mac, ETH_IPV4, packet, original.vlan)
    length = 40 + int.from_bytes(ip[4:6], "big")
    if ip[6] != 58 or length > len(ip) or length < 48:
        return None
    if ipaddress.IPv6Address(ip[24:40]) != router_ip:
        return None
    sender6 = ipaddress.IPv6Address(ip[8:24])
    icmp6 = ip[40:length]
    if icmp6[0] != 128 or icmp6[1] != 0 or icmpv6_checksum(sender6, router_ip, icmp6) != 0:
        return None
    body = struct.pack("!BBH", 129, 0, 0) + icmp6[4:]
    body = body[:2] + struct.pack("!H", icmpv6_checksum(router_ip, sender6, body)) + body[4:]
    packet = ipv6_header(router_ip, sender6, 58, len(body), 64) + body
    return ethernet(original.src_mac, router_mac, ETH_IPV6, packet, original.vlan)
