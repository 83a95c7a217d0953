"""Every ingress drop reason the TNA program writes is counted by first_drop.

IngressCounters resolves the first drop reason with one const-entry ternary table,
NveIngress.counters.first_drop, whose entries name each reason value a drop field can
hold (the counter index is the entry's action parameter). A reason written to a field
with no entry for it would drop without being counted, so this test reads the source:
every `meta.<field> = DROP_...` in an ingress control, and every drop action called
with a reason in a const entry, must have a first_drop entry counting that reason in
that field's column.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from p4sim.frontend.preprocess import preprocess

ROOT = Path(__file__).resolve().parents[2]
TNA = ROOT / "p4src" / "tna"
OPT_IN = {"NVE_TNA_PCP": "1", "NVE_TNA_MAC_LIMIT": "1", "NVE_TNA_STORM": "1"}

_CONTROL = re.compile(r"\bcontrol\s+(\w+)\s*\(([^)]*)\)\s*\{")
_ACTION = re.compile(r"\baction\s+(\w+)\s*\(([^)]*)\)\s*\{([^{}]*)\}")
_ASSIGN = re.compile(r"\bmeta\.(drop_\w+)\s*=\s*(DROP_\w+)\s*;")
_TABLE = re.compile(r"\btable\s+first_drop\s*\{")
_KEY = re.compile(r"^\s*meta\.([\w.]+)(?:\[[^\]]*\])?\s*:\s*ternary", re.M)
_ENTRY = re.compile(r"^\s*\((.*)\)\s*:\s*(count_drop\w*)\((DROP_\w+)\)\s*;", re.M)


def _body(text: str, open_brace: int) -> str:
    depth = 0
    for i in range(open_brace, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return text[open_brace + 1 : i]
    raise AssertionError(f"unbalanced braces after offset {open_brace}")


def _ingress_controls() -> list[str]:
    """The bodies of the ingress controls (comments removed)."""
    found: list[str] = []
    for path in sorted(TNA.glob("*.p4")):
        text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
        found.extend(
            _body(text, m.end() - 1)
            for m in _CONTROL.finditer(text)
            if "NVE_IG_PARAMS" in m.group(2) or "nve_ig_meta_t" in m.group(2)
        )
    return found


def written_reasons() -> set[tuple[str, str]]:
    """(field, reason) pairs that ingress writes: constants, and drop actions whose
    reason parameter a call with a constant supplies."""
    pairs: set[tuple[str, str]] = set()
    for body in _ingress_controls():
        pairs |= set(_ASSIGN.findall(body))
        for name, params, action_body in _ACTION.findall(body):
            names = [p.split()[-1] for p in params.split(",") if p.strip()]
            for field, param in re.findall(r"\bmeta\.(drop_\w+)\s*=\s*(\w+)\s*;", action_body):
                if param not in names:
                    continue
                index = names.index(param)
                for args in re.findall(rf"\b{name}\(([^()]*)\)", body):
                    values = [a.strip() for a in args.split(",")]
                    if len(values) == len(names) and values[index].startswith("DROP_"):
                        pairs.add((field, values[index]))
    return pairs


def counted_reasons(defines: dict[str, str] | None = None) -> set[tuple[str, str]]:
    """(column, reason) of first_drop's entries, as built with `defines` (the opt-in
    features add columns)."""
    text = preprocess(TNA / "counters.p4", include_dirs=[], defines=defines or {}).text
    table = _TABLE.search(text)
    assert table, "counters.p4 has no table first_drop"
    body = _body(text, table.end() - 1)
    columns = _KEY.findall(body)
    pairs: set[tuple[str, str]] = set()
    for cells, _action, reason in _ENTRY.findall(body):
        values = [c.strip() for c in cells.split(",")]
        assert len(values) == len(columns), f"first_drop entry {cells!r}: {len(values)} cells"
        for column, value in zip(columns, values):
            if value == reason:
                pairs.add((column, reason))
    return pairs


def test_the_source_is_read():
    written = written_reasons()
    assert ("drop_ul", "DROP_NEXTHOP_MISS") in written
    assert ("drop_net", "DROP_NET_PEER_UNKNOWN") in written  # a const entry's argument
    assert ("drop_reason", "DROP_PRUNE_INGRESS_PORT") not in written  # egress


@pytest.mark.parametrize("defines", [{}, OPT_IN], ids=["default", "opt-in"])
def test_every_ingress_drop_reason_has_a_first_drop_entry(defines: dict[str, str]):
    missing = sorted(written_reasons() - counted_reasons(defines))
    assert not missing, f"drop reasons written but not counted by first_drop: {missing}"


def test_the_opt_in_drops_have_entries_only_in_their_builds():
    """DROP_MAC_LIMIT and DROP_STORM_CONTROL are counted from fields of their own (the
    1-bit mac_limit, storm_color = MeterColor_t.RED, 3), which exist only with
    -D NVE_TNA_MAC_LIMIT / NVE_TNA_STORM."""

    def flags(defines: dict[str, str]) -> dict[str, list[str]]:
        """reason -> the columns its entry matches with a number (1, or 3 for RED)."""
        text = preprocess(TNA / "counters.p4", include_dirs=[], defines=defines).text
        table = _TABLE.search(text)
        assert table
        body = _body(text, table.end() - 1)
        keys = _KEY.findall(body)
        return {
            reason: [k for k, v in zip(keys, cells.split(",")) if v.strip().isdigit()]
            for cells, _action, reason in _ENTRY.findall(body)
        }

    built = flags(OPT_IN)
    assert built["DROP_MAC_LIMIT"] == ["mac_limit"]
    assert built["DROP_STORM_CONTROL"] == ["storm_color"]
    default = flags({})
    assert "DROP_MAC_LIMIT" not in default


# Drop reasons the TNA program never gives, each with the docs/tna.md row that says why.
NEVER_ON_TNA = {
    "DROP_NET_BAD_LENGTH": "| outer header checks (outer_checks.p4) |",
    "DROP_ROUTED_BAD_HEADER": "| packets for the gateway, TTL expiry, routed IPv4 header",
}


def test_every_drop_reason_is_given_by_the_tna_program_but_the_documented_ones():
    """Every reason of p4src/include/drop_reasons.p4 appears in the TNA program's code
    (either gress, the opt-in features included), except NEVER_ON_TNA: a reason v1model
    gives that TNA never does is a check TNA does not make."""
    shared = (ROOT / "p4src" / "include" / "drop_reasons.p4").read_text()
    defined = set(re.findall(r"^const\s+drop_reason_t\s+(DROP_\w+)", shared, re.M))
    used: set[str] = set()
    for path in sorted(TNA.glob("*.p4")):
        text = re.sub(r"/\*.*?\*/", "", path.read_text(), flags=re.S)
        used |= set(re.findall(r"\bDROP_[A-Z0-9_]+\b", text))
    missing = sorted(defined - used - {"DROP_NONE"} - set(NEVER_ON_TNA))
    assert not missing, f"drop reasons the TNA program never gives: {missing}"
    documented = (ROOT / "docs" / "tna.md").read_text()
    for reason, row in NEVER_ON_TNA.items():
        assert reason not in used, f"{reason} is given now: drop it from NEVER_ON_TNA"
        assert row in documented, f"docs/tna.md has no row {row!r} for {reason}"
