/* tunnel_decap.p4: network ports, after OuterChecks (outer_checks.p4). RFC 7637 checks
 * in a fixed order, each failure dropped with its own reason; then RFC 6040 ECN
 * decapsulation and removal of the underlay headers, leaving the customer frame in
 * inner_*. */
#ifndef NVE_TUNNEL_DECAP_P4
#define NVE_TUNNEL_DECAP_P4

#include "headers.p4"
#include "sizes.p4"

control Decap(inout headers_t hdr,
              inout metadata_t meta,
              inout standard_metadata_t sm) {

    action local_pa() { }

    action underlay_group() { }

    table my_pa_v4 {
        key = {
            hdr.ipv4.dst_addr : exact @name("dst");
        }
        actions = {
            local_pa;
            underlay_group;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = LOCAL_PA_SIZE;
    }

    table my_pa_v6 {
        key = {
            hdr.ipv6.dst_addr : exact @name("dst");
        }
        actions = {
            local_pa;
            underlay_group;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = LOCAL_PA_SIZE;
    }

    action set_vsi(vsi_t vsi) {
        meta.fwd.vsi = vsi;
    }

    table vsid {
        key = {
            hdr.nvgre.vsid : exact @name("vsid");
        }
        actions = {
            set_vsi;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = VSI_COUNT;
    }

    action peer(tunnel_t tunnel) {
        meta.fwd.rx_tunnel = tunnel;
    }

    table peer_v4 {
        key = {
            hdr.nvgre.vsid    : exact @name("vsid");
            hdr.ipv4.src_addr : exact @name("src");
        }
        actions = {
            peer;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = PEER_TABLE_SIZE;
    }

    table peer_v6 {
        key = {
            hdr.nvgre.vsid    : exact @name("vsid");
            hdr.ipv6.src_addr : exact @name("src");
        }
        actions = {
            peer;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = PEER_TABLE_SIZE;
    }

    /* The customer frame's PCP from the outer DSCP, for the tag an access port pushes;
     * without an entry the output port's default (NveEgress.access.port_pcp). */
    bit<6> outer_dscp = 6w0;

    action set_pcp(bit<3> pcp) {
        meta.c.pcp = pcp;
        meta.c.pcp_mapped = 1w1;
    }

    table dscp_pcp {
        key = { outer_dscp : exact @name("dscp"); }
        actions = { set_pcp; @defaultonly NoAction; }
        default_action = NoAction();
        size = DSCP_COUNT;
    }

    /* RFC 6040 section 4.2: the combinations its table marks (!!!), which no compliant
     * encapsulator produces, counted (the RFC: SHOULD log) in cell inner_ecn * 4 +
     * outer_ecn: 1 (inner Not-ECT, outer ECT(1)), 2 (Not-ECT, ECT(0)), 3 (Not-ECT, CE;
     * also dropped) and 13 (CE, ECT(1)). Only IP inner frames; other cells stay 0. */
    counter(16, CounterType.packets) ecn_alarm;

    apply {
        /* 1. Addressed to this NVE: a local PA or an underlay group of a local VSID. */
        bool is_local = false;
        if (hdr.ipv4.isValid()) {
            is_local = my_pa_v4.apply().hit;
        } else if (hdr.ipv6.isValid()) {
            is_local = my_pa_v6.apply().hit;
        }
        if (!is_local) {
            meta.fwd.drop_reason = DROP_NET_NOT_LOCAL;
            return;
        }
        /* 2. Not a fragment (section 4.4). */
        if (meta.pkt.ip_frag == 1w1) {
            meta.fwd.drop_reason = DROP_NET_FRAGMENT;
            return;
        }
        /* 3. Outer IPv4 header checksum (set by NveVerifyChecksum). */
        if (hdr.ipv4.isValid() && sm.checksum_error == 1w1) {
            meta.fwd.drop_reason = DROP_NET_BAD_CHECKSUM;
            return;
        }
        /* 4. GRE, and exactly NVGRE (the parser only accepts the NVGRE first word). */
        if (!hdr.nvgre.isValid() || !hdr.inner_ethernet.isValid()) {
            meta.fwd.drop_reason = DROP_NET_NOT_NVGRE;
            return;
        }
        /* 5. Reserved VSIDs (section 3.4). */
        if (hdr.nvgre.vsid <= VSID_RESERVED_LOW_MAX || hdr.nvgre.vsid == VSID_VENDOR) {
            meta.fwd.drop_reason = DROP_NET_VSID_RESERVED;
            return;
        }
        /* 6. A VSID of this NVE. */
        if (!vsid.apply().hit) {
            meta.fwd.drop_reason = DROP_NET_VSID_UNKNOWN;
            return;
        }
        /* 7. Sent by a registered remote NVE of that VSID (anti-spoofing, section 5). */
        bool known_peer = false;
        if (hdr.ipv4.isValid()) {
            known_peer = peer_v4.apply().hit;
        } else {
            known_peer = peer_v6.apply().hit;
        }
        if (!known_peer) {
            meta.fwd.drop_reason = DROP_NET_PEER_UNKNOWN;
            return;
        }
        /* 8. The inner frame MUST NOT carry an 802.1Q tag (section 3.3). */
        if (hdr.inner_vlan.isValid()) {
            meta.fwd.drop_reason = DROP_NET_INNER_TAGGED;
            return;
        }

        /* The inner IPv4 header checksum, for Routing (RFC 1812 section 5.2.2); a
         * bridged frame is not dropped for it. checksum_error already holds the outer
         * header's verdict, so this one is evaluated here: the one's complement sum
         * over the whole header, checksum field included, is zero exactly when the
         * checksum is right. Taken before step 9, which may rewrite the ECN bits.
         * The options are hashed only when present: the field of an invalid header
         * holds an unspecified value, and in an action p4c-bm2-ss copies the varbit
         * into a temporary, which crashes simple_switch (SIGFPE in Field::assign_VL)
         * when the packet before left an odd value in it (docs/fuzzing.md). */
        if (hdr.inner_ipv4.isValid()) {
            bit<16> residue = 16w0;
            if (hdr.inner_ipv4_options.isValid()) {
                hash(residue, HashAlgorithm.csum16, 16w0,
                    { hdr.inner_ipv4.version, hdr.inner_ipv4.ihl, hdr.inner_ipv4.dscp,
                      hdr.inner_ipv4.ecn, hdr.inner_ipv4.total_len,
                      hdr.inner_ipv4.identification, hdr.inner_ipv4.flags,
                      hdr.inner_ipv4.frag_offset, hdr.inner_ipv4.ttl, hdr.inner_ipv4.protocol,
                      hdr.inner_ipv4.hdr_checksum, hdr.inner_ipv4.src_addr,
                      hdr.inner_ipv4.dst_addr, hdr.inner_ipv4_options.data },
                    32w65536);
            } else {
                hash(residue, HashAlgorithm.csum16, 16w0,
                    { hdr.inner_ipv4.version, hdr.inner_ipv4.ihl, hdr.inner_ipv4.dscp,
                      hdr.inner_ipv4.ecn, hdr.inner_ipv4.total_len,
                      hdr.inner_ipv4.identification, hdr.inner_ipv4.flags,
                      hdr.inner_ipv4.frag_offset, hdr.inner_ipv4.ttl, hdr.inner_ipv4.protocol,
                      hdr.inner_ipv4.hdr_checksum, hdr.inner_ipv4.src_addr,
                      hdr.inner_ipv4.dst_addr },
                    32w65536);
            }
            if (residue != 16w0) {
                meta.c.ipv4_csum_bad = 1w1;
            }
        }

        /* 9. ECN decapsulation, RFC 6040 section 4.2. */
        bit<2> outer_ecn = ECN_NOT_ECT;
        if (hdr.ipv4.isValid()) {
            outer_ecn = hdr.ipv4.ecn;
            outer_dscp = hdr.ipv4.dscp;
        } else {
            outer_ecn = hdr.ipv6.ecn;
            outer_dscp = hdr.ipv6.dscp;
        }
        bit<2> inner_ecn = ECN_NOT_ECT;
        if (hdr.inner_ipv4.isValid()) {
            inner_ecn = hdr.inner_ipv4.ecn;
        } else if (hdr.inner_ipv6.isValid()) {
            inner_ecn = hdr.inner_ipv6.ecn;
        }
        bit<2> new_ecn = inner_ecn;
        if (hdr.inner_ipv4.isValid() || hdr.inner_ipv6.isValid()) {
            if ((inner_ecn == ECN_NOT_ECT && outer_ecn != ECN_NOT_ECT)
                    || (inner_ecn == ECN_CE && outer_ecn == ECN_ECT1)) {
                ecn_alarm.count((bit<32>)(inner_ecn ++ outer_ecn));
            }
        }
        if (outer_ecn == ECN_CE) {
            if (inner_ecn == ECN_NOT_ECT) {
                if (hdr.inner_ipv4.isValid() || hdr.inner_ipv6.isValid()) {
                    meta.fwd.drop_reason = DROP_NET_ECN_NOT_ECT;
                    return;
                }
            } else {
                new_ecn = ECN_CE;
            }
        } else if (outer_ecn == ECN_ECT1 && inner_ecn == ECN_ECT0) {
            new_ecn = ECN_ECT1;
        }
        if (new_ecn != inner_ecn) {
            if (hdr.inner_ipv4.isValid()) {
                hdr.inner_ipv4.ecn = new_ecn;
                meta.fwd.l3_rewritten = 1w1;
            } else if (hdr.inner_ipv6.isValid()) {
                hdr.inner_ipv6.ecn = new_ecn;
            }
        }

        /* Its priority, from the outer DSCP. */
        dscp_pcp.apply();

        /* The customer frame, from the inner headers. The FlowID is ignored. */
        meta.fwd.vsid = hdr.nvgre.vsid;
        meta.c.dmac = hdr.inner_ethernet.dst_addr;
        meta.c.smac = hdr.inner_ethernet.src_addr;
        meta.c.ether_type = hdr.inner_ethernet.ether_type;
        if (hdr.inner_ipv4.isValid()) {
            meta.c.is_ipv4 = 1w1;
            meta.c.ipv4_src = hdr.inner_ipv4.src_addr;
            meta.c.ipv4_dst = hdr.inner_ipv4.dst_addr;
            meta.c.proto = hdr.inner_ipv4.protocol;
            meta.c.ttl = hdr.inner_ipv4.ttl;
            meta.c.df = hdr.inner_ipv4.flags[1:1];
        } else if (hdr.inner_ipv6.isValid()) {
            meta.c.is_ipv6 = 1w1;
            meta.c.ipv6_src = hdr.inner_ipv6.src_addr;
            meta.c.ipv6_dst = hdr.inner_ipv6.dst_addr;
            meta.c.proto = hdr.inner_ipv6.next_hdr;
            meta.c.ttl = hdr.inner_ipv6.hop_limit;
        }
        if (hdr.inner_l4.isValid()) {
            meta.c.src_port = hdr.inner_l4.src_port;
            meta.c.dst_port = hdr.inner_l4.dst_port;
        }

        /* The customer frame's length: what the outer datagram carries after GRE (not
         * the frame on the wire, which may end in an L2 trailer). Encap needs it when a
         * routed frame goes back into a tunnel. */
        if (hdr.ipv4.isValid()) {
            meta.c.frame_len = hdr.ipv4.total_len - ((bit<16>)hdr.ipv4.ihl << 2)
                               - GRE_KEY_HEADER_BYTES;
        } else {
            meta.c.frame_len = hdr.ipv6.payload_len - meta.pkt.ipv6_ext_bytes
                               - GRE_KEY_HEADER_BYTES;
        }

        /* Remove the underlay headers. */
        hdr.ethernet.setInvalid();
        hdr.vlan.setInvalid();
        hdr.ipv4.setInvalid();
        hdr.ipv4_options.setInvalid();
        hdr.ipv6.setInvalid();
        hdr.ipv6_ext0.setInvalid();
        hdr.ipv6_ext0_more.setInvalid();
        hdr.ipv6_ext1.setInvalid();
        hdr.ipv6_ext1_more.setInvalid();
        hdr.gre.setInvalid();
        hdr.nvgre.setInvalid();
        meta.fwd.decapped = 1w1;
    }
}

#endif
