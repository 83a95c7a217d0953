/* mtu.p4 (TNA): RFC 7637 section 4.4, as p4src/include/mtu.p4: an encapsulated frame
 * whose outer IP packet exceeds the egress port's MTU is dropped and counted; for IPv4
 * with DF and for IPv6 PuntEgress makes a copy (E2E mirror, rate-limited).
 * Tofino: the outer length is eg_intr_md.pkt_length minus a parser constant
 * (headers.p4, nve_eg_meta_t) of the outer family (a unicast frame's is the bridged
 * layout's, a BUM copy's Replication's); outer_len > mtu is a
 * saturating subtraction tested against 0 (a gateway cannot compare two 16-bit fields
 * by magnitude). Three stages: length, MTU lookup, verdict. Encap tests the same
 * room field (no outer headers on a frame dropped here: its punt is the frame as
 * egress left it). */
#ifndef NVE_TNA_MTU_P4
#define NVE_TNA_MTU_P4

control Mtu(NVE_EG_PARAMS) {

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
        /* Each path writes the length once (a default then an override would cost a
         * stage). */
        if (hdr.tun6.isValid()) {
            meta.outer_len_m1 = eg_intr_md.pkt_length - meta.adj_mtu_v6;
        } else {
            meta.outer_len_m1 = eg_intr_md.pkt_length - meta.adj_mtu_v4;
        }
        port.apply();
        /* The copy for customer IPv4 with DF and IPv6: PuntEgress decides it from the
         * same field, in this stage. */
        if (meta.mtu_room == 16w0) {
            meta.drop_late = DROP_MTU_EXCEEDED;
        }
    }
}

#endif
