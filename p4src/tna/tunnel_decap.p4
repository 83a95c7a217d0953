/* tunnel_decap.p4 (TNA): network ports, as p4src/include/tunnel_decap.p4: the RFC 7637
 * checks in the same order, each with its own drop reason, then RFC 6040 ECN
 * decapsulation and removal of the underlay headers. Tofino: the five lookups run side
 * by side in one stage (their keys are header fields) and set flags; the checks are one
 * ternary table on those flags and parser facts in the next stage, writing drop_net
 * (not drop_reason, which the access-side features wait for); the outer and inner IPv4
 * checksums come from the parser (Checksum.verify), so the inner one is the verdict on
 * the header as received, before the ECN rewrite, as on v1model. */
#ifndef NVE_TNA_TUNNEL_DECAP_P4
#define NVE_TNA_TUNNEL_DECAP_P4

control Decap(NVE_IG_PARAMS) {

    /* Lookups run side by side in one stage; the results become flags that the
     * checks, one stage later, test in the RFC 7637 order. local_pa: a PA or a port's
     * address (the host's when not GRE: TNA has no punt_local tables). */
    action local_pa() { meta.pa_local = 2w1; }
    action underlay_group() { meta.pa_local = 2w2; }

    table my_pa_v4 {
        key = { hdr.ipv4.dst_addr : exact @name("dst"); }
        actions = { local_pa; underlay_group; @defaultonly NoAction; }
        default_action = NoAction();
        size = LOCAL_PA_SIZE;
    }

    table my_pa_v6 {
        key = { hdr.ipv6.dst_addr : exact @name("dst"); }
        actions = { local_pa; underlay_group; @defaultonly NoAction; }
        default_action = NoAction();
        size = LOCAL_PA_SIZE;
    }

    action set_vsi(vsi_t vsi) {
        hdr.bridge.vsi = vsi;
        meta.vsid_ok = 1w1;
        meta.c.dmac = hdr.inner_ethernet.dst_addr;
        meta.c.smac = hdr.inner_ethernet.src_addr;
    }

    table vsid {
        key = { hdr.nvgre.vsid : exact @name("vsid"); }
        actions = { set_vsi; @defaultonly NoAction; }
        default_action = NoAction();
        size = VSI_COUNT;
    }

    action peer(tunnel_t tunnel) {
        meta.rx_tunnel = tunnel;
        meta.peer_ok = 1w1;
    }

    table peer_v4 {
        key = { hdr.nvgre.vsid    : exact @name("vsid"); hdr.ipv4.src_addr : exact @name("src"); }
        actions = { peer; @defaultonly NoAction; }
        default_action = NoAction();
        size = PEER_TABLE_SIZE;
    }

    table peer_v6 {
        key = { hdr.nvgre.vsid    : exact @name("vsid"); hdr.ipv6.src_addr : exact @name("src"); }
        actions = { peer; @defaultonly NoAction; }
        default_action = NoAction();
        size = PEER_TABLE_SIZE;
    }

#ifdef NVE_TNA_PCP
    /* The customer frame's PCP from the outer DSCP (at different offsets in IPv4 and
     * IPv6: copied through the hash unit), for the tag an access port pushes; without
     * an entry the output port's default (NveEgress.access.port_pcp). */
    Hash<bit<6>>(HashAlgorithm_t.IDENTITY) dscp_ipv4;
    Hash<bit<6>>(HashAlgorithm_t.IDENTITY) dscp_ipv6;

    action set_pcp(bit<3> pcp) { hdr.bridge.pcp = pcp; hdr.bridge.pcp_mapped = 1w1; }

    table dscp_pcp {
        key = { meta.outer_dscp : exact @name("dscp"); }
        actions = { set_pcp; @defaultonly NoAction; }
        default_action = NoAction();
        size = DSCP_COUNT;
    }
#define NVE_TNA_OUTER_DSCP(ip) meta.outer_dscp = dscp_##ip.get({ hdr.ip.dscp });
#else
#define NVE_TNA_OUTER_DSCP(ip)
#endif

    /* RFC 6040 section 4.2: the combinations marked "(!!!)" counted in cell
     * inner_ecn * 4 + outer_ecn (1, 2, 3, 13), as v1model. Tofino: counted by the
     * checks table's actions, the cell an action parameter of the const entries. */
    Counter<bit<32>, bit<4>>(16, CounterType_t.PACKETS) ecn_alarm;

    /* The checks' verdict, one action per outcome (const entries): a drop with its
     * reason, or the decapsulation, with or without the ECN rewrite and the alarm count,
     * per inner family (one table, not ten gateways and tables over three stages). */
    action drop_net(drop_reason_t reason) { meta.drop_net = reason; }

    action drop_net_alarm(drop_reason_t reason, bit<4> cell) {
        meta.drop_net = reason;
        ecn_alarm.count(cell);
    }

    /* Decapsulated: the outer headers go, the customer frame's facts are noted; the
     * received FlowID is kept for a routed frame that goes back into a tunnel. */
#define NVE_TNA_DECAP_COMMON \
        hdr.bridge.flow_id = hdr.nvgre.flow_id; \
        hdr.ethernet.setInvalid(); \
        hdr.vlan.setInvalid(); \
        hdr.ipv4.setInvalid(); \
        hdr.ipv6.setInvalid(); \
        hdr.gre.setInvalid(); \
        hdr.nvgre.setInvalid(); \
        hdr.bridge.decapped = 1w1
#define NVE_TNA_DECAP_V4 \
        hdr.bridge.is_ipv4 = 1w1; \
        hdr.bridge.df = hdr.inner_ipv4.flags[1:1]; \
        meta.c.ipv4_src = hdr.inner_ipv4.src_addr; \
        meta.c.ipv4_dst = hdr.inner_ipv4.dst_addr; \
        meta.c.ttl = hdr.inner_ipv4.ttl
#define NVE_TNA_DECAP_V6 \
        hdr.bridge.is_ipv6 = 1w1; \
        meta.c.ipv6_src = hdr.inner_ipv6.src_addr; \
        meta.c.ipv6_dst = hdr.inner_ipv6.dst_addr; \
        meta.c.ttl = hdr.inner_ipv6.hop_limit

    action pass_l2() {
        NVE_TNA_DECAP_COMMON;
    }

    action pass_v4() {
        NVE_TNA_DECAP_COMMON;
        NVE_TNA_DECAP_V4;
    }

    action pass_v4_alarm(bit<4> cell) {
        NVE_TNA_DECAP_COMMON;
        NVE_TNA_DECAP_V4;
        ecn_alarm.count(cell);
    }

    action pass_v4_ecn() {     /* RFC 6040: the inner ECN takes the outer's */
        NVE_TNA_DECAP_COMMON;
        NVE_TNA_DECAP_V4;
        hdr.inner_ipv4.ecn = meta.outer_ecn;
        meta.upd_inner_ipv4 = 1w1;
    }

    action pass_v6() {
        NVE_TNA_DECAP_COMMON;
        NVE_TNA_DECAP_V6;
    }

    action pass_v6_alarm(bit<4> cell) {
        NVE_TNA_DECAP_COMMON;
        NVE_TNA_DECAP_V6;
        ecn_alarm.count(cell);
    }

    action pass_v6_ecn() {
        NVE_TNA_DECAP_COMMON;
        NVE_TNA_DECAP_V6;
        hdr.inner_ipv6.ecn = meta.outer_ecn;
    }

    /* RFC 7637 (and RFC 6040 section 4.2) in the v1model order: the first entry that
     * matches wins. ECN: 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE. */
    table checks {
        key = {
            hdr.arp.isValid()            : ternary @name("arp");
            hdr.icmpv6.isValid()         : ternary @name("icmpv6");
            hdr.icmpv6.msg_type          : ternary @name("icmpv6_type");
            meta.mac_ok                  : ternary @name("mac_ok");
            hdr.ipv4.version             : ternary @name("v4_version");
            hdr.ipv4.ihl                 : ternary @name("ihl");
            hdr.ipv6.version             : ternary @name("v6_version");
            hdr.ipv6.isValid()           : ternary @name("outer_v6");
            meta.pa_local                : ternary @name("pa_local");
            hdr.gre.isValid()            : ternary @name("gre");
            meta.ip_frag                 : ternary @name("frag");
            hdr.ipv4.isValid()           : ternary @name("outer_v4");
            meta.ipv4_csum_ok            : ternary @name("csum_ok");
            hdr.nvgre.isValid()          : ternary @name("nvgre");
            hdr.inner_ethernet.isValid() : ternary @name("inner_eth");
            hdr.nvgre.vsid               : ternary @name("vsid");
            meta.vsid_ok                 : ternary @name("vsid_ok");
            meta.peer_ok                 : ternary @name("peer_ok");
            hdr.inner_vlan.isValid()     : ternary @name("inner_tag");
            hdr.inner_ipv4.isValid()     : ternary @name("inner_v4");
            hdr.inner_ipv6.isValid()     : ternary @name("inner_v6");
            meta.outer_ecn               : ternary @name("outer_ecn");
            hdr.inner_ipv4.ecn           : ternary @name("inner_ecn4");
            hdr.inner_ipv6.ecn           : ternary @name("inner_ecn6");
            hdr.ipv6.dst_addr[127:118]   : ternary @name("dst_fe80");
        }
        actions = {
            drop_net;
            drop_net_alarm;
            pass_l2;
            pass_v4;
            pass_v4_alarm;
            pass_v4_ecn;
            pass_v6;
            pass_v6_alarm;
            pass_v6_ecn;
        }
        const entries = {
            /* Consumed (PuntIngress copies them): ARP, IPv6 NS, NA, RS and RA. */
            (true, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_TO_CPU);
            (_, true, ICMPV6_NEIGHBOR_SOLICIT, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_TO_CPU);
            (_, true, ICMPV6_NEIGHBOR_ADVERT, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_TO_CPU);
            (_, true, ICMPV6_ROUTER_SOLICIT, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_TO_CPU);
            (_, true, ICMPV6_ROUTER_ADVERT, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_TO_CPU);
            /* IPv6 to fe80::/10 and this NVE's MAC, not NVGRE nor a fragment: the
             * control-plane host's (PUNT_UNDERLAY_LOCAL). */
            (_, _, _, 1, _, _, _, true, _, _, 0, _, _, false, _, _, _, _, _, _, _, _, _, _, 0x3FA) : drop_net(DROP_TO_CPU);
            /* OuterChecks (outer_checks.p4): no my_mac hit, or a group's MAC to no joined
             * group; the IP version against the EtherType (v4: not 4, v6: not 6); IHL < 5. */
            (_, _, _, 0, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_DMAC_NOT_LOCAL);
            (_, _, _, 2, _, _, _, _, 2w0 &&& 2w2, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_DMAC_NOT_LOCAL);
            (_, _, _, _, 4w0 &&& 4w0xc, _, _, _, _, _, _, true, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_BAD_VERSION);
            (_, _, _, _, 4w5, _, _, _, _, _, _, true, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_BAD_VERSION);
            (_, _, _, _, 4w6 &&& 4w0xe, _, _, _, _, _, _, true, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_BAD_VERSION);
            (_, _, _, _, 4w8 &&& 4w0x8, _, _, _, _, _, _, true, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_BAD_VERSION);
            (_, _, _, _, _, _, 4w0 &&& 4w0xc, true, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_BAD_VERSION);
            (_, _, _, _, _, _, 4w4 &&& 4w0xe, true, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_BAD_VERSION);
            (_, _, _, _, _, _, 4w7, true, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_BAD_VERSION);
            (_, _, _, _, _, _, 4w8 &&& 4w0x8, true, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_BAD_VERSION);
            (_, _, _, _, _, 4w0 &&& 4w0xc, _, _, _, _, _, true, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_BAD_IHL);
            (_, _, _, _, _, 4w4, _, _, _, _, _, true, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_BAD_IHL);
            /* IP to a PA or a port's address, not GRE nor a fragment: the host's. */
            (_, _, _, 1, _, _, _, _, 1, false, 0, _, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_TO_CPU);
            (_, _, _, _, _, _, _, _, 0, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_NOT_LOCAL);
            (_, _, _, _, _, _, _, _, _, _, 1, _, _, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_FRAGMENT);
            (_, _, _, _, _, _, _, _, _, _, _, true, false, _, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_BAD_CHECKSUM);
            (_, _, _, _, _, _, _, _, _, _, _, _, _, false, _, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_NOT_NVGRE);
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, false, _, _, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_NOT_NVGRE);
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, 24w0 &&& 24w0xfff000, _, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_VSID_RESERVED);
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, VSID_VENDOR, _, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_VSID_RESERVED);
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, 0, _, _, _, _, _, _, _, _) : drop_net(DROP_NET_VSID_UNKNOWN);
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, 0, _, _, _, _, _, _, _) : drop_net(DROP_NET_PEER_UNKNOWN);
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, true, _, _, _, _, _, _) : drop_net(DROP_NET_INNER_TAGGED);
            /* inner Not-ECT, outer CE: dropped, alarm cell 3 */
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, true, _, 3, 0, _, _) : drop_net_alarm(DROP_NET_ECN_NOT_ECT, 3);
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, true, 3, _, 0, _) : drop_net_alarm(DROP_NET_ECN_NOT_ECT, 3);
            /* inner Not-ECT, outer ECT(1) or ECT(0): alarm cells 1, 2 */
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, true, _, 1, 0, _, _) : pass_v4_alarm(1);
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, true, _, 2, 0, _, _) : pass_v4_alarm(2);
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, true, 1, _, 0, _) : pass_v6_alarm(1);
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, true, 2, _, 0, _) : pass_v6_alarm(2);
            /* inner CE, outer ECT(1): alarm cell 13 */
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, true, _, 1, 3, _, _) : pass_v4_alarm(13);
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, true, 1, _, 3, _) : pass_v6_alarm(13);
            /* ECN rewrite: outer CE over ECT(0)/ECT(1), outer ECT(1) over ECT(0) */
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, true, _, 3, 2, _, _) : pass_v4_ecn();
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, true, _, 3, 1, _, _) : pass_v4_ecn();
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, true, _, 1, 2, _, _) : pass_v4_ecn();
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, true, 3, _, 2, _) : pass_v6_ecn();
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, true, 3, _, 1, _) : pass_v6_ecn();
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, true, 1, _, 2, _) : pass_v6_ecn();
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, true, _, _, _, _, _) : pass_v4();
            (_, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, true, _, _, _, _) : pass_v6();
        }
        default_action = pass_l2();
        size = 64;
    }

    apply {
        /* Stage 1: every lookup, the outer ECN copy (each field written once per path:
         * a default then an override would cost a stage; inner ECN keyed in place). */
        if (hdr.ipv4.isValid()) {
            meta.outer_ecn = hdr.ipv4.ecn;
            NVE_TNA_OUTER_DSCP(ipv4)
            my_pa_v4.apply();
            if (hdr.nvgre.isValid()) {
                peer_v4.apply();
            }
        } else if (hdr.ipv6.isValid()) {
            meta.outer_ecn = hdr.ipv6.ecn;
            NVE_TNA_OUTER_DSCP(ipv6)
            my_pa_v6.apply();
            if (hdr.nvgre.isValid()) {
                peer_v6.apply();
            }
        }
        if (hdr.nvgre.isValid()) {
            vsid.apply();
        }
        /* Stage 2: the verdict (also for ARP and ND, consumed: its first entries). */
        checks.apply();
#ifdef NVE_TNA_PCP
        dscp_pcp.apply();  /* beside the verdict: only a decapsulated frame's is read */
#endif
    }
}
#undef NVE_TNA_OUTER_DSCP

#undef NVE_TNA_DECAP_COMMON
#undef NVE_TNA_DECAP_V4
#undef NVE_TNA_DECAP_V6

#endif
