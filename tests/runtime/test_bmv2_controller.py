"""The controller against p4lang's simple_switch_grpc: what it writes, it reads back.

Reconcile is a diff of what the switch holds against what the overlay needs, so every
kind of state the controller writes must be readable on every target; a kind that PI
cannot read back would be rewritten (or refused as ALREADY_EXISTS) on every apply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from lab import targets
from nve.controller import Controller
from nve.entities import CloneSession, DigestConfig, MulticastGroup, TableEntry
from nve.loader import load_overlay
from nve.p4info import P4Index, load_p4info
from nve.p4names import Digest
from nve.p4rt_client import SwitchClient
from nve.reconcile import ReconcileReport, read_installed
from tests.support.p4sim import overlay_text

pytestmark = pytest.mark.skipif(
    targets.bmv2_missing() is not None, reason=f"{targets.bmv2_missing()}"
)


@pytest.fixture(scope="module")
def bmv2_pipeline(tmp_path_factory: pytest.TempPathFactory) -> targets.PipelineFiles:
    return targets.compile_pipeline(
        "bmv2", tmp_path_factory.mktemp("bmv2"), {"NVE_PROFILE_SMALL": ""}
    )


@pytest.fixture
def bmv2_switches(
    tmp_path: Path, bmv2_pipeline: targets.PipelineFiles
) -> Iterator[list[targets.RunningSwitch]]:
    procs = [targets.start_switch("bmv2", [], bmv2_pipeline, tmp_path) for _ in range(2)]
    yield procs
    for p in procs:
        p.stop()


async def _apply(path: Path) -> ReconcileReport:
    ctl = Controller(load_overlay(path))
    assert ctl.check() == []
    await ctl.connect()
    try:
        return await ctl.reconcile()
    finally:
        await ctl.close()


async def _installed(address: str, p4info: Path) -> list[object]:
    index = P4Index(load_p4info(p4info))
    async with SwitchClient(address, 0, 1) as client:
        return list(await read_installed(client, index))


def test_apply_then_reapply_writes_nothing_on_bmv2(
    tmp_path: Path,
    bmv2_switches: list[targets.RunningSwitch],
    bmv2_pipeline: targets.PipelineFiles,
) -> None:
    text = overlay_text(bmv2_switches[0].grpc_addr, bmv2_switches[1].grpc_addr, bmv2_pipeline)
    path = tmp_path / "o.yaml"
    path.write_text(yaml.safe_dump(yaml.safe_load(text), sort_keys=False))
    first = asyncio.run(_apply(path))
    assert first.ok, first.failures
    assert first.writes > 50
    second = asyncio.run(_apply(path))
    assert second.ok, second.failures
    assert second.writes == 0, [str(r.plan) for r in second.switches.values()]
    held = asyncio.run(_installed(bmv2_switches[0].grpc_addr, bmv2_pipeline.p4info))
    kinds = {type(e) for e in held}
    assert {TableEntry, MulticastGroup, CloneSession, DigestConfig} <= kinds
    assert [e.digest for e in held if isinstance(e, DigestConfig)] == [Digest.MAC_LEARN_DIGEST]
