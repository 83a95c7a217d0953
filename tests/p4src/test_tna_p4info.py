"""The Tofino program's P4Info, from the real Tofino compiler, against the controller.

p4c's Tofino back end writes the P4Info before it compiles the pipe, so
`--skip-compilation pipe` yields it in about half a minute whatever the placement. The
names it holds (tables with the `pipe.` prefix stripped, actions, counters, meters,
digests, controller headers) must be the v1model program's, except the rows of
docs/tna.md's "Name differences", and `nve validate` must accept the example overlay
against it with the documented target setting (`cpu_port: 192`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from finsy.proto import p4i
from google.protobuf import text_format

from tests.support.p4_source_names import documented_differences

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "p4src" / "golden" / "nvgre_nve.p4info.txtpb"
EXAMPLE = ROOT / "examples" / "two-tor-two-tenants.yaml"
DOC = ROOT / "docs" / "tna.md"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tna_p4info(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("p4c-tofino") is None:
        pytest.skip("p4c-tofino not installed")
    out = tmp_path_factory.mktemp("tna")
    p4info = out / "nvgre_nve.p4info.txtpb"
    cmd = ["p4c-tofino", "--target", "tofino", "--arch", "tna"]
    cmd += ["-I", str(ROOT / "p4src" / "include"), "-I", str(ROOT / "p4src" / "tna")]
    cmd += ["-o", str(out / "build"), "--p4runtime-files", str(p4info)]
    cmd += ["--p4runtime-force-std-externs", "--skip-compilation", "pipe"]
    cmd += [str(ROOT / "p4src" / "tna" / "nvgre_nve.p4")]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0 and p4info.is_file(), proc.stderr[-3000:]
    return p4info


def _load(path: Path) -> p4i.P4Info:
    return text_format.Parse(path.read_text(), p4i.P4Info())


def _names(info: p4i.P4Info) -> set[tuple[str, str]]:
    def strip(name: str) -> str:
        return name[len("pipe.") :] if name.startswith("pipe.") else name

    out = {("table", strip(t.preamble.name)) for t in info.tables}
    out |= {("action", a.preamble.name) for a in info.actions if a.preamble.name != "NoAction"}
    out |= {("counter", c.preamble.name) for c in info.counters}
    out |= {("meter", m.preamble.name) for m in info.meters}
    out |= {("digest", d.preamble.name) for d in info.digests}
    out |= {("controller_header", h.preamble.name) for h in info.controller_packet_metadata}
    return out


def test_the_compiled_tna_p4info_has_the_v1model_names(tna_p4info: Path) -> None:
    tna, v1 = _load(tna_p4info), _load(GOLDEN)
    assert tna.pkg_info.arch == "tna"
    documented = set(documented_differences(DOC, "## Name differences"))
    only_tna = _names(tna) - _names(v1) - documented
    only_v1 = _names(v1) - _names(tna) - documented
    assert not only_tna, f"in the Tofino P4Info only, not in docs/tna.md: {sorted(only_tna)}"
    assert not only_v1, f"in the v1model P4Info only, not in docs/tna.md: {sorted(only_v1)}"


def test_nve_validate_accepts_the_example_against_the_tna_p4info(
    tna_p4info: Path, tmp_path: Path
) -> None:
    device_config = tmp_path / "tofino.bin"
    device_config.write_bytes(b"\0" * 16)  # not read by validation
    text = EXAMPLE.read_text()
    text, n = re.subn(
        r"    pipeline:\n      program: [^\n]+\n      include_dirs: [^\n]+\n",
        f"    pipeline:\n      p4info: {tna_p4info}\n      device_config: {device_config}\n"
        "    cpu_port: 192\n",
        text,
    )
    assert n == 2, "the example's pipeline entries changed shape"
    overlay = tmp_path / "overlay-tna.yaml"
    overlay.write_text(text)
    proc = subprocess.run(
        [sys.executable, "-m", "nve.cli", "validate", str(overlay)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "valid (2 switches" in proc.stdout
