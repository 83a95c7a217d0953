"""resubmit_preserving_field_list and recirculate_preserving_field_list as bmv2 simple_switch
runs them (p4lang/behavioral-model targets/simple_switch/simple_switch.cpp): ingress_thread
(RESUBMIT, after INGRESS CLONING and LEARNING, before MULTICAST and the drop check),
egress_thread (RECIRCULATE, after EGRESS CLONING, the drop check and the deparser),
copy_field_list_and_set_type, and SimpleSwitch::receive_ (the only writer of ingress_port).

The test program records what a pass saw in header `res`: the instance type and preserved
metadata as the parser saw them (`p_itype`, `p_keep`), and as ingress saw them."""

from __future__ import annotations

import logging

import pytest

from p4sim.engine import MAX_PASSES, EngineError
from tests.sim.engine.nvgre_support import clone_session, compile_text, load

PRELUDE = """
#include <core.p4>
#include <v1model.p4>
header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header res_t { bit<8> mark; bit<8> itype; bit<8> p_itype; bit<8> p_keep; bit<8> keep;
               bit<8> lose; bit<16> both; bit<16> port; bit<32> plen; bit<8> eg_itype; }
header extra_t { bit<16> v; }
struct headers_t { eth_t eth; res_t res; extra_t extra; }
struct meta_t { @field_list(1) bit<8> keep; @field_list(1, 2) bit<16> both; bit<8> lose;
                bit<8> p_itype; bit<8> p_keep; }
struct dg_t { bit<8> pass; bit<8> keep; }
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start {
        meta.p_itype = (bit<8>)sm.instance_type;
        meta.p_keep = meta.keep;
        pkt.extract(hdr.eth);
        pkt.extract(hdr.res);
        transition select(hdr.res.mark) { 0xAB: parse_extra; default: accept; }
    }
    state parse_extra { pkt.extract(hdr.extra); transition accept; }
}
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) {
    apply { pkt.emit(hdr.eth); pkt.emit(hdr.res); pkt.emit(hdr.extra); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;
"""

# what a pass records in `res` (ingress)
RECORD = """
    hdr.res.itype = (bit<8>)sm.instance_type;
    hdr.res.p_itype = meta.p_itype;
    hdr.res.p_keep = meta.p_keep;
    hdr.res.keep = meta.keep;
    hdr.res.lose = meta.lose;
    hdr.res.both = meta.both;
    hdr.res.port = (bit<16>)sm.ingress_port;
    hdr.res.plen = sm.packet_length;
"""


def program(ingress: str, egress: str = "apply { }") -> str:
    return PRELUDE.replace(
        "V1Switch(",
        f"""
control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {{
    {ingress}
}}
control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {{
    {egress}
}}
V1Switch(""",
    )


ETH = bytes.fromhex("0000000000aa0000000000bb9999")


def res(
    mark: int = 0,
    itype: int = 0,
    p_itype: int = 0,
    p_keep: int = 0,
    keep: int = 0,
    lose: int = 0,
    both: int = 0,
    port: int = 0,
    plen: int = 0,
    eg_itype: int = 0,
) -> bytes:
    return (
        bytes([mark, itype, p_itype, p_keep, keep, lose])
        + both.to_bytes(2, "big")
        + port.to_bytes(2, "big")
        + plen.to_bytes(4, "big")
        + bytes([eg_itype])
    )


PAYLOAD = b"payload!"
FRAME = ETH + res(mark=1) + PAYLOAD  # 14 + 15 + 8 bytes


def test_res_layout_matches_the_header() -> None:
    assert len(res()) == 15 and len(FRAME) == 37


# ---------------------------------------------------------------------------------- resubmit
RESUBMIT_FIRST = """
    apply {
        if (sm.instance_type == 0) {
            meta.keep = 0x11; meta.both = 0x2222; meta.lose = 0x33;
            hdr.res.mark = 0xEE;             // not seen again: the received bytes re-enter
            sm.egress_spec = 4;              // not forwarded: resubmit comes first
            if (hdr.res.mark == 0xEE) { resubmit_preserving_field_list(2); }
            resubmit_preserving_field_list(1);
        } else {
            %s
            sm.egress_spec = 2;
        }
    }
"""


def test_resubmit_reenters_the_received_bytes_with_field_list_and_instance_type_6() -> None:
    pipeline, _ = load(compile_text(program(RESUBMIT_FIRST % RECORD)))
    result = pipeline.process(5, FRAME)
    # instance_type 6 and the preserved field are set before the parser runs
    # (copy_field_list_and_set_type); ingress_port reads 0 (only receive_ writes it);
    # packet_length is the ingress length
    assert result.outputs == [
        (
            2,
            ETH
            + res(
                mark=1,
                itype=6,
                p_itype=6,
                p_keep=0x11,
                keep=0x11,
                lose=0,
                both=0x2222,
                port=0,
                plen=37,
            )
            + PAYLOAD,
        )
    ]
    assert pipeline.pass_limit_drops == 0


def test_the_last_resubmit_call_wins() -> None:
    src = program(
        """apply {
        if (sm.instance_type == 0) {
            meta.keep = 0x11; meta.both = 0x2222;
            resubmit_preserving_field_list(1);
            resubmit_preserving_field_list(2);
        } else { %s sm.egress_spec = 2; } }"""
        % RECORD
    )
    pipeline, _ = load(compile_text(src))
    ((_port, out),) = pipeline.process(5, FRAME).outputs
    # field list 2 holds `both` only
    assert out[14:29] == res(mark=1, itype=6, p_itype=6, keep=0, both=0x2222, plen=37)


def test_resubmit_is_not_cancelled_by_mark_to_drop_or_multicast() -> None:
    src = program(
        """apply {
        if (sm.instance_type == 0) {
            sm.mcast_grp = 1;
            resubmit_preserving_field_list(1);
            mark_to_drop(sm);
        } else { %s sm.egress_spec = 2; } }"""
        % RECORD
    )
    pipeline, st = load(compile_text(src))
    st.pre.groups[1] = ((7, 0), (8, 0))
    assert [p for p, _ in pipeline.process(5, FRAME).outputs] == [2]


def test_resubmit_after_ingress_clone_and_digest() -> None:
    # ingress_thread: INGRESS CLONING, then LEARNING, then RESUBMIT; the clone and the digest
    # of the first pass are made, the packet itself is only resubmitted
    src = program(
        """apply {
        if (sm.instance_type == 0) {
            meta.keep = 0x11; meta.lose = 0x33;
            clone_preserving_field_list(CloneType.I2E, 32w5, 8w1);
            digest<dg_t>(1, {8w1, meta.keep});
            resubmit_preserving_field_list(1);
            sm.egress_spec = 4;
        } else {
            %s
            digest<dg_t>(1, {8w2, meta.keep});
            sm.egress_spec = 2;
        } }"""
        % RECORD,
        """apply { hdr.res.eg_itype = (bit<8>)sm.instance_type; }""",
    )
    pipeline, st = load(compile_text(src))
    clone_session(st, 5, ((9, 0),))
    result = pipeline.process(5, FRAME)
    did = st.digest_id("dg_t")
    assert result.digests == [(did, (1, 0x11)), (did, (2, 0x11))]
    by_port = dict(result.outputs)
    assert sorted(by_port) == [2, 9]
    # the clone: the received packet, instance_type 1 in egress
    assert by_port[9] == ETH + res(mark=1, eg_itype=1) + PAYLOAD
    # the resubmitted pass, forwarded normally (instance_type 0 in egress)
    assert (
        by_port[2]
        == ETH
        + res(mark=1, itype=6, p_itype=6, p_keep=0x11, keep=0x11, plen=37, eg_itype=0)
        + PAYLOAD
    )


def test_a_resubmitted_packet_can_be_resubmitted_again() -> None:
    # the preserved field counts the passes; each pass sees instance_type 6 from the second on
    src = program(
        """apply {
        meta.keep = meta.keep + 1;
        if (meta.keep < 3) { resubmit_preserving_field_list(1); }
        else { %s sm.egress_spec = 2; } }"""
        % RECORD
    )
    pipeline, _ = load(compile_text(src))
    ((_port, out),) = pipeline.process(5, FRAME).outputs
    assert out[14:29] == res(mark=1, itype=6, p_itype=6, p_keep=2, keep=3, plen=37)


# ------------------------------------------------------------------------------- recirculate
RECIRC_EGRESS = """apply {
    if (hdr.res.mark != 0xAB) {
        hdr.res.mark = 0xAB;
        hdr.extra.setValid(); hdr.extra.v = 0x5151;
        meta.keep = 0x44; meta.both = 0x4545; meta.lose = 0x46;
        recirculate_preserving_field_list(1);
    }
    hdr.res.eg_itype = (bit<8>)sm.instance_type;
}"""


def test_recirculate_reenters_the_deparsed_packet_with_instance_type_4() -> None:
    src = program(
        """apply {
        if (sm.instance_type == 0) { sm.egress_spec = 3; }
        else { %s sm.egress_spec = 2; } }"""
        % RECORD,
        RECIRC_EGRESS,
    )
    pipeline, _ = load(compile_text(src))
    result = pipeline.process(5, FRAME)
    # the egress copy on port 3 is not transmitted; the deparsed frame (with `extra`, 39
    # bytes) is parsed again: instance_type 4 before the parser, the field list preserved,
    # the rest of the metadata reset, ingress_port 0, packet_length the deparsed size
    extra = (0x5151).to_bytes(2, "big")
    assert result.outputs == [
        (
            2,
            ETH
            + res(
                mark=0xAB,
                itype=4,
                p_itype=4,
                p_keep=0x44,
                keep=0x44,
                lose=0,
                both=0x4545,
                port=0,
                plen=39,
                eg_itype=0,
            )
            + extra
            + PAYLOAD,
        )
    ]


def test_recirculate_after_egress_clone_and_not_when_egress_drops() -> None:
    # egress_thread: EGRESS CLONING, then the drop check, then deparse, then RECIRCULATE
    src = program(
        """apply {
        if (sm.instance_type == 0) { sm.egress_spec = 3; }
        else { %s sm.egress_spec = 2; }
        digest<dg_t>(1, {(bit<8>)sm.instance_type, meta.keep}); }"""
        % RECORD,
        """apply {
        if (sm.instance_type == 0 && hdr.res.mark == 1) {
            hdr.res.mark = 2;
            clone(CloneType.E2E, 32w7);
            recirculate_preserving_field_list(1);
        }
        if (sm.instance_type == 0 && hdr.res.mark == 9) {
            recirculate_preserving_field_list(1);
            mark_to_drop(sm);
        }
        hdr.res.eg_itype = (bit<8>)sm.instance_type; }""",
    )
    pipeline, st = load(compile_text(src))
    clone_session(st, 7, ((6, 0),))
    result = pipeline.process(5, FRAME)
    by_port = dict(result.outputs)
    assert sorted(by_port) == [2, 6]
    assert by_port[6] == ETH + res(mark=2, eg_itype=2) + PAYLOAD
    assert by_port[2][14:29] == res(mark=2, itype=4, p_itype=4, plen=37)
    assert len(result.digests) == 2
    # mark_to_drop in egress: dropped before the deparser, nothing recirculates
    result = pipeline.process(5, ETH + res(mark=9) + PAYLOAD)
    assert result.outputs == [] and len(result.digests) == 1


def test_a_recirculated_packet_is_not_truncated() -> None:
    # the recirculated copy (clone_no_phv_ptr) does not carry the truncate length: the second
    # pass sees all 37 bytes
    src = program(
        """apply {
        if (sm.instance_type == 0) { sm.egress_spec = 3; }
        else { %s sm.egress_spec = 2; } }"""
        % RECORD,
        """apply {
        if (hdr.res.mark == 1) {
            truncate(20); hdr.res.mark = 2; recirculate_preserving_field_list(1); } }""",
    )
    pipeline, _ = load(compile_text(src))
    assert pipeline.process(5, FRAME).outputs == [
        (2, ETH + res(mark=2, itype=4, p_itype=4, plen=37) + PAYLOAD)
    ]


def test_every_multicast_copy_recirculates() -> None:
    src = program(
        """apply {
        if (sm.instance_type == 0) { sm.mcast_grp = 1; }
        else { %s sm.egress_spec = 2; } }"""
        % RECORD,
        """apply {
        if (sm.instance_type == 5) {
            hdr.res.mark = (bit<8>)sm.egress_rid;
            recirculate_preserving_field_list(1);
        } }""",
    )
    pipeline, st = load(compile_text(src))
    st.pre.groups[1] = ((7, 10), (8, 11))
    result = pipeline.process(5, FRAME)
    assert [(p, out[14]) for p, out in result.outputs] == [(2, 10), (2, 11)]


# ------------------------------------------------------------------------------------ loops
def test_a_resubmit_loop_stops_after_max_passes_and_counts_the_drop() -> None:
    src = program("""apply {
        digest<dg_t>(1, {(bit<8>)sm.instance_type, meta.keep});
        meta.keep = meta.keep + 1;
        resubmit_preserving_field_list(1); }""")
    pipeline, _ = load(compile_text(src))
    result = pipeline.process(5, FRAME)
    assert result.outputs == []
    keeps = [v[1] for _, v in result.digests]
    assert keeps == [k & 0xFF for k in range(MAX_PASSES)]
    assert pipeline.pass_limit_drops == 1
    pipeline.process(5, FRAME)
    assert pipeline.pass_limit_drops == 2


def test_a_recirculation_loop_stops_at_a_configured_bound() -> None:
    src = program(
        """apply {
        digest<dg_t>(1, {(bit<8>)sm.instance_type, meta.keep});
        sm.egress_spec = 3; }""",
        """apply {
        meta.keep = meta.keep + 1;
        recirculate_preserving_field_list(1); }""",
    )
    pipeline, _ = load(compile_text(src), max_passes=5)
    result = pipeline.process(5, FRAME)
    assert result.outputs == []
    assert [v for _, v in result.digests] == [(0, 0), (4, 1), (4, 2), (4, 3), (4, 4)]
    assert pipeline.pass_limit_drops == 1


def test_a_multicast_recirculation_loop_is_bounded_too() -> None:
    # every pass doubles the requests; the bound is on passes, not on requests per pass
    src = program("apply { sm.mcast_grp = 1; }", "apply { recirculate_preserving_field_list(1); }")
    pipeline, st = load(compile_text(src), max_passes=10)
    st.pre.groups[1] = ((7, 0), (8, 0))
    assert pipeline.process(5, FRAME).outputs == []
    # 9 re-entries ran; they and the first pass made 20 requests
    assert pipeline.pass_limit_drops == 20 - 9


# ----------------------------------------------------------------------------- compile time
@pytest.mark.parametrize(
    "ingress, egress, message",
    [
        (
            "apply { }",
            "apply { resubmit_preserving_field_list(1); }",
            "resubmit_preserving_field_list can only be called in the ingress control",
        ),
        (
            "apply { recirculate_preserving_field_list(1); }",
            "apply { }",
            "recirculate_preserving_field_list can only be called in the egress control",
        ),
        (
            "apply { resubmit_preserving_field_list(meta.keep); }",
            "apply { }",
            "the field list index of resubmit_preserving_field_list must be a constant",
        ),
    ],
)
def test_misplaced_calls_are_load_errors_with_a_location(
    ingress: str, egress: str, message: str
) -> None:
    # p4c's bmv2 back end: resubmit only in ingress, recirculate only in egress, constant index
    with pytest.raises(EngineError, match=r"test\.p4:\d+:\d+: " + message):
        load(compile_text(program(ingress, egress)))


def test_programs_without_them_get_no_reentry_code() -> None:
    pipeline, _ = load(compile_text(program("apply { sm.egress_spec = 2; }")))
    assert "_again" not in pipeline.source and "_re" not in pipeline.source.split("\n")[0]
    assert "process" not in vars(pipeline)  # the class's process, no re-entry loop
    assert pipeline.process(5, FRAME).outputs == [(2, FRAME)]


def test_the_trace_shows_resubmit_and_recirculate(caplog) -> None:
    src = program(
        """apply {
        if (sm.instance_type == 0) { resubmit_preserving_field_list(1); }
        else { sm.egress_spec = 3; } }""",
        """apply {
        if (hdr.res.mark == 1) { hdr.res.mark = 2; recirculate_preserving_field_list(1); } }""",
    )
    pipeline, _ = load(compile_text(src))
    with caplog.at_level(logging.DEBUG, logger="p4sim.engine.trace"):
        result = pipeline.process(5, FRAME)
    text = caplog.text
    assert "Resubmitting packet" in text and "Processing resubmitted packet" in text
    assert "Recirculating packet" in text and "Processing recirculated packet" in text
    assert "Dropping packet at the end of ingress" not in text
    assert [p for p, _ in result.outputs] == [3]


# ------------------------------------------------------------------- clone class of service
def test_a_clone_sessions_class_of_service_changes_nothing() -> None:
    # simple_switch.h MirroringSessionConfig has only an egress port and a multicast group;
    # PI/src/pi_clone_imp.cpp _pi_clone_session_set copies nothing else
    from p4sim.state import CloneSession

    src = program(
        """apply {
        clone(CloneType.I2E, 32w5); sm.egress_spec = 2; }""",
        """apply {
        hdr.res.eg_itype = (bit<8>)sm.instance_type;
        hdr.res.lose = (bit<8>)sm.priority;
        hdr.res.port = (bit<16>)sm.egress_port; }""",
    )
    pipeline, st = load(compile_text(src))
    st.pre.sessions[5] = CloneSession(((9, 0),), class_of_service=6)
    by_port = dict(pipeline.process(5, FRAME).outputs)
    assert by_port[9] == ETH + res(mark=1, eg_itype=1, lose=0, port=9) + PAYLOAD
