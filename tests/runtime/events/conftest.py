"""Fixtures of the events tests: the switch on its veths (one per test module) and `nve run`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from lab.netns import LabNetwork, can_create_interfaces
from lab.targets import PipelineFiles, compile_pipeline, start_switch
from tests.runtime.events.rig import (
    LEARN_PORT,
    NET_PORT,
    WEB1_PORT,
    Rig,
    overlay,
)
from tests.support.nve_run import NveRun
from tests.support.rawport import RawPort


@pytest.fixture(scope="module")
def rig(tmp_path_factory) -> Iterator[Rig]:
    why = can_create_interfaces()
    if why is not None:
        pytest.skip(f"real-interface test skipped: {why}")
    work = tmp_path_factory.mktemp("events-e2e")
    pipeline: PipelineFiles = compile_pipeline("p4sim", work / "build", {"NVE_PROFILE_SMALL": ""})
    with LabNetwork() as net:
        pairs = [net.veth_pair(p) for p in (LEARN_PORT, WEB1_PORT, NET_PORT)]
        switch = start_switch("p4sim", pairs, pipeline, work / "logs", device_id=1)
        ports = {p.port: RawPort(p.test_if) for p in pairs}
        try:
            yield Rig(switch, ports, work)
        finally:
            for p in ports.values():
                p.close()
            switch.stop()


@pytest.fixture
def run_nve(rig: Rig, tmp_path):
    """Start `nve run` on a description of the rig (with the given MAC ageing); stopped after the test."""
    started: list[NveRun] = []

    def start(
        mac_ageing_s: int = 300,
        v6_underlay: bool = False,
        routed: bool = False,
        learning: dict[str, Any] | None = None,
        gateway: bool = True,
    ) -> NveRun:
        path = tmp_path / "overlay.yaml"
        doc = overlay(rig.switch, mac_ageing_s, v6_underlay, routed)
        if not gateway:
            doc["tenants"][0]["subnets"][0].pop("gateway")
        if learning is not None:
            doc["switches"][0]["learning"] = learning
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        run = NveRun(path, tmp_path / "nve-run.log")
        started.append(run)
        run.start()
        rig.drain()
        return run

    yield start
    for run in started:
        run.stop()
