"""The TNA tree mirrors the v1model layout (docs/tna.md).

p4src/tna/ has one file per feature with the same names as p4src/include/, the TNA
main includes them in the v1model main's order, and no file is over 300 lines. One
slow test compiles the first feature step with p4c-tofino when it is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INCLUDE = ROOT / "p4src" / "include"
TNA = ROOT / "p4src" / "tna"
V1_MAIN = ROOT / "p4src" / "v1model" / "nvgre_nve.p4"
TNA_MAIN = TNA / "nvgre_nve.p4"
SHARED = {"constants.p4", "drop_reasons.p4"}  # values only: used by both mains as they are
TNA_ONLY = {"nvgre_nve.p4", "deparser.p4"}
MAX_LINES = 300


def _includes(main: Path) -> list[str]:
    return re.findall(r'^\s*#\s*include\s+"([^"]+)"', main.read_text(), re.M)


def test_every_feature_file_has_a_tna_counterpart():
    wanted = {p.name for p in INCLUDE.glob("*.p4")} - SHARED
    have = {p.name for p in TNA.glob("*.p4")}
    assert wanted <= have, f"missing in p4src/tna: {sorted(wanted - have)}"
    assert have - wanted <= TNA_ONLY, f"unexpected in p4src/tna: {sorted(have - wanted - TNA_ONLY)}"


def test_tna_main_includes_in_the_v1model_order():
    v1 = _includes(V1_MAIN)
    tna = [f for f in _includes(TNA_MAIN) if f not in TNA_ONLY]
    assert tna == v1


def test_no_tna_file_over_the_limit():
    long = {
        p.name: n for p in TNA.glob("*.p4") if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"over {MAX_LINES} lines: {long}"


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_first_feature_step_compiles_with_p4c_tofino(tmp_path):
    """NVE_TNA_STEP=1, small sizes: about one minute on an idle two-core machine, many
    more when the machine is busy (the compiler runs at the lowest priority), hence its
    own timeout instead of the suite's 300 s."""
    if shutil.which("p4c-tofino") is None:
        pytest.skip("p4c-tofino not installed")
    cmd = ["nice", "-n", "19", "p4c-tofino", "--target", "tofino", "--arch", "tna"]
    cmd += ["-I", str(INCLUDE), "-I", str(TNA), "-D", "NVE_PROFILE_SMALL", "-D", "NVE_TNA_STEP=1"]
    cmd += ["-o", str(tmp_path), str(TNA_MAIN)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1700, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    assert (tmp_path / "pipe" / "tofino.bin").is_file()
