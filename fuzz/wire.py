"""Header builders: Ethernet, 802.1Q, ARP, IPv4 (with options), IPv6, UDP/TCP, ICMPv6 and
NVGRE, as bytes.

The fuzzer builds frames by the hundred thousand, so it writes the bytes itself with
``struct`` (scapy would work, at a hundred times the cost per frame). Every field is an
argument; nothing is random here, the generators decide. Checksums: IPv4 header checksums
are computed unless a value is given; UDP checksums are 0 (none) and the pipeline reads
no L4 checksum.
"""

from __future__ import annotations

import ipaddress
import struct

ETH_IPV4, ETH_ARP, ETH_VLAN, ETH_QINQ, ETH_IPV6, ETH_TEB = (
    0x0800,
    0x0806,
    0x8100,
    0x88A8,
    0x86DD,
    0x6558,
)
PROTO_TCP, PROTO_UDP, PROTO_GRE, PROTO_IPV6_FRAG, PROTO_ICMPV6 = 6, 17, 47, 44, 58
ICMPV6_NS, ICMPV6_NA = 135, 136
BROADCAST = "ff:ff:ff:ff:ff:ff"


def mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


def ip_bytes(addr: str) -> bytes:
    return ipaddress.ip_address(addr).packed


def ones_complement_sum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total = int(sum(struct.unpack(f"!{len(data) // 2}H", data)))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def ipv4_checksum(header: bytes) -> int:
    """The checksum that makes ``header`` (its checksum field taken as is) sum to 0xFFFF."""
    return (~ones_complement_sum(header)) & 0xFFFF


def ether(dst: str, src: str, ether_type: int) -> bytes:
    return mac_bytes(dst) + mac_bytes(src) + struct.pack("!H", ether_type)


def vlan(vid: int, ether_type: int, pcp: int = 0, dei: int = 0) -> bytes:
    return struct.pack("!HH", (pcp << 13) | (dei << 12) | (vid & 0xFFF), ether_type)


def ipv4(
    src: str,
    dst: str,
    proto: int,
    payload_len: int,
    *,
    ttl: int = 64,
    dscp: int = 0,
    ecn: int = 0,
    ident: int = 0,
    flags: int = 0,
    frag: int = 0,
    options: bytes = b"",
    checksum: int | None = None,
    total_len: int | None = None,
) -> bytes:
    """An IPv4 header; ``options`` must be a multiple of 4 bytes (IHL = 5 + len/4)."""
    ihl = 5 + len(options) // 4
    length = ihl * 4 + payload_len if total_len is None else total_len
    head = struct.pack(
        "!BBHHHBBH4s4s",
        (4 << 4) | (ihl & 0xF),
        (dscp << 2) | ecn,
        length & 0xFFFF,
        ident,
        (flags << 13) | frag,
        ttl,
        proto,
        0,
        ip_bytes(src),
        ip_bytes(dst),
    )
    head += options
    csum = ipv4_checksum(head) if checksum is None else checksum
    return head[:10] + struct.pack("!H", csum) + head[12:]


def ipv6(
    src: str,
    dst: str,
    next_hdr: int,
    payload_len: int,
    *,
    hop_limit: int = 64,
    dscp: int = 0,
    ecn: int = 0,
    flow_label: int = 0,
) -> bytes:
    tc = (dscp << 2) | ecn
    first = (6 << 28) | (tc << 20) | flow_label
    return struct.pack(
        "!IHBB16s16s", first, payload_len, next_hdr, hop_limit, ip_bytes(src), ip_bytes(dst)
    )


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def tcp(sport: int, dport: int, payload: bytes, flags: int = 0x18) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, 1, 0, 5 << 4, flags, 8192, 0, 0) + payload


def arp(oper: int, sha: str, spa: str, tha: str, tpa: str) -> bytes:
    return struct.pack(
        "!HHBBH6s4s6s4s",
        1,
        ETH_IPV4,
        6,
        4,
        oper,
        mac_bytes(sha),
        ip_bytes(spa),
        mac_bytes(tha),
        ip_bytes(tpa),
    )


def icmpv6_nd(msg_type: int, target: str, lladdr: str | None = None) -> bytes:
    """A Neighbor Solicitation (135) or Advertisement (136) body, checksum 0 (not checked)."""
    body = struct.pack("!BBHI16s", msg_type, 0, 0, 0, ip_bytes(target))
    if lladdr is not None:
        body += struct.pack("!BB6s", 1 if msg_type == ICMPV6_NS else 2, 1, mac_bytes(lladdr))
    return body


def solicited_node(addr: str) -> tuple[str, str]:
    """The solicited-node multicast address of ``addr`` and its MAC (RFC 4291, RFC 2464)."""
    low = ip_bytes(addr)[-3:]
    group = ipaddress.IPv6Address(b"\xff\x02" + bytes(9) + b"\x01\xff" + low)
    mac = "33:33:" + ":".join(f"{b:02x}" for b in group.packed[-4:])
    return str(group), mac


def gre_nvgre(vsid: int, flow_id: int, first_word: int = 0x20006558) -> bytes:
    """GRE with the NVGRE first word (C=0 K=1 S=0 version 0, protocol 0x6558) and the key."""
    return struct.pack("!II", first_word, ((vsid & 0xFFFFFF) << 8) | (flow_id & 0xFF))


def ipv4_multicast_mac(group: str) -> str:
    low = ip_bytes(group)
    return "01:00:5e:%02x:%02x:%02x" % (low[1] & 0x7F, low[2], low[3])
