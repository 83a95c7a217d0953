"""Hash and checksum algorithms of bmv2's v1model, over the byte string bmv2 builds.

bmv2 (src/bm_sim/calculations.cpp, ``BufBuilder``) serialises the data list of ``hash``,
``verify_checksum`` and ``update_checksum`` field after field, MSB first, with no padding
between fields, skipping the fields of invalid headers, and pads the last byte with zero
bits. :func:`pack_fields` builds that byte string; the algorithms below then match bmv2's
``crc16`` (poly 0x8005, reflected in and out, init 0, xorout 0: CRC-16/ARC), ``crc32``
(the IEEE CRC-32 of zlib), ``csum16`` (RFC 1071 one's complement, an odd tail byte padded
with a zero byte), ``xor16`` (the exclusive or of 16-bit words, padded the same way) and
``identity`` (the first up to eight bytes read big-endian).
"""

from __future__ import annotations

import sys
import zlib
from array import array
from collections.abc import Callable, Sequence


def _crc16_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC16 = _crc16_table()
_BIG_ENDIAN_HOST = sys.byteorder == "big"


def _crc16_pair_table() -> tuple[int, ...]:
    """CRC-16/ARC of two bytes at once: with x = crc ^ (b0 | b1 << 8) the two byte steps
    give (T[x & 0xFF] >> 8) ^ T[(x >> 8 ^ T[x & 0xFF]) & 0xFF], a function of x alone."""
    t = _CRC16
    return tuple((t[x & 0xFF] >> 8) ^ t[((x >> 8) ^ t[x & 0xFF]) & 0xFF] for x in range(65536))


_CRC16_PAIRS: tuple[int, ...] = ()


def crc16(data: bytes) -> int:
    """CRC-16/ARC (the reflected form of polynomial 0x8005), bmv2's ``crc16``; two bytes per
    step through a 65,536-entry table built on first use."""
    global _CRC16_PAIRS  # noqa: PLW0603 - the table is built on first use, read as a global
    pairs = _CRC16_PAIRS
    if not pairs:
        pairs = _CRC16_PAIRS = _crc16_pair_table()
    n = len(data)
    crc = 0
    if n > 1:
        words = array("H", data[: n & ~1])
        if _BIG_ENDIAN_HOST:
            words.byteswap()
        for w in words:
            crc = pairs[crc ^ w]
    if n & 1:
        crc = (crc >> 8) ^ _CRC16[(crc ^ data[n - 1]) & 0xFF]
    return crc


CRC16_MEMO_LIMIT = 16_384


def crc16_memo(
    cache: dict[int, int], bits: int, limit: int = CRC16_MEMO_LIMIT
) -> Callable[[int], int]:
    """The miss path of a memoised ``crc16`` over a fixed-width data list of ``bits`` bits.

    crc16 is the one algorithm computed in Python byte pairs at a time (about a microsecond
    for a 5-tuple); flow hashes repeat for every packet of a flow, so each hash call site
    keeps a dict from the packed data-list value to its crc16, which the generated code
    reads first and fills through this function.  The width is fixed per call site, so the
    value alone is the key.  The dict is emptied when it reaches ``limit`` entries, bounding
    its memory; a result is the same whether it came from the dict or not.
    """
    pad = -bits % 8
    nbytes = (bits + pad) // 8

    def miss(value: int) -> int:
        if len(cache) >= limit:
            cache.clear()
        h = cache[value] = crc16((value << pad).to_bytes(nbytes, "big"))
        return h

    return miss


def crc32(data: bytes) -> int:
    """IEEE 802.3 CRC-32, bmv2's ``crc32``."""
    return zlib.crc32(data) & 0xFFFFFFFF


def csum16(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``: the one's complement of the one's
    complement sum of 16-bit big-endian words, an odd last byte padded with zero."""
    if len(data) & 1:
        data = data + b"\x00"
    return csum16_of_int(int.from_bytes(data, "big"))


def csum16_of_int(value: int) -> int:
    """The Internet checksum of the 16-bit words of ``value`` (already padded to a whole
    number of words). Since 2**16 = 1 (mod 0xFFFF), the one's complement sum of the words
    is ``value % 0xFFFF``, except that a non-zero sum is 0xFFFF rather than 0."""
    s = value % 0xFFFF
    if s == 0 and value:
        s = 0xFFFF
    return s ^ 0xFFFF


def identity(data: bytes) -> int:
    """bmv2's ``identity``: the first (up to) eight bytes of the buffer, big-endian."""
    return int.from_bytes(data[:8], "big")


def xor16(data: bytes) -> int:
    """bmv2's ``xor16``: the exclusive or of the buffer's 16-bit big-endian words, an odd
    last byte padded with a zero byte."""
    if len(data) & 1:
        data = data + b"\x00"
    v = 0
    for i in range(0, len(data), 2):
        v ^= (data[i] << 8) | data[i + 1]
    return v


ALGORITHMS: dict[str, Callable[[bytes], int]] = {
    "crc16": crc16,
    "crc32": crc32,
    "csum16": csum16,
    "identity": identity,
    "xor16": xor16,
}


def pack_fields(values: Sequence[int], widths: Sequence[int]) -> bytes:
    """Concatenate ``values`` (each ``widths[i]`` bits, MSB first) and pad to whole bytes
    with zero bits at the end, as bmv2's BufBuilder does."""
    acc = 0
    bits = 0
    for v, w in zip(values, widths):
        acc = (acc << w) | (v & ((1 << w) - 1))
        bits += w
    pad = -bits % 8
    return (acc << pad).to_bytes((bits + pad) // 8, "big")
