"""Names of the NVGRE pipeline's control-plane API, as docs/pipeline.md fixes them.

This is the only module that spells P4 names; everything is resolved through P4Info
at run time (no numeric IDs). Tiers order writes: what an entry points at is installed
in a lower tier, and frames are only classified into a subnet (tier 5) once all its
forwarding state is in place.
"""

from __future__ import annotations

# Tables -----------------------------------------------------------------------------------------
PORT_ROLE = "NveIngress.port.role"
PORT_VLAN = "NveIngress.access.port_vlan"
MY_PA_V4 = "NveIngress.decap.my_pa_v4"
MY_PA_V6 = "NveIngress.decap.my_pa_v6"
DECAP_VSID = "NveIngress.decap.vsid"
PEER_V4 = "NveIngress.decap.peer_v4"
PEER_V6 = "NveIngress.decap.peer_v6"
VSI_INFO = "NveIngress.vsi.info"
LEARN_SMAC = "NveIngress.learn.smac"
ARP_PROXY = "NveIngress.arp.proxy"
ROUTES_V4 = "NveIngress.routing.routes_v4"
ROUTES_V6 = "NveIngress.routing.routes_v6"
L2_DMAC = "NveIngress.l2.dmac"
TUNNEL_REMOTE = "NveIngress.tunnel.remote"
UNDERLAY_V4 = "NveIngress.underlay.routes_v4"
UNDERLAY_V6 = "NveIngress.underlay.routes_v6"
ECMP = "NveIngress.underlay.ecmp"
NEXTHOP = "NveIngress.underlay.nexthop"
REPLICA = "NveEgress.replica.tunnel"
PORT_VSI = "NveEgress.access.port_vsi"
MTU_PORT = "NveEgress.mtu.port"
ENCAP_CONFIG = "NveEgress.encap.config"

# Actions ----------------------------------------------------------------------------------------
SET_ACCESS = "NveIngress.port.set_access"
SET_NETWORK = "NveIngress.port.set_network"
ACCESS_SET_VSI = "NveIngress.access.set_vsi"
LOCAL_PA = "NveIngress.decap.local_pa"
UNDERLAY_GROUP = "NveIngress.decap.underlay_group"
DECAP_SET_VSI = "NveIngress.decap.set_vsi"
PEER = "NveIngress.decap.peer"
VSI_SET_INFO = "NveIngress.vsi.set_info"
LEARN_KNOWN = "NveIngress.learn.known"
ARP_REPLY = "NveIngress.arp.reply"
ROUTE = "NveIngress.routing.route"
TO_PORT = "NveIngress.l2.to_port"
TO_TUNNEL = "NveIngress.l2.to_tunnel"
SET_REMOTE_V4 = "NveIngress.tunnel.set_remote_v4"
SET_REMOTE_V6 = "NveIngress.tunnel.set_remote_v6"
SET_NEXTHOP = "NveIngress.underlay.set_nexthop"
SET_ECMP = "NveIngress.underlay.set_ecmp"
FORWARD = "NveIngress.underlay.forward"
REPLICA_V4 = "NveEgress.replica.replica_v4"
REPLICA_V6 = "NveEgress.replica.replica_v6"
UNTAGGED = "NveEgress.access.untagged"
TAGGED = "NveEgress.access.tagged"
SET_MTU = "NveEgress.mtu.set_mtu"
SET_CONFIG = "NveEgress.encap.set_config"

# Other objects ----------------------------------------------------------------------------------
LEARN_DIGEST = "mac_learn_digest_t"
PUNT_METER_INGRESS = "NveIngress.punt.rate"
PUNT_METER_MTU = "NveEgress.mtu.punt_rate"
CPU_CLONE_SESSION = 100
DEFAULT_CPU_PORT = 255
VSI_MAX = 0x7FFF

PUNT_MTU_EXCEEDED = 1
PUNT_IPV6_NS = 2
PUNT_UNDERLAY_ARP = 3
PUNT_UNDERLAY_ND = 4
PUNT_REASONS = {
    PUNT_MTU_EXCEEDED: "MTU_EXCEEDED",
    PUNT_IPV6_NS: "IPV6_NS",
    PUNT_UNDERLAY_ARP: "UNDERLAY_ARP",
    PUNT_UNDERLAY_ND: "UNDERLAY_ND",
}

# Counters ---------------------------------------------------------------------------------------
DROPS_INGRESS = "NveIngress.counters.drops"
DROPS_EGRESS = "NveEgress.counters.drops"
VSI_DECAP = "NveIngress.counters.vsi_decap"
VSI_ENCAP = "NveEgress.counters.vsi_encap"
TUNNEL_RX = "NveIngress.counters.tunnel_rx"
TUNNEL_TX = "NveEgress.counters.tunnel_tx"

DROP_REASONS = {
    1: "PORT_UNKNOWN",
    2: "PARSER_ERROR",
    3: "TO_CPU",
    10: "ACCESS_EXTRA_TAG",
    11: "ACCESS_VLAN_UNKNOWN",
    12: "VSI_UNKNOWN",
    13: "SRC_MAC_MULTICAST",
    20: "SPLIT_HORIZON",
    21: "ROUTE_MISS",
    22: "TTL_EXPIRED",
    23: "ROUTED_DMAC_UNKNOWN",
    24: "ROUTED_BAD_CHECKSUM",
    30: "TUNNEL_UNKNOWN",
    31: "UNDERLAY_ROUTE_MISS",
    32: "ECMP_MISS",
    33: "NEXTHOP_MISS",
    40: "NET_NOT_LOCAL",
    41: "NET_FRAGMENT",
    42: "NET_BAD_CHECKSUM",
    43: "NET_NOT_NVGRE",
    44: "NET_VSID_RESERVED",
    45: "NET_VSID_UNKNOWN",
    46: "NET_PEER_UNKNOWN",
    47: "NET_INNER_TAGGED",
    48: "NET_ECN_NOT_ECT",
    60: "PRUNE_INGRESS_PORT",
    61: "EGRESS_SPLIT_HORIZON",
    62: "EGRESS_NOT_MEMBER",
    63: "REPLICA_UNKNOWN",
    64: "MTU_EXCEEDED",
}

# Write order ------------------------------------------------------------------------------------
TIERS: dict[str, int] = {
    NEXTHOP: 0,
    MTU_PORT: 0,
    PORT_ROLE: 0,
    ENCAP_CONFIG: 0,
    VSI_INFO: 0,
    DECAP_VSID: 0,
    PORT_VSI: 0,
    MY_PA_V4: 0,
    MY_PA_V6: 0,
    ECMP: 1,
    UNDERLAY_V4: 2,
    UNDERLAY_V6: 2,
    TUNNEL_REMOTE: 3,
    REPLICA: 3,
    PEER_V4: 3,
    PEER_V6: 3,
    L2_DMAC: 4,
    ARP_PROXY: 4,
    LEARN_SMAC: 4,
    ROUTES_V4: 4,
    ROUTES_V6: 4,
    PORT_VLAN: 5,
}
MCAST_TIER = 4
