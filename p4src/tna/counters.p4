/* counters.p4 (TNA): the drop decision and the statistics at the end of each gress,
 * as p4src/include/counters.p4. Tofino: drop_ctl = 1 drops the packet and leaves
 * mirroring enabled (a punt still reaches the CPU); Counter<> indexed by metadata. */
#ifndef NVE_TNA_COUNTERS_P4
#define NVE_TNA_COUNTERS_P4

/* first_drop's optional columns: each cell `, _` when its feature is built. */
#ifdef NVE_TNA_MAC_LIMIT
#define NVE_TNA_ML_ANY , _
#else
#define NVE_TNA_ML_ANY
#endif
#ifdef NVE_TNA_STORM
#define NVE_TNA_STORM_ANY , _
#else
#define NVE_TNA_STORM_ANY
#endif

control IngressCounters(NVE_IG_PARAMS) {

    Counter<bit<64>, drop_reason_t>(DROP_REASON_COUNT, CounterType_t.PACKETS_AND_BYTES) drops;
    Counter<bit<64>, vsi_t>(VSI_COUNT, CounterType_t.PACKETS_AND_BYTES) vsi_decap;
    Counter<bit<64>, tunnel_t>(TUNNEL_COUNT, CounterType_t.PACKETS_AND_BYTES) tunnel_rx;

    action count_drop(drop_reason_t reason) {
        ig_dprsr_md.drop_ctl = 3w1;
        drops.count(reason);
    }

    /* A frame dropped for an unknown subnet learns nothing (v1model stops before
     * learning); later drops keep the digest, as v1model sends it first. */
    action count_drop_vsi(drop_reason_t reason) {
        ig_dprsr_md.drop_ctl = 3w1;
        ig_dprsr_md.digest_type = 3w0;
        drops.count(reason);
    }

    /* The first drop reason in the v1model order (headers.p4, nve_ig_meta_t): one
     * ternary table (TNA only, const entries, one entry per reason a field can hold;
     * tests/p4src/test_tna_drops.py checks that every reason written has one), the
     * counter index an action parameter. A chain of gateways, one per field, each
     * counting by a field of its own, took the input crossbar of two stages. */
    table first_drop {
        key = {
            meta.drop_reason  : ternary @name("reason");
            meta.drop_net     : ternary @name("net");
            meta.vsi_miss     : ternary @name("vsi_miss");
            meta.c.smac       : ternary @name("smac");
            meta.port_role    : ternary @name("port_role");
            meta.drop_martian : ternary @name("martian");
            meta.drop_rchk    : ternary @name("rchk");
            meta.route_miss   : ternary @name("route_miss");
            meta.drop_fwd     : ternary @name("fwd");
            meta.drop_ul      : ternary @name("ul");
#ifdef NVE_TNA_MAC_LIMIT
            meta.mac_limit    : ternary @name("mac_limit");
#endif
#ifdef NVE_TNA_STORM
            meta.storm_color  : ternary @name("storm");
#endif
            meta.icmp         : ternary @name("icmp");
        }
        actions = {
            count_drop;
            count_drop_vsi;
            @defaultonly NoAction;
        }
        const entries = {
            /* drop_reason (PortRole, the parser, AccessIngress) */
            (DROP_PORT_UNKNOWN, _, _, _, _, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_PORT_UNKNOWN);
            (DROP_PARSER_ERROR, _, _, _, _, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_PARSER_ERROR);
            (DROP_ACCESS_EXTRA_TAG, _, _, _, _, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_ACCESS_EXTRA_TAG);
            (DROP_ACCESS_VLAN_UNKNOWN, _, _, _, _, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_ACCESS_VLAN_UNKNOWN);
            /* drop_net (Decap.checks, network ports) */
            (_, DROP_TO_CPU, _, _, _, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_TO_CPU);
            (_, DROP_NET_DMAC_NOT_LOCAL, _, _, _, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_NET_DMAC_NOT_LOCAL);
            (_, DROP_NET_BAD_VERSION, _, _, _, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_NET_BAD_VERSION);
            (_, DROP_NET_BAD_IHL, _, _, _, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_NET_BAD_IHL);
            (_, DROP_NET_NOT_LOCAL, _, _, _, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_NET_NOT_LOCAL);
            (_, DROP_NET_FRAGMENT, _, _, _, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_NET_FRAGMENT);
            (_, DROP_NET_BAD_CHECKSUM, _, _, _, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_NET_BAD_CHECKSUM);
            (_, DROP_NET_NOT_NVGRE, _, _, _, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_NET_NOT_NVGRE);
            (_, DROP_NET_VSID_RESERVED, _, _, _, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_NET_VSID_RESERVED);
            (_, DROP_NET_VSID_UNKNOWN, _, _, _, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_NET_VSID_UNKNOWN);
            (_, DROP_NET_PEER_UNKNOWN, _, _, _, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_NET_PEER_UNKNOWN);
            (_, DROP_NET_INNER_TAGGED, _, _, _, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_NET_INNER_TAGGED);
            (_, DROP_NET_ECN_NOT_ECT, _, _, _, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_NET_ECN_NOT_ECT);
            /* an unknown subnet (no learning), a multicast source on a known port */
            (_, _, 1, _, _, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop_vsi(DROP_VSI_UNKNOWN);
            (_, _, _, 48w0x010000000000 &&& 48w0x010000000000, 2w1 &&& 2w1, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_SRC_MAC_MULTICAST);
            (_, _, _, 48w0x010000000000 &&& 48w0x010000000000, 2w2 &&& 2w2, _, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_SRC_MAC_MULTICAST);
#ifdef NVE_TNA_MAC_LIMIT
            /* L2Learn: an unknown source MAC on a full port or subnet */
            (_, _, _, _, _, _, _, _, _, _, 1 NVE_TNA_STORM_ANY, _) : count_drop(DROP_MAC_LIMIT);
#endif
            /* Routing, L2Forward, TunnelSelect, Underlay */
            (_, _, _, _, _, DROP_ROUTED_MARTIAN_SRC, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_ROUTED_MARTIAN_SRC);
            (_, _, _, _, _, DROP_ROUTED_MARTIAN_DST, _, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_ROUTED_MARTIAN_DST);
            (_, _, _, _, _, _, DROP_ROUTED_BAD_CHECKSUM, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_ROUTED_BAD_CHECKSUM);
            (_, _, _, _, _, _, DROP_ROUTED_MARTIAN_SRC, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_ROUTED_MARTIAN_SRC);
            (_, _, _, _, _, _, DROP_ROUTED_MARTIAN_DST, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_ROUTED_MARTIAN_DST);
            /* the gateway's own address before TTL (as v1model): ICMP punted (PuntIngress) */
            (_, _, _, _, _, _, _, _, DROP_ROUTED_TO_GATEWAY, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, 1) : count_drop(DROP_TO_CPU);
            (_, _, _, _, _, _, _, _, DROP_ROUTED_TO_GATEWAY, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_ROUTED_TO_GATEWAY);
            (_, _, _, _, _, _, DROP_TTL_EXPIRED, _, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_TTL_EXPIRED);
            (_, _, _, _, _, _, _, 1, _, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_ROUTE_MISS);
            (_, _, _, _, _, _, _, _, DROP_SPLIT_HORIZON, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_SPLIT_HORIZON);
            (_, _, _, _, _, _, _, _, DROP_ROUTED_DMAC_UNKNOWN, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_ROUTED_DMAC_UNKNOWN);
            (_, _, _, _, _, _, _, _, DROP_TUNNEL_UNKNOWN, _ NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_TUNNEL_UNKNOWN);
#ifdef NVE_TNA_STORM
            (_, _, _, _, _, _, _, _, _, _ NVE_TNA_ML_ANY, 3, _) : count_drop(DROP_STORM_CONTROL);  /* MeterColor_t.RED */
#else
            (_, _, _, _, _, _, _, _, DROP_STORM_CONTROL, _ NVE_TNA_ML_ANY, _) : count_drop(DROP_STORM_CONTROL);
#endif
            (_, _, _, _, _, _, _, _, _, DROP_UNDERLAY_ROUTE_MISS NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_UNDERLAY_ROUTE_MISS);
            (_, _, _, _, _, _, _, _, _, DROP_ECMP_MISS NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_ECMP_MISS);
            (_, _, _, _, _, _, _, _, _, DROP_NEXTHOP_MISS NVE_TNA_ML_ANY NVE_TNA_STORM_ANY, _) : count_drop(DROP_NEXTHOP_MISS);
        }
        default_action = NoAction();
        size = 64;
    }

    apply {
        if (hdr.bridge.decapped == 1w1) {
            vsi_decap.count(hdr.bridge.vsi);
            tunnel_rx.count(meta.rx_tunnel);
        }
        first_drop.apply();
    }
}

control EgressCounters(NVE_EG_PARAMS) {

    Counter<bit<64>, drop_reason_t>(DROP_REASON_COUNT, CounterType_t.PACKETS_AND_BYTES) drops;
    Counter<bit<64>, vsi_t>(VSI_COUNT, CounterType_t.PACKETS_AND_BYTES) vsi_encap;
    Counter<bit<64>, tunnel_t>(TUNNEL_COUNT, CounterType_t.PACKETS_AND_BYTES) tunnel_tx;

    apply {
        if (meta.drop_reason != DROP_NONE) {
            eg_dprsr_md.drop_ctl = 3w1;
            drops.count(meta.drop_reason);
        } else if (meta.drop_late != DROP_NONE) {
            eg_dprsr_md.drop_ctl = 3w1;
            drops.count(meta.drop_late);
        } else if (meta.bum_tunnel == 1w1) {
            vsi_encap.count(hdr.bridge.vsi);
            tunnel_tx.count(eg_intr_md.egress_rid);
        } else if (hdr.bridge.to_tunnel == 1w1) {
            vsi_encap.count(hdr.bridge.vsi);
            tunnel_tx.count(hdr.bridge.tunnel);
        }
    }
}

#undef NVE_TNA_ML_ANY
#undef NVE_TNA_STORM_ANY

#endif
