"""A frame the controller sends into a tunnel itself: which tunnel, and its NVGRE packet.

The pipelines hand the controller some punts without their outer headers: on TNA a
gateway or TTL punt from a network port is the customer frame Decap left (docs/tna.md).
Its answer goes back to the NVE the sender's MAC is behind, as the switch itself would
send a frame to that MAC: the subnet's `l2.dmac` entry gives the tunnel, the compiled
tunnel its PAs, and `SwitchState.tunnel_hops` the next hop its packets leave by (an ECMP
group's first member: any member reaches the PA). Everything comes from the switch's
compiled state, so the answer follows the same description, learned MACs and underlay
routes as the switch's entries.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from nve.compile import SwitchState
from nve.compile.delta import key_positions
from nve.entities import Exact, TableEntry, make_match
from nve.mac import Mac
from nve.nvgre import nvgre_packet
from nve.p4names import Action, Key, Param, Table

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class TunnelPath:
    """How a packet into one tunnel leaves the switch."""

    port: int
    dst_mac: bytes  # the next hop's
    vlan: int | None  # the next hop's 802.1Q tag
    src: Address  # this switch's PA
    dst: Address  # the remote NVE's PA


def path_to(state: SwitchState, vsid: int, mac: bytes) -> TunnelPath | None:
    """The tunnel a frame to `mac` in `vsid` takes on the switch `state` was compiled for,
    or None when the switch delivers that MAC locally, floods it, or has no next hop."""
    vsi = state.vsi.get(vsid)
    if vsi is None:
        return None
    match = make_match({Key.VSI: Exact(vsi), Key.MAC: Exact(Mac(mac))})
    if state.positions is None:  # kept: endpoint deltas keep them up to date
        state.positions = key_positions(state.entities)
    at = state.positions.get(TableEntry(Table.L2_DMAC, match).key)
    if at is None:
        return None
    entry = state.entities[at]
    if not isinstance(entry, TableEntry) or entry.action != Action.L2_TO_TUNNEL:
        return None
    tunnel = dict(entry.params).get(Param.TUNNEL)
    if tunnel is None or tunnel not in state.tunnel_hops:
        return None
    key = next((k for k, t in state.tunnels.items() if t == tunnel), None)
    if key is None:
        return None
    port, dmac, vid = state.tunnel_hops[tunnel]
    return TunnelPath(port, dmac.to_bytes(6, "big"), vid or None, key.src, key.dst)


def encapsulate(path: TunnelPath, nve_mac: bytes, vsid: int, frame: bytes, ttl: int) -> bytes:
    """`frame` in the NVGRE packet the switch would send along `path` (FlowID 0, DF)."""
    return nvgre_packet(path.dst_mac, nve_mac, path.vlan, path.src, path.dst, vsid, frame, ttl)


__all__ = ["TunnelPath", "encapsulate", "path_to"]
