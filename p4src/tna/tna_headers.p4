/* tna_headers.p4: what TNA needs beyond p4src/include/headers.p4.
 *
 * The header TYPES, the digest struct and the metadata sub-structs are the shared
 * ones. TNA differs in three ways that need their own declarations here:
 *   - ingress and egress are separate programs joined only by the traffic manager,
 *     so egress gets what it needs from ingress in a bridged header (nve_bridge_h)
 *     and punted copies carry their packet_in contents in a mirror header
 *     (nve_mirror_h); both start with a packet-type byte the egress parser selects on;
 *   - the header struct therefore has two more instances in front (nve_headers_t);
 *   - the shared metadata_t carries v1model @field_list annotations for
 *     clone_preserving_field_list; TNA preserves fields by emitting them in the mirror
 *     header instead, so the metadata structs are assembled here from the shared
 *     sub-structs.
 */
#ifndef NVE_TNA_HEADERS_P4
#define NVE_TNA_HEADERS_P4

#include "headers.p4"

/* The CPU port. Tofino-1 PCIe CPU port: 192 on 2-pipe parts, 320 on 4-pipe parts;
 * an Ethernet CPU port (64..67 on pipe 0) also works. The shared CPU_PORT (255) is the
 * v1model/bmv2 convention and is not a valid Tofino device port. */
#ifndef NVE_TNA_CPU_PORT
#define NVE_TNA_CPU_PORT 192
#endif
const PortId_t TNA_CPU_PORT = NVE_TNA_CPU_PORT;

/* First byte of every packet the ingress deparser hands to the traffic manager. */
typedef bit<8> nve_pkt_type_t;
const nve_pkt_type_t PKT_TYPE_BRIDGED = 8w1;   /* normal path: nve_bridge_h follows */
const nve_pkt_type_t PKT_TYPE_PUNT     = 8w2;   /* mirrored copy: nve_mirror_h follows */

/* Mirror types (ig/eg_intr_md_for_dprsr.mirror_type) and digest types. */
const MirrorType_t MIRROR_TYPE_PUNT = 3w1;
const DigestType_t DIGEST_TYPE_LEARN = 3w1;

/* eg_intr_md.pkt_length counts the bridged header and the Ethernet FCS; the customer
 * frame length (as docs/pipeline.md defines it: no tag, no FCS) is what remains. */
const bit<16> NVE_BRIDGE_BYTES = 16w63;
const bit<16> ETHERNET_FCS_BYTES = 16w4;

/* Ingress -> egress. Every field egress reads; byte aligned (TNA requires bridged
 * headers to be a whole number of bytes). 63 bytes. The customer frame length is
 * not bridged: TNA ingress does not know the packet length; egress derives it from
 * eg_intr_md.pkt_length. PAs are carried in 128-bit
 * fields for both families (IPv4 in the low 32 bits) so that one header serves both. */
header nve_bridge_h {
    nve_pkt_type_t pkt_type;
    bit<7>      _pad0;
    PortId_t    ingress_port;
    bit<1>      from_cpu;
    bit<1>      decapped;
    bit<1>      routed;
    bit<1>      reflect;
    bit<1>      to_tunnel;
    bit<1>      is_ipv4;
    bit<1>      is_ipv6;
    bit<1>      df;
    vsi_t       vsi;
    vsid_t      vsid;
    tunnel_t    tunnel;
    bit<8>      flow_id;
    bit<7>      _pad1;
    bit<1>      pa_is_v6;
    bit<32>     gre_key;
    ipv6_addr_t src_pa;
    ipv6_addr_t dst_pa;
    mac_addr_t  nh_smac;
    mac_addr_t  nh_dmac;
    bit<4>      _pad2;
    vlan_id_t   nh_vid;
}

/* Prepended by the mirror engine to a punted copy: the packet_in contents. */
header nve_mirror_h {
    nve_pkt_type_t pkt_type;
    bit<7>   _pad0;
    PortId_t ingress_port;
    bit<8>   reason;
    vsid_t   vsid;
}

/* The same header instances, names and deparse order as headers_t, plus the two
 * TNA-only instances in front. Used by both gresses. */
struct nve_headers_t {
    nve_bridge_h   bridge;
    nve_mirror_h   mirror;

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

/* Facts only TNA needs. */
struct tna_ig_meta_t {
    bool       ipv4_csum_ok;   /* hdr.ipv4 checksum correct (ingress parser): the outer
                                * header on a network port, the customer's on an access port */
    bool       inner_ipv4_csum_ok; /* hdr.inner_ipv4 checksum correct (ingress parser) */
    bit<1>     upd_ipv4;       /* recompute the checksum of hdr.ipv4 (routed) */
    bit<1>     upd_inner_ipv4; /* recompute the checksum of hdr.inner_ipv4 */
    mac_addr_t gw_diff;        /* customer dmac XOR subnet gateway MAC: 0 = to the gateway */
    bit<16>    ecmp_mask;      /* set_ecmp: size - 1 (bucket = hash & mask) */
    MirrorId_t mirror_session;
    /* nve_mirror_h contents: the mirror engine takes them from metadata fields */
    nve_pkt_type_t punt_pkt_type;
    bit<7>     punt_pad;
    PortId_t   punt_port;
    bit<8>     punt_reason;
    bit<8>     meter_color;
}

struct nve_ig_meta_t {
    parse_meta_t       pkt;
    customer_meta_t    c;
    forward_meta_t     fwd;
    tunnel_meta_t      tun;
    underlay_meta_t    ul;
    mac_learn_digest_t learn;
    tna_ig_meta_t      tna;
}

struct tna_eg_meta_t {
    bit<1>     is_punt;        /* this copy is a mirrored punt (nve_mirror_h parsed) */
    PortId_t   ingress_port;
    bit<1>     upd_encap_ipv4; /* compute the outer IPv4 checksum */
    MirrorId_t mirror_session;
    nve_pkt_type_t punt_pkt_type;
    bit<7>     punt_pad;
    bit<8>     punt_reason;
    bit<8>     meter_color;
}

struct nve_eg_meta_t {
    customer_meta_t c;
    forward_meta_t  fwd;
    tunnel_meta_t   tun;
    tna_eg_meta_t   tna;
}

#endif
