/* drop_reasons.p4: every drop has one of these codes; it indexes the drop counters
 * (NveIngress.counters.drops, NveEgress.counters.drops). Ingress and egress codes are
 * disjoint so that the controller can add both counters per code. Documented in
 * docs/pipeline.md; keep both in sync. */
#ifndef NVE_DROP_REASONS_P4
#define NVE_DROP_REASONS_P4

typedef bit<8> drop_reason_t;

const drop_reason_t DROP_NONE                 = 8w0;
/* ingress: general */
const drop_reason_t DROP_PORT_UNKNOWN         = 8w1;
const drop_reason_t DROP_PARSER_ERROR         = 8w2;
const drop_reason_t DROP_TO_CPU               = 8w3;
/* ingress: access side */
const drop_reason_t DROP_ACCESS_EXTRA_TAG     = 8w10;
const drop_reason_t DROP_ACCESS_VLAN_UNKNOWN  = 8w11;
const drop_reason_t DROP_VSI_UNKNOWN          = 8w12;
const drop_reason_t DROP_SRC_MAC_MULTICAST    = 8w13;
const drop_reason_t DROP_STORM_CONTROL        = 8w14;  /* BUM over the port's rate */
const drop_reason_t DROP_MAC_LIMIT            = 8w15;  /* unknown source MAC, port/VSID full */
/* ingress: forwarding in the overlay */
const drop_reason_t DROP_SPLIT_HORIZON        = 8w20;
const drop_reason_t DROP_ROUTE_MISS           = 8w21;
const drop_reason_t DROP_TTL_EXPIRED          = 8w22;
const drop_reason_t DROP_ROUTED_DMAC_UNKNOWN  = 8w23;
const drop_reason_t DROP_ROUTED_BAD_CHECKSUM  = 8w24;
const drop_reason_t DROP_ROUTED_MARTIAN_SRC   = 8w25;
const drop_reason_t DROP_ROUTED_MARTIAN_DST   = 8w26;
const drop_reason_t DROP_ROUTED_BAD_HEADER    = 8w27;
const drop_reason_t DROP_ROUTED_TO_GATEWAY    = 8w28;
/* ingress: toward a remote NVE */
const drop_reason_t DROP_TUNNEL_UNKNOWN       = 8w30;
const drop_reason_t DROP_UNDERLAY_ROUTE_MISS  = 8w31;
const drop_reason_t DROP_ECMP_MISS            = 8w32;
const drop_reason_t DROP_NEXTHOP_MISS         = 8w33;
/* ingress: decapsulation checks, in the order they are made */
const drop_reason_t DROP_NET_NOT_LOCAL        = 8w40;
const drop_reason_t DROP_NET_FRAGMENT         = 8w41;
const drop_reason_t DROP_NET_BAD_CHECKSUM     = 8w42;
const drop_reason_t DROP_NET_NOT_NVGRE        = 8w43;
const drop_reason_t DROP_NET_VSID_RESERVED    = 8w44;
const drop_reason_t DROP_NET_VSID_UNKNOWN     = 8w45;
const drop_reason_t DROP_NET_PEER_UNKNOWN     = 8w46;
const drop_reason_t DROP_NET_INNER_TAGGED     = 8w47;
const drop_reason_t DROP_NET_ECN_NOT_ECT      = 8w48;
/* ingress: outer header sanity (OuterChecks, before the checks above), in order */
const drop_reason_t DROP_NET_DMAC_NOT_LOCAL   = 8w50;
const drop_reason_t DROP_NET_BAD_VERSION      = 8w51;
const drop_reason_t DROP_NET_BAD_IHL          = 8w52;
const drop_reason_t DROP_NET_BAD_LENGTH       = 8w53;
/* egress */
const drop_reason_t DROP_PRUNE_INGRESS_PORT   = 8w60;
const drop_reason_t DROP_EGRESS_SPLIT_HORIZON = 8w61;
const drop_reason_t DROP_EGRESS_NOT_MEMBER    = 8w62;
const drop_reason_t DROP_REPLICA_UNKNOWN      = 8w63;
const drop_reason_t DROP_MTU_EXCEEDED         = 8w64;

#endif
