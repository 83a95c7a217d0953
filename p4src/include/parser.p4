/* parser.p4: NvgreParser (v1model signature).
 *
 * RFC 7637 section 3.2: GRE is NVGRE only when C=0, K=1, S=0, version 0 and
 * protocol 0x6558. RFC 2784 section 2.3: a receiver discards a packet with any of bits
 * 1-5 set (bit 1 is `r0`; RFC 2890 gives bits 2 and 3 to K and S; bits 4-5 are the top
 * two of `reserved0`) and MUST ignore bits 6-12 (the low seven of `reserved0`). Anything
 * else stays an unparsed GRE payload (gre valid, nvgre invalid) for ingress to drop
 * and count.
 * An outer fragment stops the parser before GRE (section 4.4). The parser never
 * rejects: ingress decides every drop, with a reason (OuterChecks: an IPv4 IHL below 5
 * is not parsed past the fixed header, and dropped there). */
#ifndef NVE_PARSER_P4
#define NVE_PARSER_P4

#include "headers.p4"

parser NveParser(packet_in pkt,
                 out headers_t hdr,
                 inout metadata_t meta,
                 inout standard_metadata_t sm) {

    state start {
        transition select(sm.ingress_port) {
            CPU_PORT: parse_packet_out;
            default:  parse_ethernet;
        }
    }

    /* A packet-out: the controller's frame follows, sent as is. */
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

    /* A second tag or an S-tag: not parsed further; an access port drops it. */
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
        transition select(hdr.ipv4.ihl) {
            4w5:     parse_ipv4_body;
            /* IHL < 5 is malformed: nothing more is parsed. */
            4w0:     accept;
            4w1:     accept;
            4w2:     accept;
            4w3:     accept;
            4w4:     accept;
            default: parse_ipv4_options;     /* IHL 6..15 */
        }
    }

    state parse_ipv4_options {
        pkt.extract(hdr.ipv4_options, ((bit<32>)hdr.ipv4.ihl - 32w5) << 5);
        transition parse_ipv4_body;
    }

    state parse_ipv4_body {
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
            IP_PROTO_GRE:          parse_gre;
            IP_PROTO_TCP:          parse_l4;
            IP_PROTO_UDP:          parse_l4;
            IP_PROTO_ICMPV6:       parse_icmpv6;
            IP_PROTO_IPV6_FRAG:    parse_ip_fragment;
            IP_PROTO_IPV6_HOPOPTS: parse_ipv6_ext0;
            IP_PROTO_IPV6_DSTOPTS: parse_ipv6_ext0;
            default:               accept;
        }
    }

    /* IPv6 extension headers (RFC 8200 section 4): up to two, Hop-by-Hop (first only)
     * or Destination Options, each of 8 to 32 bytes (Hdr Ext Len 0..3), so that GRE
     * behind them is found. Anything longer, a third one, or another kind, stops here
     * (no GRE: a network port drops it as NET_NOT_NVGRE). Only GRE and a Fragment
     * header are looked for behind them: TCP, UDP and ICMPv6 stay unparsed, as before. */
    state parse_ipv6_ext0 {
        pkt.extract(hdr.ipv6_ext0);
        transition select(hdr.ipv6_ext0.hdr_ext_len) {
            8w0:     parse_ipv6_ext0_next;
            8w1:     parse_ipv6_ext0_more;
            8w2:     parse_ipv6_ext0_more;
            8w3:     parse_ipv6_ext0_more;
            default: accept;
        }
    }

    state parse_ipv6_ext0_more {
        pkt.extract(hdr.ipv6_ext0_more, (bit<32>)hdr.ipv6_ext0.hdr_ext_len << 6);
        transition parse_ipv6_ext0_next;
    }

    state parse_ipv6_ext0_next {
        transition select(hdr.ipv6_ext0.next_hdr) {
            IP_PROTO_GRE:          parse_gre;
            IP_PROTO_IPV6_FRAG:    parse_ip_fragment;
            IP_PROTO_IPV6_DSTOPTS: parse_ipv6_ext1;
            default:               accept;
        }
    }

    state parse_ipv6_ext1 {
        pkt.extract(hdr.ipv6_ext1);
        transition select(hdr.ipv6_ext1.hdr_ext_len) {
            8w0:     parse_ipv6_ext1_next;
            8w1:     parse_ipv6_ext1_more;
            8w2:     parse_ipv6_ext1_more;
            8w3:     parse_ipv6_ext1_more;
            default: accept;
        }
    }

    state parse_ipv6_ext1_more {
        pkt.extract(hdr.ipv6_ext1_more, (bit<32>)hdr.ipv6_ext1.hdr_ext_len << 6);
        transition parse_ipv6_ext1_next;
    }

    state parse_ipv6_ext1_next {
        transition select(hdr.ipv6_ext1.next_hdr) {
            IP_PROTO_GRE:       parse_gre;
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
            (1w0, 1w0, 1w1, 1w0, 9w0 &&& GRE_RESERVED0_MUST_BE_ZERO, 3w0, ETHERTYPE_TEB):
                parse_nvgre;
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

    /* Detected only: a tagged inner frame is dropped (RFC 7637 section 3.3). */
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
        transition select(hdr.inner_ipv4.ihl) {
            4w5:     parse_inner_ipv4_body;
            /* IHL < 5 is malformed: nothing more is parsed. */
            4w0:     accept;
            4w1:     accept;
            4w2:     accept;
            4w3:     accept;
            4w4:     accept;
            default: parse_inner_ipv4_options;     /* IHL 6..15 */
        }
    }

    state parse_inner_ipv4_options {
        pkt.extract(hdr.inner_ipv4_options, ((bit<32>)hdr.inner_ipv4.ihl - 32w5) << 5);
        transition parse_inner_ipv4_body;
    }

    state parse_inner_ipv4_body {
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

#endif
