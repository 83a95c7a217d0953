/* constants.p4: protocol numbers, NVGRE constants, port roles, packet-in reasons.
 * Shared by every architecture's main; values only, no code. */
#ifndef NVE_CONSTANTS_P4
#define NVE_CONSTANTS_P4

/* EtherTypes */
const bit<16> ETHERTYPE_IPV4 = 16w0x0800;
const bit<16> ETHERTYPE_ARP  = 16w0x0806;
const bit<16> ETHERTYPE_VLAN = 16w0x8100;   /* IEEE 802.1Q C-tag */
const bit<16> ETHERTYPE_QINQ = 16w0x88A8;   /* IEEE 802.1ad S-tag */
const bit<16> ETHERTYPE_IPV6 = 16w0x86DD;
const bit<16> ETHERTYPE_TEB  = 16w0x6558;   /* Transparent Ethernet Bridging (GRE protocol) */

/* IP protocol / IPv6 next header numbers */
const bit<8> IP_PROTO_IPV6_HOPOPTS = 8w0;
const bit<8> IP_PROTO_IPV6_DSTOPTS = 8w60;
const bit<8> IP_PROTO_ICMP     = 8w1;
const bit<8> IP_PROTO_TCP      = 8w6;
const bit<8> IP_PROTO_UDP      = 8w17;
const bit<8> IP_PROTO_GRE      = 8w47;
const bit<8> IP_PROTO_IPV6_FRAG = 8w44;
const bit<8> IP_PROTO_ICMPV6   = 8w58;

/* ICMPv6 types */
const bit<8> ICMPV6_ROUTER_SOLICIT   = 8w133;
const bit<8> ICMPV6_ROUTER_ADVERT    = 8w134;
const bit<8> ICMPV6_NEIGHBOR_SOLICIT = 8w135;
const bit<8> ICMPV6_NEIGHBOR_ADVERT  = 8w136;

/* ARP (RFC 826) for IPv4 over Ethernet */
const bit<16> ARP_HTYPE_ETHERNET = 16w1;
const bit<8>  ARP_HLEN_ETHERNET  = 8w6;
const bit<8>  ARP_PLEN_IPV4      = 8w4;
const bit<16> ARP_OPER_REQUEST   = 16w1;
const bit<16> ARP_OPER_REPLY     = 16w2;

/* NVGRE (RFC 7637 section 3.2): GRE with C=0, K=1, S=0, reserved0=0, version 0 */
/* GRE bits 4-5 (the top two of the 9-bit reserved0 field) must be zero on receipt; bits
 * 6-12 are ignored (RFC 2784 section 2.3). */
const bit<9> GRE_RESERVED0_MUST_BE_ZERO = 9w0x180;
/* Reserved VSIDs (RFC 7637 section 3.4) */
const bit<24> VSID_RESERVED_LOW_MAX = 24w0x000FFF;
const bit<24> VSID_VENDOR           = 24w0xFFFFFF;

/* Outer header defaults and sizes */
const bit<16> GRE_KEY_HEADER_BYTES = 16w8;    /* 4 bytes GRE + 4 bytes key */
const bit<16> IPV4_HEADER_BYTES    = 16w20;
const bit<16> IPV6_HEADER_BYTES    = 16w40;
const bit<16> ETHERNET_HEADER_BYTES = 16w14;
const bit<16> VLAN_TAG_BYTES       = 16w4;
const bit<3>  IPV4_FLAGS_DF        = 3w0b010;

/* ECN codepoints (RFC 3168) */
const bit<2> ECN_NOT_ECT = 2w0;
const bit<2> ECN_ECT1    = 2w1;
const bit<2> ECN_ECT0    = 2w2;
const bit<2> ECN_CE      = 2w3;

/* Port roles, set by NveIngress.port.role (0: a port without an entry, dropped as
 * DROP_PORT_UNKNOWN) */
const bit<2> PORT_ROLE_ACCESS  = 2w1;
const bit<2> PORT_ROLE_NETWORK = 2w2;
const bit<2> PORT_ROLE_CPU     = 2w3;

/* The CPU port of the 9-bit v1model port space (simple_switch --cpu-port 255) */
const bit<9> CPU_PORT = 9w255;
/* Clone session whose single replica is the CPU port */
const bit<32> CPU_CLONE_SESSION = 32w100;
/* Field list (@field_list) preserved in punt clones */
const bit<8> FL_PUNT = 8w1;

/* Packet-in reasons (packet_in_h.reason) */
const bit<8> PUNT_NONE          = 8w0;
const bit<8> PUNT_MTU_EXCEEDED  = 8w1;
const bit<8> PUNT_IPV6_NS       = 8w2;
const bit<8> PUNT_UNDERLAY_ARP  = 8w3;
const bit<8> PUNT_UNDERLAY_ND   = 8w4;
const bit<8> PUNT_TTL_EXPIRED   = 8w5;  /* routed, TTL / hop limit ran out: Time Exceeded */
const bit<8> PUNT_GATEWAY       = 8w6;  /* ICMP / ICMPv6 to a subnet gateway's address */
const bit<8> PUNT_FRAGMENT      = 8w7;  /* too big, IPv4 without DF: the NVGRE packet */
const bit<8> PUNT_UNDERLAY_LOCAL = 8w8; /* network port: IP to the switch's own addresses */

/* v1model meter colours */
const bit<2> METER_GREEN  = 2w0;
const bit<2> METER_RED    = 2w2;

/* v1model standard_metadata.instance_type values (bmv2 simple_switch) */
const bit<32> INSTANCE_INGRESS_CLONE = 32w1;
const bit<32> INSTANCE_EGRESS_CLONE  = 32w2;

/* Outer defaults installed as the default action of NveEgress.encap.config */
const bit<8>  DEFAULT_OUTER_TTL = 8w64;
const bit<16> DEFAULT_PORT_MTU  = 16w1500;

#endif
