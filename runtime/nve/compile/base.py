"""The compiler of one switch: its inputs, problems and where hosts are."""

from __future__ import annotations

from collections.abc import Sequence

from nve.compile.common import (
    IP,
    Allocations,
    LearnedEndpoint,
    _Host,
    _pas_first,
)
from nve.compile.ecmp import V1MODEL, TargetInfo
from nve.entities import (
    Entity,
)
from nve.index import OverlayIndex
from nve.model import Endpoint, LocalAttachment, Overlay, Switch
from nve.problems import ConfigPath, Problem


class CompilerBase:
    """State shared by the planning and emitting phases of one switch's compilation."""

    def __init__(
        self,
        overlay: Overlay,
        idx: OverlayIndex,
        sw_pos: int,
        learned: Sequence[LearnedEndpoint],
        previous: Allocations,
        target: TargetInfo = V1MODEL,
    ):
        self.o = overlay
        self.idx = idx
        self.pos = sw_pos
        self.sw: Switch = overlay.switches[sw_pos]
        self.learned = learned
        self.previous = previous
        self.target = target  # the switch's pipeline: how ECMP groups are laid out
        self.out: list[Entity] = []
        self.problems: list[Problem] = []
        self.base: ConfigPath = ("switches", sw_pos)
        self._local_pa: dict[int, IP | None] = {}
        self._hosts: dict[object, _Host | None] = {}

    def problem(self, path: ConfigPath, msg: str) -> None:
        self.problems.append(Problem(path, msg))

    # -- where things are --------------------------------------------------------------------
    def host_of(self, ep: Endpoint) -> _Host | None:
        key = (type(ep.attachment), tuple(vars(ep.attachment).values()))
        if key not in self._hosts:
            self._hosts[key] = self._host_of(ep)
        return self._hosts[key]

    def _host_of(self, ep: Endpoint) -> _Host | None:
        att = ep.attachment
        if isinstance(att, LocalAttachment):
            found = self.idx.switches.get(att.switch)
            if found is None:
                return None
            sw = found[1]
            return _Host(sw.name, _pas_first(sw.local_pas, att.pa), True, True)
        r = self.idx.remote_nves.get(att.remote_nve)
        if r is None:
            return None
        nve = self.o.remote_nves[r]
        return _Host(nve.name, (nve.pa,), nve.flow_id, False)

    def local_pa(self, family: int) -> IP | None:
        if family not in self._local_pa:
            self._local_pa[family] = next(
                (pa for pa in self.sw.local_pas if pa.version == family), None
            )
        return self._local_pa[family]
