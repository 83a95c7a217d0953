"""Drop reasons and packet-in reasons as docs/pipeline.md lists them (the tests' expectations)."""

from __future__ import annotations

from enum import IntEnum


class Drop(IntEnum):
    PORT_UNKNOWN = 1
    PARSER_ERROR = 2
    TO_CPU = 3
    ACCESS_EXTRA_TAG = 10
    ACCESS_VLAN_UNKNOWN = 11
    VSI_UNKNOWN = 12
    SRC_MAC_MULTICAST = 13
    SPLIT_HORIZON = 20
    ROUTE_MISS = 21
    TTL_EXPIRED = 22
    ROUTED_DMAC_UNKNOWN = 23
    ROUTED_BAD_CHECKSUM = 24
    TUNNEL_UNKNOWN = 30
    UNDERLAY_ROUTE_MISS = 31
    ECMP_MISS = 32
    NEXTHOP_MISS = 33
    NET_NOT_LOCAL = 40
    NET_FRAGMENT = 41
    NET_BAD_CHECKSUM = 42
    NET_NOT_NVGRE = 43
    NET_VSID_RESERVED = 44
    NET_VSID_UNKNOWN = 45
    NET_PEER_UNKNOWN = 46
    NET_INNER_TAGGED = 47
    NET_ECN_NOT_ECT = 48
    PRUNE_INGRESS_PORT = 60
    EGRESS_SPLIT_HORIZON = 61
    EGRESS_NOT_MEMBER = 62
    REPLICA_UNKNOWN = 63
    MTU_EXCEEDED = 64


class Punt(IntEnum):
    MTU_EXCEEDED = 1
    IPV6_NS = 2
    UNDERLAY_ARP = 3
    UNDERLAY_ND = 4
