"""lab.ovs: what a test that needs Open vSwitch says when it cannot have it."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.ovs import ovs_missing


def test_missing_ovs_is_named_in_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no ovs-* command on it
    why = ovs_missing()
    assert why is not None
    assert "\n" not in why
    assert "openvswitch-switch" in why and "ovs-vswitchd" in why
