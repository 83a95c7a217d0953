"""Specialised packet paths (p4sim.engine.specialize, p4sim.engine.paths) behave exactly as
the generic function: same frames out, same digests, same counters, for every frame and
whatever the control plane changes between frames.

The reference is always a second pipeline over an identically built state with
specialisation off; the pipeline under test builds a path after the first miss on a port
(``record_after=1``) so that nearly every frame after the first of its kind runs on one.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest
from scapy.layers.inet import GRE, IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Dot1Q, Ether

from p4sim.engine.paths import PathCache
from tests.sim.engine.nvgre_support import (
    ACCESS,
    LOCAL_PA,
    NETWORK,
    NH_DMAC,
    NH_SMAC,
    REMOTE_PA,
    TUNNEL,
    VM_A,
    VM_B,
    VSI,
    VSID,
    add_entry,
    compile_text,
    install_vsi,
    ip,
    load,
    mac,
)

ACCESS2 = 3
VM_C = "52:54:00:00:00:0c"


def install(st: Any) -> None:
    """The shared one-VSI fixture plus a second access port (tagged egress), VLAN 100 on both
    access ports, VM_C local on the second, and flooding to both access ports and the remote
    NVE."""
    install_vsi(st)
    add_entry(st, "NveIngress.port.role", {"port": ACCESS2}, "NveIngress.port.set_access")
    add_entry(
        st,
        "NveIngress.access.port_vlan",
        {"port": ACCESS2, "tagged": 0, "vid": 0},
        "NveIngress.access.set_vsi",
        {"vsi": VSI},
    )
    for port in (ACCESS, ACCESS2):
        add_entry(
            st,
            "NveIngress.access.port_vlan",
            {"port": port, "tagged": 1, "vid": 100},
            "NveIngress.access.set_vsi",
            {"vsi": VSI},
        )
    add_entry(
        st,
        "NveEgress.access.port_vsi",
        {"port": ACCESS2, "vsi": VSI},
        "NveEgress.access.tagged",
        {"vid": 42},
    )
    add_entry(
        st,
        "NveIngress.l2.dmac",
        {"vsi": VSI, "mac": mac(VM_C)},
        "NveIngress.l2.to_port",
        {"port": ACCESS2},
    )
    add_entry(
        st,
        "NveEgress.replica.tunnel",
        {"rid": TUNNEL},
        "NveEgress.replica.replica_v4",
        {
            "src_pa": ip(LOCAL_PA),
            "dst_pa": ip(REMOTE_PA),
            "use_flow_id": 1,
            "smac": mac(NH_SMAC),
            "dmac": mac(NH_DMAC),
            "vid": 0,
        },
    )
    st.pre.groups[VSI] = ((ACCESS, 0), (ACCESS2, 0), (NETWORK, TUNNEL))


def pair(program: Any) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """(reference pipeline, state), (specialising pipeline, state), identically installed."""
    ref = load(program, specialize=False)
    spec = load(program, specialize=True, record_after=1)
    install(ref[1])
    install(spec[1])
    assert ref[0].paths is None and spec[0].paths is not None
    return ref, spec


def customer(
    src: str = VM_A,
    dst: str = VM_B,
    *,
    vlan: int | None = None,
    sport: int = 1234,
    payload: bytes = b"x" * 40,
) -> bytes:
    l2 = Ether(src=src, dst=dst)
    if vlan is not None:
        l2 = l2 / Dot1Q(vlan=vlan)
    return bytes(
        l2 / IP(src="10.0.0.1", dst="10.0.0.2", tos=0x2A) / UDP(sport=sport, dport=80) / payload
    )


def from_network(inner: bytes, *, vsid: int = VSID, src: str = REMOTE_PA, ecn: int = 0) -> bytes:
    return bytes(
        Ether(src=NH_DMAC, dst=NH_SMAC)
        / IP(src=src, dst=LOCAL_PA, proto=47, tos=ecn)
        / GRE(key_present=1, proto=0x6558, key=vsid << 8 | 0x11)
        / inner
    )


def base_frames() -> list[tuple[int, bytes]]:
    """Frames of every path the fixture has: encap (tagged, untagged, FlowIDs), local
    bridging, flooding from access and network, decap, learning misses (digest), ARP (a
    metered punt, never specialised), IPv6, drops of several reasons."""
    inner_b = customer(VM_B, VM_A)
    return [
        (ACCESS, customer()),
        (ACCESS, customer(vlan=100)),
        (ACCESS, customer(sport=999)),
        (ACCESS, customer(dst=VM_C)),
        (ACCESS, customer(dst="52:54:00:00:00:77")),  # unknown unicast: flood
        (ACCESS2, customer(src=VM_C, dst=VM_A)),  # unknown source: digest
        (ACCESS, customer(vlan=55)),  # no VSI for the VLAN: drop
        (NETWORK, from_network(inner_b)),
        (NETWORK, from_network(customer(VM_B, "52:54:00:00:00:77"))),  # decap flood
        (NETWORK, from_network(inner_b, ecn=3)),
        (NETWORK, from_network(inner_b, vsid=0x999999)),  # unknown VSID: drop
        (NETWORK, from_network(inner_b, src="203.0.113.1")),  # unknown peer: drop
        (
            ACCESS,
            bytes(Ether(src=VM_A, dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.0.0.1", pdst="10.0.0.2")),
        ),
        (NETWORK, bytes(Ether(src=NH_DMAC, dst=NH_SMAC) / ARP(psrc="192.0.2.9", pdst=LOCAL_PA))),
        (
            ACCESS,
            bytes(
                Ether(src=VM_A, dst=VM_B)
                / IPv6(src="2001:db8::1", dst="2001:db8::2")
                / UDP(sport=5, dport=6)
                / b"six"
            ),
        ),
        (9, customer()),  # port with no role: drop
    ]


def mutate(rng: random.Random, frame: bytes) -> bytes:
    data = bytearray(frame)
    kind = rng.randrange(4)
    if kind == 0 and data:
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
    elif kind == 1:
        del data[rng.randrange(len(data) + 1) :]
    elif kind == 2 and len(data) > 20:
        i = rng.randrange(12, min(len(data), 60))
        data[i] = rng.randrange(256)
    else:
        data += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 30)))
    return bytes(data)


def counters(st: Any) -> dict[str, tuple[list[int], list[int]]]:
    return {c.name: (list(c.packets), list(c.bytes)) for c in st.counters.values()}


def replace(st: Any, table: str, key0: int, key1: int, action: str, params: dict[str, int]) -> None:
    """Replace the entry of ``table`` whose key starts (key0, key1) (a control-plane MODIFY)."""
    t = st.table(table)
    for e in t.entries():
        if tuple(e.match[:2]) == (key0, key1):
            t.delete(e.match, e.priority)
    add_entry(st, table, dict(zip([f.name for f in t.fields], (key0, key1))), action, params)


def run_both(ref: tuple[Any, Any], spec: tuple[Any, Any], port: int, frame: bytes) -> None:
    r = ref[0].process(port, frame)
    s = spec[0].process(port, frame)
    assert s.outputs == r.outputs, f"port {port} frame {frame.hex()}"
    assert s.digests == r.digests, f"port {port} frame {frame.hex()}"


def test_every_path_gives_the_generic_result_and_paths_are_used(nvgre_program) -> None:
    ref, spec = pair(nvgre_program)
    frames = base_frames()
    for _ in range(3):
        for port, frame in frames:
            run_both(ref, spec, port, frame)
    assert counters(spec[1]) == counters(ref[1])
    stats = spec[0].paths.stats
    assert stats.built >= 8  # one per path seen, more or less
    assert stats.refused >= 1  # the metered ARP punt keeps the generic code
    assert any("call of" in r for r in stats.refusals), stats.refusals


def test_paths_are_taken_not_just_built(nvgre_program) -> None:
    ref, spec = pair(nvgre_program)
    port, frame = base_frames()[0]
    for _ in range(20):
        run_both(ref, spec, port, frame)
    cache: PathCache = spec[0].paths
    # the first frame fills the FlowID hash's memo and the others find it filled: the memo
    # fill stays in the path, so one path serves both, built once and taken 19 times
    assert cache.stats.built == 1
    assert [p.hits[0] for p in cache._paths[port]] == [19]


def test_random_and_mutated_frames_match_the_generic_function(nvgre_program) -> None:
    rng = random.Random(4242)
    ref, spec = pair(nvgre_program)
    frames = base_frames()
    for i in range(3000):
        port, frame = rng.choice(frames)
        if rng.random() < 0.5:
            frame = mutate(rng, frame)
        run_both(ref, spec, port, frame)
        if i % 7 == 0:  # the same frame again: its path is taken
            run_both(ref, spec, port, frame)
    assert counters(spec[1]) == counters(ref[1])
    assert spec[0].paths.stats.built > 20


def test_control_plane_changes_between_packets_are_seen_by_built_paths(nvgre_program) -> None:
    """Paths assume nothing about table contents: each change here makes a built path's
    guard fail (or take another action) and the packet still gets the generic result,
    counted once."""
    ref, spec = pair(nvgre_program)
    encap = customer()

    def back_with_flow_id_off(st: Any) -> None:
        replace(
            st, "NveIngress.l2.dmac", VSI, mac(VM_B), "NveIngress.l2.to_tunnel", {"tunnel": TUNNEL}
        )
        st.table("NveIngress.tunnel.remote").clear()
        add_entry(
            st,
            "NveIngress.tunnel.remote",
            {"tunnel": TUNNEL},
            "NveIngress.tunnel.set_remote_v4",
            {"src_pa": ip(LOCAL_PA), "dst_pa": ip(REMOTE_PA), "use_flow_id": 0},
        )

    changes: list[Callable[[Any], None]] = [
        # VM_B moves from the remote NVE to the second access port
        lambda st: replace(
            st, "NveIngress.l2.dmac", VSI, mac(VM_B), "NveIngress.l2.to_port", {"port": ACCESS2}
        ),
        # and back, but the remote NVE's FlowID is now off
        back_with_flow_id_off,
        # the underlay next hop disappears: drop late in ingress, after the tunnel lookups
        lambda st: st.table("NveIngress.underlay.nexthop").clear(),
        # the flood group shrinks
        lambda st: st.pre.groups.__setitem__(VSI, ((ACCESS2, 0),)),
    ]
    for change in changes:
        for _ in range(3):
            run_both(ref, spec, ACCESS, encap)
            run_both(ref, spec, ACCESS, customer(dst="52:54:00:00:00:77"))
        change(ref[1])
        change(spec[1])
        assert counters(spec[1]) == counters(ref[1])
    for _ in range(3):
        run_both(ref, spec, ACCESS, encap)
    assert counters(spec[1]) == counters(ref[1])


def test_a_path_leaves_no_trace_when_a_guard_fails(nvgre_program) -> None:
    """A decapsulated frame is counted at the end of ingress (per VSI and per tunnel), before
    the egress lookups. The path defers those counts past its last guard: when the egress
    port leaves the VSI, the packet falls back to the generic function, which counts it once
    and drops it in egress."""
    pipeline, st = load(nvgre_program, specialize=True, record_after=1)
    install(st)
    frame = from_network(customer(VM_B, VM_A))
    for _ in range(3):
        assert [port for port, _ in pipeline.process(NETWORK, frame).outputs] == [ACCESS]
    assert pipeline.paths.stats.built >= 1
    rx = st.counter("NveIngress.counters.vsi_decap")
    assert rx.packets[VSI] == 3
    st.table("NveEgress.access.port_vsi").delete((ACCESS, VSI))
    assert pipeline.process(NETWORK, frame).outputs == []
    assert rx.packets[VSI] == 4
    assert st.counter("NveIngress.counters.tunnel_rx").packets[TUNNEL] == 4
    assert st.counter("NveEgress.counters.drops").packets[62] == 1  # EGRESS_NOT_MEMBER, once


def test_the_encap_path_is_straight_line_code(nvgre_program) -> None:
    pipeline, st = load(nvgre_program, specialize=True)
    install(st)
    records, out, _ = pipeline.paths.record(ACCESS, customer())
    assert len(out) == 1 and out[0][0] == NETWORK
    source = pipeline.paths.source_of(records)
    assert "while" not in source and "for " not in source
    assert "m_fwd_drop_reason" not in source  # 0 all along this path: every check folded
    assert "_snap" not in source  # unicast: no PHV snapshot
    assert source.count("\n") < pipeline.source.count("\n") / 10


PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header h_t { bit<8> a; bit<8> b; }
struct headers_t { h_t h; }
struct meta_t { bit<8> x; }
parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control VC(inout headers_t hdr, inout meta_t m) { apply { } }
control I(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    counter(256, CounterType.packets_and_bytes) seen;
    register<bit<8>>(4) last;
    meter(4, MeterType.packets) rate;
    action fwd(bit<9> port) { sm.egress_spec = port; }
    table t { key = { hdr.h.a : exact; } actions = { fwd; NoAction; } default_action = NoAction; }
    apply {
        seen.count((bit<32>) hdr.h.b);
        hdr.h.b = hdr.h.b + 1;
        if (hdr.h.a == 7) {
            last.write(0, hdr.h.b);
        }
        if (hdr.h.a == 9) {
            bit<2> color;
            rate.execute_meter(0, color);
            hdr.h.b = (bit<8>) color;
        }
        t.apply();
    }
}
control E(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control C(inout headers_t hdr, inout meta_t m) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); } }
V1Switch(P(), VC(), I(), E(), C(), D()) main;
"""


@pytest.fixture(scope="module")
def small_program():
    return compile_text(PROGRAM)


def test_a_deferred_count_uses_the_value_it_had_when_called(small_program) -> None:
    """``seen.count(hdr.h.b)`` comes before ``hdr.h.b = hdr.h.b + 1``; the path counts at its
    end, with the index captured at the call."""
    pipeline, st = load(small_program, specialize=True, record_after=1)
    add_entry(st, "I.t", {"hdr.h.a": 1}, "I.fwd", {"port": 4})
    seen = st.counter("I.seen")
    for n in range(5):
        assert pipeline.process(1, bytes([1, 20])).outputs == [(4, bytes([1, 21]))]
        assert seen.packets[20] == n + 1 and seen.packets[21] == 0
    assert pipeline.paths.stats.built == 1


def test_register_writes_and_meters_keep_the_generic_function(small_program) -> None:
    pipeline, st = load(small_program, specialize=True, record_after=1)
    add_entry(st, "I.t", {"hdr.h.a": 7}, "I.fwd", {"port": 4})
    add_entry(st, "I.t", {"hdr.h.a": 9}, "I.fwd", {"port": 5})
    for _ in range(3):
        assert pipeline.process(1, bytes([7, 1])).outputs == [(4, bytes([7, 2]))]
        assert pipeline.process(1, bytes([9, 1])).outputs == [(5, bytes([9, 0]))]  # GREEN
    assert st.register("I.last").cells[0] == 2
    stats = pipeline.paths.stats
    assert stats.built == 0 and stats.refused == 6
    assert sum(stats.refusals.values()) == 6
    assert all(".write" in reason or ".execute" in reason for reason in stats.refusals), (
        stats.refusals
    )


def test_specialisation_can_be_switched_off(small_program, monkeypatch) -> None:
    monkeypatch.setenv("P4SIM_SPECIALIZE", "0")
    pipeline, _ = load(small_program)
    assert pipeline.paths is None
