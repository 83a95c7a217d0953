"""`make run ARGS=--once`: the example overlay, live, passes every one of its own checks.

This runs the whole project at once: the P4 program compiled by p4sim, two p4sim switches
on veths, the underlay spine (FRR, BGP unnumbered with the switches' control-plane hosts,
where FRR is installed; else a Linux router with static routes), the controller applying
examples/two-tor-two-tenants.yaml, and pings between tenant host namespaces.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from lab.ovs import ovs_missing
from nve.underlay.frr import frr_missing

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.root, pytest.mark.slow]


def test_demo_once_passes_every_check() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "demo", "--once"],
        cwd=ROOT,  # the demo is a top-level package of the project, not of the wheel
        capture_output=True,
        check=False,
        text=True,
        timeout=600,
    )
    out = proc.stdout + proc.stderr
    summary = re.search(r"^(\d+) passed, (\d+) failed$", proc.stdout, re.M)
    assert summary is not None, out
    passed, failed = int(summary.group(1)), int(summary.group(2))
    assert (proc.returncode, failed) == (0, 0), out
    # Bridged v4 and v6 across ToRs, routed, and isolation checks in both directions.
    assert passed >= 11, out
    for kind in ("(bridged,", "(routed,", "stays in tenant", "(other tenant,"):
        assert kind in proc.stdout, f"no {kind} check ran:\n{out}"
    if ovs_missing() is None:
        # The remote hypervisor hv9 is Open vSwitch: its VM is reached bridged and routed,
        # and reaches the ToRs' VMs routed (through OVS's own answer for the gateway).
        for check in (
            "blue-db1 -> blue-vpn ipv4 (bridged,",
            "blue-vpn -> blue-web1 ipv4 (routed,",
            "hv9 (Open vSwitch) resolved the spine",
        ):
            assert f"PASS  {check}" in proc.stdout, out
    if frr_missing() is None:
        # A routed underlay: BGP through the switches, nothing static anywhere.
        for check in (
            "underlay: BGP (unnumbered, through the switches) gave the spine",
            "underlay: no permanent neighbour and no hand-written route in any namespace",
        ):
            assert f"PASS  {check}" in proc.stdout, out
    # The demo removes everything it created.
    left = subprocess.run(
        ["ip", "netns", "list"], capture_output=True, check=False, text=True
    ).stdout
    assert "-blue-web1" not in left and "-spine" not in left, left
    ovs = subprocess.run(["ps", "-eo", "args"], capture_output=True, check=False, text=True)
    assert "nve-demo-hv9" not in ovs.stdout, ovs.stdout  # its ovs-vswitchd stopped
    frr = [
        line
        for line in ovs.stdout.splitlines()
        if "/run/nve/frr/" in line and ("-spine" in line or "-host" in line)
    ]
    assert not frr, frr  # the spine's and the switch hosts' FRR daemons stopped
