/* parser.p4 (TNA): NveIngressParser and NveEgressParser.
 * Ingress: the parse graph and RFC 7637 rules of p4src/include/parser.p4 (NVGRE when
 * C=0, R=0, K=1, S=0, reserved bits 4-5 zero (6-12 ignored, RFC 2784), version 0,
 * protocol 0x6558; an outer fragment stops before GRE; never rejects). Tofino adds port
 * metadata, Checksum-verified IPv4 (one verdict each), L4 ports copied for the FlowID
 * hash; metadata starts at zero (@pa_auto_init_metadata).
 * Egress: what the ingress deparser emitted (nve_bridge_h, for unicast tunnel frames
 * nve_tun4_h or nve_tun6_h and nve_nh_h, then the frame: after decapsulation the
 * customer frame is the outermost Ethernet), or a punted copy behind nve_mirror_h. */
#ifndef NVE_TNA_PARSER_P4
#define NVE_TNA_PARSER_P4

parser NveIngressParser(packet_in pkt,
                        out nve_headers_t hdr,
                        out nve_ig_meta_t meta,
                        out ingress_intrinsic_metadata_t ig_intr_md) {

    Checksum() ipv4_csum;
    Checksum() inner_ipv4_csum;

    state start {
        pkt.extract(ig_intr_md);
        pkt.advance(PORT_METADATA_SIZE);
        transition select(ig_intr_md.ingress_port) {
            TNA_CPU_PORT: parse_packet_out;
            default:      parse_ethernet;
        }
    }

    state parse_packet_out { pkt.extract(hdr.packet_out); transition accept; }

    state parse_ethernet {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.ether_type) {
            ETHERTYPE_VLAN: parse_vlan;
            ETHERTYPE_QINQ: parse_extra_tag;
            ETHERTYPE_IPV4: check_ipv4;
            ETHERTYPE_IPV6: parse_ipv6;
            ETHERTYPE_ARP:  parse_arp;
            default:        accept;
        }
    }

    state parse_vlan {    /* AccessIngress keys on (tagged, vid): VID 0 is a priority tag */
        pkt.extract(hdr.vlan);
        transition select(hdr.vlan.vid) {
            12w0:    parse_after_vlan;
            default: parse_vlan_id;
        }
    }

    state parse_vlan_id { meta.c.tagged = 1w1; meta.c.vid = hdr.vlan.vid; transition parse_after_vlan; }

    state parse_after_vlan {
        transition select(hdr.vlan.ether_type) {
            ETHERTYPE_VLAN: parse_extra_tag;
            ETHERTYPE_QINQ: parse_extra_tag;
            ETHERTYPE_IPV4: check_ipv4;
            ETHERTYPE_IPV6: parse_ipv6;
            ETHERTYPE_ARP:  parse_arp;
            default:        accept;
        }
    }

    /* IPv4 with options (IHL 6..15) is not extracted (320 bits of PHV per header set;
     * advance() would cut them out): payload, forwarded as an opaque frame (docs/tna.md). */
    state check_ipv4 {
        transition select(pkt.lookahead<bit<8>>()) {
            8w0x00 &&& 8w0x0A: parse_ipv4;     /* IHL 0, 1, 4, 5 */
            8w0x00 &&& 8w0x0C: parse_ipv4;     /* IHL 0..3; else 6..15: options */
            default:           accept;
        }
    }

    state parse_extra_tag {
        meta.extra_tag = 1w1;
        transition accept;
    }

    state parse_arp { pkt.extract(hdr.arp); transition accept; }

    state parse_ipv4 {
        pkt.extract(hdr.ipv4);
        ipv4_csum.add(hdr.ipv4);
        transition select(hdr.ipv4.ihl) {
            4w5:         parse_ipv4_body;
            default:     accept;          /* IHL < 5: malformed, nothing more parsed */
        }
    }

    state parse_ipv4_body {
        meta.ipv4_csum_ok = ipv4_csum.verify();
        transition select(hdr.ipv4.flags[0:0], hdr.ipv4.frag_offset, hdr.ipv4.protocol) {
            (1w0, 13w0, IP_PROTO_GRE): parse_gre;
            (1w0, 13w0, IP_PROTO_TCP): parse_l4;
            (1w0, 13w0, IP_PROTO_UDP): parse_l4;
            (1w0, 13w0, IP_PROTO_ICMP): parse_icmp;  /* PUNT_GATEWAY (PuntIngress) */
            (1w0, 13w0, _):            accept;
            default:                   parse_ip_fragment;
        }
    }

    state parse_ip_fragment { meta.ip_frag = 1w1; transition accept; }
    state parse_icmp { meta.icmp = 1w1; transition accept; }  /* not extracted */

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
        meta.icmp = 1w1;
        transition accept;
    }

    state parse_l4 {
        pkt.extract(hdr.l4);
        meta.l4_src = hdr.l4.src_port;
        meta.l4_dst = hdr.l4.dst_port;
        transition accept;
    }

    state parse_gre {
        pkt.extract(hdr.gre);
        transition select(hdr.gre.c, hdr.gre.r0, hdr.gre.k, hdr.gre.s,
                          hdr.gre.reserved0, hdr.gre.version, hdr.gre.protocol) {
            (1w0, 1w0, 1w1, 1w0, 9w0 &&& GRE_RESERVED0_MUST_BE_ZERO, 3w0, ETHERTYPE_TEB): parse_nvgre;
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
            ETHERTYPE_IPV4: check_inner_ipv4;
            ETHERTYPE_IPV6: parse_inner_ipv6;
            ETHERTYPE_ARP:  parse_inner_arp;
            default:        accept;
        }
    }

    state parse_inner_vlan { pkt.extract(hdr.inner_vlan); transition accept; }

    state parse_inner_arp { pkt.extract(hdr.inner_arp); transition accept; }

    state parse_inner_ipv4 {
        pkt.extract(hdr.inner_ipv4);
        inner_ipv4_csum.add(hdr.inner_ipv4);
        transition select(hdr.inner_ipv4.ihl) {
            4w5:         parse_inner_ipv4_body;
            default:     accept;
        }
    }

    state check_inner_ipv4 {   /* as check_ipv4 */
        transition select(pkt.lookahead<bit<8>>()) {
            8w0x00 &&& 8w0x0A: parse_inner_ipv4;
            8w0x00 &&& 8w0x0C: parse_inner_ipv4;
            default:           accept;
        }
    }

    state parse_inner_ipv4_body {
        meta.inner_ipv4_csum_ok = inner_ipv4_csum.verify();
        transition select(hdr.inner_ipv4.flags[0:0], hdr.inner_ipv4.frag_offset,
                          hdr.inner_ipv4.protocol) {
            (1w0, 13w0, IP_PROTO_TCP): parse_inner_l4;
            (1w0, 13w0, IP_PROTO_UDP): parse_inner_l4;
            (1w0, 13w0, IP_PROTO_ICMP): parse_inner_icmp;
            default:                   accept;
        }
    }

    state parse_inner_ipv6 {
        pkt.extract(hdr.inner_ipv6);
        transition select(hdr.inner_ipv6.next_hdr) {
            IP_PROTO_TCP:    parse_inner_l4;
            IP_PROTO_UDP:    parse_inner_l4;
            IP_PROTO_ICMPV6: parse_inner_icmp;
            default:         accept;
        }
    }

    /* The customer's ICMP after decapsulation (PUNT_GATEWAY from network ports). */
    state parse_inner_icmp { meta.icmp = 1w1; transition accept; }

    state parse_inner_l4 {
        pkt.extract(hdr.inner_l4);
        transition accept;
    }
}

/* The lengths egress derives from pkt_length (nve_eg_meta_t), `front` being the bytes
 * in front of the customer frame: one subtraction each in the control. */
#define NVE_EG_ADJ(front) \
    meta.adj_v4 = (front) - (GRE_KEY_HEADER_BYTES + IPV4_HEADER_BYTES); \
    meta.adj_mtu_v4 = (front) - (GRE_KEY_HEADER_BYTES + IPV4_HEADER_BYTES) + 16w1; \
    meta.adj_mtu_v6 = (front) - (GRE_KEY_HEADER_BYTES + IPV6_HEADER_BYTES) + 16w1; \
    meta.adj_v6_payload = (front) - GRE_KEY_HEADER_BYTES

/* Egress parses what egress reads or rewrites: the bridged headers, the customer
 * Ethernet header and its IP header (DSCP/ECN for the outer header). */
parser NveEgressParser(packet_in pkt,
                       out nve_headers_t hdr,
                       out nve_eg_meta_t meta,
                       out egress_intrinsic_metadata_t eg_intr_md) {

    state start {
        pkt.extract(eg_intr_md);
        transition select(pkt.lookahead<nve_pkt_type_t>()) {
            PKT_TYPE_PUNT_I2E: parse_mirror;
            PKT_TYPE_PUNT_E2E: parse_mirror;
            default:           parse_bridge;
        }
    }

    /* A punt: an I2E copy carries what the ingress deparser emitted (bridged headers
     * included), an E2E copy what the egress deparser emitted (none). */
    state parse_mirror {
        pkt.extract(hdr.mirror);
        pkt.extract(hdr.packet_in);     /* the rest of nve_punt_mirror_t */
        transition select(hdr.mirror.pkt_type) {
            PKT_TYPE_PUNT_I2E: parse_bridge;
            default:           parse_ethernet;
        }
    }

    state parse_bridge {
        pkt.extract(hdr.bridge);
        transition select(hdr.bridge.from_cpu, hdr.bridge.to_tunnel, hdr.bridge.pa_is_v6) {
            (1w1, _, _):     accept;      /* packet-out: sent as is */
            (1w0, 1w1, 1w0): parse_tun4;
            (1w0, 1w1, 1w1): parse_tun6;
            default:         parse_frame;
        }
    }

    state parse_frame {
        NVE_EG_ADJ(NVE_BRIDGE_BYTES + NVE_EG_LEN_EXTRA);
        transition parse_ethernet;
    }

    state parse_tun4 {
        pkt.extract(hdr.tun4);
        NVE_EG_ADJ(NVE_BRIDGE_BYTES + NVE_TUN4_BYTES + NVE_NH_BYTES + NVE_EG_LEN_EXTRA);
        transition parse_nh;
    }

    state parse_tun6 {
        pkt.extract(hdr.tun6);
        NVE_EG_ADJ(NVE_BRIDGE_BYTES + NVE_TUN6_BYTES + NVE_NH_BYTES + NVE_EG_LEN_EXTRA);
        transition parse_nh;
    }

    state parse_nh {
        pkt.extract(hdr.nh);
        transition parse_ethernet;
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
