"""Overlay description (+ learned endpoints) -> the entities each switch should hold.

Indices the pipeline uses (vsi, tunnel, nexthop, ECMP group) are allocated here. They
are reused from what a switch already holds (`Allocations.from_installed`) and new ones
take the lowest free number, so an edit changes only the entries it is about.
The meaning of every table and parameter is in docs/pipeline.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from nve.compile.common import (
    Allocations,
    Allocator,
    EndpointFacts,
    LearnedEndpoint,
    SwitchState,
    TunnelKey,
    is_local_attachment,
    multicast_mac,
)
from nve.compile.delta import Delta, NeedsFullCompile, endpoint_delta
from nve.compile.ecmp import V1MODEL, TargetInfo
from nve.compile.emit import EmitPhases
from nve.compile.limits import LimitPhases
from nve.compile.plan import Plan, PlanPhases
from nve.compile.qos import QosPhases
from nve.entities import TableEntry
from nve.index import OverlayIndex
from nve.model import Endpoint, Overlay
from nve.p4names import Counter
from nve.problems import Problem

__all__ = [
    "Allocations",
    "Allocator",
    "Delta",
    "LearnedEndpoint",
    "NeedsFullCompile",
    "SwitchState",
    "TargetInfo",
    "TunnelKey",
    "capacity_problems",
    "compile_switch",
    "is_local_attachment",
    "multicast_mac",
    "patch_endpoints",
]


class _SwitchCompiler(PlanPhases, EmitPhases, QosPhases, LimitPhases):
    """One switch's compilation: planning phases, then emitting phases, in order."""

    def run(self) -> SwitchState:
        p = Plan()
        self._plan_subnets(p)
        self._plan_learned(p)
        self._plan_remotes(p)
        self._plan_peers(p)
        self._plan_underlay(p)
        self._emit_priorities()
        self._plan_tunnels(p)
        self._emit_tunnels(p)
        self._emit_subnets(p)
        self._emit_bindings(p)
        self._emit_group_pas(p)
        self._emit_endpoints(p)
        self._emit_learned(p)
        self._emit_limits(p)
        endpoints = p.endpoints
        vsi = p.vsi
        tunnel_keys = p.tunnel_keys
        tunnel_ids = p.tunnel_ids
        sw = self.sw
        self.emit_routes(vsi, endpoints)
        return SwitchState(
            sw.name,
            self.out,
            vsi,
            tunnel_ids,
            {t: tunnel_keys[k] for k, t in tunnel_ids.items()},
            self.problems,
            EndpointFacts.of(sw.name, endpoints, p.bindings),
            tunnel_hops=p.tunnel_hops,
        )


def compile_switch(
    overlay: Overlay,
    switch: str,
    learned: Sequence[LearnedEndpoint] = (),
    previous: Allocations | None = None,
    target: TargetInfo | None = None,
    index: OverlayIndex | None = None,
) -> SwitchState:
    """Desired entities for one switch of a validated overlay.

    `target` is what the switch's P4Info says about its pipeline
    (`TargetInfo.from_p4index`); without it ECMP groups are laid out for v1model.
    `index`: the overlay's index, if the caller keeps one (a controller does; building it
    walks every endpoint: seconds at a million)."""
    idx = index if index is not None else OverlayIndex.build(overlay)
    found = idx.switches.get(switch)
    if found is None:
        raise KeyError(f"no switch named {switch!r}")
    return _SwitchCompiler(
        overlay, idx, found[0], learned, previous or Allocations(), target or V1MODEL
    ).run()


def patch_endpoints(
    overlay: Overlay,
    idx: OverlayIndex,
    switch: str,
    state: SwitchState,
    old: Sequence[Endpoint],
    new: Sequence[Endpoint],
    learned: Sequence[LearnedEndpoint] = (),
    target: TargetInfo | None = None,
) -> Delta:
    """`state` (the switch's compiled state for the description before the change) with
    the endpoints `old` replaced by `new`, as compile_switch would give for `overlay` (the
    description after it, `idx` its index); NeedsFullCompile when the change is more than
    those endpoints' entries (nve.compile.delta)."""
    found = idx.switches.get(switch)
    if found is None:
        raise KeyError(f"no switch named {switch!r}")
    compiler = _SwitchCompiler(overlay, idx, found[0], learned, Allocations(), target or V1MODEL)
    return endpoint_delta(compiler, state, old, new, learned)


def capacity_problems(
    state: SwitchState,
    sizes: dict[str, int],
    sw_pos: int,
    counter_sizes: dict[str, int] | None = None,
) -> list[Problem]:
    """Entries per table against the table sizes the pipeline declares (P4Info `size`), and
    the largest vsi and tunnel id against the counters they index (an id equal to a
    counter's size would count one past its end)."""
    counts: dict[str, int] = defaultdict(int)
    for e in state.entities:
        if isinstance(e, TableEntry) and not e.is_default:
            counts[e.table] += 1
    out = []
    for table, n in sorted(counts.items()):
        size = sizes.get(table)
        if size and n > size:
            out.append(
                Problem(
                    ("switches", sw_pos), f"table {table} would need {n} entries; it holds {size}"
                )
            )
    indexed = (
        ("vsi", state.vsi.values(), (Counter.COUNTERS_VSI_DECAP, Counter.COUNTERS_VSI_ENCAP)),
        (
            "tunnel",
            state.tunnels.values(),
            (Counter.COUNTERS_TUNNEL_RX, Counter.COUNTERS_TUNNEL_TX),
        ),
    )
    for what, ids, counters in indexed:
        largest = max(ids, default=0)
        for counter in counters:
            size = (counter_sizes or {}).get(counter)
            if size and largest >= size:
                out.append(
                    Problem(
                        ("switches", sw_pos),
                        f"{what} id {largest} does not fit counter {counter} (indices 0..{size - 1}):"
                        f" at most {size - 1} {what}s on this pipeline",
                    )
                )
    return out
