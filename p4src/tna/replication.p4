/* replication.p4 (TNA): BUM copies toward remote NVEs, as p4src/include/replication.p4.
 * The replica's PAs and next hop are written into the same bridged header slots a
 * unicast frame arrives with (nve_tun4_h / nve_tun6_h, nve_nh_h), so Encap reads one
 * place for both. The tunnel index of a copy is its egress_rid; the bridged FlowID
 * is zeroed here toward a remote NVE that takes none (meta.use_flow_id). */
#ifndef NVE_TNA_REPLICATION_P4
#define NVE_TNA_REPLICATION_P4

control Replication(NVE_EG_PARAMS) {

    action replica_v4(ipv4_addr_t src_pa, ipv4_addr_t dst_pa, bit<1> use_flow_id,
                      mac_addr_t smac, mac_addr_t dmac, vlan_id_t vid) {
        hdr.tun4.setValid();
        hdr.tun4.src_pa = src_pa;
        hdr.tun4.dst_pa = dst_pa;
        meta.use_flow_id = use_flow_id;
        hdr.nh.setValid();
        hdr.nh.smac = smac;
        hdr.nh.dmac = dmac;
        hdr.nh.vid = vid;
    }

    action replica_v6(ipv6_addr_t src_pa, ipv6_addr_t dst_pa, bit<1> use_flow_id,
                      mac_addr_t smac, mac_addr_t dmac, vlan_id_t vid) {
        hdr.tun6.setValid();
        hdr.tun6.src_pa = src_pa;
        hdr.tun6.dst_pa = dst_pa;
        meta.use_flow_id = use_flow_id;
        hdr.nh.setValid();
        hdr.nh.smac = smac;
        hdr.nh.dmac = dmac;
        hdr.nh.vid = vid;
    }

    table tunnel {
        key = {
            eg_intr_md.egress_rid : exact @name("rid");
        }
        actions = {
            replica_v4;
            replica_v6;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = TUNNEL_COUNT;
    }

    apply {
        if (hdr.bridge.decapped == 1w1) {
            meta.drop_reason = DROP_EGRESS_SPLIT_HORIZON;
        } else if (!tunnel.apply().hit) {
            meta.drop_reason = DROP_REPLICA_UNKNOWN;
        } else {
            /* Egress metadata, not the bridged header: writing intrinsic metadata
             * into the packed bridged header ties their PHV layouts together. */
            meta.bum_tunnel = 1w1;
        }
        /* The GRE key's FlowID toward a remote NVE that takes none (Encap copies the
         * bridged FlowID as it is: a default then an override would cost it a stage). */
        if (meta.bum_tunnel == 1w1 && meta.use_flow_id == 1w0) {
            hdr.bridge.flow_id = 8w0;
        }
    }
}

#endif
