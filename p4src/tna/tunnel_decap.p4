/* tunnel_decap.p4 (TNA): network ports, as p4src/include/tunnel_decap.p4: the RFC 7637
 * checks in the same order, each with its own drop reason, then RFC 6040 ECN
 * decapsulation and removal of the underlay headers.
 * Tofino: the checks are one if/else chain on hit/miss and parser facts (control,
 * not data, dependencies between them); the outer and inner IPv4 checksums come from
 * the parser (Checksum.verify), so the inner one is the verdict on the header as
 * received, before the ECN rewrite, as on v1model. */
#ifndef NVE_TNA_TUNNEL_DECAP_P4
#define NVE_TNA_TUNNEL_DECAP_P4

control Decap(NVE_IG_PARAMS) {

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
        hdr.bridge.vsi = vsi;
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
        meta.rx_tunnel = tunnel;
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

    apply {
        /* Copied before the checks, so that the copies run alongside the lookups. */
        meta.outer_ecn = hdr.ipv6.ecn;
        if (hdr.ipv4.isValid()) {
            meta.outer_ecn = hdr.ipv4.ecn;
        }
        if (hdr.inner_ipv4.isValid()) {
            meta.inner_ecn = hdr.inner_ipv4.ecn;
        } else if (hdr.inner_ipv6.isValid()) {
            meta.inner_ecn = hdr.inner_ipv6.ecn;
        }
        bool is_local = false;
        if (hdr.ipv4.isValid()) {
            is_local = my_pa_v4.apply().hit;
        } else if (hdr.ipv6.isValid()) {
            is_local = my_pa_v6.apply().hit;
        }
        bool known_peer = false;
        if (!is_local) {
            meta.drop_reason = DROP_NET_NOT_LOCAL;
        } else if (meta.ip_frag == 1w1) {
            meta.drop_reason = DROP_NET_FRAGMENT;
        } else if (hdr.ipv4.isValid() && !meta.ipv4_csum_ok) {
            meta.drop_reason = DROP_NET_BAD_CHECKSUM;
        } else if (!hdr.nvgre.isValid() || !hdr.inner_ethernet.isValid()) {
            meta.drop_reason = DROP_NET_NOT_NVGRE;
        } else if (hdr.nvgre.vsid <= VSID_RESERVED_LOW_MAX || hdr.nvgre.vsid == VSID_VENDOR) {
            meta.drop_reason = DROP_NET_VSID_RESERVED;
        } else if (!vsid.apply().hit) {
            meta.drop_reason = DROP_NET_VSID_UNKNOWN;
        } else {
            if (hdr.ipv4.isValid()) {
                known_peer = peer_v4.apply().hit;
            } else {
                known_peer = peer_v6.apply().hit;
            }
            if (!known_peer) {
                meta.drop_reason = DROP_NET_PEER_UNKNOWN;
            } else if (hdr.inner_vlan.isValid()) {
                meta.drop_reason = DROP_NET_INNER_TAGGED;
            } else if (meta.outer_ecn == ECN_CE && meta.inner_ecn == ECN_NOT_ECT
                       && (hdr.inner_ipv4.isValid() || hdr.inner_ipv6.isValid())) {
                /* RFC 6040 section 4.2 */
                meta.drop_reason = DROP_NET_ECN_NOT_ECT;
            } else {
                if ((meta.outer_ecn == ECN_CE && meta.inner_ecn == ECN_ECT0)
                        || (meta.outer_ecn == ECN_CE && meta.inner_ecn == ECN_ECT1)
                        || (meta.outer_ecn == ECN_ECT1 && meta.inner_ecn == ECN_ECT0)) {
                    if (hdr.inner_ipv4.isValid()) {
                        hdr.inner_ipv4.ecn = meta.outer_ecn;
                        meta.upd_inner_ipv4 = 1w1;
                    } else if (hdr.inner_ipv6.isValid()) {
                        hdr.inner_ipv6.ecn = meta.outer_ecn;
                    }
                }
                /* The customer frame, from the inner headers. FlowID ignored. */
                meta.c.dmac = hdr.inner_ethernet.dst_addr;
                meta.c.smac = hdr.inner_ethernet.src_addr;
                if (hdr.inner_ipv4.isValid()) {
                    hdr.bridge.is_ipv4 = 1w1;
                    hdr.bridge.df = hdr.inner_ipv4.flags[1:1];
                    meta.c.ipv4_dst = hdr.inner_ipv4.dst_addr;
                    meta.c.ttl = hdr.inner_ipv4.ttl;
                    if (!meta.inner_ipv4_csum_ok) {
                        meta.c.ipv4_csum_bad = 1w1;
                    }
                } else if (hdr.inner_ipv6.isValid()) {
                    hdr.bridge.is_ipv6 = 1w1;
                    meta.c.ipv6_dst = hdr.inner_ipv6.dst_addr;
                    meta.c.ttl = hdr.inner_ipv6.hop_limit;
                }
                hdr.ethernet.setInvalid();
                hdr.vlan.setInvalid();
                hdr.ipv4.setInvalid();
                hdr.ipv4_options.setInvalid();
                hdr.ipv6.setInvalid();
                hdr.gre.setInvalid();
                hdr.nvgre.setInvalid();
                hdr.bridge.decapped = 1w1;
            }
        }
    }
}

#endif
