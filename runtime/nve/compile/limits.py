"""Emitting phase of a switch's limits: storm control per access port, and the learning
limit's drop mode (docs/controller.md).

Storm control: a `NveIngress.storm.port` entry and the port's cell of the
`NveIngress.storm.rate` meter for each access port with a rate. Drop mode: a
`NveIngress.learn.port_full` entry for each port, a `vsi_full` entry for each VSID, whose
learned MACs on this switch have reached the limit; they follow the learned set, so a MAC
ageing out frees its port again. Nothing is emitted for a switch that sets neither, so
such a switch runs on a pipeline without these tables.
"""

from __future__ import annotations

from collections import Counter

from nve.compile.base import CompilerBase
from nve.compile.common import _entry
from nve.compile.plan import Plan
from nve.entities import Entity, Exact, MeterConfig
from nve.model import Port, Switch
from nve.p4names import Action, Key, Meter, Table


def storm_rate(sw: Switch, port: Port) -> int:
    """The storm control rate of an access port, frames per second (0: none)."""
    if port.role != "access":
        return 0
    return sw.storm_control_pps if port.storm_control_pps is None else port.storm_control_pps


def storm_burst(pps: int) -> int:
    """The meter's burst: a tenth of a second's frames, at least one."""
    return max(1, pps // 10)


class LimitPhases(CompilerBase):
    """Storm control and full ports / VSIDs (drop mode of the learning limits)."""

    def _emit_limits(self, p: Plan) -> None:
        storm = self.storm_entities()
        if storm and not self.target.storm_control:
            self.problem(
                self.base,
                f"the switch's {self.target.arch} pipeline has no storm control"
                f" ({Table.STORM_PORT}): remove storm_control_pps, or load pipeline 3.4.0"
                " or later",
            )
        else:
            self.out.extend(storm)
        if self.sw.learning.over_limit != "drop":
            return
        if not self.target.mac_limit_drop:
            self.problem(
                self.base + ("learning", "over_limit"),
                f"the switch's {self.target.arch} pipeline cannot drop over the MAC limit"
                f" ({Table.LEARN_PORT_FULL}): use forward, or load pipeline 3.4.0 or later",
            )
            return
        self.out.extend(self.full_entries(p.vsi))

    def storm_entities(self) -> list[Entity]:
        out: list[Entity] = []
        for port in self.sw.ports:
            pps = storm_rate(self.sw, port)
            if not pps:
                continue
            burst = storm_burst(pps)
            out.append(MeterConfig(Meter.STORM_RATE, port.port, pps, burst, pps, burst, tier=0))
            out.append(_entry(Table.STORM_PORT, Action.STORM_LIMIT, {Key.PORT: Exact(port.port)}))
        return out

    def full_entries(self, vsi: dict[int, int]) -> list[Entity]:
        lim = self.sw.learning
        per_port: Counter[int] = Counter()
        per_vsid: Counter[int] = Counter()
        for le in self.learned:
            if le.switch == self.sw.name:
                per_port[le.port] += 1
                per_vsid[le.vsid] += 1
        out: list[Entity] = []
        if lim.max_macs_per_port:
            for port, n in sorted(per_port.items()):
                if n >= lim.max_macs_per_port:
                    out.append(
                        _entry(Table.LEARN_PORT_FULL, Action.LEARN_FULL, {Key.PORT: Exact(port)})
                    )
        if lim.max_macs_per_vsid:
            for vsid, n in sorted(per_vsid.items()):
                if n >= lim.max_macs_per_vsid and vsid in vsi:
                    out.append(
                        _entry(Table.LEARN_VSI_FULL, Action.LEARN_FULL, {Key.VSI: Exact(vsi[vsid])})
                    )
        return out
