"""A replica's CPU per endpoint move: a watched store change applied to the overlay, its index and six switches' states, at 100,000 endpoints (--endpoints N).

Every replica of a fleet follows every change of the store (nve.store.follow), whether
or not it owns a switch the change touches: on 2 cores shared by 3 replicas, what one
move costs each of them bounds the moves per second the fleet sustains. This measures
that work in one process, without etcd or switches: the fleet bench's description
(bench.fleet; 1,016 switches, 100 subnets of 10 tenants, each subnet's endpoints on one
switch but one at its partner), a controller holding it, the compiled and believed
states of tor0-tor5 (the switches of tenant t0), then moves of t0's endpoints between
the two access ports of their switch (which touch that switch alone:
nve.store.incremental), one per batch, as the follower applies them: `apply_changes` (the record into the overlay), the index update,
and per touched switch `patch_endpoints`, `plan_patch` and `believed_after` (the
switch's part of `Controller.apply_endpoint_changes`, less its Write). Then removals of
endpoints of other tenants (no switch touched here), one per batch. And the time of one
full pass of the cyclic garbage collector over what the replica holds, frozen (as
nve.gcpause leaves it) and scanned. `--quick`: 10,000 endpoints.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench._p4sim import quick
from bench._traffic import percentile
from bench.fleet import _description
from lab.targets import compile_pipeline
from nve import contract as C
from nve.compile import compile_switch, patch_endpoints
from nve.compile.ecmp import TargetInfo
from nve.controller import Controller
from nve.endpoint_patch import believed_after, plan_patch
from nve.entities import Entity, EntityKey
from nve.gcpause import gc_paused
from nve.loader import LoadedOverlay, load_overlay
from nve.model import Endpoint, LocalAttachment
from nve.p4info import P4Index, load_p4info
from nve.reconcile import canonical_desired
from nve.store.etcd import WatchedChange
from nve.store.incremental import apply_changes
from nve.store.keys import Root
from nve.store.records import object_value

PREFIX, GEN = "/fleet", "g1"
OWNED = [f"tor{i}" for i in range(6)]


def _options() -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="bench follow_apply")
    ap.add_argument("--endpoints", type=int, default=100_000)
    ap.add_argument("--moves", type=int, default=500)
    opts, _ = ap.parse_known_args(sys.argv[1:])
    if quick():
        opts.endpoints, opts.moves = 10_000, 100
    return opts


class _Replica:
    """What a replica holds: the controller (overlay, index) and, per owned switch, its
    compiled state and what it believes the switch holds."""

    def __init__(self, ctl: Controller, index: P4Index) -> None:
        self.ctl, self.index = ctl, index
        self.target = TargetInfo.from_p4index(index)
        with gc_paused():  # as the controller's reconcile compiles them
            self.states = {n: compile_switch(ctl.overlay, n, [], None, self.target) for n in OWNED}
            self.believed = {
                n: canonical_desired(s.entities, index, C.TIERS) for n, s in self.states.items()
            }
        self.at: dict[str, dict[EntityKey, int]] = {}
        self.gen = Root(PREFIX).generation(GEN)
        self.rev = 100

    def apply(self, change: WatchedChange) -> tuple[float, float, int]:
        """Seconds in the overlay and index, seconds in the switches, switches patched."""
        ctl = self.ctl
        t0 = time.perf_counter()
        result = apply_changes(ctl.overlay, PREFIX, GEN, [change], ctl.index)
        loaded = ctl.loaded
        changed = LoadedOverlay(result.overlay, loaded.source, loaded.lines, loaded.base_dir)
        ctl.reload_endpoints(changed, result.old, result.new)
        carried = {name: st.vsi.keys() for name, st in self.states.items()}
        touched = result.switches(carried, OWNED)
        names = sorted({ep.name for ep in result.changed})
        new = [ctl.index.endpoints[n][1] for n in names if n in ctl.index.endpoints]
        t1 = time.perf_counter()
        for name in sorted(touched):
            state = self.states[name]
            delta = patch_endpoints(
                ctl.overlay, ctl.index, name, state, result.old, new, [], self.target
            )
            self.states[name] = delta.state
            patch = plan_patch(name, delta, self.index)
            after: list[Entity]
            after, self.at[name] = believed_after(self.believed[name], self.at.get(name), patch)
            self.believed[name] = after
        return t1 - t0, time.perf_counter() - t1, len(touched)

    def move(self, ep: Endpoint) -> tuple[float, float, int]:
        att = ep.attachment
        assert isinstance(att, LocalAttachment)
        moved = ep.model_copy(update={"attachment": att.model_copy(update={"port": 3 - att.port})})
        self.rev += 1
        value = object_value(moved.model_dump(mode="json"), 0)
        return self.apply(WatchedChange(self.gen.endpoint(ep.name), value, False, self.rev))

    def remove(self, name: str) -> tuple[float, float, int]:
        self.rev += 1
        return self.apply(WatchedChange(self.gen.endpoint(name), b"", True, self.rev))


def main() -> None:
    opts = _options()
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        pipeline = compile_pipeline("p4sim", tmp / "build")
        movable = {
            name
            for name, _, _ in _description(
                tmp / "o.yaml", ["127.0.0.1:1"] * 16, 1000, opts.endpoints, pipeline
            )
        }  # the live switches' endpoints but each subnet's fixed ones
        index = P4Index(load_p4info(pipeline.p4info))
        t = time.perf_counter()
        loaded = load_overlay(tmp / "o.yaml")
        t_load = time.perf_counter() - t
    t = time.perf_counter()
    replica = _Replica(Controller(loaded), index)
    t_compile = time.perf_counter() - t
    entries = len(replica.states["tor0"].entities)
    print(
        f"  {opts.endpoints:,} endpoints, 1,016 switches: load + validate {t_load:.1f} s;"
        f" tor0-tor5 compiled in {t_compile:.1f} s ({entries:,} entries on tor0)"
    )
    picks = [
        ep
        for ep in replica.ctl.overlay.endpoints
        if isinstance(ep.attachment, LocalAttachment)
        and ep.attachment.switch in OWNED
        and ep.name in movable
    ]
    step = max(1, len(picks) // (opts.moves + len(OWNED)))
    picks = picks[::step][: opts.moves + len(OWNED)]
    for ep in picks[: len(OWNED)]:  # each switch's first patch maps its entries' positions
        replica.move(ep)
    took = [replica.move(ep) for ep in picks[len(OWNED) :]]
    total = sorted((a + b) * 1000 for a, b, _ in took)
    store = statistics.median(a * 1000 for a, _, _ in took)
    per_switch = statistics.median(b * 1000 / max(1, n) for _, b, n in took)
    print(
        f"  {len(took)} moves, one per batch, {took[0][2]} switches touched each:"
        f" median {statistics.median(total):.2f} ms, p99 {percentile(total, 0.99):.2f} ms"
        f" per move (overlay + index {store:.2f} ms, each switch {per_switch:.2f} ms)"
    )
    # The cyclic collector's full pass over what a replica holds: with the bulk
    # structures frozen (nve.gcpause), and as it was before, with them scanned.
    t = time.perf_counter()
    gc.collect()
    frozen_s = time.perf_counter() - t
    gc.unfreeze()
    t = time.perf_counter()
    gc.collect()
    scanned_s = time.perf_counter() - t
    gc.freeze()
    print(
        f"  a full garbage collection: {frozen_s * 1000:.1f} ms with the overlay and states"
        f" frozen ({gc.get_freeze_count():,} objects), {scanned_s:.2f} s with them scanned"
    )
    others = [ep for ep in replica.ctl.overlay.endpoints[::97] if int(ep.name[2:]) % 100 >= 10]
    removals = sorted(sum(replica.remove(ep.name)[:2]) * 1000 for ep in others[:100])
    print(
        f"  {len(removals)} removals, one per batch: median {statistics.median(removals):.2f} ms,"
        f" max {removals[-1]:.2f} ms"
    )


if __name__ == "__main__":
    main()
