/* sizes.p4 (TNA): the table and counter sizes of the Tofino build.
 * -D NVE_PROFILE_TOFINO (what `make p4-tofino` passes): the sizes that place in one
 * Tofino-1 pipe next to everything else (docs/tna.md, "Sizes that fit"). Without it
 * the shared p4src/include/sizes.p4 decides (ToR default, SMALL, LARGE); the feature
 * steps (`make p4-tofino-steps`) compile with NVE_PROFILE_SMALL. */
#ifndef NVE_TNA_SIZES_P4
#define NVE_TNA_SIZES_P4

#if defined(NVE_PROFILE_TOFINO)
#if defined(NVE_PROFILE_SMALL) || defined(NVE_PROFILE_LARGE)
#error "NVE_PROFILE_TOFINO cannot be combined with NVE_PROFILE_SMALL or NVE_PROFILE_LARGE"
#endif
/* The shared sizes.p4 is not used in this profile: mark it as seen. */
#define NVE_SIZES_P4

#define PORT_TABLE_SIZE      512
#define VSI_COUNT            4096
#define PORT_VLAN_SIZE       4096
#define MAC_TABLE_SIZE       65536
#define LEARN_TABLE_SIZE     16384
#define ARP_TABLE_SIZE       65536
#define ROUTE_TABLE_SIZE     16384
#define TUNNEL_COUNT         4096
#define PEER_TABLE_SIZE      8192
#define LOCAL_PA_SIZE        64
#define LOCAL_MAC_SIZE       64   /* nve_mac and the joined groups' MACs */
#define UNDERLAY_ROUTE_SIZE  1024   /* TCAM LPM (underlay.p4) */
#define ECMP_TABLE_SIZE      4096
#define NEXTHOP_COUNT        1024

#define DROP_REASON_COUNT    256
#define PUNT_REASON_COUNT    16
#define PCP_COUNT            8
#define DSCP_COUNT           64
#else
#include "../include/sizes.p4"
#endif

/* ALPM partitions (tenant routes): 1024 is the smallest the compiler takes. */
#if ROUTE_TABLE_SIZE >= 8192
#define ROUTE_ALPM_PARTITIONS 2048
#else
#define ROUTE_ALPM_PARTITIONS 1024
#endif

#endif
