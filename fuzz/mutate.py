"""Turning valid frames into invalid ones: mutations, truncation, and random frames.

Mutations aim at the headers (the first bytes of a frame), where the parser and the
checks make decisions: bit flips, bytes and 16-bit words set to values that select
something (EtherTypes, 0, all ones), bytes inserted or removed. Half of the mutated
frames then get their IPv4 header checksums made right again, so that a mutation of a
later field is not always stopped by the checksum checks first. Random frames are
random bytes, or an Ethernet header with a chosen EtherType and a random body.
"""

from __future__ import annotations

import random
import struct

from fuzz import wire

HEAD = 96  # mutations land in the first HEAD bytes
INTERESTING_BYTES = (0x00, 0x01, 0x04, 0x05, 0x06, 0x0F, 0x11, 0x2F, 0x3A, 0x45, 0x7F, 0x80, 0xFF)
INTERESTING_WORDS = (
    0x0000,
    0x0001,
    0x0800,
    0x0806,
    0x8100,
    0x88A8,
    0x86DD,
    0x6558,
    0x2000,
    0x3000,
    0xA000,
    0x4000,
    0x0FFF,
    0x1000,
    0x7FFF,
    0xFFFF,
)
ETHERTYPES = (0x0800, 0x0806, 0x8100, 0x88A8, 0x86DD, 0x6558, 0x88CC, 0x9000, 0x0842, 0x05DC)


def _ipv4_at(frame: bytes, off: int) -> bool:
    return len(frame) >= off + 20 and frame[off] >> 4 == 4 and (frame[off] & 0xF) >= 5


def ipv4_offsets(frame: bytes) -> list[int]:
    """Where IPv4 headers start: after Ethernet and up to two tags, and the same again
    inside NVGRE (GRE with the key bit, protocol 0x6558)."""
    found: list[int] = []
    off = 0
    for _depth in range(2):
        off += 12
        for _tag in range(3):
            if len(frame) < off + 2:
                return found
            et = struct.unpack_from("!H", frame, off)[0]
            if et in (wire.ETH_VLAN, wire.ETH_QINQ):
                off += 4
                continue
            break
        off += 2
        if et != wire.ETH_IPV4 or not _ipv4_at(frame, off):
            return found
        found.append(off)
        ihl = (frame[off] & 0xF) * 4
        if frame[off + 9] != wire.PROTO_GRE:
            return found
        gre = off + ihl
        if len(frame) < gre + 8 or frame[gre] & 0x20 == 0:
            return found
        off = gre + 8
    return found


def fix_ipv4_checksums(frame: bytes) -> bytes:
    """Recompute every IPv4 header checksum ipv4_offsets finds (inner first)."""
    buf = bytearray(frame)
    for off in reversed(ipv4_offsets(frame)):
        ihl = (buf[off] & 0xF) * 4
        if len(buf) < off + ihl:
            continue
        buf[off + 10 : off + 12] = b"\x00\x00"
        csum = wire.ipv4_checksum(bytes(buf[off : off + ihl]))
        buf[off + 10 : off + 12] = struct.pack("!H", csum)
    return bytes(buf)


def _offset(rng: random.Random, frame: bytes, width: int = 1) -> int:
    return rng.randrange(max(1, min(len(frame), HEAD) - width + 1))


def mutate(rng: random.Random, frame: bytes) -> bytes:
    """One to three mutations of ``frame``; at least 14 bytes remain."""
    buf = bytearray(frame)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        op = rng.randrange(8)
        if op >= 6:  # an IPv4 header field (version/IHL, flags/offset, length, TTL, protocol)
            offsets = ipv4_offsets(bytes(buf))
            if offsets:
                at = rng.choice(offsets) + rng.choice((0, 0, 2, 3, 6, 7, 8, 9))
                buf[at] = rng.choice((rng.randrange(256), *INTERESTING_BYTES))
                continue
            op = rng.randrange(6)
        if op == 0:  # flip bits
            for _bit in range(rng.randint(1, 3)):
                at = _offset(rng, bytes(buf))
                buf[at] ^= 1 << rng.randrange(8)
        elif op == 1:
            at = _offset(rng, bytes(buf))
            buf[at] = rng.choice(INTERESTING_BYTES)
        elif op == 2 and len(buf) >= 2:
            at = _offset(rng, bytes(buf), 2)
            buf[at : at + 2] = struct.pack("!H", rng.choice(INTERESTING_WORDS))
        elif op == 3:  # a random byte anywhere
            at = rng.randrange(len(buf))
            buf[at] = rng.randrange(256)
        elif op == 4:  # insert bytes
            at = _offset(rng, bytes(buf))
            buf[at:at] = rng.randbytes(rng.randint(1, 8))
        elif len(buf) > 16:  # remove bytes
            at = _offset(rng, bytes(buf))
            del buf[at : at + rng.randint(1, min(8, len(buf) - 14))]
    out = bytes(buf)
    if rng.random() < 0.6:
        out = fix_ipv4_checksums(out)
    return out


def truncate(rng: random.Random, frame: bytes) -> bytes:
    """``frame`` cut short (at least 14 bytes: Linux does not send less on Ethernet)."""
    if len(frame) <= 15:
        return frame[:14]
    if rng.random() < 0.7:
        cut = rng.randint(14, min(len(frame) - 1, HEAD))
    else:
        cut = rng.randint(14, len(frame) - 1)
    return frame[:cut]


def random_frame(rng: random.Random, macs: list[str]) -> bytes:
    """Random bytes, or a random body behind an Ethernet header that may name a known MAC."""
    size = rng.choice((rng.randint(14, 64), rng.randint(14, 200), rng.randint(14, 1500)))
    body = rng.randbytes(size)
    if rng.random() < 0.3:
        return body
    dst = rng.choice([*macs, wire.BROADCAST, "01:00:5e:00:00:01", "33:33:00:00:00:01"])
    src = (
        rng.choice(macs)
        if rng.random() < 0.5
        else "02:%02x:%02x:%02x:%02x:%02x" % tuple(rng.randrange(256) for _ in range(5))
    )
    head = wire.ether(dst, src, rng.choice(ETHERTYPES))
    return (head + body)[: max(14, size)]
