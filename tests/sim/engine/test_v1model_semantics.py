"""bmv2 simple_switch semantics, one rule per test, each from bmv2's source
(p4lang/behavioral-model): targets/simple_switch/simple_switch.cpp (ingress_thread,
egress_thread), targets/simple_switch/primitives.cpp, src/bm_sim/parser.cpp,
src/bm_sim/calculations.cpp, src/bm_sim/phv.cpp."""

from __future__ import annotations

import logging
import zlib

from tests.sim.engine.nvgre_support import (
    add_entry,
    clone_session,
    compile_text,
    crc16_arc,
    csum16_reference,
    load,
)
from tests.sim.engine.v1_template import program

ETH = bytes.fromhex("0000000000aa0000000000bb")


def frame(eth_type: int, body: bytes = b"") -> bytes:
    return ETH + eth_type.to_bytes(2, "big") + body


def run(src: str, data: bytes, port: int = 1, **kw):
    pipeline, st = load(compile_text(src), **kw)
    return pipeline.process(port, data), st


def r_fields(out: bytes) -> tuple[int, int, int, int]:
    r = out[14:22]
    return r[0], r[1], int.from_bytes(r[2:4], "big"), int.from_bytes(r[4:8], "big")


R_BODY = bytes([1, 2, 0, 3, 0, 0, 0, 4])


def test_uninitialised_metadata_reads_zero() -> None:
    # phv.cpp reset_metadata: metadata starts at 0 for every packet
    src = program("apply { hdr.r.a = meta.m8; hdr.r.d = meta.m32; sm.egress_spec = 2; }")
    result, _ = run(src, frame(1, R_BODY))
    assert result.outputs == [(2, frame(1, bytes([0, 2, 0, 3, 0, 0, 0, 0])))]


def test_set_valid_zeroes_an_invalid_header_and_grows_packet_length() -> None:
    # primitives.cpp add_header: an invalid header is reset to 0, made valid, and the
    # packet-length register grows by its size; egress reads it as packet_length
    src = program(
        "apply { hdr.r.setValid(); hdr.r.a = 7; sm.egress_spec = 2; }",
        "apply { hdr.r.d = sm.packet_length; }",
    )
    result, _ = run(src, frame(0x9999, b"pay"))
    out = result.outputs[0][1]
    assert r_fields(out) == (7, 0, 0, 14 + 3 + 8)
    assert out == frame(0x9999) + bytes([7, 0, 0, 0]) + (25).to_bytes(4, "big") + b"pay"


def test_set_valid_on_a_valid_header_keeps_its_fields() -> None:
    src = program("apply { hdr.r.setValid(); sm.egress_spec = 2; }")
    result, _ = run(src, frame(1, R_BODY))
    assert result.outputs == [(2, frame(1, R_BODY))]


def test_set_invalid_shrinks_packet_length_and_removes_the_header() -> None:
    src = program(
        "apply { hdr.r.setInvalid(); sm.egress_spec = 2; }",
        "apply { hdr.eth.type = (bit<16>)sm.packet_length; }",
    )
    result, _ = run(src, frame(1, R_BODY + b"zz"))
    assert result.outputs == [(2, frame(14 + 8 + 2 - 8, b"zz"))]


def test_parser_error_continues_into_ingress_with_unparsed_bytes_as_payload() -> None:
    # parser.cpp Parser::parse: an exception sets the error, parsing stops, headers already
    # extracted stay valid, and the packet goes on to ingress; the unparsed bytes are payload
    src = program("""apply {
        if (sm.parser_error == error.PacketTooShort) { hdr.eth.type = 0xEEEE; }
        sm.egress_spec = 2; }""")
    short = frame(1, b"\x01\x02\x03")  # r needs 8 bytes
    result, _ = run(src, short)
    assert result.outputs == [(2, frame(0xEEEE, b"\x01\x02\x03"))]


def test_truncated_ethernet_leaves_every_header_invalid() -> None:
    src = program("""apply {
        if (!hdr.eth.isValid() && sm.parser_error == error.PacketTooShort) { sm.egress_spec = 3; }
        else { sm.egress_spec = 2; } }""")
    result, _ = run(src, b"\x01\x02\x03")
    assert result.outputs == [(3, b"\x01\x02\x03")]


def test_explicit_reject_ends_parsing_without_an_error_on_v1model() -> None:
    # p4c's bmv2 back end compiles `transition reject` as the end of parsing (it warns
    # "Explicit transition to reject not supported on this target"): no error is recorded
    parser = """
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); transition select(hdr.eth.type) {
        0x0001: reject; default: accept; } }
}"""
    src = program(
        """apply {
        if (sm.parser_error == error.NoError) { sm.egress_spec = 2; } else { sm.egress_spec = 3; } }""",
        parser=parser,
    )
    result, _ = run(src, frame(1, R_BODY))
    assert result.outputs == [(2, frame(1, R_BODY))]


def test_select_without_a_matching_case_sets_no_match() -> None:
    parser = """
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); transition select(hdr.eth.type) { 0x0001: accept; } }
}"""
    src = program(
        """apply {
        if (sm.parser_error == error.NoMatch) { sm.egress_spec = 3; } else { sm.egress_spec = 2; } }""",
        parser=parser,
    )
    result, _ = run(src, frame(5, b"rest"))
    assert result.outputs == [(3, frame(5, b"rest"))]


def test_verify_false_stops_the_parser_with_its_error() -> None:
    parser = """
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); verify(hdr.eth.type != 0x0007, error.HeaderTooShort);
                  pkt.extract(hdr.r); transition accept; }
}"""
    src = program(
        """apply {
        if (sm.parser_error == error.HeaderTooShort && !hdr.r.isValid()) { sm.egress_spec = 3; }
        else { sm.egress_spec = 2; } }""",
        parser=parser,
    )
    result, _ = run(src, frame(7, R_BODY))
    assert result.outputs == [(3, frame(7, R_BODY))]


def _hash_program(algo: str, data: str, base: str = "16w0", mx: str = "32w0") -> str:
    return program(f"""apply {{
        hash(hdr.r.d, HashAlgorithm.{algo}, (bit<32>){base}, {data}, {mx});
        sm.egress_spec = 2; }}""")


def _d_of(result) -> int:
    return r_fields(result.outputs[0][1])[3]


def test_hash_crc16_is_crc16_arc_over_fields_packed_msb_first() -> None:
    # calculations.cpp: crc16 = poly 0x8005 reflected, init 0; BufBuilder packs fields
    # bit by bit MSB first (a 4-bit and a 12-bit field make two bytes)
    src = program("""apply {
        hash(hdr.r.d, HashAlgorithm.crc16, 32w0, { hdr.x.hi, hdr.x.lo, hdr.r.a }, 32w65536);
        sm.egress_spec = 2; }""")
    body = R_BODY + bytes([0xAB, 0xCD, 0, 0])
    result, _ = run(src, frame(2, body))
    assert _d_of(result) == crc16_arc(bytes([0xAB, 0xCD, 1]))


def test_hash_is_base_plus_hash_modulo_max() -> None:
    src = _hash_program("crc32", "{ hdr.r.a, hdr.r.c }", base="100", mx="32w1000")
    result, _ = run(src, frame(1, R_BODY))
    assert _d_of(result) == 100 + zlib.crc32(bytes([1, 0, 3])) % 1000


def test_hash_with_max_zero_yields_the_base() -> None:
    # primitives.cpp modify_field_with_hash_based_offset: max 0 is treated as 1
    src = _hash_program("crc32", "{ hdr.r.a }", base="55", mx="32w0")
    result, _ = run(src, frame(1, R_BODY))
    assert _d_of(result) == 55


def test_hash_identity_is_the_leading_bytes() -> None:
    src = _hash_program("identity", "{ hdr.r.c, hdr.r.a }", mx="32w0xFFFFFFFF")
    result, _ = run(src, frame(1, R_BODY))
    assert _d_of(result) == 0x000301


def test_hash_skips_fields_of_invalid_headers() -> None:
    # calculations.cpp Deparse::operator()(field_t): fields of invalid headers add nothing
    src = _hash_program("crc32", "{ hdr.x.w, hdr.r.a }", mx="32w0xFFFFFFFF")
    result, _ = run(src, frame(1, R_BODY))  # x is not parsed: invalid
    assert _d_of(result) == zlib.crc32(bytes([1])) % 0xFFFFFFFF


def test_hash_csum16_is_the_internet_checksum_of_the_packed_fields() -> None:
    # calculations.cpp csum16: RFC 1071 over the BufBuilder bytes, an odd tail padded with a
    # zero byte; the same whether the header is as received or was written first
    for body, data, expected in (
        ("", "{ hdr.r.a, hdr.r.b, hdr.r.c }", bytes([1, 2, 0, 3])),
        ("hdr.r.a = 9;", "{ hdr.r.a, hdr.r.b, hdr.r.c }", bytes([9, 2, 0, 3])),
        ("", "{ hdr.r.b, hdr.r.c }", bytes([2, 0, 3])),
        ("", "{ hdr.r.c, hdr.x.w }", bytes([0, 3])),
    ):  # x invalid: skipped
        src = program(f"""apply {{ {body}
            hash(hdr.r.d, HashAlgorithm.csum16, (bit<32>)16w0, {data}, 32w65536);
            sm.egress_spec = 2; }}""")
        result, _ = run(src, frame(1, R_BODY))
        assert _d_of(result) == csum16_reference(expected), (body, data)


def test_update_checksum_csum16_over_an_odd_number_of_bytes() -> None:
    src = program("apply { sm.egress_spec = 2; }")
    src = src.replace(
        "control CC(inout headers_t hdr, inout meta_t meta) { apply { } }",
        """
control CC(inout headers_t hdr, inout meta_t meta) { apply {
    update_checksum(hdr.r.isValid(), { hdr.r.a, hdr.r.b, hdr.r.d, hdr.eth.type[7:0] },
                    hdr.r.c, HashAlgorithm.csum16); } }""",
    )
    result, _ = run(src, frame(1, R_BODY))
    assert r_fields(result.outputs[0][1])[2] == csum16_reference(bytes([1, 2, 0, 0, 0, 4, 1]))


def test_verify_checksum_mismatch_sets_checksum_error() -> None:
    src = program("""apply { if (sm.checksum_error == 1) { sm.egress_spec = 3; }
                          else { sm.egress_spec = 2; } }""")
    vc = """
control VC(inout headers_t hdr, inout meta_t meta) { apply {
    verify_checksum(hdr.r.isValid(), { hdr.r.a, hdr.r.b }, hdr.r.c, HashAlgorithm.csum16); } }"""
    src = src.replace("control VC(inout headers_t hdr, inout meta_t meta) { apply { } }", vc)
    good = csum16_reference(bytes([1, 2]))
    ok = bytes([1, 2]) + good.to_bytes(2, "big") + bytes(4)
    assert run(src, frame(1, ok))[0].outputs[0][0] == 2
    assert run(src, frame(1, R_BODY))[0].outputs[0][0] == 3


def test_ingress_clone_is_the_received_packet_with_the_field_list_preserved() -> None:
    # simple_switch.cpp ingress_thread: the clone re-parses the packet as received, its
    # metadata is reset and only the @field_list fields are copied; instance_type 1
    src = program(
        """apply {
        meta.keep = 0x11; meta.lose = 0x22;
        clone_preserving_field_list(CloneType.I2E, 32w5, 8w1);
        hdr.r.a = 0x99; sm.egress_spec = 2; }""",
        """apply { if (sm.instance_type == 1) {
            hdr.r.b = meta.keep; hdr.r.c = (bit<16>)meta.lose; hdr.r.d = sm.instance_type; } }""",
    )
    pipeline, st = load(compile_text(src))
    clone_session(st, 5, ((9, 0),))
    result = pipeline.process(1, frame(1, R_BODY))
    by_port = dict(result.outputs)
    assert set(by_port) == {2, 9}
    assert r_fields(by_port[2])[0] == 0x99
    assert r_fields(by_port[9]) == (1, 0x11, 0, 1)


def test_the_last_clone_call_wins_and_unknown_sessions_clone_nothing() -> None:
    src = program("""apply { clone(CloneType.I2E, 32w5); clone(CloneType.I2E, 32w6);
                           sm.egress_spec = 2; }""")
    pipeline, st = load(compile_text(src))
    clone_session(st, 5, ((8, 0),))
    clone_session(st, 6, ((9, 0),))
    assert sorted(p for p, _ in pipeline.process(1, frame(1, R_BODY)).outputs) == [2, 9]
    del st.pre.sessions[6]
    assert [p for p, _ in pipeline.process(1, frame(1, R_BODY)).outputs] == [2]


def test_egress_clone_carries_headers_as_egress_left_them() -> None:
    src = program(
        "apply { sm.egress_spec = 2; }",
        """apply {
        if (sm.instance_type == 0) { hdr.r.a = 0x44; meta.keep = 3;
            clone_preserving_field_list(CloneType.E2E, 32w7, 8w1); }
        else { hdr.r.b = meta.keep; hdr.r.d = sm.instance_type; } }""",
    )
    pipeline, st = load(compile_text(src))
    clone_session(st, 7, ((6, 0),))
    by_port = dict(pipeline.process(1, frame(1, R_BODY)).outputs)
    assert r_fields(by_port[2]) == (0x44, 2, 3, 4)
    assert r_fields(by_port[6]) == (0x44, 3, 3, 2)


def test_one_digest_per_packet_the_last_call_with_values_at_the_end_of_ingress() -> None:
    # primitives.cpp generate_digest only records the field list; the learn engine reads the
    # values when ingress ends (simple_switch.cpp ingress_thread, LEARNING)
    src = program("""apply {
        dg_t d1; d1.a = 1; d1.b = 1;
        digest<dg_t>(1, {meta.m8, meta.m16});
        meta.m8 = 9; meta.m16 = 10;
        digest<dg_t>(1, {meta.m8, meta.m16});
        meta.m8 = 11;
        sm.egress_spec = 2; }""")
    result, st = run(src, frame(1, R_BODY))
    assert len(result.digests) == 1
    did, values = result.digests[0]
    assert did == st.digest_id("dg_t")
    assert values == (9, 10)


def test_multicast_one_copy_per_replica_with_rid_and_instance_type() -> None:
    src = program(
        "apply { sm.mcast_grp = 3; sm.egress_spec = 2; }",
        "apply { hdr.r.c = sm.egress_rid; hdr.r.d = sm.instance_type; }",
    )
    pipeline, st = load(compile_text(src))
    st.pre.groups[3] = ((4, 7), (5, 8))
    outs = pipeline.process(1, frame(1, R_BODY)).outputs
    assert [(p, r_fields(f)[2:]) for p, f in outs] == [(4, (7, 5)), (5, (8, 5))]


def test_unknown_multicast_group_sends_nothing() -> None:
    src = program("apply { sm.mcast_grp = 3; sm.egress_spec = 2; }")
    assert run(src, frame(1, R_BODY))[0].outputs == []


def test_drop_port_and_mark_to_drop() -> None:
    # ingress_thread: egress_spec == drop_port drops; mark_to_drop also clears mcast_grp
    src = program("apply { sm.mcast_grp = 3; mark_to_drop(sm); }")
    pipeline, st = load(compile_text(src))
    st.pre.groups[3] = ((4, 0),)
    assert pipeline.process(1, frame(1, R_BODY)).outputs == []
    assert run(program("apply { sm.egress_spec = 511; }"), frame(1))[0].outputs == []
    src = program("apply { sm.egress_spec = 2; }", "apply { mark_to_drop(sm); }")
    assert run(src, frame(1, R_BODY))[0].outputs == []


def test_another_drop_port() -> None:
    src = program("apply { sm.egress_spec = 100; }")
    assert run(src, frame(1), drop_port=100)[0].outputs == []
    assert run(src, frame(1))[0].outputs == [(100, frame(1))]


def test_egress_spec_defaults_to_port_zero() -> None:
    assert run(program("apply { }"), frame(1))[0].outputs == [(0, frame(1))]


def test_deparser_emits_valid_headers_in_order_then_the_payload() -> None:
    src = program(
        "apply { hdr.x.setValid(); hdr.x.w = 0xBEEF; hdr.r.setInvalid(); sm.egress_spec = 2; }"
    )
    result, _ = run(src, frame(1, R_BODY + b"tail"))
    assert result.outputs == [(2, frame(1, bytes([0, 0, 0xBE, 0xEF]) + b"tail"))]


TABLES = """
    action set_a(bit<8> v) { hdr.r.a = v; }
    action set_b(bit<8> v) { hdr.r.b = v; }
    direct_counter(CounterType.packets_and_bytes) hits;
    table lpm_t { key = { hdr.r.d : lpm; } actions = { set_a; NoAction; }
                  default_action = set_a(0xDD); }
    table tern_t { key = { hdr.r.c : ternary; hdr.r.a : exact; } actions = { set_b; NoAction; }
                   counters = hits; }
    table idle_t { key = { hdr.eth.type : exact; } actions = { NoAction; } support_timeout = true; }
    apply { lpm_t.apply(); tern_t.apply(); idle_t.apply(); sm.egress_spec = 2; }
"""


def test_tables_lpm_longest_prefix_ternary_priority_default_and_direct_counter() -> None:
    pipeline, st = load(compile_text(program(TABLES)))
    add_entry(st, "I.lpm_t", {"hdr.r.d": (0x00000000, 8)}, "I.set_a", {"v": 1})
    add_entry(st, "I.lpm_t", {"hdr.r.d": (0x00000000, 24)}, "I.set_a", {"v": 2})
    low = add_entry(
        st, "I.tern_t", {"hdr.r.c": (0, 0), "hdr.r.a": 2}, "I.set_b", {"v": 10}, priority=1
    )
    high = add_entry(
        st, "I.tern_t", {"hdr.r.c": (3, 0xFF), "hdr.r.a": 2}, "I.set_b", {"v": 20}, priority=9
    )
    out = pipeline.process(1, frame(1, R_BODY)).outputs[0][1]
    assert r_fields(out)[:2] == (2, 20)  # /24 wins (a = 2); c = 3: priority 9 wins
    assert (high.packets, low.packets, high.bytes) == (1, 0, 22)
    body = bytes([0, 0, 0, 5, 0, 0, 1, 4])  # d matches only the /8: a = 1
    out = pipeline.process(1, frame(1, body)).outputs[0][1]
    assert r_fields(out)[:2] == (1, 0)  # a = 1 misses tern_t
    body = bytes([0, 0, 0, 5, 0, 0, 0, 4])  # /24 again: a = 2, c = 5: only `low`
    out = pipeline.process(1, frame(1, body)).outputs[0][1]
    assert r_fields(out)[:2] == (2, 10)
    body = bytes([2, 0, 0, 3, 0x0A, 0, 0, 4])  # no prefix matches: the default action
    out = pipeline.process(1, frame(1, body)).outputs[0][1]
    assert r_fields(out)[:2] == (0xDD, 0)
    assert st.table("I.tern_t").default_packets == 2


def test_idle_timeout_table_hits_refresh_last_hit_time() -> None:
    pipeline, st = load(compile_text(program(TABLES)))
    entry = add_entry(st, "I.idle_t", {"hdr.eth.type": 1}, "NoAction")
    entry.idle_notified = True
    before = entry.last_hit_ns
    pipeline.process(1, frame(1, R_BODY))
    assert entry.last_hit_ns > before and entry.idle_notified is False


def test_registers_counters_and_meters() -> None:
    decls = ""
    src = program(
        """
        register<bit<16>>(4) reg;
        counter(4, CounterType.packets) ctr;
        meter(4, MeterType.packets) mtr;
        apply {
            bit<16> v = 0x5555;
            reg.read(v, 32w7);             // out of range: v is left as it was
            hdr.r.c = v;
            reg.read(v, 32w1);
            reg.write(32w1, v + 1);
            hdr.r.d = (bit<32>)v;
            ctr.count(32w2);
            bit<2> color = 0;
            mtr.execute_meter(32w0, color);
            hdr.r.b = (bit<8>)color;
            sm.egress_spec = 2;
        }""",
        decls=decls,
    )
    pipeline, st = load(compile_text(src))
    from p4sim.state import MeterConfig

    st.meter("I.mtr").cells[0].configure(MeterConfig(cir=1, cburst=1, pir=1, pburst=1), 0)
    outs = [r_fields(pipeline.process(1, frame(1, R_BODY)).outputs[0][1]) for _ in range(3)]
    assert [o[2] for o in outs] == [0x5555] * 3
    assert [o[3] for o in outs] == [0, 1, 2]
    assert st.register("I.reg").cells[1] == 3
    assert st.counter("I.ctr").packets[2] == 3
    assert next(o[1] for o in outs) == 0 and outs[-1][1] == 2  # GREEN first, then RED


def test_exit_ends_ingress_but_not_the_packet() -> None:
    src = program("apply { sm.egress_spec = 2; if (hdr.r.a == 1) { exit; } sm.egress_spec = 3; }")
    assert run(src, frame(1, R_BODY))[0].outputs[0][0] == 2


def test_trace_at_debug_level_names_states_tables_and_actions(caplog) -> None:
    pipeline, _st = load(compile_text(program(TABLES)))
    with caplog.at_level(logging.DEBUG, logger="p4sim.engine.trace"):
        pipeline.process(1, frame(1, R_BODY))
    text = caplog.text
    assert "Parser state start" in text
    assert "Table 'I.lpm_t'" in text and "miss" in text
    assert "Action I.set_a" in text
    assert "Transmitting packet" in text


def test_crc16_matches_the_crc16_arc_check_value_and_a_bitwise_reference() -> None:
    import random

    from p4sim.engine.algorithms import crc16

    assert crc16(b"123456789") == 0xBB3D  # the CRC-16/ARC catalogue check value
    rng = random.Random(3)
    for n in range(40):
        data = rng.randbytes(n)
        assert crc16(data) == crc16_arc(data)
