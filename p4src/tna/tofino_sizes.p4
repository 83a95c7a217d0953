/* tofino_sizes.p4: the Tofino profile (-D NVE_PROFILE_TOFINO, the default of
 * `make p4-tofino`). The same macro names as p4src/include/sizes.p4, with the sizes
 * that one Tofino-1 pipe (12 MAU stages) can hold next to everything else in this
 * program; docs/tna.md argues them stage by stage. Without NVE_PROFILE_TOFINO the TNA
 * main includes the shared sizes.p4 unchanged (ToR, SMALL or LARGE). */
#ifndef NVE_TNA_TOFINO_SIZES_P4
#define NVE_TNA_TOFINO_SIZES_P4

#if defined(NVE_PROFILE_SMALL) || defined(NVE_PROFILE_LARGE)
#error "NVE_PROFILE_TOFINO cannot be combined with NVE_PROFILE_SMALL or NVE_PROFILE_LARGE"
#endif

/* sizes.p4 is deliberately not included in this profile: mark it as seen so that a
 * later include of it (by a shared file) cannot redefine the macros. */
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
#define UNDERLAY_ROUTE_SIZE  4096
#define ECMP_TABLE_SIZE      4096
#define NEXTHOP_COUNT        1024

#define DROP_REASON_COUNT    256
#define PUNT_REASON_COUNT    16

#endif
