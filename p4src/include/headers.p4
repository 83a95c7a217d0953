/* headers.p4: header types, the parsed-headers struct and the metadata struct.
 *
 * Header instance layout (the deparser emits them in this order):
 *   packet_in                         (to the CPU port only)
 *   encap_*                           (outer headers, built in egress)
 *   ethernet, vlan, arp, ipv4, ...    (the frame as received: on an access port the
 *                                      customer frame; on a network port the underlay
 *                                      headers, then gre/nvgre)
 *   inner_*                           (the customer frame inside NVGRE)
 * Encapsulation therefore never copies the customer headers: it validates encap_*
 * in front of them; decapsulation invalidates the underlay headers in front of inner_*.
 */
#ifndef NVE_HEADERS_P4
#define NVE_HEADERS_P4

#include "constants.p4"
#include "drop_reasons.p4"

typedef bit<48>  mac_addr_t;
typedef bit<32>  ipv4_addr_t;
typedef bit<128> ipv6_addr_t;
typedef bit<9>   port_t;
typedef bit<12>  vlan_id_t;
typedef bit<24>  vsid_t;
typedef bit<16>  vsi_t;       /* virtual subnet index, allocated by the controller */
typedef bit<16>  vrf_t;       /* tenant routing domain, 0 = none */
typedef bit<16>  tunnel_t;    /* remote NVE index (also egress_rid of BUM copies) */
typedef bit<16>  nexthop_t;
typedef bit<16>  ecmp_group_t;

@controller_header("packet_in")
header packet_in_h {
    bit<9>  ingress_port;
    bit<8>  reason;
    bit<24> vsid;
    bit<7>  _pad;
}

@controller_header("packet_out")
header packet_out_h {
    bit<9> egress_port;
    bit<7> _pad;
}

header ethernet_h {
    mac_addr_t dst_addr;
    mac_addr_t src_addr;
    bit<16>    ether_type;
}

header vlan_h {
    bit<3>    pcp;
    bit<1>    dei;
    vlan_id_t vid;
    bit<16>   ether_type;
}

header arp_h {
    bit<16>     htype;
    bit<16>     ptype;
    bit<8>      hlen;
    bit<8>      plen;
    bit<16>     oper;
    mac_addr_t  sha;
    ipv4_addr_t spa;
    mac_addr_t  tha;
    ipv4_addr_t tpa;
}

header ipv4_h {
    bit<4>      version;
    bit<4>      ihl;
    bit<6>      dscp;
    bit<2>      ecn;
    bit<16>     total_len;
    bit<16>     identification;
    bit<3>      flags;          /* reserved, DF, MF */
    bit<13>     frag_offset;
    bit<8>      ttl;
    bit<8>      protocol;
    bit<16>     hdr_checksum;
    ipv4_addr_t src_addr;
    ipv4_addr_t dst_addr;
}

/* IPv4 options (IHL > 5): one variable-size field of (IHL - 5) * 32 bits, kept as is
 * and included in the header checksum. */
header ipv4_options_h {
    varbit<320> data;
}

header ipv6_h {
    bit<4>      version;
    bit<6>      dscp;           /* traffic class, upper 6 bits */
    bit<2>      ecn;            /* traffic class, lower 2 bits */
    bit<20>     flow_label;
    bit<16>     payload_len;
    bit<8>      next_hdr;
    bit<8>      hop_limit;
    ipv6_addr_t src_addr;
    ipv6_addr_t dst_addr;
}

/* An IPv6 Hop-by-Hop or Destination Options header (RFC 8200 section 4.3, 4.6): the
 * first 8 bytes; hdr_ext_len counts the 8-byte units after them, which the parser
 * extracts into ipv6_ext_more_h (at most 3 units: parser.p4 stops at longer ones). */
header ipv6_ext_h {
    bit<8>  next_hdr;
    bit<8>  hdr_ext_len;
    bit<48> data;
}

header ipv6_ext_more_h {
    varbit<192> data;       /* (hdr_ext_len) * 64 bits, at most 3 * 64 */
}

header icmpv6_h {
    bit<8>  msg_type;
    bit<8>  code;
    bit<16> checksum;
}

/* The first four bytes of TCP and UDP: the ports are all the pipeline needs. */
header l4_ports_h {
    bit<16> src_port;
    bit<16> dst_port;
}

/* GRE base header as RFC 2784 section 2 with the RFC 2890 K and S bits. */
header gre_h {
    bit<1>  c;              /* checksum present: 0 for NVGRE */
    bit<1>  r0;             /* reserved0 bit 1 (RFC 1701 routing present): 0 */
    bit<1>  k;              /* key present: 1 for NVGRE */
    bit<1>  s;              /* sequence number present: 0 for NVGRE */
    bit<9>  reserved0;      /* reserved0 bits 4..12: 0 */
    bit<3>  version;        /* 0 */
    bit<16> protocol;       /* 0x6558 for NVGRE */
}

/* The 32-bit GRE key as NVGRE uses it (RFC 7637 section 3.2). */
header nvgre_h {
    vsid_t  vsid;
    bit<8>  flow_id;
}

struct headers_t {
    packet_in_h    packet_in;
    packet_out_h   packet_out;

    ethernet_h     encap_ethernet;
    vlan_h         encap_vlan;
    ipv4_h         encap_ipv4;
    ipv6_h         encap_ipv6;
    gre_h          encap_gre;
    nvgre_h        encap_nvgre;

    ethernet_h     ethernet;
    vlan_h         vlan;
    arp_h          arp;
    ipv4_h         ipv4;
    ipv4_options_h ipv4_options;
    ipv6_h         ipv6;
    ipv6_ext_h     ipv6_ext0;       /* Hop-by-Hop / Destination Options (parser.p4) */
    ipv6_ext_more_h ipv6_ext0_more;
    ipv6_ext_h     ipv6_ext1;       /* Destination Options */
    ipv6_ext_more_h ipv6_ext1_more;
    icmpv6_h       icmpv6;
    l4_ports_h     l4;
    gre_h          gre;
    nvgre_h        nvgre;

    ethernet_h     inner_ethernet;
    vlan_h         inner_vlan;
    arp_h          inner_arp;
    ipv4_h         inner_ipv4;
    ipv4_options_h inner_ipv4_options;
    ipv6_h         inner_ipv6;
    l4_ports_h     inner_l4;
}

/* The MAC learning digest (P4Info digest name: mac_learn_digest_t). */
struct mac_learn_digest_t {
    vsid_t     vsid;
    mac_addr_t mac;
    port_t     port;
}

/* Facts the parser found that are not visible as header validity. */
struct parse_meta_t {
    bit<1> extra_tag;   /* 802.1ad S-tag, or a second tag after the first 802.1Q tag */
    bit<1> ip_frag;     /* the first IP header is a fragment (IPv4 MF/offset, IPv6 Fragment) */
    bit<16> ipv6_ext_bytes; /* bytes of ipv6_ext0/1 (set by OuterChecks, network ports) */
}

/* The customer frame, whichever header set carries it (ethernet... on an access port,
 * inner_... after decapsulation). Copied once so later stages never read a header
 * that may be invalid. */
struct customer_meta_t {
    bit<1>      tagged;     /* arrived with an 802.1Q tag (access ports) */
    vlan_id_t   vid;
    bit<3>      pcp;        /* its priority: the tag's (also a priority tag's); untagged: the
                             * access port's default (0 unless set); decapsulated: from the
                             * outer DSCP (NveIngress.decap.dscp_pcp), 0 without an entry */
    bit<1>      pcp_mapped; /* decapsulated: pcp came from a dscp_pcp entry */
    mac_addr_t  dmac;
    mac_addr_t  smac;
    bit<16>     ether_type; /* after the tag */
    bit<1>      is_ipv4;
    bit<1>      is_ipv6;
    bit<1>      ipv4_csum_bad; /* IPv4 header checksum wrong (only with is_ipv4; Routing drops) */
    ipv4_addr_t ipv4_src;
    ipv4_addr_t ipv4_dst;
    ipv6_addr_t ipv6_src;
    ipv6_addr_t ipv6_dst;
    bit<8>      proto;      /* IPv4 protocol / IPv6 next header */
    bit<8>      ttl;        /* TTL / hop limit */
    bit<1>      df;         /* IPv4 DF */
    bit<16>     src_port;   /* TCP/UDP, 0 if none */
    bit<16>     dst_port;
    bit<16>     frame_len;  /* bytes, without tag and FCS */
}

/* Forwarding decisions taken in ingress, carried to egress. */
struct forward_meta_t {
    bit<2>        port_role;
    bit<1>        from_cpu;
    bit<1>        decapped;     /* received from the network and decapsulated */
    bit<1>        routed;
    bit<1>        reflect;      /* ARP proxy reply: leaves by the ingress port */
    bit<1>        flood;
    bit<1>        to_tunnel;    /* encapsulate toward a remote NVE */
    bit<1>        l3_rewritten; /* customer IPv4 header changed: recompute its checksum */
    vsi_t         vsi;
    vsid_t        vsid;
    vrf_t         vrf;
    mac_addr_t    gw_mac;
    tunnel_t      tunnel;       /* remote NVE to encapsulate toward */
    tunnel_t      rx_tunnel;    /* remote NVE a decapsulated frame came from */
    bit<8>        flow_id;      /* FlowID computed from the customer frame */
    drop_reason_t drop_reason;
}

/* Parameters of the tunnel a frame is encapsulated into (unicast: from ingress;
 * BUM copies: from NveEgress.replica.tunnel). */
struct tunnel_meta_t {
    bit<1>      pa_is_v6;
    ipv4_addr_t src_pa_v4;
    ipv4_addr_t dst_pa_v4;
    ipv6_addr_t src_pa_v6;
    ipv6_addr_t dst_pa_v6;
    bit<1>      use_flow_id; /* the remote NVE takes a FlowID in the GRE key */
    bit<32>     gre_key;    /* the GRE key to send */
    mac_addr_t  nh_smac;
    mac_addr_t  nh_dmac;
    vlan_id_t   nh_vid;
}

struct underlay_meta_t {
    nexthop_t    nexthop;
    bit<1>       is_ecmp;
    ecmp_group_t ecmp_group;
    bit<16>      ecmp_size;
    bit<16>      ecmp_bucket;
}

struct metadata_t {
    parse_meta_t       pkt;
    customer_meta_t    c;
    forward_meta_t     fwd;
    tunnel_meta_t      tun;
    underlay_meta_t    ul;
    mac_learn_digest_t learn;
    /* Egress: the punt Mtu asks PuntEgress for (PUNT_NONE: none); not preserved. */
    bit<8>  egress_punt;
    /* Preserved in punt clones (field list FL_PUNT = 1): the packet_in contents. */
    @field_list(1)
    bit<8>  punt_reason;
    @field_list(1)
    bit<9>  punt_port;
    @field_list(1)
    bit<24> punt_vsid;
}

#endif
