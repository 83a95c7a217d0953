"""Helpers to build small v1model programs around a P4 snippet for front-end tests."""

from __future__ import annotations

from p4sim.compiler import Program, compile_source

HEADERS = """
#include <core.p4>
#include <v1model.p4>
header eth_t { bit<48> dst; bit<48> src; bit<16> etype; }
header ipv4_t { bit<4> version; bit<4> ihl; bit<8> tos; bit<16> len; bit<16> id;
                bit<3> flags; bit<13> frag; bit<8> ttl; bit<8> proto; bit<16> csum;
                bit<32> src; bit<32> dst; }
struct headers_t { eth_t eth; ipv4_t ipv4; }
struct meta_t { bit<32> a; bit<16> b; bit<8> c; bool f; }
"""

PARSER = """
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); transition accept; }
}
"""

REST = """
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;
"""


def ingress_program(body: str, locals_: str = "", top: str = "", parser: str = PARSER) -> str:
    """A complete program whose ingress control has `locals_` and apply body `body`."""
    return (
        HEADERS
        + top
        + parser
        + "control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {\n"
        + locals_
        + "\n    apply {\n"
        + body
        + "\n    }\n}\n"
        + REST
    )


def compile_ingress(
    body: str, locals_: str = "", top: str = "", parser: str = PARSER, filename: str = "snippet.p4"
) -> Program:
    return compile_source(ingress_program(body, locals_, top, parser), filename=filename)


def line_of(text: str, needle: str) -> int:
    """1-based line number of the first line containing needle."""
    for i, line in enumerate(text.split("\n"), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in program")
