"""Random, truncated, oversized and mutated frames through the NVGRE program: every frame
is processed (parser error or drop as bmv2 would) and none raises. There is deliberately
no try/except around ``process`` here: an exception fails the test."""

from __future__ import annotations

import logging
import random
from typing import Any

from scapy.layers.inet import GRE, ICMP, IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6ND_NS, IPv6
from scapy.layers.l2 import ARP, Dot1Q, Ether

from tests.sim.engine.test_nvgre_pipeline import (  # noqa: F401 (nve is a fixture)
    ACCESS,
    LOCAL_PA,
    NETWORK,
    REMOTE_PA,
    VM_A,
    VM_B,
    VSID,
    nve,
)

CPU = 255
FRAMES = 10_000


def seeds() -> list[tuple[int, bytes]]:
    inner = Ether(src=VM_B, dst=VM_A) / IP(src="10.0.0.2", dst="10.0.0.1") / UDP() / b"hello"
    gre = GRE(key_present=1, proto=0x6558, key=VSID << 8)
    frames: list[tuple[int, Any]] = [
        (
            ACCESS,
            Ether(src=VM_A, dst=VM_B) / IP(src="10.0.0.1", dst="10.0.0.2") / UDP() / (b"x" * 20),
        ),
        (ACCESS, Ether(src=VM_A, dst=VM_B) / Dot1Q(vlan=5) / IP(options=b"\x01" * 8) / TCP()),
        (ACCESS, Ether(src=VM_A, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.0.0.1", pdst="10.0.0.2")),
        (ACCESS, Ether(src=VM_A, dst=VM_B) / IPv6() / ICMPv6ND_NS(tgt="fe80::1")),
        (ACCESS, Ether(src=VM_A, dst=VM_B) / Dot1Q(vlan=1) / Dot1Q(vlan=2) / IP() / ICMP()),
        (ACCESS, Ether(src=VM_A, dst=VM_B) / IP(flags="MF", frag=3) / UDP()),
        (NETWORK, Ether() / IP(src=REMOTE_PA, dst=LOCAL_PA, proto=47) / gre / inner),
        (
            NETWORK,
            Ether() / IP(src=REMOTE_PA, dst=LOCAL_PA, proto=47, options=b"\x01" * 4) / gre / inner,
        ),
        (NETWORK, Ether() / IPv6(src="2001:db8::9", dst="2001:db8::1", nh=47) / gre / inner),
        (
            NETWORK,
            Ether()
            / IP(src=REMOTE_PA, dst=LOCAL_PA, proto=47)
            / gre
            / Ether(src=VM_B, dst=VM_A)
            / Dot1Q(vlan=3)
            / IP()
            / UDP(),
        ),
        (NETWORK, Ether() / ARP(psrc="192.0.2.2", pdst=LOCAL_PA)),
        (CPU, bytes([ACCESS >> 1, (ACCESS & 1) << 7]) + bytes(Ether() / IP() / UDP())),
    ]
    return [(p, bytes(f)) for p, f in frames]


def mutate(rng: random.Random, data: bytes) -> bytes:
    kind = rng.randrange(6)
    b = bytearray(data)
    if kind == 0 and b:  # truncate anywhere
        return bytes(b[: rng.randrange(len(b))])
    if kind == 1 and b:  # flip some bytes
        for _ in range(rng.randrange(1, 6)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if kind == 2:  # oversized: a jumbo tail
        return bytes(b) + rng.randbytes(rng.randrange(1, 9000))
    if kind == 3:  # entirely random
        return rng.randbytes(rng.randrange(0, 200))
    if kind == 4 and b:  # set a header-ish field to an extreme value
        i = rng.randrange(len(b))
        b[i] = rng.choice((0, 0xFF, 0x45, 0x4F, 0x41, 0x2F, 0x08, 0x86))
        return bytes(b)
    return bytes(b)


def test_ten_thousand_random_and_mutated_frames_never_raise(nve) -> None:  # noqa: F811 - nve is the imported fixture
    pipeline, st = nve
    rng = random.Random(4242)
    base = seeds()
    processed = forwarded = 0
    for i in range(FRAMES):
        port, data = rng.choice(base)
        if i % 5:
            data = mutate(rng, data)
        if i % 17 == 0:
            port = rng.randrange(512)
        result = pipeline.process(port, data)
        processed += 1
        for out_port, frame in result.outputs:
            assert 0 <= out_port < 511 and isinstance(frame, bytes)
            forwarded += 1
        for did, values in result.digests:
            assert did == st.digest_id("mac_learn_digest_t") and len(values) == 3
    assert processed == FRAMES
    assert 0 < forwarded < FRAMES  # some frames go through, the malformed ones do not


def test_traced_pipeline_survives_malformed_frames(nve, caplog) -> None:  # noqa: F811 - nve is the imported fixture
    pipeline, _ = nve
    rng = random.Random(7)
    base = seeds()
    with caplog.at_level(logging.DEBUG, logger="p4sim.engine.trace"):
        for _ in range(300):
            port, data = rng.choice(base)
            pipeline.process(port, mutate(rng, data))
    assert "Parser" in caplog.text
