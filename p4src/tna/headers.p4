/* headers.p4 (TNA): header types, the header struct and the per-gress metadata.
 *
 * The packet header types, the controller headers and the digest struct are the
 * same as p4src/include/headers.p4 (same names, fields and widths: the controller and
 * P4Info see no difference). What differs is Tofino-specific:
 *   - ingress and egress are separate programs joined by the traffic manager: egress
 *     learns what ingress decided from bridged headers the ingress deparser puts in
 *     front of the frame. Only what egress needs is bridged (nve_bridge_h, 15 bytes),
 *     plus, for unicast frames toward a remote NVE only, the PAs of one family
 *     (nve_tun4_h 8 bytes or nve_tun6_h 32 bytes) and the next hop (nve_nh_h 14 bytes).
 *     Ingress writes these header fields directly in its table actions (no copy at
 *     the end of ingress), and egress reads them in place (no copy in the parser);
 *   - punted copies carry their packet_in contents in a mirror header (nve_mirror_h);
 *   - the metadata is per gress and narrow: no copy of the customer source addresses,
 *     protocol or ports (FlowId hashes the headers), no 128-bit PA copies.
 * The shared headers.p4 is not included (its metadata_t and @field_list annotations
 * are v1model's); its include guard is set so that nothing pulls it in. */
#ifndef NVE_TNA_HEADERS_P4
#define NVE_TNA_HEADERS_P4
#define NVE_HEADERS_P4

typedef bit<48>  mac_addr_t;
typedef bit<32>  ipv4_addr_t;
typedef bit<128> ipv6_addr_t;
typedef bit<9>   port_t;
typedef bit<12>  vlan_id_t;
typedef bit<24>  vsid_t;
typedef bit<16>  vsi_t;
typedef bit<16>  vrf_t;
typedef bit<16>  tunnel_t;
typedef bit<16>  nexthop_t;
typedef bit<16>  ecmp_group_t;

/* Tofino: the same fields, the pad first, so that every field but the port starts on
 * a byte and the reason and VSID get containers of their own (docs/tna.md). */
@controller_header("packet_in")
header packet_in_h {
    bit<7>  _pad;
    bit<9>  ingress_port;
    bit<8>  reason;
    bit<24> vsid;
}

@controller_header("packet_out")
header packet_out_h {
    bit<9> egress_port;
    bit<7> _pad;
}

header ethernet_h { mac_addr_t dst_addr; mac_addr_t src_addr; bit<16> ether_type; }

header vlan_h { bit<3> pcp; bit<1> dei; vlan_id_t vid; bit<16> ether_type; }

header arp_h {
    bit<16> htype; bit<16> ptype; bit<8> hlen; bit<8> plen; bit<16> oper;
    mac_addr_t sha; ipv4_addr_t spa; mac_addr_t tha; ipv4_addr_t tpa;
}

header ipv4_h {
    bit<4> version; bit<4> ihl; bit<6> dscp; bit<2> ecn; bit<16> total_len;
    bit<16> identification; bit<3> flags; bit<13> frag_offset; bit<8> ttl;
    bit<8> protocol; bit<16> hdr_checksum; ipv4_addr_t src_addr; ipv4_addr_t dst_addr;
}

header ipv6_h {
    bit<4> version; bit<6> dscp; bit<2> ecn; bit<20> flow_label; bit<16> payload_len;
    bit<8> next_hdr; bit<8> hop_limit; ipv6_addr_t src_addr; ipv6_addr_t dst_addr;
}

/* The outer IPv6 header: its first word (version, traffic class, flow label) as one
 * field, which Encap writes in one aligned 32-bit move (the traffic class straddles a
 * byte boundary). Same wire format as ipv6_h. */
header ipv6_encap_h {
    bit<32> ver_tc_flow; bit<16> payload_len; bit<8> next_hdr; bit<8> hop_limit;
    ipv6_addr_t src_addr; ipv6_addr_t dst_addr;
}

header icmpv6_h { bit<8> msg_type; bit<8> code; bit<16> checksum; }

header l4_ports_h { bit<16> src_port; bit<16> dst_port; }

header gre_h {
    bit<1> c; bit<1> r0; bit<1> k; bit<1> s; bit<9> reserved0; bit<3> version;
    bit<16> protocol;
}

header nvgre_h { vsid_t vsid; bit<8> flow_id; }

/* The MAC learning digest (P4Info digest name: mac_learn_digest_t). */
struct mac_learn_digest_t { vsid_t vsid; mac_addr_t mac; port_t port; }

/* First byte of what the ingress deparser or the mirror engine hands to egress. */
typedef bit<8> nve_pkt_type_t;
const nve_pkt_type_t PKT_TYPE_BRIDGED  = 8w1;  /* nve_bridge_h, the frame */
const nve_pkt_type_t PKT_TYPE_PUNT_I2E = 8w2;  /* nve_mirror_h, then what ingress emitted */
const nve_pkt_type_t PKT_TYPE_PUNT_E2E = 8w3;  /* nve_mirror_h, then what egress emitted */

/* Ingress -> egress, always (15 bytes). Bytes 1..6 have packet_in_h's layout: a punt
 * mirror emits them as they are (nve_punt_mirror_t), no copies. A PHV container is
 * written by one action per stage, so the flags are grouped by when they are written:
 * byte 7 by AccessIngress or Decap (and the packet-out path), all constants; byte 8 the
 * DF bit they copy (a move from the IPv4 header, aligned as there, not mixed with
 * constants) and the flags of later stages, each written in a stage of its own:
 * ArpProxy (reflect), Routing (routed), L2Forward (to_tunnel), TunnelSelect (pa_is_v6). */
header nve_bridge_h {
    nve_pkt_type_t pkt_type;
    bit<7>   _pad0;
    PortId_t ingress_port;
    bit<8>   punt_reason; /* set only on punts */
    vsid_t   vsid;
    bit<4>   _pad1;
    bit<1>   from_cpu;
    bit<1>   decapped;
    bit<1>   is_ipv4; bit<1> is_ipv6;  /* customer frame is IPv4 / IPv6 */
    bit<1>   _pad2;
    bit<1>   df;          /* IPv4 DF (MTU punts), at the IPv4 header's bit position */
    bit<2>   _pad3;
    bit<1>   routed; bit<1> reflect;
    bit<1>   to_tunnel;   /* unicast toward a remote NVE: tun4/tun6 and nh follow */
    bit<1>   pa_is_v6;
    vsi_t    vsi;
    bit<8>   flow_id;     /* unicast: already 0 toward a peer without FlowID */
    tunnel_t tunnel;
#ifdef NVE_TNA_PCP  /* the customer frame's IEEE 802.1Q PCP (access.p4); decapsulated: */
    bit<3>   pcp; bit<1> pcp_mapped; bit<4> _pad4;  /* from a dscp_pcp entry */
#define NVE_TNA_BRIDGE_BYTES 16w16
#else
#define NVE_TNA_BRIDGE_BYTES 16w15
#endif
}
const bit<16> NVE_BRIDGE_BYTES = NVE_TNA_BRIDGE_BYTES;

header nve_tun4_h { ipv4_addr_t src_pa; ipv4_addr_t dst_pa; }
header nve_tun6_h { ipv6_addr_t src_pa; ipv6_addr_t dst_pa; }
header nve_nh_h { mac_addr_t smac; mac_addr_t dmac; bit<4> _pad; vlan_id_t vid; }
const bit<16> NVE_TUN4_BYTES = 16w8;
const bit<16> NVE_TUN6_BYTES = 16w32;
const bit<16> NVE_NH_BYTES = 16w14;

/* A punted copy starts with the nve_punt_mirror_t the Mirror extern writes: the packet
 * type (nve_mirror_h), then exactly the layout of packet_in_h, which the egress parser
 * extracts straight into hdr.packet_in (no field copies, no re-alignment). */
header nve_mirror_h {
    nve_pkt_type_t pkt_type;
}
header nve_punt_mirror_t {
    nve_pkt_type_t pkt_type;
    bit<7>  _pad;
    bit<9>  ingress_port;
    bit<8>  reason;
    bit<24> vsid;
}

/* Same instances and deparse order as the shared headers_t, the TNA-only ones first. */
struct nve_headers_t {
    nve_mirror_h   mirror;
    nve_bridge_h   bridge;
    nve_tun4_h     tun4;
    nve_tun6_h     tun6;
    nve_nh_h       nh;

    packet_in_h    packet_in;
    packet_out_h   packet_out;

    ethernet_h     encap_ethernet;
    vlan_h         encap_vlan;
    ipv4_h         encap_ipv4;
    ipv6_encap_h   encap_ipv6;
    gre_h          encap_gre;
    nvgre_h        encap_nvgre;

    ethernet_h     ethernet;
    vlan_h         vlan;
    arp_h          arp;
    ipv4_h         ipv4;
    ipv6_h         ipv6;
    icmpv6_h       icmpv6;
    l4_ports_h     l4;
    gre_h          gre;
    nvgre_h        nvgre;

    ethernet_h     inner_ethernet;
    vlan_h         inner_vlan;
    arp_h          inner_arp;
    ipv4_h         inner_ipv4;
    ipv6_h         inner_ipv6;
    l4_ports_h     inner_l4;
}

/* The customer frame (access: ethernet...; decapsulated: inner_...), only the fields
 * that tables key on or that routing rewrites. */
struct nve_customer_t {
    bit<1>      tagged;
    vlan_id_t   vid;
    mac_addr_t  dmac; mac_addr_t smac;
    ipv4_addr_t ipv4_src; ipv4_addr_t ipv4_dst;  /* Routing: martian sources, route */
    ipv6_addr_t ipv6_src; ipv6_addr_t ipv6_dst;
    bit<8>      ttl;
}

/* Every field is zero at the start of each gress (@pa_auto_init_metadata, main). */
struct nve_ig_meta_t {
    /* set by the parser */
    bit<1>  extra_tag; bit<1> ip_frag; bit<1> icmp;  /* icmp: customer IP's (inner after NVGRE) */
    bool    ipv4_csum_ok;        /* hdr.ipv4 checksum right (written once, when IPv4) */
    bool    inner_ipv4_csum_ok;  /* hdr.inner_ipv4 checksum right */
    bit<16> l4_src; bit<16> l4_dst;  /* hdr.l4 ports, 0 without TCP/UDP (FlowID input) */
    bit<2>  outer_ecn;           /* Decap (RFC 6040): outer ECN, copied first */
#ifdef NVE_TNA_PCP
    bit<6>  outer_dscp;          /* Decap: outer DSCP, dscp_pcp's key */
#endif
    /* forwarding. Drop reasons in several fields, so that a feature's gate never
     * waits for the stage that wrote a later feature's reason; IngressCounters'
     * first_drop takes the first in the v1model order, as listed here (drop_reason and
     * drop_net are exclusive: access and network ports; c.smac multicast after
     * vsi_miss). */
    bit<2>         port_role;
    drop_reason_t  drop_reason;     /* PortRole, AccessIngress, the parser */
    drop_reason_t  drop_net;        /* Decap.checks (network ports; ARP/ND consumed) */
    bit<1>         vsi_miss;        /* VsiInfo: DROP_VSI_UNKNOWN */
#ifdef NVE_TNA_MAC_LIMIT
    bit<1>         mac_limit;       /* L2Learn: DROP_MAC_LIMIT */
#endif
    drop_reason_t  drop_martian;    /* Routing: IPv6 martians */
    drop_reason_t  drop_rchk;       /* Routing's checks: checksum, IPv4 martians, TTL */
    bit<1>         route_miss;      /* Routing: DROP_ROUTE_MISS (L2Forward does not wait) */
    drop_reason_t  drop_fwd;        /* Routing's to_gateway, L2Forward, TunnelSelect */
#ifdef NVE_TNA_STORM
    bit<8>         storm_color;     /* StormControl: MeterColor_t, RED: DROP_STORM_CONTROL */
#endif
    drop_reason_t  drop_ul;         /* Underlay: route, ECMP, next-hop misses */
    bit<2>         mac_ok;          /* OuterChecks' my_mac: 1 local, 2 a group's (Decap.checks) */
    bit<2>         pa_local;        /* Decap's my_pa: 1 an address of the switch, 2 a group */
    bit<1>         vsid_ok;
    bit<1>         peer_ok;
    bit<1>         flood;
    bit<1>         upd_ipv4;        /* recompute hdr.ipv4's checksum (routed) */
    bit<1>         upd_inner_ipv4;  /* recompute hdr.inner_ipv4's (routed, ECN) */
    vrf_t          vrf;
    mac_addr_t     gw_diff;         /* customer dmac XOR gateway MAC: 0 = routed */
    tunnel_t       rx_tunnel;
    bit<1>         use_flow_id;
    nve_customer_t c;
    mac_learn_digest_t learn;       /* the digest's contents (L2Learn) */
    ipv4_addr_t    arp_ip_diff;     /* ArpProxy: spa XOR tpa (0: gratuitous) */
    mac_addr_t     arp_bound_mac;   /* ArpProxy: the bound MAC (not in NVE_TNA_ARP_XOR) */
    mac_addr_t     arp_mac_diff;    /* ArpProxy: source MAC XOR it (0: the owner) */
    /* underlay */
    nexthop_t      nexthop;
    bit<1>         is_ecmp;
    ecmp_group_t   ecmp_group;
    bit<16>        ecmp_bucket;     /* the flow hash's low four bits (Underlay); the
                                     * upper twelve are never written (0) */
    bit<8>         zero8;           /* never written: 0 (hash input) */
    /* punt (mirror header contents) */
    MirrorId_t     mirror_session;
    nve_pkt_type_t punt_type;       /* the rest of the mirror header: hdr.bridge */
}

struct nve_eg_meta_t {
    /* pkt_length minus these is a length egress writes or tests (one subtraction,
     * one stage): bytes in front of the customer frame (bridged headers, FCS) less
     * the outer headers' bytes, set by the parser per bridged layout (16-bit modular). */
    bit<16>        adj_v4;          /* -> outer IPv4 total length */
    bit<16>        adj_mtu_v4;      /* -> outer IPv4 length - 1 (Mtu) */
    bit<16>        adj_mtu_v6;      /* -> outer IPv6 packet length - 1 (Mtu) */
    bit<16>        adj_v6_payload;  /* -> outer IPv6 payload length */
    drop_reason_t  drop_reason;     /* Replication, the ingress-port prune */
    drop_reason_t  drop_late;       /* Mtu or AccessEgress (exclusive), after those */
    bit<1>         bum_tunnel;      /* a BUM copy toward a remote NVE (Replication), */
    bit<1>         use_flow_id;     /* of that copy's remote NVE */
    bit<1>         upd_encap_ipv4;
    bit<8>         tos4;            /* Encap: outer IPv4 DSCP/ECN */
    bit<32>        tc6;             /* Encap: outer IPv6 traffic class << 20 */
#ifdef NVE_TNA_PCP
    bit<1>         map_all;         /* Encap: pcp_dscp's DSCP for every frame / */
    bit<1>         map_hit;         /* for a frame without IP */
#endif
    bit<2> zero2; bit<20> zero20; bit<4> zero4;  /* never written: 0 (hash inputs) */
    bit<16>        outer_len_m1;    /* Mtu: outer IP packet length - 1 */
    bit<16>        mtu_room;        /* Mtu: MTU - (outer length - 1), saturating: 0 when
                                     * too long (PuntEgress and Encap test it too) */
    MirrorId_t     mirror_session;
    nve_pkt_type_t punt_type;       /* the rest of the mirror header: hdr.bridge */
}

/* The parameters of every feature control (one gress each). */
#define NVE_IG_PARAMS inout nve_headers_t hdr, \
                      inout nve_ig_meta_t meta, \
                      in ingress_intrinsic_metadata_t ig_intr_md, \
                      inout ingress_intrinsic_metadata_for_deparser_t ig_dprsr_md, \
                      inout ingress_intrinsic_metadata_for_tm_t ig_tm_md
#define NVE_IG_ARGS hdr, meta, ig_intr_md, ig_dprsr_md, ig_tm_md
#define NVE_EG_PARAMS inout nve_headers_t hdr, \
                      inout nve_eg_meta_t meta, \
                      in egress_intrinsic_metadata_t eg_intr_md, \
                      inout egress_intrinsic_metadata_for_deparser_t eg_dprsr_md
#define NVE_EG_ARGS hdr, meta, eg_intr_md, eg_dprsr_md

#endif
