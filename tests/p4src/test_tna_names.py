"""The TNA (Tofino) program must expose the v1model program's control-plane names.

One controller drives both targets, choosing only the pipeline files, so every table
(key names, match kinds, widths, actions), action (parameters and widths), counter,
meter, digest and controller header must be the same in both programs. A difference
is allowed only when docs/tna.md lists it in its "Name differences" table (and a row
there that no longer matches a real difference is stale and fails too).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.p4_source_names import (
    TNA_ARCH_STRUCTS,
    Difference,
    ExtractError,
    Names,
    compare,
    documented_differences,
    extract,
)

ROOT = Path(__file__).resolve().parents[2]
INCLUDE = ROOT / "p4src" / "include"
V1_MAIN = ROOT / "p4src" / "v1model" / "nvgre_nve.p4"
TNA_MAIN = ROOT / "p4src" / "tna" / "nvgre_nve.p4"
TNA_DIR = ROOT / "p4src" / "tna"
V1_ARCH = ROOT / "sim" / "p4sim" / "p4include" / "v1model.p4"
DOC = ROOT / "docs" / "tna.md"
HEADING = "## Name differences"


def v1_names(defines: dict[str, str] | None = None) -> Names:
    return extract(
        V1_MAIN,
        [INCLUDE],
        ("NveIngress", "NveEgress", "NveDeparser"),
        defines=defines,
        arch_files=[V1_ARCH],
    )


def tna_names(defines: dict[str, str] | None = None) -> Names:
    return extract(
        TNA_MAIN,
        [INCLUDE, TNA_DIR],
        ("NveIngress", "NveEgress", "NveIngressDeparser"),
        defines=defines,
        arch_structs=TNA_ARCH_STRUCTS,
    )


def _check(diffs: list[Difference], documented: dict[tuple[str, str], int]) -> None:
    undocumented = [d for d in diffs if (d.kind, d.name) not in documented]
    assert not undocumented, (
        "control-plane differences between the v1model and TNA programs that "
        f"{DOC.name} ({HEADING}) does not list:\n"
        + "\n".join(f"  {d.kind} {d.name}: {d.detail}" for d in undocumented)
    )


def test_both_programs_expose_every_feature():
    """The extractor reads both programs fully (a guard against passing on nothing)."""
    for names in (v1_names(), tna_names()):
        kinds = {k for k, _ in names.entities}
        assert kinds == {"table", "action", "counter", "meter", "digest", "controller_header"}
        assert ("table", "NveIngress.l2.dmac") in names.entities
        assert ("table", "NveEgress.replica.tunnel") in names.entities
        assert ("digest", "mac_learn_digest_t") in names.entities


def test_same_names_at_the_same_profile():
    """Same sizes profile (the shared ToR default): every difference must be documented."""
    _check(compare(v1_names(), tna_names(), "v1model", "tna"), documented_differences(DOC, HEADING))


def test_tofino_profile_differs_only_as_documented():
    """The Tofino size profile against the v1model ToR profile."""
    diffs = compare(v1_names(), tna_names({"NVE_PROFILE_TOFINO": "1"}), "v1model", "tna")
    _check(diffs, documented_differences(DOC, HEADING))


def test_documented_differences_are_real():
    """A row in the doc's table that matches no actual difference is stale."""
    real = {
        (d.kind, d.name)
        for defines in (None, {"NVE_PROFILE_TOFINO": "1"})
        for d in compare(v1_names(), tna_names(defines), "v1model", "tna")
    }
    stale = {k: line for k, line in documented_differences(DOC, HEADING).items() if k not in real}
    assert not stale, f"{DOC.name}: rows without a real difference: " + ", ".join(
        f"line {line}: {kind} {name}" for (kind, name), line in sorted(stale.items())
    )


# ---------------------------------------------------------------- the checker itself

_V1_SRC = """#include <core.p4>
#include <v1model.p4>
typedef bit<9> port_t;
struct m_t { bit<16> vsi; }
control Feature(inout m_t meta, inout standard_metadata_t sm) {
    action set_vsi(bit<16> vsi) { meta.vsi = vsi; }
    table t {
        key = { sm.ingress_port : exact @name("port"); }
        actions = { set_vsi; @defaultonly NoAction; }
        size = SIZE;
    }
    counter(SIZE, CounterType.packets) hits;
    apply { t.apply(); }
}
control NveIngress(inout m_t meta, inout standard_metadata_t sm) {
    Feature() f;
    apply { f.apply(meta, sm); }
}
"""

_TNA_SRC = """#include <core.p4>
#include <tna.p4>
#ifdef BIGGER
#define SIZE 1024
#else
#define SIZE 64
#endif
struct m_t { bit<16> vsi; }
#define PARAMS inout m_t meta, \\
               in ingress_intrinsic_metadata_t ig_intr_md
control Feature(PARAMS) {
    action set_vsi(bit<16> vsi) { meta.vsi = vsi; }
    table t {
        key = { ig_intr_md.ingress_port : KIND @name("port"); }
        actions = { set_vsi; @defaultonly NoAction; }
        size = SIZE;
    }
    Counter<bit<32>, bit<16>>(SIZE, CounterType_t.PACKETS) hits;
    apply { t.apply(); }
}
control NveIngress(PARAMS) {
    Feature() f;
    apply { f.apply(meta, ig_intr_md); }
}
"""


def _pair(tmp_path: Path, kind: str = "exact", defines: dict[str, str] | None = None):
    (tmp_path / "v1.p4").write_text("#define SIZE 64\n" + _V1_SRC)
    (tmp_path / "tna.p4").write_text(_TNA_SRC.replace("KIND", kind))
    v1 = extract(tmp_path / "v1.p4", [], ("NveIngress",), arch_files=[V1_ARCH])
    tna = extract(
        tmp_path / "tna.p4",
        [],
        ("NveIngress",),
        defines=defines,
        arch_structs=TNA_ARCH_STRUCTS,
    )
    return compare(v1, tna, "v1model", "tna")


def _doc(tmp_path: Path, rows: str) -> Path:
    doc = tmp_path / "tna.md"
    doc.write_text(
        f"# x\n\n{HEADING}\n\n| kind | name | what differs | why |\n|---|---|---|---|\n{rows}\n"
        "## next\n| not | `part` | of it |\n"
    )
    return doc


def test_checker_sees_no_difference_between_equivalent_programs(tmp_path):
    assert _pair(tmp_path) == []


def test_checker_fails_on_an_undocumented_difference(tmp_path):
    diffs = _pair(tmp_path, kind="ternary")
    assert [(d.kind, d.name) for d in diffs] == [("table", "NveIngress.f.t")]
    with pytest.raises(AssertionError, match=r"NveIngress\.f\.t"):
        _check(diffs, documented_differences(_doc(tmp_path, ""), HEADING))


def test_checker_accepts_a_documented_difference(tmp_path):
    diffs = _pair(tmp_path, defines={"BIGGER": "1"})
    assert [(d.kind, d.name) for d in diffs] == [("counter", "NveIngress.f.hits")]
    doc = _doc(tmp_path, "| counter | `NveIngress.f.hits` | size | profile |")
    _check(diffs, documented_differences(doc, HEADING))
    assert documented_differences(doc, HEADING) == {("counter", "NveIngress.f.hits"): 7}


def test_extractor_names_the_place_it_cannot_resolve(tmp_path):
    (tmp_path / "bad.p4").write_text(
        _TNA_SRC.replace("ig_intr_md.ingress_port", "ig_intr_md.no_such")
    )
    with pytest.raises(
        ExtractError, match=r"bad\.p4:\d+: ingress_intrinsic_metadata_t has no member 'no_such'"
    ):
        extract(tmp_path / "bad.p4", [], ("NveIngress",), arch_structs=TNA_ARCH_STRUCTS)
    (tmp_path / "err.p4").write_text('#error "pick a profile"\n')
    with pytest.raises(ExtractError, match=r"err\.p4:1: #error"):
        extract(tmp_path / "err.p4", [], ("NveIngress",))


OPT_IN = {"NVE_TNA_PCP": "1", "NVE_TNA_MAC_LIMIT": "1", "NVE_TNA_STORM": "1"}


def test_the_opt_in_builds_have_the_v1model_names():
    """With -D NVE_TNA_PCP/MAC_LIMIT/STORM (docs/tna.md, Opt-in features) the rows docs/tna.md
    marks "(opt-in build)" are no longer differences, and nothing new differs."""
    documented = documented_differences(DOC, HEADING)
    text = DOC.read_text()
    opt_in = {
        key for key in documented if f"| `{key[1]}` | only in v1model (opt-in build) |" in text
    }
    assert len(opt_in) == 16, sorted(opt_in)  # 9 priorities, 3 MAC limit, 4 storm control
    diffs = compare(v1_names(), tna_names(OPT_IN), "v1model", "tna")
    assert not {(d.kind, d.name) for d in diffs} & opt_in
    _check(diffs, {k: v for k, v in documented.items() if k not in opt_in})
