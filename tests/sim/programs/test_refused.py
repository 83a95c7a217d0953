"""Every construct docs/p4sim-compiler.md lists as refused: a small program p4c-bm2-ss
accepts, that p4sim refuses with a CompileError saying "not supported" at the construct's
line (marked `// <- refused` in the program). The list here and the list in the docs must
be the same."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from p4sim.compiler import compile_source
from p4sim.errors import CompileError
from tests.sim.programs.harness import P4C_MISSING, docs_section

TEMPLATE = """#include <core.p4>
#include <v1model.p4>
header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header r_t { bit<8> a; bit<8> b; }
struct headers_t { eth_t eth; r_t r; %(fields)s }
struct meta_t { bit<8> m; bit<32> i; }
%(top)s
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    %(parser_locals)s
    state start {
        pkt.extract(hdr.eth);
        %(parser)s
        transition accept;
    }
}
control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    %(locals)s
    apply {
        %(apply)s
        sm.egress_spec = 1;
    }
}
control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.eth); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;
"""


def program(**parts: str) -> str:
    keys = ("fields", "top", "parser_locals", "parser", "locals", "apply")
    return TEMPLATE % {k: parts.get(k, "") for k in keys}


# construct (as the docs name it) -> a program using it
REFUSED: dict[str, str] = {
    "header unions": program(
        top="header_union u_t { eth_t e; r_t r; }  // <- refused",
    ),
    "parser value sets": program(
        parser_locals="value_set<bit<16>>(4) types;  // <- refused",
    ),
    "sub-parsers": program(
        top="parser Sub(packet_in pkt, out r_t r) { state start { pkt.extract(r); transition accept; } }",
        parser_locals="Sub() sub;  // <- refused",
        parser="sub.apply(pkt, hdr.r);",
    ),
    "generic parsers, controls, structs, headers and functions": program(
        top="struct box_t<T> { T v; }  // <- refused",
    ),
    "constructor parameters of controls and parsers": program(
        top="control C(inout bit<8> x)(bit<8> k) { apply { x = k; } }",
        locals="C(5) c;  // <- refused",
        apply="c.apply(hdr.r.a);",
    ),
    "action profiles and action selectors": program(
        locals="action_profile(4) ap;  // <- refused",
    ),
    "mutable table entries": program(
        locals="""action a() { }
    table t {
        key = { hdr.r.a: exact; }
        actions = { a; }
        entries = { 1: a(); }  // <- refused
    }""",
        apply="t.apply();",
    ),
    "'...' in struct-valued expressions": program(
        apply="hdr.r = { a = 1, ... };  // <- refused",
    ),
    "header stack indices that are not compile-time constants": program(
        fields="r_t[2] rs;",
        apply="hdr.rs[meta.m].a = 1;  // <- refused",
    ),
    "hash algorithms random, crc16_custom and crc32_custom": program(
        apply="hash(hdr.r.a, HashAlgorithm.random, 8w0, { hdr.r.b }, 16w256);  // <- refused",
    ),
    "a header or struct returned by a function, used other than as a whole value": program(
        top="r_t make() { r_t r = { a = 1, b = 2 }; return r; }",
        apply="hdr.r.a = make().b;  // <- refused",
    ),
    "bit<0>": program(
        locals="bit<0> nothing;  // <- refused",
    ),
}


def _refused_line(text: str) -> int:
    for n, line in enumerate(text.splitlines(), 1):
        if "// <- refused" in line:
            return n
    raise AssertionError("no '// <- refused' marker")


@pytest.mark.parametrize("construct", list(REFUSED))
def test_p4sim_refuses_the_construct_by_name_at_its_line(construct: str) -> None:
    text = REFUSED[construct]
    with pytest.raises(CompileError) as info:
        compile_source(text, filename="refused.p4")
    err = info.value
    assert "not supported" in err.message, str(err)
    assert (err.file, err.line) == ("refused.p4", _refused_line(text)), str(err)


@pytest.mark.skipif(P4C_MISSING is not None, reason=P4C_MISSING or "")
@pytest.mark.slow
@pytest.mark.parametrize("construct", list(REFUSED))
def test_p4c_accepts_the_program(construct: str, tmp_path: Path) -> None:
    src = tmp_path / "refused.p4"
    src.write_text(REFUSED[construct])
    proc = subprocess.run(
        ["p4c-bm2-ss", "--arch", "v1model", "-o", str(tmp_path / "out.json"), str(src)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert proc.returncode == 0, f"p4c-bm2-ss rejects the {construct} program:\n{proc.stderr}"


def test_the_docs_list_the_refused_constructs_tested_here() -> None:
    listed = re.findall(r"^- \*\*(.+?)\*\*", docs_section("Refused"), re.M)
    assert listed == list(REFUSED)
