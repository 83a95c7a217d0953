"""Emitting phase of a switch's priority settings (IEEE 802.1Q PCP <-> outer DSCP).

Entries are emitted only for what the description sets (a port default other than 0,
map entries), so a description without priority settings needs none of these tables
and runs on a pipeline without them; one that sets them on such a pipeline is a problem.
"""

from __future__ import annotations

from nve.compile.base import CompilerBase
from nve.compile.common import _entry
from nve.entities import Exact, TableEntry
from nve.p4names import Action, Key, Param, Table
from nve.priority import PCP_MAX


class QosPhases(CompilerBase):
    """Port default priorities and the PCP <-> DSCP maps (docs/pipeline.md)."""

    def _emit_priorities(self) -> None:
        entries = self.priority_entries()
        if entries and not self.target.priorities:
            self.problem(
                self.base,
                f"the switch's {self.target.arch} pipeline has no priority tables"
                f" ({Table.ENCAP_PCP_DSCP}, ...): remove default_pcp, pcp_to_dscp and"
                " dscp_to_pcp, or load pipeline 3.4.0 or later",
            )
            return
        self.out.extend(entries)

    def priority_entries(self) -> list[TableEntry]:
        sw = self.sw
        out: list[TableEntry] = []
        for port in sw.ports:
            if port.role != "access" or not port.default_pcp:
                continue
            for table, action in (
                (Table.INGRESS_ACCESS_PORT_PCP, Action.INGRESS_ACCESS_SET_DEFAULT_PCP),
                (Table.EGRESS_ACCESS_PORT_PCP, Action.EGRESS_ACCESS_SET_DEFAULT_PCP),
            ):
                out.append(
                    _entry(
                        table,
                        action,
                        {Key.PORT: Exact(port.port)},
                        params={Param.PCP: port.default_pcp},
                    )
                )
        if sw.dscp_mode == "pcp":
            # Every PCP gets an entry: an unmapped one means DSCP 0, IP frames included.
            pcp_map = {pcp: sw.pcp_to_dscp.get(pcp, 0) for pcp in range(PCP_MAX + 1)}
            action = Action.ENCAP_SET_DSCP
        elif sw.dscp_mode == "uniform":
            pcp_map = dict(sw.pcp_to_dscp)
            action = Action.ENCAP_SET_DSCP_NON_IP
        else:
            pcp_map = {}
            action = Action.ENCAP_SET_DSCP
        for pcp, dscp in sorted(pcp_map.items()):
            out.append(
                _entry(
                    Table.ENCAP_PCP_DSCP, action, {Key.PCP: Exact(pcp)}, params={Param.DSCP: dscp}
                )
            )
        for dscp, pcp in sorted(sw.dscp_to_pcp.items()):
            out.append(
                _entry(
                    Table.DECAP_DSCP_PCP,
                    Action.DECAP_SET_PCP,
                    {Key.DSCP: Exact(dscp)},
                    params={Param.PCP: pcp},
                )
            )
        return out
