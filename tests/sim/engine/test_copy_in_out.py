"""Arguments are passed by copy-in/copy-out (P4_16 spec, "Calling convention: call by
copy in/copy out"): a body that reaches one location through two names sees the values
copied at the call, and out/inout parameters are written back left to right when it ends.
p4sim binds lvalue arguments by aliasing when that gives the same result, and copies only
when it cannot (overlapping arguments; an aggregate `in` argument of an action). Each
expected value below is worked out from the spec's rule; the comment gives what aliasing
would have produced instead."""

from __future__ import annotations

from tests.sim.engine.nvgre_support import compile_text, load
from tests.sim.engine.v1_template import program

ETH = bytes.fromhex("0000000000aa0000000000bb0001")
R_BODY = bytes([1, 2, 0, 3, 0, 0, 0, 4])  # a=1 b=2 c=3 d=4


def r_after(ingress: str, decls: str = "") -> bytes:
    """The r header of the frame that comes out after `ingress` ran on R_BODY."""
    pipeline, _st = load(compile_text(program(ingress, decls=decls)))
    outs = pipeline.process(1, ETH + R_BODY + b"pl").outputs
    assert len(outs) == 1 and outs[0][0] == 2
    frame = outs[0][1]
    assert frame[:14] == ETH and frame[22:] == b"pl"
    return frame[14:22]


def test_two_inout_arguments_naming_one_field() -> None:
    out = r_after("""
        action bump(inout bit<8> x, inout bit<8> y) { x = x + 1; y = y + 1; }
        apply { bump(hdr.r.a, hdr.r.a); sm.egress_spec = 2; }""")
    assert out[0] == 2  # both copies are 1 + 1; aliasing would give 3


def test_a_header_and_one_of_its_fields() -> None:
    out = r_after("""
        action f(inout r_t h, inout bit<8> b) { h.b = 5; b = b + 1; }
        apply { f(hdr.r, hdr.r.b); sm.egress_spec = 2; }""")
    assert out[1] == 3  # h copied out (b = 5), then b (= 2 + 1); aliasing: 6
    assert out[0] == 1 and out[2:] == R_BODY[2:]


def test_out_then_inout_are_copied_back_left_to_right() -> None:
    out = r_after("""
        action o(out bit<8> x, inout bit<8> y) { y = y + 1; x = 7; }
        apply { o(hdr.r.a, hdr.r.a); sm.egress_spec = 2; }""")
    assert out[0] == 2  # x (7) written back first, then y (1 + 1); aliasing: 7


def test_an_aggregate_in_argument_is_a_copy() -> None:
    out = r_after("""
        action g(in r_t h) { hdr.r.a = 9; hdr.r.b = h.a; hdr.r.c = (bit<16>)h.b; }
        apply { g(hdr.r); sm.egress_spec = 2; }""")
    assert out[:4] == bytes([9, 1, 0, 2])  # h kept the values of the call; aliasing: 9, 9, 0, 2


def test_a_control_applied_to_overlapping_arguments() -> None:
    decls = """
control Twice(inout bit<8> x, inout bit<8> y) { apply { x = x + 1; y = y + 10; } }
"""
    out = r_after(
        """
        Twice() twice;
        apply { twice.apply(hdr.r.a, hdr.r.a); sm.egress_spec = 2; }""",
        decls,
    )
    assert out[0] == 11  # y (1 + 10) is written back last; aliasing: 12


def test_disjoint_arguments_still_alias_with_no_copies() -> None:
    src = program("""
        action f(inout r_t h, inout bit<8> m) { h.b = m; m = 1; }
        apply { f(hdr.r, meta.m8); sm.egress_spec = 2; }""")
    pipeline, _st = load(compile_text(src))
    assert "v_copy" not in pipeline.source
    frame = pipeline.process(1, ETH + R_BODY + b"pl").outputs[0][1]
    assert frame[14:16] == bytes([1, 0])
