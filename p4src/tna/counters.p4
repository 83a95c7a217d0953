/* counters.p4 (TNA): the drop decision and the statistics at the end of each gress,
 * as p4src/include/counters.p4. Tofino: drop_ctl = 1 drops the packet and leaves
 * mirroring enabled (a punt still reaches the CPU); Counter<> indexed by metadata. */
#ifndef NVE_TNA_COUNTERS_P4
#define NVE_TNA_COUNTERS_P4

control IngressCounters(NVE_IG_PARAMS) {

    Counter<bit<64>, drop_reason_t>(DROP_REASON_COUNT, CounterType_t.PACKETS_AND_BYTES) drops;
    Counter<bit<64>, vsi_t>(VSI_COUNT, CounterType_t.PACKETS_AND_BYTES) vsi_decap;
    Counter<bit<64>, tunnel_t>(TUNNEL_COUNT, CounterType_t.PACKETS_AND_BYTES) tunnel_rx;

    apply {
        if (hdr.bridge.decapped == 1w1) {
            vsi_decap.count(hdr.bridge.vsi);
            tunnel_rx.count(meta.rx_tunnel);
        }
        /* The first drop reason in the v1model order (headers.p4, nve_ig_meta_t). A
         * frame dropped for an unknown subnet learns nothing (v1model stops before
         * learning); later drops keep the digest, as v1model sends it first. */
        if (meta.drop_reason != DROP_NONE) {
            ig_dprsr_md.drop_ctl = 3w1;
            drops.count(meta.drop_reason);
        } else if (meta.vsi_miss == 1w1) {
            ig_dprsr_md.drop_ctl = 3w1;
            ig_dprsr_md.digest_type = 3w0;
            drops.count(DROP_VSI_UNKNOWN);
        } else if (meta.c.smac[40:40] == 1w1 && meta.port_role != 2w0) {
            ig_dprsr_md.drop_ctl = 3w1;
            drops.count(DROP_SRC_MAC_MULTICAST);
        } else if (meta.drop_martian != DROP_NONE) {
            ig_dprsr_md.drop_ctl = 3w1;
            drops.count(meta.drop_martian);
        } else if (meta.drop_fwd != DROP_NONE) {
            ig_dprsr_md.drop_ctl = 3w1;
            drops.count(meta.drop_fwd);
        } else if (meta.drop_ul != DROP_NONE) {
            ig_dprsr_md.drop_ctl = 3w1;
            drops.count(meta.drop_ul);
        }
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
        } else if (meta.bum_tunnel == 1w1) {
            vsi_encap.count(hdr.bridge.vsi);
            tunnel_tx.count(eg_intr_md.egress_rid);
        } else if (hdr.bridge.to_tunnel == 1w1) {
            vsi_encap.count(hdr.bridge.vsi);
            tunnel_tx.count(hdr.bridge.tunnel);
        }
    }
}

#endif
