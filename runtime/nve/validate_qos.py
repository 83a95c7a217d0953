"""Rules of a switch's traffic settings: priorities (PCP <-> DSCP maps), storm control
and the learning limit's drop mode.

Part of `nve.validate`: each rule names the path of the offending value.
"""

from __future__ import annotations

from nve.model import Overlay
from nve.problems import Problem


def check_qos(overlay: Overlay) -> list[Problem]:
    """Settings that contradict the switch's dscp_mode, its limits or a port's role."""
    out: list[Problem] = []
    for i, sw in enumerate(overlay.switches):
        base = ("switches", i)
        if sw.dscp_mode == "pcp" and not sw.pcp_to_dscp:
            out.append(
                Problem(
                    (*base, "dscp_mode"),
                    "dscp_mode pcp takes the outer DSCP from pcp_to_dscp, which is empty",
                )
            )
        if sw.dscp_mode == "pipe" and sw.pcp_to_dscp:
            out.append(
                Problem(
                    (*base, "pcp_to_dscp"),
                    f"has no effect with dscp_mode pipe (every outer DSCP is {sw.dscp});"
                    " use dscp_mode uniform or pcp, or remove it",
                )
            )
        lim = sw.learning
        if lim.over_limit == "drop" and not (lim.max_macs_per_port or lim.max_macs_per_vsid):
            out.append(
                Problem(
                    (*base, "learning", "over_limit"),
                    "drop has no effect without max_macs_per_port or max_macs_per_vsid",
                )
            )
        for j, port in enumerate(sw.ports):
            if port.role != "access" and port.storm_control_pps:
                out.append(
                    Problem(
                        (*base, "ports", j, "storm_control_pps"),
                        f"port {port.port} is a {port.role} port: storm control applies to"
                        " access ports only",
                    )
                )
            if port.role != "access" and port.default_pcp:
                out.append(
                    Problem(
                        (*base, "ports", j, "default_pcp"),
                        f"port {port.port} is a {port.role} port: default_pcp applies to"
                        " access ports only",
                    )
                )
    return out
