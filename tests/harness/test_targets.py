"""Target discovery: the bmv2 run says in one line what of p4lang's toolchain is missing."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from lab.targets import bmv2_missing

REPO = Path(__file__).resolve().parents[2]


def _fake(dir_: Path, name: str) -> None:
    exe = dir_ / name
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)


def test_names_each_missing_tool(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert bmv2_missing() == (
        "p4c-bm2-ss (p4lang's p4c) and simple_switch_grpc (p4lang's behavioral-model) not installed"
    )
    _fake(tmp_path, "p4c-bm2-ss")
    assert bmv2_missing() == "simple_switch_grpc (p4lang's behavioral-model) not installed"
    _fake(tmp_path, "simple_switch_grpc")
    assert bmv2_missing() is None


def test_bmv2_run_without_toolchain_is_one_line(tmp_path) -> None:
    env = dict(
        os.environ, PATH=f"{tmp_path}:{Path(sys.executable).parent}:/usr/sbin:/usr/bin:/sbin:/bin"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "ptf_tests",
            "--target",
            "bmv2",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        check=False,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    assert "bmv2 target unavailable, nothing run: p4c-bm2-ss" in out
    assert "SKIPPED" not in out and "passed" not in out
