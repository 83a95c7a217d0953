"""The fuzzer's deterministic parts: overlay and frames from a seed, sentinels, the comparer.

No switch, no root: these run in a second.
"""

from __future__ import annotations

import random
from collections import Counter

from fuzz import mutate, sentinel, wire
from fuzz.compare import BatchOutput, compare_batch, compare_digests, counter_delta, sort_frames
from fuzz.frames import CPU_PORT, FrameGenerator, split_packet_out
from fuzz.overlay import ALL_PORTS, SENTINEL_VSID, generate_world
from nve.loader import parse_overlay
from nve.validate import validate_overlay


def _yaml(seed: int) -> str:
    return generate_world(seed).to_yaml("127.0.0.1:9559", "/p4info.txtpb", "/device.json")


def test_same_seed_same_overlay_and_frames() -> None:
    assert _yaml(7) == _yaml(7)
    a = FrameGenerator(generate_world(7), 7).batch(3, 200)
    b = FrameGenerator(generate_world(7), 7).batch(3, 200)
    assert a == b
    # A batch does not depend on the batches before it (reproduction from seed + batch).
    gen = FrameGenerator(generate_world(7), 7)
    gen.batch(0, 200)
    assert gen.batch(3, 200) == a


def test_other_seed_other_frames() -> None:
    assert _yaml(7) != _yaml(8)
    a = FrameGenerator(generate_world(7), 7).batch(0, 50)
    b = FrameGenerator(generate_world(7), 7).batch(1, 50)
    assert [f.data for f in a] != [f.data for f in b]


def test_overlay_is_valid_and_has_a_few_hundred_endpoints() -> None:
    for seed in (1, 2):
        loaded = parse_overlay(_yaml(seed))
        assert validate_overlay(loaded.overlay) == []
        world = generate_world(seed)
        assert 200 <= len(world.endpoints) <= 400
        assert SENTINEL_VSID in world.subnets
        assert all(world.peers[v] for v in world.vsids)


def test_frames_cover_every_category_and_kind() -> None:
    frames = FrameGenerator(generate_world(1), 1).batch(0, 1500)
    seen = Counter((f.category, f.kind) for f in frames)
    categories = {c for c, _ in seen}
    kinds = {k for _, k in seen}
    assert {
        "bridged",
        "encap",
        "decap",
        "bum",
        "routed",
        "punted",
        "arp",
        "packet-out",
    } <= categories
    assert kinds == {"valid", "mutated", "truncated", "random"}
    for f in frames:
        assert f.port in (*ALL_PORTS, CPU_PORT)
        assert len(f.data) >= 14
        assert sentinel.parse(f.data) is None  # the generator never makes a sentinel
        if f.port == CPU_PORT:
            egress, payload = split_packet_out(f.data)
            assert 0 <= egress < 512
            assert len(payload) >= 14


def test_checksum_fix_after_mutation() -> None:
    ip = wire.ipv4("10.0.0.1", "10.0.0.2", 17, 8, options=b"\x01\x01\x01\x00") + bytes(8)
    frame = wire.ether("02:00:00:00:00:01", "02:00:00:00:00:02", wire.ETH_IPV4) + ip
    broken = bytearray(frame)
    broken[14 + 8] = 7  # TTL, checksum now wrong
    assert wire.ones_complement_sum(bytes(broken[14:38])) != 0xFFFF
    fixed = mutate.fix_ipv4_checksums(bytes(broken))
    assert wire.ones_complement_sum(fixed[14:38]) == 0xFFFF
    rng = random.Random(1)
    for _ in range(200):
        assert len(mutate.mutate(rng, frame)) >= 14
        assert 14 <= len(mutate.truncate(rng, frame)) < len(frame)


def test_sentinels_are_recognised_with_their_batch() -> None:
    for port, frame in sentinel.data_sentinels(41):
        tag = sentinel.parse(frame)
        assert tag is not None
        assert (tag.batch, tag.port) == (41, port)
    port, frame = sentinel.punt_sentinel(41)
    tag = sentinel.parse(frame)
    assert tag is not None
    assert tag.kind == sentinel.KIND_PUNT
    # Every port expects at least one data sentinel copy per batch.
    assert set(sentinel.expected_data_sentinels()) == set(ALL_PORTS)


def _output(batch: int, received: list[tuple[int, bytes]]) -> BatchOutput:
    out = BatchOutput(batch)
    out.ports, out.sentinels, out.problems = sort_frames(received, batch)
    return out


def test_comparer_is_silent_on_reordering_across_and_within_ports() -> None:
    f1, f2, f3 = b"\x01" * 20, b"\x02" * 20, b"\x03" * 20
    s = sentinel.data_sentinels(5)[0][1]
    a = _output(5, [(1, f1), (2, f2), (1, f3), (2, f2), (3, s)])
    b = _output(5, [(2, f2), (3, s), (1, f3), (2, f2), (1, f1)])
    assert compare_batch(a, b) == []
    assert a.sentinels == {3: 1}


def test_comparer_flags_a_missing_a_changed_and_a_misrouted_frame() -> None:
    f1, f2 = b"\x01" * 20, b"\x02" * 20
    base = _output(0, [(1, f1), (2, f2), (2, f2)])
    missing = _output(0, [(1, f1), (2, f2)])
    diffs = compare_batch(base, missing)
    assert [(d.kind, d.where) for d in diffs] == [("frames", "port 2")]
    assert diffs[0].only_a == [(f2.hex(), 1)]
    assert diffs[0].only_b == []
    changed = _output(0, [(1, f1[:-1] + b"\x00"), (2, f2), (2, f2)])
    assert [d.where for d in compare_batch(base, changed)] == ["port 1"]
    misrouted = _output(0, [(3, f1), (2, f2), (2, f2)])
    assert [d.where for d in compare_batch(base, misrouted)] == ["port 1", "port 3"]


def test_comparer_packet_ins_counters_and_digests() -> None:
    a, b = BatchOutput(2), BatchOutput(2)
    pin = ((("ingress_port", 1), ("reason", 2)), b"\xaa" * 20)
    a.packet_ins[pin] += 1
    b.packet_ins[pin] += 1
    a.counters = counter_delta({("drops", 3): (5, 500)}, {("drops", 3): (2, 200)})
    b.counters = {("drops", 3): (3, 300)}
    assert compare_batch(a, b) == []
    b.counters = {("drops", 3): (3, 301)}
    assert [d.where for d in compare_batch(a, b)] == ["drops[3]"]
    b.packet_ins.clear()
    assert {d.kind for d in compare_batch(a, b)} == {"counter", "packet-in"}
    d1, d2 = (0x1001, 0x020000000001, 1), (0x1001, 0x020000000002, 2)
    assert compare_digests({d1: 0, d2: 4}, {d2: 3, d1: 1}) == []
    diffs = compare_digests({d1: 0, d2: 4}, {d1: 0})
    assert [(d.batch, d.kind) for d in diffs] == [(4, "digest")]


def test_stray_sentinels_make_a_batch_incomplete() -> None:
    late = sentinel.data_sentinels(3)[0][1]
    a = _output(4, [(1, late)])
    assert a.problems
    assert compare_batch(a, _output(4, []))[0].kind == "incomplete"
