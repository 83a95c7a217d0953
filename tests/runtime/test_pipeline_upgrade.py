"""A new pipeline version on switches that already forward: changed in place where the
target can (RECONCILE_AND_COMMIT), else replaced and restored (VERIFY_AND_COMMIT).

The upgrade is realistic: the same program with one table grown (the next-hop table of
the small profile, 64 -> 128 entries), so the P4Info of every other table is unchanged.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
import yaml

from lab import targets
from nve.controller import Controller
from nve.loader import load_overlay
from nve.reconcile import ReconcileReport
from tests.support.p4sim import overlay_text

SMALL = {"NVE_PROFILE_SMALL": ""}
REPO = Path(__file__).resolve().parents[2]


def grown_p4src(dest: Path) -> Path:
    """A copy of p4src/ whose small profile has a next-hop table twice as big."""
    tree = dest / "p4src"
    shutil.copytree(REPO / "p4src", tree)
    sizes = tree / "include" / "sizes.p4"
    text = sizes.read_text()
    old = "#define NEXTHOP_COUNT        64\n"
    assert text.count(old) == 1, "sizes.p4 changed: update this test's edit"
    sizes.write_text(text.replace(old, "#define NEXTHOP_COUNT        128\n"))
    return tree


async def apply(path: Path) -> tuple[ReconcileReport, dict[str, str | None]]:
    ctl = Controller(load_overlay(path))
    assert ctl.check() == []
    await ctl.connect()
    try:
        report = await ctl.reconcile()
        return report, {n: s.state.last_push for n, s in ctl.sessions.items()}
    finally:
        await ctl.close()


def write(path: Path, switches, pipeline: targets.PipelineFiles, update: str = "auto") -> Path:
    data = yaml.safe_load(overlay_text(switches[0].grpc_addr, switches[1].grpc_addr, pipeline))
    for sw in data["switches"]:
        sw["pipeline_update"] = update
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("target", "update", "how"),
    [
        ("p4sim", "auto", "reconcile"),
        ("p4sim", "replace", "replace"),
        # simple_switch_grpc answers RECONCILE_AND_COMMIT with UNKNOWN ("Error when
        # reconciling config") and then fails every pipeline change until restarted
        # ("Error in first phase of device update"): auto never sends it one.
        ("bmv2", "auto", "replace"),
    ],
)
def test_upgrade_keeps_or_restores_forwarding_state(target, update, how, tmp_path):
    if target == "bmv2" and targets.bmv2_missing():
        pytest.skip(targets.bmv2_missing())
    old = targets.compile_pipeline(target, tmp_path / "old", SMALL)
    new = targets.compile_pipeline(target, tmp_path / "new", SMALL, grown_p4src(tmp_path))
    switches = [targets.start_switch(target, [], old, tmp_path / "logs") for _ in range(2)]
    try:
        first, pushes = asyncio.run(apply(write(tmp_path / "a.yaml", switches, old)))
        assert first.ok, first.failures
        assert pushes == {"tor1": "replace", "tor2": "replace"}  # empty switches
        upgraded, pushes = asyncio.run(apply(write(tmp_path / "b.yaml", switches, new, update)))
        assert upgraded.ok, upgraded.failures
        assert pushes == {"tor1": how, "tor2": how}
        if how == "reconcile":
            # In place: the grown table kept its entries (only its size changed), so
            # nothing had to be written again.
            assert upgraded.writes == 0, upgraded.writes
        else:
            # Replaced: the switch started empty and everything was written again.
            assert upgraded.writes == first.writes
        again, pushes = asyncio.run(apply(tmp_path / "b.yaml"))
        assert again.ok and again.writes == 0
        assert pushes == {"tor1": None, "tor2": None}
    finally:
        for s in switches:
            s.stop()
