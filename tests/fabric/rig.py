"""The fixtures' work for every fabric test module: the lab fabric built once per module
(skipped with one line where it cannot be), and `nve run` driving its ToRs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from lab.fabric import BgpFabric
from lab.netns import LabNetwork, can_create_interfaces
from lab.targets import compile_pipeline
from nve.underlay.frr import frr_missing
from tests.support.nve_run import NveRun


@contextmanager
def built_fabric(
    tmp_path_factory: pytest.TempPathFactory, name: str, **build: Any
) -> Iterator[BgpFabric]:
    """`BgpFabric.build(..., **build)` on p4sim switches (small profile), closed after."""
    why = can_create_interfaces() or frr_missing()
    if why is not None:
        pytest.skip(f"{name} test skipped: {why}")
    work = tmp_path_factory.mktemp(name.replace(" ", "-"))
    pipeline = compile_pipeline("p4sim", work / "build", {"NVE_PROFILE_SMALL": ""})
    with LabNetwork() as net:
        fab = BgpFabric.build(net, pipeline, work, **build)
        try:
            yield fab
        finally:
            fab.close()


@contextmanager
def running_nve(fabric: BgpFabric) -> Iterator[NveRun]:
    run = NveRun(fabric.overlay, fabric.overlay.with_name("nve-run.log")).start()
    try:
        yield run
    finally:
        run.stop()
