"""Fragmenting a customer IPv4 packet inside its NVGRE packet (the slow path of Mtu).

An NVE must not fragment the NVGRE packet (RFC 7637 §4.4); a customer IPv4 packet
without DF that does not fit the tunnel is fragmented before encapsulation instead
(RFC 4459 §3.4). The pipeline punts such a packet as PUNT_FRAGMENT, encapsulated, with
the port it was going to leave by; `fragment_nvgre` returns the NVGRE packets to send
there: the same outer headers (lengths and the outer IPv4 checksum redone), each around
one fragment of the customer packet (RFC 791 §3.2: data in multiples of 8 bytes, MF on
all but the last, options with the copy flag repeated in every fragment, the others
only in the first). Plain struct code, like nve.packets.
"""

from __future__ import annotations

import struct

from nve.nvgre import ETHERNET_BYTES, GRE_KEY_BYTES, GRE_TEB, NotNvgre, outer_ip
from nve.packets import ETH_IPV4, checksum


class NotFragmentable(NotNvgre):
    """The packet is not an NVGRE packet around a customer IPv4 packet that may be fragmented."""


def _outer(packet: bytes) -> tuple[int, int, bool]:
    """(offset of the outer IP header, its length, whether it is IPv4)."""
    try:
        where = outer_ip(packet)
    except NotNvgre as exc:
        raise NotFragmentable(str(exc)) from None
    return where.offset, where.length, where.is_ipv4


def _split_options(options: bytes) -> bytes:
    """The options a non-first fragment carries: those with the copy flag, padded to 4 bytes."""
    out = bytearray()
    i = 0
    while i < len(options):
        kind = options[i]
        if kind == 0:  # end of option list
            break
        if kind == 1:  # no-operation
            i += 1
            continue
        if i + 1 >= len(options) or options[i + 1] < 2 or i + options[i + 1] > len(options):
            raise NotFragmentable("malformed IPv4 options")
        length = options[i + 1]
        if kind & 0x80:
            out += options[i : i + length]
        i += length
    out += b"\0" * (-len(out) % 4)
    return bytes(out)


def _customer_header(header: bytes, options: bytes, total: int, flags_offset: int) -> bytes:
    ihl = (20 + len(options)) // 4
    h = bytearray(header[:20] + options)
    h[0] = 0x40 | ihl
    struct.pack_into("!H", h, 2, total)
    struct.pack_into("!H", h, 6, flags_offset)
    struct.pack_into("!H", h, 10, 0)
    struct.pack_into("!H", h, 10, checksum(bytes(h)))
    return bytes(h)


def fragment_nvgre(packet: bytes, mtu: int) -> list[bytes]:
    """The NVGRE packets that carry the customer IPv4 packet of `packet` in fragments whose
    outer IP packets fit `mtu` bytes. Raises NotFragmentable (with the reason) for a packet
    that is not an NVGRE packet around an IPv4 packet without DF, or when `mtu` leaves no
    room for 8 bytes of data."""
    ip_off, outer_len, outer_v4 = _outer(packet)
    gre = ip_off + outer_len
    if len(packet) < gre + GRE_KEY_BYTES + ETHERNET_BYTES + 20:
        raise NotFragmentable("truncated NVGRE packet")
    flags_ver, proto = struct.unpack_from("!HH", packet, gre)
    if proto != GRE_TEB or flags_ver & 0xB007 != 0x2000:
        raise NotFragmentable("not NVGRE (GRE with key, protocol 0x6558)")
    cust_eth = gre + GRE_KEY_BYTES
    if struct.unpack_from("!H", packet, cust_eth + 12)[0] != ETH_IPV4:
        raise NotFragmentable("the customer frame is not IPv4")
    ip = packet[cust_eth + ETHERNET_BYTES :]
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack_from("!H", ip, 2)[0]
    flags_offset = struct.unpack_from("!H", ip, 6)[0]
    if ip[0] >> 4 != 4 or ihl < 20 or total < ihl or total > len(ip):
        raise NotFragmentable("malformed customer IPv4 header")
    if flags_offset & 0x4000:
        raise NotFragmentable("the customer packet has DF set")
    more = flags_offset & 0x2000
    base = flags_offset & 0x1FFF
    header, options, data = ip[:20], ip[20:ihl], ip[ihl:total]
    later_options = _split_options(options)
    room = mtu - outer_len - GRE_KEY_BYTES - ETHERNET_BYTES  # for each customer IP packet
    first_step = (room - ihl) // 8 * 8
    later_step = (room - 20 - len(later_options)) // 8 * 8
    if first_step < 8 or later_step < 8:
        raise NotFragmentable(f"an MTU of {mtu} leaves no room for a fragment")
    prefix = bytearray(packet[: cust_eth + ETHERNET_BYTES])
    out: list[bytes] = []
    pos = 0
    while pos < len(data) or not out:
        step = first_step if not out else later_step
        chunk = data[pos : pos + step]
        last = pos + step >= len(data)
        opts = options if not out else later_options
        frag_flags = (0x2000 if not last or more else 0) | (base + pos // 8)
        cust = _customer_header(header, opts, 20 + len(opts) + len(chunk), frag_flags) + chunk
        outer = bytearray(prefix)
        inner_len = GRE_KEY_BYTES + ETHERNET_BYTES + len(cust)
        if outer_v4:
            struct.pack_into("!H", outer, ip_off + 2, outer_len + inner_len)
            struct.pack_into("!H", outer, ip_off + 10, 0)
            csum = checksum(bytes(outer[ip_off : ip_off + outer_len]))
            struct.pack_into("!H", outer, ip_off + 10, csum)
        else:
            struct.pack_into("!H", outer, ip_off + 4, inner_len)
        out.append(bytes(outer) + cust)
        pos += step
    return out
