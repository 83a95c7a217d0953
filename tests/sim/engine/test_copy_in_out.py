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


# An action's body can also reach an argument's storage through the enclosing control's
# names (its locals and parameters): the parameter must then be a copy that is written back
# over the argument when the body ends, whatever the body wrote there by the other name.


def test_an_inout_bit_field_bound_to_a_control_local_assigned_by_the_body() -> None:
    out = r_after("""
        bit<8> c = 0;
        action bump(inout bit<8> x) { x = x + 1; c = 100; }
        apply { c = hdr.r.a; bump(c); hdr.r.a = c; sm.egress_spec = 2; }""")
    assert out[0] == 2  # a + 1 copied back over c; aliasing: 100


def test_the_local_read_in_the_body_is_the_value_before_the_call() -> None:
    out = r_after("""
        bit<8> c = 0;
        action peek(inout bit<8> x) { x = 33; hdr.r.b = c; }
        apply { c = 5; peek(c); hdr.r.a = c; sm.egress_spec = 2; }""")
    assert out[:2] == bytes([33, 5])  # aliasing: 33, 33


def test_a_whole_header_and_a_whole_struct_bound_to_control_locals() -> None:
    decls = "struct pair_t { bit<8> x; bit<8> y; }\n"
    out = r_after(
        """
        r_t lh;
        pair_t lp;
        action h(inout r_t v) { v.a = 0x44; lh.a = 0x55; }
        action p(inout pair_t q) { q.x = 0x66; lp.x = 0x77; lp.y = q.y + 1; }
        apply {
            lh = hdr.r; h(lh); hdr.r.a = lh.a;
            lp.x = 1; lp.y = 2; p(lp); hdr.r.b = lp.x; hdr.r.c = (bit<16>)lp.y;
            sm.egress_spec = 2;
        }""",
        decls,
    )
    assert out[:4] == bytes([0x44, 0x66, 0, 2])  # aliasing: 0x55, 0x77, 0, 3


def test_the_local_written_by_an_action_the_body_calls() -> None:
    out = r_after("""
        bit<8> c = 0;
        action set_c() { c = 50; }
        action bump2(inout bit<8> x) { x = x + 2; set_c(); }
        apply { c = hdr.r.a; bump2(c); hdr.r.a = c; sm.egress_spec = 2; }""")
    assert out[0] == 3  # aliasing: 50


def test_a_table_action_bound_to_a_local_in_the_actions_list() -> None:
    out = r_after("""
        bit<8> c = 0;
        action via(inout bit<8> x) { x = 0x88; c = 0x99; }
        table t { key = { hdr.eth.type: exact; } actions = { via(c); }
                  const entries = { 0x0001: via(c); } }
        apply { t.apply(); hdr.r.a = c; sm.egress_spec = 2; }""")
    assert out[0] == 0x88  # aliasing: 0x99


def test_slices_as_out_and_inout_arguments_are_written_back_into_the_slice() -> None:
    out = r_after("""
        action put5(out bit<4> x) { x = 5; }
        action add(inout bit<4> x, bit<4> v) { x = x + v; }
        apply { put5(hdr.r.a[7:4]); add(hdr.r.b[3:0], 3); sm.egress_spec = 2; }""")
    assert out[:2] == bytes([0x51, 0x05])


def test_a_local_untouched_by_the_body_still_aliases() -> None:
    src = program("""
        bit<8> c = 0;
        bit<8> other = 0;
        action bump(inout bit<8> x) { x = x + 1; other = 7; }
        apply { c = hdr.r.a; bump(c); hdr.r.a = c + other; sm.egress_spec = 2; }""")
    pipeline, _st = load(compile_text(src))
    assert "v_copy" not in pipeline.source
    assert pipeline.process(1, ETH + R_BODY + b"pl").outputs[0][1][14] == 9


def test_exit_in_the_body_still_writes_the_parameters_back() -> None:
    out = r_after("""
        action last(inout bit<8> x) { x = 1; hdr.r.a = 2; exit; }
        apply { sm.egress_spec = 2; last(hdr.r.a); }""")
    assert out[0] == 1  # as p4c compiles exit for bmv2; skipping the write-back: 2
