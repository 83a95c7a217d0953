/* sizes.p4: every table and counter size, in one place.
 * Default: a ToR profile (>= 4K VSIDs, >= 128K CA mappings, >= 4K remote NVEs,
 * >= 16K tenant routes). -D NVE_PROFILE_SMALL: small tables for tests.
 * -D NVE_PROFILE_LARGE: a larger ToR. Documented in docs/pipeline.md. */
#ifndef NVE_SIZES_P4
#define NVE_SIZES_P4

#if defined(NVE_PROFILE_SMALL) && defined(NVE_PROFILE_LARGE)
#error "define at most one of NVE_PROFILE_SMALL and NVE_PROFILE_LARGE"
#endif

#if defined(NVE_PROFILE_SMALL)
#define PORT_TABLE_SIZE      64
#define VSI_COUNT            256
#define PORT_VLAN_SIZE       512
#define MAC_TABLE_SIZE       1024
#define LEARN_TABLE_SIZE     1024
#define ARP_TABLE_SIZE       1024
#define ROUTE_TABLE_SIZE     1024
#define TUNNEL_COUNT         256
#define PEER_TABLE_SIZE      1024
#define LOCAL_PA_SIZE        16
#define LOCAL_ADDR_SIZE      64
#define UNDERLAY_ROUTE_SIZE  256
#define ECMP_TABLE_SIZE      256
#define NEXTHOP_COUNT        64
#elif defined(NVE_PROFILE_LARGE)
#define PORT_TABLE_SIZE      512
#define VSI_COUNT            32768
#define PORT_VLAN_SIZE       32768
#define MAC_TABLE_SIZE       262144
#define LEARN_TABLE_SIZE     65536
#define ARP_TABLE_SIZE       262144
#define ROUTE_TABLE_SIZE     65536
#define TUNNEL_COUNT         16384
#define PEER_TABLE_SIZE      65536
#define LOCAL_PA_SIZE        256
#define LOCAL_ADDR_SIZE      1024
#define UNDERLAY_ROUTE_SIZE  16384
#define ECMP_TABLE_SIZE      16384
#define NEXTHOP_COUNT        4096
#else
#define PORT_TABLE_SIZE      512
#define VSI_COUNT            8192
#define PORT_VLAN_SIZE       8192
#define MAC_TABLE_SIZE       131072
#define LEARN_TABLE_SIZE     32768
#define ARP_TABLE_SIZE       131072
#define ROUTE_TABLE_SIZE     16384
#define TUNNEL_COUNT         4096
#define PEER_TABLE_SIZE      16384
#define LOCAL_PA_SIZE        64
#define LOCAL_ADDR_SIZE      256
#define UNDERLAY_ROUTE_SIZE  4096
#define ECMP_TABLE_SIZE      4096
#define NEXTHOP_COUNT        1024
#endif

/* This NVE's own MAC addresses (NveIngress.outer.my_mac), every profile. */
#define LOCAL_MAC_SIZE       8

/* Per-port meters and counters are indexed by the 9-bit v1model port number. */
#define PORT_COUNT           512

/* Priority maps (IEEE 802.1Q PCP, DSCP): one entry per code point, every profile. */
#define PCP_COUNT            8
#define DSCP_COUNT           64

/* Indexed by drop_reason_t and by packet-in reason. */
#define DROP_REASON_COUNT    256
#define PUNT_REASON_COUNT    16

/* A VSI's flood group is multicast group vsi, and PI (simple_switch_grpc) accepts
 * group ids 1..0x7fff only. */
#if VSI_COUNT > 32768
#error "VSI_COUNT must be <= 32768: flood group ids (= vsi) must stay below 0x8000"
#endif

#endif
