"""nve.p4names: generated from the P4 program, current, and the only place P4 names are spelled."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from nve import contract, p4names, p4names_gen
from nve.p4info import P4Index, load_p4info

ROOT = Path(__file__).resolve().parents[2]

# Python that talks to the pipeline: it must take every P4 name from nve.p4names.
NAME_USERS = [
    *sorted((ROOT / "runtime" / "nve").glob("*.py")),
    *sorted((ROOT / "ptf_tests").rglob("*.py")),
    *sorted((ROOT / "bench").glob("*.py")),
]
GENERATED = {ROOT / "runtime" / "nve" / "p4names.py", ROOT / "runtime" / "nve" / "p4names_gen.py"}


def _constants(cls: type) -> dict[str, str]:
    return {k: v for k, v in vars(cls).items() if k.isupper() and isinstance(v, str)}


def test_the_checked_in_module_is_current() -> None:
    assert p4names_gen.main(["--check"]) == 0, "runtime/nve/p4names.py is stale: make p4names"


def test_check_fails_when_a_table_is_renamed_in_p4(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "p4src", tmp_path / "p4src")
    (tmp_path / "runtime" / "nve").mkdir(parents=True)
    shutil.copy(ROOT / p4names_gen.OUTPUT, tmp_path / p4names_gen.OUTPUT)
    assert p4names_gen.main(["--check", "--root", str(tmp_path)]) == 0
    l2 = tmp_path / "p4src" / "include" / "l2.p4"
    text = l2.read_text()
    assert "table dmac" in text
    l2.write_text(
        text.replace("table dmac", "table dmac_renamed").replace("dmac.apply", "dmac_renamed.apply")
    )
    assert p4names_gen.main(["--check", "--root", str(tmp_path)]) == 1
    assert p4names_gen.main(["--root", str(tmp_path)]) == 0
    regenerated = (tmp_path / p4names_gen.OUTPUT).read_text()
    assert '"NveIngress.l2.dmac_renamed"' in regenerated
    assert '"NveIngress.l2.dmac"' not in regenerated


def test_generated_names_are_the_programs() -> None:
    index = P4Index(load_p4info(ROOT / "tests" / "p4src" / "golden" / "nvgre_nve.p4info.txtpb"))
    for name in _constants(p4names.Table).values():
        table = index.table(name)
        assert tuple(table.match_fields) == p4names.TABLE_KEYS[name]
    for name in _constants(p4names.Action).values():
        assert tuple(index.action(name).params) == p4names.ACTION_PARAMS[name]
    for name in _constants(p4names.Counter).values():
        index.counter(name)
    for name in _constants(p4names.Meter).values():
        index.meter(name)
    for name in _constants(p4names.Digest).values():
        assert index.digest(name).members == p4names.DIGEST_MEMBERS[name]
    assert {p.name for p in p4names.Drop if p} >= {"PARSER_ERROR", "MTU_EXCEEDED"}
    assert p4names.Punt.MTU_EXCEEDED == 1 and p4names.CPU_PORT == 255


def test_python_names_keep_the_control_only_on_collision() -> None:
    names = p4names_gen.python_names(["A.x.y", "Bingress.c.d", "Cegress.c.d"])
    assert names == {"A.x.y": "X_Y", "Bingress.c.d": "BINGRESS_C_D", "Cegress.c.d": "CEGRESS_C_D"}
    names = p4names_gen.python_names(["NveIngress.counters.drops", "NveEgress.counters.drops"])
    assert set(names.values()) == {"INGRESS_COUNTERS_DROPS", "EGRESS_COUNTERS_DROPS"}


def _p4_strings_in(path: Path) -> list[str]:
    """P4 names spelled as string literals, or as match/param keys, in one module."""
    full = set()
    for cls in (p4names.Table, p4names.Action, p4names.Counter, p4names.Meter, p4names.Digest):
        full |= set(_constants(cls).values())
    fields = set(_constants(p4names.Key).values()) | set(_constants(p4names.Param).values())
    fields |= set(_constants(p4names.PacketIn).values()) | set(
        _constants(p4names.PacketOut).values()
    )
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Constant) and node.value in full:
            found.append(f"{where}: {node.value!r}")
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.slice, ast.Constant)
            and node.slice.value in fields  # a decoded match, params or metadata by name
        ):
            found.append(f"{where}: [{node.slice.value!r}]")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("make_match", "make_params", "_entry")
        ):
            found += [f"{where}: {k.arg}=" for k in node.keywords if k.arg in fields]
            for arg in node.args:
                if isinstance(arg, ast.Dict):
                    found += [
                        f"{where}: {k.value!r}"
                        for k in arg.keys
                        if isinstance(k, ast.Constant) and k.value in fields
                    ]
    return found


def test_no_p4_name_is_spelled_outside_the_generated_module() -> None:
    found = [f for p in NAME_USERS if p not in GENERATED for f in _p4_strings_in(p)]
    assert not found, "P4 names spelled by hand (use nve.p4names):\n" + "\n".join(found)


def test_the_scan_finds_a_hand_spelled_name(tmp_path: Path) -> None:
    bad = ROOT / "runtime" / "nve" / "_scan_probe.py"
    bad.write_text('T = "NveIngress.l2.dmac"\nm = make_match(vsi=1)\nv = d["egress_port"]\n')
    try:
        assert len(_p4_strings_in(bad)) == 3
    finally:
        bad.unlink()


def test_every_table_has_a_write_tier_and_dependencies_come_first() -> None:
    tables = set(_constants(p4names.Table).values())
    assert tables <= set(contract.TIERS)
    for table, deps in contract.DEPENDS_ON.items():
        for dep in deps:
            assert contract.TIERS[dep] < contract.TIERS[table], (table, dep)
    # the classification into a subnet comes after everything else
    assert contract.TIERS[p4names.Table.ACCESS_PORT_VLAN] == max(contract.TIERS.values())


def test_a_dependency_cycle_is_refused() -> None:
    with pytest.raises(ValueError, match="cycle: a -> b -> a"):
        contract.tiers({"a": ("b",), "b": ("a",)})
    with pytest.raises(ValueError, match="unknown c"):
        contract.tiers({"a": ("c",)})
