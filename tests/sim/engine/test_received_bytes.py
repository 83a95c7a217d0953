"""The received-bytes shortcut (p4sim.engine.rawbytes): a header that nothing wrote since
it was extracted is emitted, and summed by csum16, from the frame's own bytes. bmv2's
deparser and checksum engine read the PHV as it stands (src/bm_sim/deparser.cpp,
src/bm_sim/checksums.cpp), so the shortcut must give exactly what packing the fields gives;
these tests compare against checksums computed here from the bytes (RFC 1071), and
test_field_writes.py covers every way of writing a field."""

from __future__ import annotations

import ast
import functools

from hypothesis import given, settings
from hypothesis import strategies as st

from p4sim.engine import rawbytes
from tests.sim.engine.nvgre_support import compile_text, load
from tests.sim.engine.nvgre_support import csum16_reference as csum16
from tests.sim.engine.v1_template import program

ETH = bytes.fromhex("0000000000aa0000000000bb")


def frame(eth_type: int, body: bytes = b"") -> bytes:
    return ETH + eth_type.to_bytes(2, "big") + body


def with_checksums(ingress: str, vc: str = "", cc: str = "") -> str:
    src = program(ingress)
    if vc:
        src = src.replace(
            "control VC(inout headers_t hdr, inout meta_t meta) { apply { } }",
            f"control VC(inout headers_t hdr, inout meta_t meta) {{ apply {{ {vc} }} }}",
        )
    if cc:
        src = src.replace(
            "control CC(inout headers_t hdr, inout meta_t meta) { apply { } }",
            f"control CC(inout headers_t hdr, inout meta_t meta) {{ apply {{ {cc} }} }}",
        )
    return src


VERIFY_ABD = "verify_checksum(hdr.r.isValid(), { hdr.r.a, hdr.r.b, hdr.r.d }, hdr.r.c, HashAlgorithm.csum16);"
UPDATE_ABD = "update_checksum(hdr.r.isValid(), { hdr.r.a, hdr.r.b, hdr.r.d }, hdr.r.c, HashAlgorithm.csum16);"
ROUTE_ON_ERROR = (
    "apply { if (sm.checksum_error == 1) { sm.egress_spec = 3; } else { sm.egress_spec = 2; } }"
)


@functools.cache
def _verify_pipeline():
    return load(compile_text(with_checksums(ROUTE_ON_ERROR, vc=VERIFY_ABD)))[0]


@settings(max_examples=300, deadline=None)
@given(
    a=st.integers(0, 255),
    b=st.integers(0, 255),
    c=st.integers(0, 0xFFFF),
    d=st.integers(0, 2**32 - 1),
    good=st.booleans(),
)
def test_verify_from_received_bytes_matches_rfc1071(
    a: int, b: int, c: int, d: int, good: bool
) -> None:
    data = bytes([a, b]) + d.to_bytes(4, "big")
    expected = csum16(data)
    if good:
        c = expected
    body = bytes([a, b]) + c.to_bytes(2, "big") + d.to_bytes(4, "big")
    port = _verify_pipeline().process(1, frame(1, body)).outputs[0][0]
    assert port == (2 if c == expected else 3)


def test_verify_of_all_zero_words_wants_ffff() -> None:
    # csum16 of zero words is 0xFFFF, never 0 (RFC 1071's one's complement of +0)
    p = _verify_pipeline()
    assert p.process(1, frame(1, bytes([0, 0, 0xFF, 0xFF, 0, 0, 0, 0]))).outputs[0][0] == 2
    assert p.process(1, frame(1, bytes(8))).outputs[0][0] == 3


def test_update_over_an_unwritten_header_corrects_a_wrong_checksum() -> None:
    pipeline, _ = load(compile_text(with_checksums("apply { sm.egress_spec = 2; }", cc=UPDATE_ABD)))
    body = bytes([1, 2, 0xDE, 0xAD, 0, 0, 0, 4])
    out = pipeline.process(1, frame(1, body + b"pl")).outputs[0][1]
    assert out[14:22] == bytes([1, 2]) + csum16(bytes([1, 2, 0, 0, 0, 4])).to_bytes(
        2, "big"
    ) + bytes([0, 0, 0, 4])


def test_update_after_a_write_sums_the_new_value() -> None:
    pipeline, _ = load(
        compile_text(with_checksums("apply { hdr.r.a = 9; sm.egress_spec = 2; }", cc=UPDATE_ABD))
    )
    out = pipeline.process(1, frame(1, bytes([1, 2, 0, 0, 0, 0, 0, 4]) + b"pl")).outputs[0][1]
    assert out[14:22] == bytes([9, 2]) + csum16(bytes([9, 2, 0, 0, 0, 4])).to_bytes(
        2, "big"
    ) + bytes([0, 0, 0, 4])


def test_a_parser_assignment_after_the_extract_is_emitted_and_verified() -> None:
    parser = """
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); pkt.extract(hdr.r); hdr.r.b = 7; transition accept; }
}
"""
    src = program(ROUTE_ON_ERROR, parser=parser).replace(
        "control VC(inout headers_t hdr, inout meta_t meta) { apply { } }",
        f"control VC(inout headers_t hdr, inout meta_t meta) {{ apply {{ {VERIFY_ABD} }} }}",
    )
    pipeline, _ = load(compile_text(src))
    # the checksum on the wire is right for b = 7, not for the received b = 2
    c = csum16(bytes([1, 7, 0, 0, 0, 4]))
    outs = pipeline.process(
        1, frame(1, bytes([1, 2]) + c.to_bytes(2, "big") + bytes([0, 0, 0, 4]) + b"pl")
    ).outputs
    assert outs[0][0] == 2
    assert outs[0][1][14:22] == bytes([1, 7]) + c.to_bytes(2, "big") + bytes([0, 0, 0, 4])


# -- track_writes on its own -------------------------------------------------------------------
H = rawbytes.RawHeader("_at", 4, (("f1", 16), ("f2", 16)))


def _tracked(body: str) -> list[str]:
    src = "def _process(_d):\n" + "".join("    " + ln + "\n" for ln in body.strip().split("\n"))
    out = rawbytes.track_writes(src, [H])
    ast.parse(out)
    return [ln.strip() for ln in out.split("\n")[1:] if ln.strip()]


def test_every_write_resets_the_offset() -> None:
    assert _tracked("f1 = 1\nif x:\n    f2 += 1") == [
        "f1 = 1",
        "_at = -1",
        "if x:",
        "f2 += 1",
        "_at = -1",
    ]
    assert _tracked("if x:\n    a, f2 = t") == ["if x:", "a, f2 = t", "_at = -1"]
    assert _tracked("f1 = f2 = 0") == ["f1 = f2 = 0", "_at = -1"]


def test_the_extraction_sets_the_offset_and_is_not_reset() -> None:
    assert _tracked("f1, c = u(_d, 0)\nf2 = c >> 4\nv = True\n_at = 0") == [
        "f1, c = u(_d, 0)",
        "f2 = c >> 4",
        "v = True",
        "_at = 0",
    ]
    assert _tracked("f1, f2, _at = z") == ["f1, f2, _at = z"]


def test_a_reset_waits_for_the_last_write_of_a_run_but_never_past_a_read() -> None:
    assert _tracked("f1 = 1\ny = 2\nf2 = 3") == ["f1 = 1", "y = 2", "f2 = 3", "_at = -1"]
    assert _tracked("f1 = 1\ns = _at\nf2 = 3") == [
        "f1 = 1",
        "_at = -1",
        "s = _at",
        "f2 = 3",
        "_at = -1",
    ]
    assert _tracked("f1 = 1\nif c:\n    pass\nf2 = 3") == [
        "f1 = 1",
        "_at = -1",
        "if c:",
        "pass",
        "f2 = 3",
        "_at = -1",
    ]
