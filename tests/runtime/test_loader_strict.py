"""The description means what it says: no key silently replaced by a second one, no
scalar read differently by YAML 1.1 and 1.2 (or by a lenient model), and `nve validate`
prints a bounded list of problems however many there are."""

from __future__ import annotations

from pathlib import Path

import pytest

from nve.cli import main
from nve.loader import OverlayError, parse_overlay

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "examples" / "two-tor-two-tenants.yaml").read_text()


def _problems(text: str) -> list[str]:
    with pytest.raises(OverlayError) as info:
        parse_overlay(text, "d.yaml")
    return str(info.value).splitlines()


def _line_of(text: str, needle: str, start: int = 0) -> int:
    """1-based number of the first line at or after `start` (0-based) holding needle."""
    lines = text.splitlines()
    return next(i + 1 for i in range(start, len(lines)) if needle in lines[i])


def _edit(old: str, new: str) -> str:
    assert EXAMPLE.count(old) >= 1, old
    return EXAMPLE.replace(old, new, 1)


# -- duplicate keys ------------------------------------------------------------------------


def test_a_second_top_level_key_is_refused_naming_both_lines() -> None:
    text = EXAMPLE + "\nendpoints: []\n"
    first, again = _line_of(text, "endpoints:"), len(text.splitlines())
    (problem,) = _problems(text)
    assert problem.startswith(f"d.yaml:{again}:1: endpoints: duplicate key 'endpoints'")
    assert f"first at d.yaml:{first}:1" in problem and f"again at d.yaml:{again}:1" in problem


@pytest.mark.parametrize(
    ("old", "new", "path", "key"),
    [
        # in a flow mapping inside a list inside a mapping inside a list
        (
            "{port: 1, role: access, mtu: 1500}",
            "{port: 1, role: access, mtu: 1500, port: 7}",
            "switches[0].ports[0].port",
            "port",
        ),
        # in a block mapping, the second spelled quoted
        ("    vrf: 1\n", '    vrf: 1\n    "vrf": 3\n', "tenants[0].vrf", "vrf"),
        # three levels down in a block mapping
        (
            "      include_dirs: [../p4src/include]\n",
            "      program: x.p4\n",
            "switches[0].pipeline.program",
            "program",
        ),
    ],
    ids=["flow-in-list", "quoted-again", "pipeline"],
)
def test_a_duplicate_key_at_any_depth_is_refused(old: str, new: str, path: str, key: str) -> None:
    text = _edit(old, new)
    found = [p for p in _problems(text) if f"duplicate key '{key}'" in p]
    assert len(found) == 1, _problems(text)
    where, _, rest = found[0].partition(": ")
    assert rest.startswith(f"{path}: "), found
    first_line = _line_of(text, f"{key}:")
    again_line = int(where.split(":")[1])
    assert f"first at d.yaml:{first_line}:" in rest and f"again at d.yaml:{again_line}:" in rest
    assert again_line >= first_line


def test_keys_a_merge_brings_in_may_be_overridden_but_not_repeated() -> None:
    text = EXAMPLE + (
        "\nx-base: &b {a: 1, b: 2}\nx-use:\n  <<: *b\n  a: 3\n  c: 4\n  c: 5\n"
    )  # `a` overrides the merged one (allowed), `c` is written twice (refused)
    dups = [p for p in _problems(text) if "duplicate key" in p]
    assert len(dups) == 1 and "duplicate key 'c'" in dups[0], dups


# -- scalars read on their source text ---------------------------------------------------

_VLAN = "attachment: {switch: tor1, port: 1, vlan: 100}"
_FLOW = "flow_id: false"
_MTU = "{port: 1, role: access, mtu: 1500}"


_SCALAR_CASES: list[tuple[str, str, str, str]] = [
    (_VLAN, _VLAN.replace("100", "010"), "endpoints[0].attachment.vlan", "leading zero"),
    (_VLAN, _VLAN.replace("100", "010"), "endpoints[0].attachment.vlan", "reads 8 (octal)"),
    (_VLAN, _VLAN.replace("100", "0100"), "endpoints[0].attachment.vlan", "YAML 1.2 100"),
    (_VLAN, _VLAN.replace("100", "1:40"), "endpoints[0].attachment.vlan", "base-60 number (100)"),
    (_VLAN, _VLAN.replace("100", "0b1100100"), "endpoints[0].attachment.vlan", "binary"),
    (_VLAN, _VLAN.replace("100", "1_00"), "endpoints[0].attachment.vlan", "write 100"),
    (_VLAN, _VLAN.replace("100", "yes"), "endpoints[0].attachment.vlan", "YAML 1.1 boolean"),
    (_VLAN, _VLAN.replace("100", "y"), "endpoints[0].attachment.vlan", "not the string 'y'"),
    (_VLAN, _VLAN.replace("100", '"100"'), "endpoints[0].attachment.vlan", "not the string"),
    (_MTU, _MTU.replace("1500", "1500.0"), "switches[0].ports[0].mtu", "not 1500.0"),
    (_FLOW, "flow_id: 0", "remote_nves[0].flow_id", "must be true or false, not 0"),
    (_FLOW, 'flow_id: "false"', "remote_nves[0].flow_id", "not the string 'false'"),
] + [
    (_FLOW, f"flow_id: {word}", "remote_nves[0].flow_id", fragment)
    for word, fragment in [
        ("no", "YAML 1.1 boolean (false)"),
        ("No", "YAML 1.1 boolean (false)"),
        ("ON", "YAML 1.1 boolean (true)"),
        ("off", "YAML 1.1 boolean (false)"),
        ("Yes", "YAML 1.1 boolean (true)"),
        ("y", "must be true or false, not the string 'y'"),
        ("N", "must be true or false, not the string 'N'"),
        ("yEs", "must be true or false, not the string 'yEs'"),
    ]
]


@pytest.mark.parametrize(
    ("old", "new", "path", "fragment"),
    [pytest.param(*case, id=case[1].split(": ")[-1].rstrip("}")) for case in _SCALAR_CASES],
)
def test_an_ambiguous_scalar_is_an_error_at_its_place(
    old: str, new: str, path: str, fragment: str
) -> None:
    text = _edit(old, new)
    line = _line_of(text, new)
    problems = _problems(text)
    assert any(
        p.startswith(f"d.yaml:{line}:") and p.split(": ", 2)[1] == path and fragment in p
        for p in problems
    ), problems


def test_only_the_ambiguous_scalars_are_reported() -> None:
    """Plain decimal and hex numbers, true/false and quoted strings are what they look like;
    in the same file, 010 and `on` are not."""
    text = _edit(_VLAN, _VLAN.replace("100", "0x64")).replace(  # hex VLAN: 100
        "    vrf: 2\n", '    vrf: 2\n    vpn_gateway: "192.168.10.7"\n'
    )
    text = text.replace("mtu: 1500}", "mtu: 9000}").replace("outer_ttl: 64", "outer_ttl: 064")
    text = text.replace(_FLOW, "flow_id: on")
    problems = _problems(text)
    assert len(problems) == 2, problems
    ttl, flow = problems
    assert ttl.startswith(f"d.yaml:{_line_of(text, 'outer_ttl')}:16: switches[0].outer_ttl: 064")
    assert flow.startswith(f"d.yaml:{_line_of(text, 'flow_id')}:14: remote_nves[0].flow_id: on")


def test_an_ambiguous_key_is_refused_too() -> None:
    (problem,) = [p for p in _problems(EXAMPLE + "\non: true\n") if "YAML 1.1 boolean" in p]
    assert problem.startswith(f"d.yaml:{len(EXAMPLE.splitlines()) + 2}:1: on: on is a YAML 1.1")


# -- nve validate --max-problems ---------------------------------------------------------


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    code = main(["validate", "--no-pipeline", *argv])
    return code, capsys.readouterr().err.splitlines()


def _shape_errors(tmp_path: Path, count: int) -> Path:
    """A description with `count` routes that are not mappings: `count` shape errors."""
    path = tmp_path / "many.yaml"
    head = EXAMPLE[: EXAMPLE.index("\nroutes:")]
    path.write_text(head + "\nroutes: [" + "1, " * count + "]\n")
    return path


def _rule_errors(tmp_path: Path, count: int) -> Path:
    """A shape-valid description with `count` VSIDs no tenant has: `count` rule errors."""
    path = tmp_path / "rules.yaml"
    vsids = ", ".join(str(0x100000 + i) for i in range(count))
    path.write_text(_edit("vsids: [0x001002]", f"vsids: [0x001002, {vsids}]"))
    return path


def test_validate_prints_100_problems_then_how_many_more(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, lines = _run(capsys, str(_shape_errors(tmp_path, 250)))
    assert code == 1
    assert len(lines) == 101, lines[-3:]
    assert lines[99].endswith("routes[99]: must be a mapping")
    assert lines[100] == "... and 150 more problems not shown (--max-problems N shows more)"


@pytest.mark.parametrize(("limit", "shown"), [(0, 0), (1, 1), (7, 7), (250, 250), (1000, 250)])
def test_max_problems_sets_how_many_are_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], limit: int, shown: int
) -> None:
    code, lines = _run(capsys, "--max-problems", str(limit), str(_rule_errors(tmp_path, 250)))
    assert code == 1
    problems = [line for line in lines if "is not a subnet of any tenant" in line]
    assert len(problems) == shown
    more = [line for line in lines if "more problem" in line]
    if shown == 250:
        assert more == [] and len(lines) == 250
    else:
        assert len(more) == 1 and f"and {250 - shown} more problem" in more[0], lines[-2:]
        assert len(lines) == shown + 1


def test_validate_output_stays_bounded_for_many_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, lines = _run(capsys, "--max-problems", "10", str(_shape_errors(tmp_path, 20_000)))
    assert len(lines) == 11 and sum(len(line) for line in lines) < 2_000
    assert lines[-1].startswith("... and 19,990 more problems not shown")


def test_max_problems_must_be_a_count(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["validate", "--max-problems", "-1", "x.yaml"])
    assert "'-1' is not a count" in capsys.readouterr().err
