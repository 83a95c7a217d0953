"""What a fresh controller, reading every switch whole, would still change (a dry run):
how tests check that switches converged, from the switches' own state."""

from __future__ import annotations

from pathlib import Path

from nve.controller import Controller
from nve.loader import LoadedOverlay, load_overlay
from nve.model import Overlay


async def planned_changes(path: Path, overlay: Overlay | None = None) -> dict[str, int]:
    """Changes per switch a fresh controller of description `path` would make to have its
    switches hold `overlay` (default: the description's own; a store's, say)."""
    ctl = Controller(load_overlay(path))
    if overlay is not None:
        loaded = ctl.loaded
        ctl.reload(LoadedOverlay(overlay, "store", loaded.lines, loaded.base_dir))
        ctl.load_pipelines()
    await ctl.connect()
    try:
        report = await ctl.reconcile(dry_run=True)
    finally:
        await ctl.close()
    return {n: len(r.plan.changes()) for n, r in report.switches.items()}
