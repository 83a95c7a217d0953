"""The controller's policy over the pipeline's API: write order and id ranges.

Names come from `nve.p4names` (generated from the P4 program); this module only says in
which order they are written. Each table declares what its entries point at (an action
parameter that names another table's entry, or state a frame needs before that table
sends it somewhere); the write tiers follow from that table: an entry is written after
everything it points at (a higher tier), and deleted before it. Frames are classified
into a subnet by `ACCESS_PORT_VLAN`, which depends on every table of the subnet, so an
access frame only enters the overlay once its forwarding state is complete.
"""

from __future__ import annotations

from collections.abc import Mapping

from nve.p4names import Table

# The PRE's multicast groups, as a node of the dependency table.
MULTICAST_GROUPS = "multicast groups"

# table -> what its entries point at (must be written first).
DEPENDS_ON: dict[str, tuple[str, ...]] = {
    Table.PORT_ROLE: (),
    Table.MTU_PORT: (),
    Table.ENCAP_CONFIG: (),
    # priority (IEEE 802.1Q PCP) and DSCP maps, port default priorities
    Table.ENCAP_PCP_DSCP: (),
    Table.DECAP_DSCP_PCP: (),
    Table.INGRESS_ACCESS_PORT_PCP: (),
    Table.EGRESS_ACCESS_PORT_PCP: (),
    # storm control per access port (its meter cell is configured with it)
    Table.STORM_PORT: (),
    # learning limits in drop mode: a full port, a full subnet
    Table.LEARN_PORT_FULL: (),
    Table.LEARN_VSI_FULL: (Table.VSI_INFO,),
    Table.VSI_INFO: (),
    Table.DECAP_VSID: (),
    Table.ACCESS_PORT_VSI: (),
    Table.DECAP_MY_PA_V4: (),
    Table.DECAP_MY_PA_V6: (),
    # the switch's own addresses, for its control-plane host
    Table.PUNT_LOCAL_ADDRESSES_V4: (),
    Table.PUNT_LOCAL_ADDRESSES_V6: (),
    Table.OUTER_MY_MAC: (),
    Table.UNDERLAY_NEXTHOP: (),
    # set_nexthop(nexthop)
    Table.UNDERLAY_ECMP: (Table.UNDERLAY_NEXTHOP,),
    # set_nexthop(nexthop), set_ecmp(group)
    Table.UNDERLAY_ROUTES_V4: (Table.UNDERLAY_NEXTHOP, Table.UNDERLAY_ECMP),
    Table.UNDERLAY_ROUTES_V6: (Table.UNDERLAY_NEXTHOP, Table.UNDERLAY_ECMP),
    # set_remote_*(dst_pa): the tunnel's destination is reached through the underlay routes
    Table.TUNNEL_REMOTE: (Table.UNDERLAY_ROUTES_V4, Table.UNDERLAY_ROUTES_V6),
    # replica_*(src_pa, dst_pa, ...): as a tunnel, with the outer header's config
    Table.REPLICA_TUNNEL: (
        Table.UNDERLAY_ROUTES_V4,
        Table.UNDERLAY_ROUTES_V6,
        Table.ENCAP_CONFIG,
    ),
    # peer(tunnel): decapsulation from a known peer, whose replies use that tunnel
    Table.DECAP_PEER_V4: (Table.DECAP_VSID, Table.TUNNEL_REMOTE),
    Table.DECAP_PEER_V6: (Table.DECAP_VSID, Table.TUNNEL_REMOTE),
    # replicas (rid) toward tunnels and access ports with their egress config
    MULTICAST_GROUPS: (Table.REPLICA_TUNNEL, Table.ACCESS_PORT_VSI, Table.MTU_PORT),
    # to_port(port) with its egress config; to_tunnel(tunnel)
    Table.L2_DMAC: (
        Table.VSI_INFO,
        Table.TUNNEL_REMOTE,
        Table.ACCESS_PORT_VSI,
        Table.MTU_PORT,
    ),
    Table.ARP_PROXY: (Table.VSI_INFO,),
    Table.LEARN_SMAC: (Table.VSI_INFO,),
    # route(vsi, ...): the routed frame is then bridged in the destination subnet
    Table.ROUTING_ROUTES_V4: (Table.VSI_INFO, Table.L2_DMAC),
    Table.ROUTING_ROUTES_V6: (Table.VSI_INFO, Table.L2_DMAC),
    # set_vsi(vsi): classification into a subnet comes last
    Table.ACCESS_PORT_VLAN: (
        Table.VSI_INFO,
        Table.L2_DMAC,
        Table.ARP_PROXY,
        Table.LEARN_SMAC,
        Table.ROUTING_ROUTES_V4,
        Table.ROUTING_ROUTES_V6,
        MULTICAST_GROUPS,
    ),
}


def tiers(depends_on: Mapping[str, tuple[str, ...]]) -> dict[str, int]:
    """Each node's tier: 0 without dependencies, else one more than its highest dependency."""
    out: dict[str, int] = {}

    def tier(node: str, path: tuple[str, ...]) -> int:
        if node in path:
            raise ValueError(f"write-order cycle: {' -> '.join((*path, node))}")
        if node not in out:
            if node not in depends_on:
                raise ValueError(f"{path[-1] if path else node} depends on unknown {node}")
            deps = depends_on[node]
            out[node] = 1 + max((tier(d, (*path, node)) for d in deps), default=-1)
        return out[node]

    for node in depends_on:
        tier(node, ())
    return out


TIERS: dict[str, int] = tiers(DEPENDS_ON)
MCAST_TIER = TIERS[MULTICAST_GROUPS]

# Largest VSI (and flood group) id: PI accepts multicast group ids 1..0x7fff.
VSI_MAX = 0x7FFF
