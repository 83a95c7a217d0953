/* tunnel_encap.p4: encapsulation toward a remote NVE (RFC 7637 sections 3.2, 4.3).
 *   FlowId       (ingress) the FlowID, a hash of the customer frame
 *   TunnelSelect (ingress) the remote NVE of a unicast frame: PAs and FlowID mode
 *   Encap        (egress)  builds outer Ethernet, IPv4 or IPv6 (flow label: RFC 6438),
 *                          GRE and key
 * Encapsulation happens in egress only, for unicast and BUM copies alike. */
#ifndef NVE_TUNNEL_ENCAP_P4
#define NVE_TUNNEL_ENCAP_P4

#include "headers.p4"
#include "sizes.p4"

/* FlowID = low 8 bits of CRC-16 over the customer 5-tuple (IPv4, IPv6) or over the
 * MACs and EtherType (anything else). The inputs are metadata copies (meta.c), so the
 * hash never reads an invalid header. docs/pipeline.md gives the exact input. */
control FlowId(inout metadata_t meta) {
    apply {
        bit<16> h = 16w0;
        if (meta.c.is_ipv4 == 1w1) {
            hash(h, HashAlgorithm.crc16, 16w0,
                 { meta.c.ipv4_src, meta.c.ipv4_dst, meta.c.proto,
                   meta.c.src_port, meta.c.dst_port },
                 32w65536);
        } else if (meta.c.is_ipv6 == 1w1) {
            hash(h, HashAlgorithm.crc16, 16w0,
                 { meta.c.ipv6_src, meta.c.ipv6_dst, meta.c.proto,
                   meta.c.src_port, meta.c.dst_port },
                 32w65536);
        } else {
            hash(h, HashAlgorithm.crc16, 16w0,
                 { meta.c.dmac, meta.c.smac, meta.c.ether_type },
                 32w65536);
        }
        meta.fwd.flow_id = h[7:0];
    }
}

/* Outer IPv6 flow label (RFC 6438): low 20 bits of CRC-32 over the FlowID's inputs (the
 * customer 5-tuple, or the MACs and EtherType), toward every IPv6 remote NVE, whether it
 * takes a FlowID or not. 0 means "no label" (RFC 6437), so a hash of 0 is sent as this. */
const bit<20> FLOW_LABEL_FOR_ZERO_HASH = 20w1;

/* GRE key = VSID << 8 | FlowID (RFC 7637 section 3.2); FlowID 0 toward a remote NVE that
 * takes none (a peer matching the whole 32-bit key, such as Linux gretap). Used for
 * unicast here and for BUM copies in Replication. */
bit<32> nvgre_key(in bit<24> vsid, in bit<8> flow_id, in bit<1> use_flow_id) {
    if (use_flow_id == 1w1) {
        return vsid ++ flow_id;
    }
    return vsid ++ 8w0;
}

/* The remote NVE (tunnel) of a unicast frame. src_pa is the local PA used toward it:
 * a CA mapping picks its local PA by the tunnel it points to (section 3.2). */
control TunnelSelect(inout metadata_t meta) {

    action set_remote_v4(ipv4_addr_t src_pa, ipv4_addr_t dst_pa, bit<1> use_flow_id) {
        meta.tun.pa_is_v6 = 1w0;
        meta.tun.src_pa_v4 = src_pa;
        meta.tun.dst_pa_v4 = dst_pa;
        meta.tun.use_flow_id = use_flow_id;
    }

    action set_remote_v6(ipv6_addr_t src_pa, ipv6_addr_t dst_pa, bit<1> use_flow_id) {
        meta.tun.pa_is_v6 = 1w1;
        meta.tun.src_pa_v6 = src_pa;
        meta.tun.dst_pa_v6 = dst_pa;
        meta.tun.use_flow_id = use_flow_id;
    }

    table remote {
        key = {
            meta.fwd.tunnel : exact @name("tunnel");
        }
        actions = {
            set_remote_v4;
            set_remote_v6;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = TUNNEL_COUNT;
    }

    apply {
        if (!remote.apply().hit) {
            meta.fwd.drop_reason = DROP_TUNNEL_UNKNOWN;
            return;
        }
        meta.tun.gre_key = nvgre_key(meta.fwd.vsid, meta.fwd.flow_id, meta.tun.use_flow_id);
    }
}

/* Outer headers in front of the (untagged) customer frame. */
control Encap(inout headers_t hdr,
              inout metadata_t meta) {

    bit<8> cfg_ttl = DEFAULT_OUTER_TTL;
    bit<1> cfg_dscp_pipe = 1w0;
    bit<6> cfg_dscp = 6w0;

    action set_config(bit<8> ttl, bit<1> dscp_pipe, bit<6> dscp) {
        cfg_ttl = ttl;
        cfg_dscp_pipe = dscp_pipe;
        cfg_dscp = dscp;
    }

    /* The customer frame's priority (IEEE 802.1Q PCP, meta.c.pcp) -> outer DSCP, when
     * dscp_pipe is 0: set_dscp for every frame of that PCP (nve's dscp_mode pcp),
     * set_dscp_non_ip only for frames without an IP header, which have no DSCP to copy
     * (dscp_mode uniform). Without an entry: the customer DSCP, or 0. */
    bit<6> pcp_dscp_value = 6w0;
    bit<1> pcp_dscp_hit = 1w0;
    bit<1> pcp_dscp_ip = 1w0;

    action set_dscp(bit<6> dscp) {
        pcp_dscp_value = dscp;
        pcp_dscp_hit = 1w1;
        pcp_dscp_ip = 1w1;
    }

    action set_dscp_non_ip(bit<6> dscp) {
        pcp_dscp_value = dscp;
        pcp_dscp_hit = 1w1;
    }

    table pcp_dscp {
        key = {
            meta.c.pcp : exact @name("pcp");
        }
        actions = {
            set_dscp;
            set_dscp_non_ip;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = PCP_COUNT;
    }

    /* Keyless: the controller modifies the default entry. */
    table config {
        actions = {
            set_config;
        }
        default_action = set_config(DEFAULT_OUTER_TTL, 1w0, 6w0);
        size = 1;
    }

    apply {
        config.apply();

        /* DSCP uniform (copied), from the PCP (pcp_dscp) or pipe (configured); ECN
         * copied (RFC 6040 normal mode). */
        bit<6> dscp = 6w0;
        bit<2> ecn = ECN_NOT_ECT;
        bit<1> is_ip = 1w0;
        if (hdr.ipv4.isValid()) {
            dscp = hdr.ipv4.dscp;
            ecn = hdr.ipv4.ecn;
            is_ip = 1w1;
        } else if (hdr.ipv6.isValid()) {
            dscp = hdr.ipv6.dscp;
            ecn = hdr.ipv6.ecn;
            is_ip = 1w1;
        }
        if (cfg_dscp_pipe == 1w1) {
            dscp = cfg_dscp;
        } else {
            pcp_dscp.apply();
            if (pcp_dscp_hit == 1w1 && (pcp_dscp_ip == 1w1 || is_ip == 1w0)) {
                dscp = pcp_dscp_value;
            }
        }

        bit<16> outer_type = ETHERTYPE_IPV4;
        if (meta.tun.pa_is_v6 == 1w1) {
            outer_type = ETHERTYPE_IPV6;
        }

        hdr.encap_ethernet.setValid();
        hdr.encap_ethernet.dst_addr = meta.tun.nh_dmac;
        hdr.encap_ethernet.src_addr = meta.tun.nh_smac;
        if (meta.tun.nh_vid != 12w0) {
            hdr.encap_vlan.setValid();
            hdr.encap_vlan.pcp = 3w0;
            hdr.encap_vlan.dei = 1w0;
            hdr.encap_vlan.vid = meta.tun.nh_vid;
            hdr.encap_vlan.ether_type = outer_type;
            hdr.encap_ethernet.ether_type = ETHERTYPE_VLAN;
        } else {
            hdr.encap_ethernet.ether_type = outer_type;
        }

        if (meta.tun.pa_is_v6 == 1w0) {
            hdr.encap_ipv4.setValid();
            hdr.encap_ipv4.version = 4w4;
            hdr.encap_ipv4.ihl = 4w5;
            hdr.encap_ipv4.dscp = dscp;
            hdr.encap_ipv4.ecn = ecn;
            hdr.encap_ipv4.total_len = meta.c.frame_len + GRE_KEY_HEADER_BYTES + IPV4_HEADER_BYTES;
            hdr.encap_ipv4.identification = 16w0;
            hdr.encap_ipv4.flags = IPV4_FLAGS_DF;
            hdr.encap_ipv4.frag_offset = 13w0;
            hdr.encap_ipv4.ttl = cfg_ttl;
            hdr.encap_ipv4.protocol = IP_PROTO_GRE;
            hdr.encap_ipv4.hdr_checksum = 16w0;     /* NveComputeChecksum */
            hdr.encap_ipv4.src_addr = meta.tun.src_pa_v4;
            hdr.encap_ipv4.dst_addr = meta.tun.dst_pa_v4;
        } else {
            hdr.encap_ipv6.setValid();
            hdr.encap_ipv6.version = 4w6;
            hdr.encap_ipv6.dscp = dscp;
            hdr.encap_ipv6.ecn = ecn;
            /* RFC 6438 flow label; same inputs as FlowId, CRC-32 instead of CRC-16. */
            bit<20> flow_label = 20w0;
            if (meta.c.is_ipv4 == 1w1) {
                hash(flow_label, HashAlgorithm.crc32, 20w0,
                     { meta.c.ipv4_src, meta.c.ipv4_dst, meta.c.proto,
                       meta.c.src_port, meta.c.dst_port },
                     32w1048576);
            } else if (meta.c.is_ipv6 == 1w1) {
                hash(flow_label, HashAlgorithm.crc32, 20w0,
                     { meta.c.ipv6_src, meta.c.ipv6_dst, meta.c.proto,
                       meta.c.src_port, meta.c.dst_port },
                     32w1048576);
            } else {
                hash(flow_label, HashAlgorithm.crc32, 20w0,
                     { meta.c.dmac, meta.c.smac, meta.c.ether_type },
                     32w1048576);
            }
            if (flow_label == 20w0) {
                flow_label = FLOW_LABEL_FOR_ZERO_HASH;
            }
            hdr.encap_ipv6.flow_label = flow_label;
            hdr.encap_ipv6.payload_len = meta.c.frame_len + GRE_KEY_HEADER_BYTES;
            hdr.encap_ipv6.next_hdr = IP_PROTO_GRE;
            hdr.encap_ipv6.hop_limit = cfg_ttl;
            hdr.encap_ipv6.src_addr = meta.tun.src_pa_v6;
            hdr.encap_ipv6.dst_addr = meta.tun.dst_pa_v6;
        }

        /* GRE: C=0, K=1, S=0, reserved0=0, version 0, protocol 0x6558. */
        hdr.encap_gre.setValid();
        hdr.encap_gre.c = 1w0;
        hdr.encap_gre.r0 = 1w0;
        hdr.encap_gre.k = 1w1;
        hdr.encap_gre.s = 1w0;
        hdr.encap_gre.reserved0 = 9w0;
        hdr.encap_gre.version = 3w0;
        hdr.encap_gre.protocol = ETHERTYPE_TEB;
        hdr.encap_nvgre.setValid();
        hdr.encap_nvgre.vsid = meta.tun.gre_key[31:8];
        hdr.encap_nvgre.flow_id = meta.tun.gre_key[7:0];
    }
}

#endif
