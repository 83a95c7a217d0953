"""Byte layout of fixed-size headers for struct-based extraction and emission.

A header is cut into *chunks*: runs of consecutive fields that start and end on a byte
boundary. Each chunk is read (and written) with ``struct`` codes of 8, 4, 2 and 1 bytes,
so extracting a header is one ``unpack_from`` call plus shifts on small ints instead of
shifts on one big integer of the whole header (the expensive part in CPython).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..frontend import ir as I

_CODES = ((8, "Q"), (4, "I"), (2, "H"), (1, "B"))


@dataclass
class Chunk:
    nbytes: int
    parts: list[int]  # byte sizes of the struct codes, in order
    fields: list[tuple[str, int, int]]  # (slot name, width, shift in the chunk)


def chunks(fields: list[tuple[str, I.Field]]) -> list[Chunk]:
    out: list[Chunk] = []
    run: list[tuple[str, int]] = []
    bits = 0
    for name, f in fields:
        w = f.type.width or 0
        run.append((name, w))
        bits += w
        if bits % 8 == 0:
            nbytes = bits // 8
            shift = bits
            placed = []
            for n, wf in run:
                shift -= wf
                placed.append((n, wf, shift))
            out.append(Chunk(nbytes, _split(nbytes), placed))
            run, bits = [], 0
    if run:
        raise ValueError("header is not a whole number of bytes")
    return out


def _split(nbytes: int) -> list[int]:
    parts = []
    left = nbytes
    while left:
        size = next(s for s, _ in _CODES if s <= left)
        parts.append(size)
        left -= size
    return parts


def struct_format(cs: list[Chunk]) -> str:
    code = dict(_CODES)
    return "!" + "".join(code[p] for c in cs for p in c.parts)


def unpacker(fmt: str) -> Callable[[bytes, int], tuple[Any, ...]]:
    return struct.Struct(fmt).unpack_from


def packer(fmt: str) -> Callable[..., bytes]:
    return struct.Struct(fmt).pack
