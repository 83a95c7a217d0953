"""docs/pipeline.md against the P4Info that p4sim produces for the program.

The controller is written from docs/pipeline.md; P4Info is what it will actually meet
on a switch. Keys (names, match kinds, widths), action parameters (names, widths, in
order), table sizes per profile, counters, meters, the digest and the controller
headers must agree, in every size profile.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAIN = ROOT / "p4src" / "v1model" / "nvgre_nve.p4"
INCLUDE = ROOT / "p4src" / "include"
DOC_TEXT = (ROOT / "docs" / "pipeline.md").read_text(encoding="utf-8")

MATCH_KINDS = {2: "exact", 3: "lpm", 4: "ternary", 5: "range", 6: "optional"}
PROFILES = {"ToR": None, "SMALL": "NVE_PROFILE_SMALL", "LARGE": "NVE_PROFILE_LARGE"}


@cache
def _p4info(define: str | None):
    compiler = pytest.importorskip("p4sim.compiler")
    defines = {define: "1"} if define else {}
    try:
        program = compiler.compile_file(str(MAIN), include_dirs=[str(INCLUDE)], defines=defines)
    except TypeError:  # a compile_file without `defines`: only the default profile
        if define:
            pytest.skip("p4sim.compiler.compile_file takes no defines")
        program = compiler.compile_file(str(MAIN), include_dirs=[str(INCLUDE)])
    info = program.p4info
    return info() if callable(info) else info


def _doc_region(table: str) -> str:
    """The text docs/pipeline.md gives `table`: its row in a table list, or its section."""
    row = re.search(rf"^\|\s*`{re.escape(table)}`\s*\|.*$", DOC_TEXT, re.M)
    if row:
        return row.group(0)
    head = re.search(rf"^### `{re.escape(table)}`.*$", DOC_TEXT, re.M)
    assert head, f"docs/pipeline.md has no section or row for table {table}"
    nxt = re.compile(r"^#{2,3} ", re.M).search(DOC_TEXT, head.end())
    return DOC_TEXT[head.end() : nxt.start() if nxt else None]


def _doc_keys(table: str) -> list[tuple[str, str, int]]:
    """The key of `table` as docs/pipeline.md lists it: [(name, match kind, width)]."""
    region = _doc_region(table)
    if region.startswith("|"):
        cell = region.split("|")[2]
        return [
            (n, k, int(w))
            for n, k, w in re.findall(r"`(\w+)`\s+(exact|lpm|ternary|optional)\s+(\d+)", cell)
        ]
    return [
        (n, k, int(w))
        for n, k, w in re.findall(
            r"^\|\s*`(\w+)`\s*\|\s*(exact|lpm|ternary|optional)\s*\|\s*(\d+)", region, re.M
        )
    ]


def _doc_actions() -> dict[str, list[tuple[str, int]]]:
    """Every `Nve...action(bit<W> p, ...)` written in the doc: {name: [(param, width)]}."""
    out: dict[str, list[tuple[str, int]]] = {}
    for name, params in re.findall(r"`(Nve(?:Ingress|Egress)\.\w+\.\w+)\(([^)]*)\)", DOC_TEXT):
        out[name] = [(p, int(w)) for w, p in re.findall(r"bit<(\d+)>\s+(\w+)", params)]
    return out


def test_table_keys_match_the_doc():
    info = _p4info(None)
    assert len(info.tables) >= 20
    for t in info.tables:
        p4 = [(m.name, MATCH_KINDS[m.match_type], m.bitwidth) for m in t.match_fields]
        assert p4 == _doc_keys(t.preamble.name), t.preamble.name


def test_action_parameters_match_the_doc():
    info = _p4info(None)
    doc = _doc_actions()
    for a in info.actions:
        name = a.preamble.name
        if name == "NoAction":
            continue
        assert name in doc, f"action {name} not documented with its parameters"
        assert [(p.name, p.bitwidth) for p in a.params] == doc[name], name


def test_default_actions_match_the_doc():
    """A keyed table misses into NoAction (the pipeline turns the miss into a documented
    drop or behaviour) unless the doc names another default with its arguments."""
    info = _p4info(None)
    actions = {a.preamble.id: a.preamble.name for a in info.actions}
    for t in info.tables:
        default = t.initial_default_action
        name = actions[default.action_id]
        region = (
            _doc_region(t.preamble.name)
            if t.match_fields
            else DOC_TEXT[DOC_TEXT.index(f"### `{t.preamble.name}`") :]
        )
        if name == "NoAction":
            assert "`NoAction`" in region, t.preamble.name
        else:
            args = ", ".join(str(int.from_bytes(a.value, "big")) for a in default.arguments)
            assert f"`{name.rsplit('.', 1)[1]}({args})`" in region, (t.preamble.name, name, args)


def _doc_sizes() -> dict[str, dict[str, int]]:
    """{table name as written in the sizes table: {profile: size}}"""
    start = DOC_TEXT.index("## Table sizes")
    nxt = re.compile(r"^## ", re.M).search(DOC_TEXT, start + 1)
    end = nxt.start() if nxt is not None else len(DOC_TEXT)  # the last section runs to the end
    out: dict[str, dict[str, int]] = {}
    for used_by, tor, small, large in re.findall(
        r"^\|\s*`\w+`\s*\|([^|]*)\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|",
        DOC_TEXT[start:end],
        re.M,
    ):
        for name in re.findall(r"`([\w.]+)`", used_by):
            out[name] = {"ToR": int(tor), "SMALL": int(small), "LARGE": int(large)}
    return out


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_table_sizes_match_the_doc(profile):
    info = _p4info(PROFILES[profile])
    sizes = _doc_sizes()
    for t in info.tables:
        fqn = t.preamble.name
        if not t.match_fields:
            continue  # keyless: the default entry only
        rows = [n for n in sizes if fqn == n or fqn.endswith("." + n)]
        assert len(rows) == 1, f"{fqn}: {len(rows)} rows in the sizes table ({rows})"
        assert t.size == sizes[rows[0]][profile], f"{fqn} in profile {profile}"


def test_tor_profile_meets_the_issue_minimums():
    sizes = {t.preamble.name: t.size for t in _p4info(None).tables}
    assert sizes["NveIngress.vsi.info"] >= 4096
    assert sizes["NveIngress.decap.vsid"] >= 4096
    assert sizes["NveIngress.l2.dmac"] >= 128 * 1024
    assert sizes["NveIngress.tunnel.remote"] >= 4096
    assert sizes["NveEgress.replica.tunnel"] >= 4096
    assert sizes["NveIngress.routing.routes_v4"] >= 16384
    assert sizes["NveIngress.routing.routes_v6"] >= 16384


def test_counters_meters_digest_and_controller_headers():
    info = _p4info(None)
    counters = {c.preamble.name: c.size for c in info.counters}
    assert counters["NveIngress.counters.drops"] == 256
    assert counters["NveEgress.counters.drops"] == 256
    assert counters["NveIngress.counters.vsi_decap"] == counters["NveEgress.counters.vsi_encap"]
    assert counters["NveIngress.counters.tunnel_rx"] == counters["NveEgress.counters.tunnel_tx"]
    vsis, tunnels = (
        counters["NveIngress.counters.vsi_decap"],
        counters["NveIngress.counters.tunnel_rx"],
    )
    for direction, what, size in (
        ("Ingress", "vsi_decap", vsis),
        ("Egress", "vsi_encap", vsis),
        ("Ingress", "tunnel_rx", tunnels),
        ("Egress", "tunnel_tx", tunnels),
    ):  # 64 cells (16 values of 4 hex digits of the frame length) per vsi/tunnel
        assert counters[f"Nve{direction}.counters.frame_bytes.{what}"] == size * 64
    doc_names = set(re.findall(r"`(Nve(?:Ingress|Egress)(?:\.\w+){2,3})`", DOC_TEXT))
    for name in list(counters) + [m.preamble.name for m in info.meters]:
        assert name in doc_names, name
    assert {m.preamble.name for m in info.meters} == {
        "NveIngress.punt.rate",
        "NveEgress.punt.rate",
        "NveIngress.storm.rate",
    }
    assert [d.preamble.name for d in info.digests] == ["mac_learn_digest_t"]
    headers = {
        h.preamble.name: [(m.name, m.bitwidth) for m in h.metadata]
        for h in info.controller_packet_metadata
    }
    assert headers == {
        "packet_in": [("ingress_port", 9), ("reason", 8), ("vsid", 24), ("_pad", 7)],
        "packet_out": [("egress_port", 9), ("_pad", 7)],
    }
    for name, fields in headers.items():
        assert sum(w for _, w in fields) % 8 == 0, name
        section = DOC_TEXT[DOC_TEXT.index(f'@controller_header("{name}")') :]
        for i, (field, width) in enumerate(fields, start=1):
            assert re.search(rf"^\|\s*{i}\s*\|\s*`{field}`\s*\|\s*{width}\s*\|", section, re.M), (
                f"{name}.{field}"
            )
