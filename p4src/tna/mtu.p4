/* mtu.p4 (TNA): RFC 7637 section 4.4, as p4src/include/mtu.p4: an encapsulated frame
 * whose outer IP packet exceeds the egress port's MTU is dropped and counted; for IPv4
 * with DF and for IPv6 a copy is punted (E2E mirror, rate-limited).
 * Tofino: the outer length is eg_intr_md.pkt_length minus a parser constant
 * (headers.p4, nve_eg_meta_t); outer_len > mtu is a saturating subtraction tested against 0 (a gateway
 * cannot compare two 16-bit fields by magnitude). */
#ifndef NVE_TNA_MTU_P4
#define NVE_TNA_MTU_P4

control Mtu(NVE_EG_PARAMS) {

#ifdef NVE_TNA_PUNTS
    Meter<bit<8>>(PUNT_REASON_COUNT, MeterType_t.PACKETS) punt_rate;
    Counter<bit<32>, bit<8>>(PUNT_REASON_COUNT, CounterType_t.PACKETS) punt_suppressed;
#endif

    /* Computed with the action data, so that a gateway tests one field (computed in
     * the control, the subtraction is folded into the condition: "condition
     * expression too complex"); the subtrahend must be PHV, hence MTU minus
     * (length - 1), which saturates to 0 exactly when length > MTU. */
    action set_mtu(bit<16> mtu) {
        meta.mtu_room = mtu |-| meta.outer_len_m1;
    }

    table port {
        key = {
            eg_intr_md.egress_port : exact @name("port");
        }
        actions = {
            set_mtu;
        }
        default_action = set_mtu(DEFAULT_PORT_MTU);
        size = PORT_TABLE_SIZE;
    }

    apply {
        meta.outer_len_m1 = eg_intr_md.pkt_length - meta.adj_mtu_v4;
        if (hdr.tun6.isValid()) {
            meta.outer_len_m1 = eg_intr_md.pkt_length - meta.adj_mtu_v6;
        }
        port.apply();
        if (meta.mtu_room == 16w0) {
            meta.drop_reason = DROP_MTU_EXCEEDED;
#ifdef NVE_TNA_PUNTS
            if ((hdr.bridge.is_ipv4 == 1w1 && hdr.bridge.df == 1w1)
                    || hdr.bridge.is_ipv6 == 1w1) {
                bit<8> color = punt_rate.execute(PUNT_MTU_EXCEEDED);
                if (color == (bit<8>)MeterColor_t.RED) {
                    punt_suppressed.count(PUNT_MTU_EXCEEDED);
                } else {
                    eg_dprsr_md.mirror_type = MIRROR_TYPE_PUNT;
                    meta.mirror_session = (MirrorId_t)CPU_CLONE_SESSION;
                    meta.punt_type = PKT_TYPE_PUNT_E2E;
                    hdr.bridge.punt_reason = PUNT_MTU_EXCEEDED;
                }
            }
#endif
        }
    }
}

#endif
