"""crc16 hashes over fixed-width data lists are memoised per call site; the results must
be bmv2's crc16 (CRC-16/ARC) whether they come from the memo or not."""

from __future__ import annotations

import random

from p4sim.engine.algorithms import crc16_memo
from tests.sim.engine.nvgre_support import compile_text, crc16_arc, load
from tests.sim.engine.v1_template import program

ETH = bytes.fromhex("0000000000aa0000000000bb") + (1).to_bytes(2, "big")

# metadata fields have no validity, so the data list is always 8 + 16 + 4 = 28 bits wide
SRC = program("""apply {
    meta.m8 = hdr.r.a;
    meta.m16 = hdr.r.c;
    hash(hdr.r.d, HashAlgorithm.crc16, 32w0, { meta.m8, meta.m16, 4w0x9 }, 32w65536);
    sm.egress_spec = 2; }""")


def test_repeated_and_distinct_flows_hash_as_crc16_arc() -> None:
    pipeline, _ = load(compile_text(SRC))
    rng = random.Random(5)
    flows = [(rng.randrange(256), rng.randrange(65536)) for _ in range(50)]
    for a, c in flows * 3:  # each flow three times: a miss, then hits
        out = pipeline.process(1, ETH + bytes([a, 0]) + c.to_bytes(2, "big") + bytes(4))
        d = int.from_bytes(out.outputs[0][1][18:22], "big")
        # 28 bits MSB first, padded with four zero bits: a, c, then 0x9 and 0b0000
        assert d == crc16_arc(bytes([a]) + c.to_bytes(2, "big") + bytes([0x90]))


def test_memo_is_bounded_and_stays_correct_when_emptied() -> None:
    cache: dict[int, int] = {}
    miss = crc16_memo(cache, 72, limit=4)
    values = [int.from_bytes(b"123456789", "big")] + list(range(1, 10))
    for v in values:
        assert miss(v) == crc16_arc(v.to_bytes(9, "big"))
        assert len(cache) <= 4 and cache[v] == miss(v)
    assert miss(values[0]) == 0xBB3D  # the CRC-16/ARC check value of "123456789"
