"""Rules of a switch's `underlay.bgp` (docs/underlay.md): its sessions are directly
connected (numbered: on a network port's subnet; unnumbered: on a network port), each
neighbour once, and what it advertises has a session to go to.

Part of `nve.validate`: each rule names the path of the offending value.
"""

from __future__ import annotations

from nve.model import Overlay
from nve.problems import Problem


def check_bgp(overlay: Overlay) -> list[Problem]:
    out: list[Problem] = []
    for i, sw in enumerate(overlay.switches):
        if sw.underlay is None or sw.underlay.bgp is None:
            continue
        bgp = sw.underlay.bgp
        base = ("switches", i, "underlay", "bgp")
        subnets = [(p.port, a) for p in sw.ports if p.role == "network" for a in p.addresses]
        own = {a.ip for _, a in subnets}
        network = {p.port for p in sw.ports if p.role == "network"}
        seen: dict[str, int] = {}
        for j, n in enumerate(bgp.neighbors):
            if n.port is not None:  # unnumbered
                path = (*base, "neighbors", j, "port")
                key = f"port {n.port}"
                if key in seen:
                    out.append(Problem(path, f"{key} is also neighbors[{seen[key]}]"))
                elif n.port not in network:
                    have = ", ".join(map(str, sorted(network))) or "none"
                    out.append(
                        Problem(
                            path, f"port {n.port} is not a network port (network ports: {have})"
                        )
                    )
                seen[key] = j
                continue
            assert n.address is not None
            path = (*base, "neighbors", j, "address")
            key = str(n.address)
            if key in seen:
                out.append(Problem(path, f"{key} is also neighbors[{seen[key]}]"))
                continue
            seen[key] = j
            if n.address in own:
                out.append(Problem(path, f"{key} is this switch's own port address"))
            elif not any(n.address in a.network for _, a in subnets):
                have = ", ".join(f"port {p} {a}" for p, a in subnets) or "none"
                out.append(
                    Problem(
                        path,
                        f"{key} is on no network port's subnet (sessions are directly"
                        f" connected; network port addresses: {have})",
                    )
                )
        families = {v for n in bgp.neighbors for v in n.families}
        for j, prefix in enumerate(bgp.advertise or []):
            if prefix.version not in families:
                out.append(
                    Problem(
                        (*base, "advertise", j),
                        f"{prefix}: no IPv{prefix.version} neighbour to advertise it to",
                    )
                )
    return out
