"""The layout keeps the product apart from the lab, and every file small enough to read."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = [ROOT / "runtime" / "nve", ROOT / "sim" / "p4sim"]
LAB = {"lab", "nve_ptf", "tests", "bench", "demo", "fuzz", "ptf", "scapy"}
SKIP = {".venv", "out", ".git"}


def _python_files(*roots: Path) -> list[Path]:
    return [p for r in roots for p in r.rglob("*.py") if not SKIP & set(p.parts)]


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out


def test_the_product_never_imports_the_lab() -> None:
    found = [
        f"{p.relative_to(ROOT)} imports {sorted(_imports(p) & LAB)}"
        for p in _python_files(*PRODUCT)
        if _imports(p) & LAB
    ]
    assert not found, "\n".join(found)


def test_the_wheel_ships_only_nve_and_p4sim() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    where = config["tool"]["setuptools"]["packages"]["find"]["where"]
    assert sorted(where) == ["runtime", "sim"]
    packages = {p.name for w in where for p in (ROOT / w).iterdir() if (p / "__init__.py").exists()}
    assert packages == {"nve", "p4sim"}


def test_no_python_file_is_longer_than_800_lines() -> None:
    roots = [
        ROOT / d for d in ("runtime", "sim", "ptf_tests", "tests", "bench", "fuzz", "lab", "demo")
    ]
    long = {
        str(p.relative_to(ROOT)): n
        for p in _python_files(*roots)
        if (n := len(p.read_text().splitlines())) > 800
    }
    assert not long, long


def test_no_v1model_p4_file_is_longer_than_300_lines() -> None:
    # The TNA tree has its own layout test (it is being rebuilt per feature for Tofino).
    files = [*(ROOT / "p4src" / "include").glob("*.p4"), *(ROOT / "p4src" / "v1model").glob("*.p4")]
    long = {
        str(p.relative_to(ROOT)): n for p in files if (n := len(p.read_text().splitlines())) > 300
    }
    assert not long, long
