"""Every way a program can write a field of an extracted header shows in the emitted frame,
and unwritten headers come out byte for byte as received (bmv2's deparser serialises the
PHV as it stands: src/bm_sim/deparser.cpp). These guard any deparser shortcut that re-emits
received bytes (tried once, see docs/p4sim-engine.md "Performance"): each write test failed
against a version of it that did not notice the write."""

from __future__ import annotations

import pytest

from tests.sim.engine.nvgre_support import add_entry, compile_text, load
from tests.sim.engine.v1_template import program

ETH = bytes.fromhex("0000000000aa0000000000bb")
R_BODY = bytes([1, 2, 0, 3, 0, 0, 0, 4])
X_BODY = bytes([0x12, 0x34, 0x56, 0x78])


def frame(eth_type: int, body: bytes = b"") -> bytes:
    return ETH + eth_type.to_bytes(2, "big") + body


def out_of(src: str, data: bytes, setup=None) -> list[tuple[int, bytes]]:
    pipeline, st = load(compile_text(src))
    if setup:
        setup(st)
    return pipeline.process(1, data).outputs


def test_unwritten_headers_come_out_as_received() -> None:
    src = program("apply { sm.egress_spec = 2; }")
    data = frame(2, R_BODY + X_BODY + b"payload")
    assert out_of(src, data) == [(2, data)]


@pytest.mark.parametrize(
    "body, expected_r",
    [
        ("hdr.r.b = 9;", bytes([1, 9, 0, 3, 0, 0, 0, 4])),
        ("hdr.r.d = hdr.r.d + 1;", bytes([1, 2, 0, 3, 0, 0, 0, 5])),
        ("hdr.r.setInvalid(); hdr.r.setValid();", bytes(8)),
        ("hdr.r.c = (bit<16>)hdr.x.w;", bytes([1, 2, 0x56, 0x78, 0, 0, 0, 4])),
    ],
)
def test_a_written_field_is_emitted_with_its_new_value(body: str, expected_r: bytes) -> None:
    src = program(f"apply {{ {body} sm.egress_spec = 2; }}")
    out = out_of(src, frame(2, R_BODY + X_BODY + b"pl"))
    assert out == [(2, frame(2, expected_r + X_BODY + b"pl"))]


def test_a_write_through_an_action_out_parameter() -> None:
    src = program("""
        action put(out bit<8> dst, bit<8> v) { dst = v; }
        apply { put(hdr.r.a, 0x77); sm.egress_spec = 2; }""")
    out = out_of(src, frame(1, R_BODY + b"pl"))
    assert out == [(2, frame(1, bytes([0x77]) + R_BODY[1:] + b"pl"))]


def test_a_write_by_a_table_action_with_data() -> None:
    src = program("""
        action set_b(bit<8> v) { hdr.r.b = v; }
        table t { key = { hdr.r.a: exact; } actions = { set_b; NoAction; } default_action = NoAction(); }
        apply { t.apply(); sm.egress_spec = 2; }""")
    out = out_of(
        src,
        frame(1, R_BODY + b"pl"),
        lambda st: add_entry(st, "I.t", {"hdr.r.a": 1}, "I.set_b", {"v": 0x55}),
    )
    assert out == [(2, frame(1, bytes([1, 0x55]) + R_BODY[2:] + b"pl"))]


def test_a_whole_header_copy_packs_the_destination() -> None:
    # a header assigned as a whole (here from a local copy with one field changed)
    src = program("""
        apply { eth_t e = hdr.eth; e.src = 0x0000000000cc; hdr.eth = e; sm.egress_spec = 2; }""")
    data = frame(1, R_BODY + b"pl")
    out = out_of(src, data)
    assert out == [(2, ETH[:6] + bytes.fromhex("0000000000cc") + data[12:])]


def test_a_write_in_egress_is_seen_for_each_multicast_copy_independently() -> None:
    # a copy that writes must not leave the next copy's header marked as written, nor
    # the reverse: each copy starts from the headers ingress left
    src = program(
        "apply { sm.mcast_grp = 1; }", "apply { if (sm.egress_rid == 1) { hdr.r.a = 0xEE; } }"
    )
    pipeline, st = load(compile_text(src))
    st.pre.groups[1] = ((2, 0), (3, 1), (4, 0))
    outs = pipeline.process(1, frame(1, R_BODY + b"pl")).outputs
    assert outs == [
        (2, frame(1, R_BODY + b"pl")),
        (3, frame(1, bytes([0xEE]) + R_BODY[1:] + b"pl")),
        (4, frame(1, R_BODY + b"pl")),
    ]


def test_a_write_in_the_parser_after_extraction() -> None:
    parser = """
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); pkt.extract(hdr.r); hdr.r.a = 0x42; transition accept; }
}
"""
    src = program("apply { sm.egress_spec = 2; }", parser=parser)
    out = out_of(src, frame(1, R_BODY + b"pl"))
    assert out == [(2, frame(1, bytes([0x42]) + R_BODY[1:] + b"pl"))]
