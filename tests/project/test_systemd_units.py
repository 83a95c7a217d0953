"""examples/systemd: the example units pass `systemd-analyze verify`.

The units name an example installation path; here it is replaced by this environment's
own, so that verify also checks that the commands exist.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "examples" / "systemd"
EXAMPLE_BIN = "/opt/nvgre-nve/.venv/bin"


def local(text: str) -> str:
    return text.replace(EXAMPLE_BIN, str(Path(sys.executable).parent))


def verify(*units: Path) -> str:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    proc = subprocess.run(
        ["systemd-analyze", "verify", *map(str, units)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return proc.stdout + proc.stderr if proc.returncode == 0 else f"exit {proc.returncode}"


def test_the_units_verify_cleanly(tmp_path: Path) -> None:
    (tmp_path / "p4sim@tor1.service").write_text(local((UNITS / "p4sim@.service").read_text()))
    (tmp_path / "nve.service").write_text(local((UNITS / "nve.service").read_text()))
    # The unprivileged drop-in, applied by hand: verify reads drop-ins from system paths.
    drop_in = (UNITS / "nve-unprivileged.conf").read_text()
    merged = local((UNITS / "nve.service").read_text()) + "\n" + drop_in
    (tmp_path / "nve-unprivileged.service").write_text(merged)
    out = verify(*sorted(tmp_path.glob("*.service")))
    # Verify's warnings go to stderr with exit 0: none is expected for our own units.
    ours = [line for line in out.splitlines() if str(tmp_path) in line]
    assert not ours and not out.startswith("exit"), out


def test_the_switch_environment_names_every_flag_the_unit_uses() -> None:
    unit = (UNITS / "p4sim@.service").read_text()
    env = dict(
        line.split("=", 1)
        for line in (UNITS / "p4sim-tor1.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    for var in ("DEVICE_ID", "PORTS", "GRPC_ADDR", "CPU_PORT"):
        assert var in env and f"{var}" in unit, var
