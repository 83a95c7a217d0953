"""A small v1model program skeleton for semantic tests: Ethernet, then header `r` (the
result header the tests read back), then whatever the test's ingress and egress do."""

from __future__ import annotations

PRELUDE = """
#include <core.p4>
#include <v1model.p4>
header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header r_t { bit<8> a; bit<8> b; bit<16> c; bit<32> d; }
header x_t { bit<4> hi; bit<12> lo; bit<16> w; }
struct headers_t { eth_t eth; r_t r; x_t x; }
struct meta_t { bit<8> m8; bit<16> m16; bit<32> m32;
                @field_list(1) bit<8> keep; bit<8> lose; }
struct dg_t { bit<8> a; bit<16> b; }
"""

PARSER = """
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); transition select(hdr.eth.type) {
        0x0001: parse_r; 0x0002: parse_rx; default: accept; } }
    state parse_r { pkt.extract(hdr.r); transition accept; }
    state parse_rx { pkt.extract(hdr.r); pkt.extract(hdr.x); transition accept; }
}
"""

TAIL = """
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) {
    apply { pkt.emit(hdr.eth); pkt.emit(hdr.r); pkt.emit(hdr.x); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;
"""


def program(ingress: str, egress: str = "", parser: str = PARSER, decls: str = "") -> str:
    """Source of a test program with the given ingress/egress apply bodies (and locals)."""
    ig = f"""
control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {{
    {ingress}
}}"""
    eg = f"""
control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {{
    {egress or "apply { }"}
}}"""
    return PRELUDE + decls + parser + ig + eg + TAIL
