/* tna_parser.p4: the ingress and egress parsers (TNA).
 *
 * Ingress: the same parse graph and the same RFC 7637 rules as p4src/include/parser.p4
 * (NVGRE only when the first GRE word is exactly C=0, reserved0=0, K=1, S=0, version 0,
 * protocol 0x6558; an outer fragment stops before GRE; the parser never rejects).
 * TNA additions: the intrinsic metadata and the 64-bit port metadata come first, and
 * the first IPv4 header's checksum is verified here with the Checksum extern (v1model
 * does it in a separate verify_checksum control), and so is the inner IPv4 header's,
 * with a second instance (v1model evaluates that one in Decap).
 *
 * Egress: the ingress deparser emitted either nve_bridge_h + the frame (normal
 * copies; after decapsulation the customer frame is now the outermost Ethernet), or
 * the mirror engine prepended nve_mirror_h to a punted copy. */
#ifndef NVE_TNA_PARSER_P4
#define NVE_TNA_PARSER_P4

#include "tna_headers.p4"

parser NveIngressParser(packet_in pkt,
                        out nve_headers_t hdr,
                        out nve_ig_meta_t meta,
                        out ingress_intrinsic_metadata_t ig_intr_md) {

    Checksum() ipv4_csum;
    Checksum() inner_ipv4_csum;

    state start {
        pkt.extract(ig_intr_md);
        /* Port metadata (PORT_METADATA_SIZE bits) is not used: skip it. */
        pkt.advance(PORT_METADATA_SIZE);
        /* TNA leaves metadata uninitialised: give every flag a defined value. */
        meta.pkt.extra_tag = 1w0;
        meta.pkt.ip_frag = 1w0;
        meta.tna.ipv4_csum_ok = true;
        meta.tna.inner_ipv4_csum_ok = true;
        meta.tna.punt_pkt_type = PKT_TYPE_PUNT;
        meta.tna.punt_pad = 7w0;
        meta.tna.punt_reason = PUNT_NONE;
        meta.fwd.drop_reason = DROP_NONE;
        transition select(ig_intr_md.ingress_port) {
            TNA_CPU_PORT: parse_packet_out;
            default:      parse_ethernet;
        }
    }

    state parse_packet_out {
        pkt.extract(hdr.packet_out);
        transition accept;
    }

    state parse_ethernet {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.ether_type) {
            ETHERTYPE_VLAN: parse_vlan;
            ETHERTYPE_QINQ: parse_extra_tag;
            ETHERTYPE_IPV4: parse_ipv4;
            ETHERTYPE_IPV6: parse_ipv6;
            ETHERTYPE_ARP:  parse_arp;
            default:        accept;
        }
    }

    state parse_vlan {
        pkt.extract(hdr.vlan);
        transition select(hdr.vlan.ether_type) {
            ETHERTYPE_VLAN: parse_extra_tag;
            ETHERTYPE_QINQ: parse_extra_tag;
            ETHERTYPE_IPV4: parse_ipv4;
            ETHERTYPE_IPV6: parse_ipv6;
            ETHERTYPE_ARP:  parse_arp;
            default:        accept;
        }
    }

    state parse_extra_tag {
        meta.pkt.extra_tag = 1w1;
        transition accept;
    }

    state parse_arp {
        pkt.extract(hdr.arp);
        transition accept;
    }

    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
        ipv4_csum.add(hdr.ipv4);
        transition select(hdr.ipv4.ihl) {
            4w5:         parse_ipv4_no_options;
            4w6 .. 4w15: parse_ipv4_options;
            default:     accept;
        }
    }

    /* bf-p4c expands the varbit extract into one state per IHL value. */
    state parse_ipv4_options {
        pkt.extract(hdr.ipv4_options, ((bit<32>)hdr.ipv4.ihl - 32w5) << 5);
        ipv4_csum.add(hdr.ipv4_options);
        transition parse_ipv4_body;
    }

    state parse_ipv4_no_options {
        transition parse_ipv4_body;
    }

    state parse_ipv4_body {
        meta.tna.ipv4_csum_ok = ipv4_csum.verify();
        transition select(hdr.ipv4.flags[0:0], hdr.ipv4.frag_offset, hdr.ipv4.protocol) {
            (1w0, 13w0, IP_PROTO_GRE): parse_gre;
            (1w0, 13w0, IP_PROTO_TCP): parse_l4;
            (1w0, 13w0, IP_PROTO_UDP): parse_l4;
            (1w0, 13w0, _):            accept;
            default:                   parse_ip_fragment;
        }
    }

    state parse_ip_fragment {
        meta.pkt.ip_frag = 1w1;
        transition accept;
    }

    state parse_ipv6 {
        pkt.extract(hdr.ipv6);
        transition select(hdr.ipv6.next_hdr) {
            IP_PROTO_GRE:       parse_gre;
            IP_PROTO_TCP:       parse_l4;
            IP_PROTO_UDP:       parse_l4;
            IP_PROTO_ICMPV6:    parse_icmpv6;
            IP_PROTO_IPV6_FRAG: parse_ip_fragment;
            default:            accept;
        }
    }

    state parse_icmpv6 {
        pkt.extract(hdr.icmpv6);
        transition accept;
    }

    state parse_l4 {
        pkt.extract(hdr.l4);
        transition accept;
    }

    state parse_gre {
        pkt.extract(hdr.gre);
        transition select(hdr.gre.c, hdr.gre.r0, hdr.gre.k, hdr.gre.s,
                          hdr.gre.reserved0, hdr.gre.version, hdr.gre.protocol) {
            (1w0, 1w0, 1w1, 1w0, 9w0, 3w0, ETHERTYPE_TEB): parse_nvgre;
            default: accept;
        }
    }

    state parse_nvgre {
        pkt.extract(hdr.nvgre);
        transition parse_inner_ethernet;
    }

    state parse_inner_ethernet {
        pkt.extract(hdr.inner_ethernet);
        transition select(hdr.inner_ethernet.ether_type) {
            ETHERTYPE_VLAN: parse_inner_vlan;
            ETHERTYPE_QINQ: parse_inner_vlan;
            ETHERTYPE_IPV4: parse_inner_ipv4;
            ETHERTYPE_IPV6: parse_inner_ipv6;
            ETHERTYPE_ARP:  parse_inner_arp;
            default:        accept;
        }
    }

    state parse_inner_vlan {
        pkt.extract(hdr.inner_vlan);
        transition accept;
    }

    state parse_inner_arp {
        pkt.extract(hdr.inner_arp);
        transition accept;
    }

    state parse_inner_ipv4 {
        pkt.extract(hdr.inner_ipv4);
        inner_ipv4_csum.add(hdr.inner_ipv4);
        transition select(hdr.inner_ipv4.ihl) {
            4w5:         parse_inner_ipv4_body;
            4w6 .. 4w15: parse_inner_ipv4_options;
            default:     accept;
        }
    }

    state parse_inner_ipv4_options {
        pkt.extract(hdr.inner_ipv4_options, ((bit<32>)hdr.inner_ipv4.ihl - 32w5) << 5);
        inner_ipv4_csum.add(hdr.inner_ipv4_options);
        transition parse_inner_ipv4_body;
    }

    state parse_inner_ipv4_body {
        meta.tna.inner_ipv4_csum_ok = inner_ipv4_csum.verify();
        transition select(hdr.inner_ipv4.flags[0:0], hdr.inner_ipv4.frag_offset,
                          hdr.inner_ipv4.protocol) {
            (1w0, 13w0, IP_PROTO_TCP): parse_inner_l4;
            (1w0, 13w0, IP_PROTO_UDP): parse_inner_l4;
            default:                   accept;
        }
    }

    state parse_inner_ipv6 {
        pkt.extract(hdr.inner_ipv6);
        transition select(hdr.inner_ipv6.next_hdr) {
            IP_PROTO_TCP: parse_inner_l4;
            IP_PROTO_UDP: parse_inner_l4;
            default:      accept;
        }
    }

    state parse_inner_l4 {
        pkt.extract(hdr.inner_l4);
        transition accept;
    }
}

/* Egress parses only what egress reads or rewrites: the bridged header, the customer
 * Ethernet header, a tag slot, and the customer IP header (DSCP/ECN for the outer
 * header). Everything behind it is payload and leaves unchanged. */
parser NveEgressParser(packet_in pkt,
                       out nve_headers_t hdr,
                       out nve_eg_meta_t meta,
                       out egress_intrinsic_metadata_t eg_intr_md) {

    state start {
        pkt.extract(eg_intr_md);
        meta.tna.is_punt = 1w0;
        meta.tna.upd_encap_ipv4 = 1w0;
        meta.tna.punt_reason = PUNT_NONE;
        meta.tna.punt_pkt_type = PKT_TYPE_PUNT;
        meta.tna.punt_pad = 7w0;
        meta.fwd.drop_reason = DROP_NONE;
        meta.fwd.flood = 1w0;
        meta.tun.flow_id_en = 1w0;
        transition select(pkt.lookahead<nve_pkt_type_t>()) {
            PKT_TYPE_PUNT: parse_mirror;
            default:       parse_bridge;
        }
    }

    state parse_mirror {
        pkt.extract(hdr.mirror);
        meta.tna.is_punt = 1w1;
        transition accept;
    }

    state parse_bridge {
        pkt.extract(hdr.bridge);
        meta.tna.ingress_port = hdr.bridge.ingress_port;
        meta.fwd.from_cpu = hdr.bridge.from_cpu;
        meta.fwd.decapped = hdr.bridge.decapped;
        meta.fwd.routed = hdr.bridge.routed;
        meta.fwd.reflect = hdr.bridge.reflect;
        meta.fwd.to_tunnel = hdr.bridge.to_tunnel;
        meta.fwd.vsi = hdr.bridge.vsi;
        meta.fwd.vsid = hdr.bridge.vsid;
        meta.fwd.tunnel = hdr.bridge.tunnel;
        meta.fwd.flow_id = hdr.bridge.flow_id;
        meta.c.is_ipv4 = hdr.bridge.is_ipv4;
        meta.c.is_ipv6 = hdr.bridge.is_ipv6;
        meta.c.df = hdr.bridge.df;
        meta.tun.pa_is_v6 = hdr.bridge.pa_is_v6;
        meta.tun.gre_key = hdr.bridge.gre_key;
        meta.tun.src_pa_v4 = hdr.bridge.src_pa[31:0];
        meta.tun.dst_pa_v4 = hdr.bridge.dst_pa[31:0];
        meta.tun.src_pa_v6 = hdr.bridge.src_pa;
        meta.tun.dst_pa_v6 = hdr.bridge.dst_pa;
        meta.tun.nh_smac = hdr.bridge.nh_smac;
        meta.tun.nh_dmac = hdr.bridge.nh_dmac;
        meta.tun.nh_vid = hdr.bridge.nh_vid;
        transition select(hdr.bridge.from_cpu) {
            1w1:     accept;            /* packet-out: sent as is */
            default: parse_ethernet;
        }
    }

    state parse_ethernet {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.ether_type) {
            ETHERTYPE_IPV4: parse_ipv4;
            ETHERTYPE_IPV6: parse_ipv6;
            default:        accept;
        }
    }

    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
        transition accept;
    }

    state parse_ipv6 {
        pkt.extract(hdr.ipv6);
        transition accept;
    }
}

#endif
