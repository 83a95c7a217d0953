"""The P4 program and docs/pipeline.md (the controller's API) must name the same things.

The controller is written against docs/pipeline.md, so a table, action, counter or
meter that exists in only one of them is a broken contract. Names are derived here from
the P4 source text as p4c forms them: control-type declarations in p4src/include give
the tables/actions/externs, the instantiations in the v1model main give the instance
path (`NveIngress.<instance>.<name>`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INCLUDE = ROOT / "p4src" / "include"
MAIN = ROOT / "p4src" / "v1model" / "nvgre_nve.p4"
DOC = ROOT / "docs" / "pipeline.md"

_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def _source(path: Path) -> str:
    return _COMMENT.sub("", path.read_text(encoding="utf-8"))


def _blocks(text: str, keyword: str) -> dict[str, str]:
    """`keyword NAME ... { body }` -> {NAME: body}, matching braces."""
    out: dict[str, str] = {}
    for m in re.finditer(rf"\b{keyword}\s+(\w+)\s*(?:\([^)]*\))?\s*{{", text):
        depth, i = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        out[m.group(1)] = text[m.end() : i - 1]
    return out


def _controls() -> dict[str, str]:
    controls: dict[str, str] = {}
    for path in sorted(INCLUDE.glob("*.p4")):
        controls.update(_blocks(_source(path), "control"))
    return controls


def _instances(top: str) -> dict[str, str]:
    """Instances declared in a top-level control of the main: {instance: control type}."""
    body = _blocks(_source(MAIN), "control")[top]
    return {inst: typ for typ, inst in re.findall(r"^\s*(\w+)\(\)\s+(\w+);", body, re.M)}


def _source_objects() -> dict[str, str]:
    """{fully qualified name: kind} for tables, actions, counters and meters."""
    controls = _controls()
    objects: dict[str, str] = {}
    for top in ("NveIngress", "NveEgress"):
        for inst, typ in _instances(top).items():
            assert typ in controls, f"{top}.{inst}: control {typ} not found in p4src/include"
            body = controls[typ]
            prefix = f"{top}.{inst}."
            for name in _blocks(body, "table"):
                objects[prefix + name] = "table"
            for name in re.findall(r"\baction\s+(\w+)\s*\(", body):
                objects[prefix + name] = "action"
            for kind, name in re.findall(r"\b(counter|meter)\s*\([^;]*\)\s*(\w+)\s*;", body):
                objects[prefix + name] = kind
    return objects


def _doc_names() -> set[str]:
    text = DOC.read_text(encoding="utf-8")
    names = set(re.findall(r"`(Nve(?:Ingress|Egress)\.\w+\.\w+)(?:\(|`)", text))
    return names


def test_every_instance_is_applied_exactly_once():
    main = _source(MAIN)
    for top in ("NveIngress", "NveEgress"):
        body = _blocks(main, "control")[top]
        for inst in _instances(top):
            calls = re.findall(rf"\b{inst}\.apply\(", body)
            assert len(calls) == 1, f"{top}.{inst} applied {len(calls)} times"


def test_each_table_is_applied_from_one_place():
    for typ, body in _controls().items():
        for table in _blocks(body, "table"):
            calls = re.findall(rf"\b{table}\.apply\(", body)
            assert len(calls) == 1, f"table {typ}.{table} applied {len(calls)} times"


def test_every_key_has_a_name_annotation():
    for typ, body in _controls().items():
        for table, tbody in _blocks(body, "table").items():
            m = re.search(r"\bkey\s*=\s*{([^}]*)}", tbody)
            if not m:
                continue  # keyless table (default entry only)
            for element in filter(None, (e.strip() for e in m.group(1).split(";"))):
                assert re.search(r'@name\("\w+"\)$', element), (
                    f"{typ}.{table}: key element without @name: {element!r}"
                )


def test_doc_lists_exactly_the_program_objects():
    source = _source_objects()
    doc = _doc_names()
    missing_in_doc = sorted(set(source) - doc)
    unknown_in_source = sorted(doc - set(source))
    assert not missing_in_doc, f"in the P4 program but not in docs/pipeline.md: {missing_in_doc}"
    assert not unknown_in_source, (
        f"in docs/pipeline.md but not in the P4 program: {unknown_in_source}"
    )


def test_program_has_the_tables_the_issue_needs():
    tables = {n for n, k in _source_objects().items() if k == "table"}
    assert len(tables) >= 20
    for needed in (
        "NveIngress.decap.peer_v4",
        "NveIngress.l2.dmac",
        "NveIngress.underlay.ecmp",
        "NveEgress.replica.tunnel",
        "NveEgress.mtu.port",
    ):
        assert needed in tables


def _codes(path: Path, typ: str, prefix: str) -> dict[int, str]:
    found = re.findall(rf"const\s+{typ}\s+{prefix}(\w+)\s*=\s*8w(\d+)\s*;", _source(path))
    return {int(v): name for name, v in found}


def _doc_codes(section: str) -> dict[int, str]:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(section)
    nxt = re.compile(r"^#{2,3} ", re.M).search(text, start + 1)
    rows = re.findall(
        r"^\|\s*(\d+)\s*\|\s*`(\w+)`", text[start : nxt.start() if nxt else None], re.M
    )
    return {int(code): name for code, name in rows}


def test_drop_reason_codes_match_the_doc():
    source = _codes(INCLUDE / "drop_reasons.p4", "drop_reason_t", "DROP_")
    source.pop(0)  # DROP_NONE is not a drop
    assert source == _doc_codes("## Drop reasons")


def test_punt_reason_codes_match_the_doc():
    source = _codes(INCLUDE / "constants.p4", r"bit<8>", "PUNT_")
    source.pop(0)  # PUNT_NONE
    assert {k: "PUNT_" + v for k, v in source.items()} == _doc_codes("Packet-in reasons")


@pytest.mark.parametrize("define", [None, "NVE_PROFILE_SMALL", "NVE_PROFILE_LARGE"])
def test_program_parses_with_p4sim_front_end(define):
    """The whole program, in every size profile, is accepted by p4sim's preprocessor and
    P4_16 grammar (the front end's later stages are tested in tests/sim)."""
    preprocess = pytest.importorskip("p4sim.frontend.preprocess").preprocess
    parse = pytest.importorskip("p4sim.frontend.parser").parse
    defines = {define: "1"} if define else {}
    src = preprocess(str(MAIN), include_dirs=[str(INCLUDE)], defines=defines)
    assert parse(src) is not None
