"""Fixtures of the packet tests: one switch for the whole run, a clean slate per test.

``nve_switch`` (session) compiles the pipeline once in the small profile, starts the
target (``--target p4sim`` or ``bmv2``) on veth pairs for the ports of
``nve_ptf.topo``, pushes the pipeline over P4Runtime and opens a PTF dataplane on the
test ends. ``case`` (function) is what a test uses: entries it installs are removed
afterwards, and it checks that none are left.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab import targets
from lab.netns import LabNetwork
from lab.targets import RunningSwitch, TargetUnavailable, compile_pipeline, start_switch
from nve_ptf.adapter import PtfDataplane
from nve_ptf.base import Case, ControlPlane
from nve_ptf.topo import ALL_PORTS


@dataclass
class SwitchUnderTest:
    switch: RunningSwitch
    cp: ControlPlane
    dataplane: PtfDataplane


@pytest.fixture(scope="session")
def nve_switch(
    request: pytest.FixtureRequest,
    test_network: LabNetwork,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SwitchUnderTest]:
    target = request.config.getoption("--target")
    work = tmp_path_factory.mktemp(f"nve-{target}")
    # NVE_PTF_P4SRC: another p4src tree (v1model/nvgre_nve.p4, include/) to test, e.g. a
    # deliberately broken copy that shows which tests catch the breakage.
    alt = os.environ.get("NVE_PTF_P4SRC")
    if alt:
        targets.PROGRAM = Path(alt) / "v1model" / "nvgre_nve.p4"
        targets.INCLUDE = Path(alt) / "include"
    try:
        pipeline = compile_pipeline(target, work / "build", {"NVE_PROFILE_SMALL": ""})
        pairs = [test_network.veth_pair(port) for port in ALL_PORTS]
        switch = start_switch(target, pairs, pipeline, work / "logs")
    except TargetUnavailable as exc:
        pytest.skip(f"{target} target unavailable: {exc}")
    cp = dp = None
    try:
        cp = ControlPlane(switch)
        cp.push_pipeline()
        dp = PtfDataplane(
            {(0, p.port): p.test_if for p in pairs}, timeout=3.0, negative_timeout=0.3
        )
        yield SwitchUnderTest(switch, cp, dp)
    finally:
        if dp is not None:
            dp.close()
        if cp is not None:
            cp.close()
        switch.stop()


@pytest.fixture
def case(nve_switch: SwitchUnderTest) -> Iterator[Case]:
    c = Case(nve_switch.cp, nve_switch.dataplane.test())
    nve_switch.cp.drain_events()
    try:
        yield c
    finally:
        c.cleanup()
