"""Hostile or broken YAML gets one clear error naming the file (and line), never a traceback
or a hang: the description is input from outside, like a packet."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nve.loader import OverlayError, load_overlay, parse_overlay


def _error(text: str) -> str:
    with pytest.raises(OverlayError) as info:
        parse_overlay(text, "hostile.yaml")
    return str(info.value)


def test_empty_description_is_an_error() -> None:
    assert "the description is empty" in _error("")
    assert "the description is empty" in _error("# only a comment\n")


def test_alias_cycle_is_refused_with_its_line() -> None:
    msg = _error("switches: []\nloop: &x [1, *x]\n")
    assert "hostile.yaml:2" in msg and "cycle" in msg


@pytest.mark.parametrize(
    "text",
    [
        # far deeper than any YAML library's own limit: ours must still be the one reported
        "a: " + "[" * 5000 + "]" * 5000 + "\n",
        # deeper than ours, within every library's: only our check can refuse it
        "a: " + "[" * 70 + "]" * 70 + "\n",
        "a:\n" + "".join("  " * i + "- \n" for i in range(1, 80)),
    ],
    ids=["5000-flow", "70-flow", "80-block"],
)
def test_deep_nesting_is_refused_in_our_words(text: str) -> None:
    msg = _error(text)
    assert "YAML nested more than 64 levels deep" in msg, msg
    assert msg.startswith("hostile.yaml:"), msg


def test_nesting_at_the_limit_is_not_refused_for_depth() -> None:
    # 64 levels: refused later as not a description, but not for its depth
    msg = _error("a: " + "[" * 63 + "]" * 63 + "\n")
    assert "nested more than" not in msg, msg


def test_alias_bomb_is_refused_quickly() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    msg = _error("\n".join(lines) + "\n")  # 9**10 elements if expanded
    assert "alias bomb" in msg


def test_shared_anchors_within_reason_still_load() -> None:
    text = """
switches:
  - {name: s1, address: "127.0.0.1:50001", pipeline: {program: p.p4}, nve_mac: "02:00:00:00:00:01",
     local_pas: [10.0.0.1], ports: &ports [{port: 1, role: access}, {port: 2, role: network}]}
  - {name: s2, address: "127.0.0.1:50002", pipeline: {program: p.p4}, nve_mac: "02:00:00:00:00:02",
     local_pas: [10.0.0.2], ports: *ports}
"""
    overlay = parse_overlay(text, "anchors.yaml").overlay
    assert [p.port for p in overlay.switches[1].ports] == [1, 2]
    assert overlay.switches[1].ports == overlay.switches[0].ports


def test_non_utf8_file_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"switches: []\n# caf\xe9\n")
    with pytest.raises(OverlayError) as info:
        load_overlay(path)
    assert "not UTF-8" in str(info.value) and "0xe9" in str(info.value)


def test_nve_validate_exits_with_one_line_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"\xff\xfe garbage")
    proc = subprocess.run(
        [sys.executable, "-m", "nve.cli", "validate", str(path)],
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr and "not UTF-8" in proc.stderr
