/* underlay.p4 (TNA): the underlay next hop of a unicast encapsulated frame, as
 * p4src/include/underlay.p4. Tofino: routes in TCAM (one stage; ALPM would take two
 * and the ingress chain has no stage to spare), keyed on the bridged PA; the ECMP
 * hash (CRC-16 over source PA, destination PA, GRE key, the GRE key being the bridged
 * (vsid, flow_id)) runs beside the route lookup, and the bucket is its low four
 * bits: every group has 16 buckets on this target and set_ecmp's size is not read
 * (no run-time modulo; masking with the route's size would be a stage of its own).
 * The controller installs 16 buckets per group here (docs/tna.md); the next hop's
 * MACs and VLAN go into the bridged nve_nh_h. */
#ifndef NVE_TNA_UNDERLAY_P4
#define NVE_TNA_UNDERLAY_P4

control Underlay(NVE_IG_PARAMS) {

    /* The GRE key is (vsid, flow_id), flow_id 0 toward a peer without FlowID: one hash
     * per (family, FlowID use), selected by the tunnel's use_flow_id, so the hash runs
     * in the route lookup's stage without waiting for TunnelSelect's zeroing. Each
     * gives the CRC-16's low four bits (v1model's crc16 % 16): the bucket, straight
     * from the hash unit (a mask after it would be an instruction of its own). */
    Hash<bit<4>>(HashAlgorithm_t.CRC16) ecmp_hash_v4;
    Hash<bit<4>>(HashAlgorithm_t.CRC16) ecmp_hash_v4_no_flow;
    Hash<bit<4>>(HashAlgorithm_t.CRC16) ecmp_hash_v6;
    Hash<bit<4>>(HashAlgorithm_t.CRC16) ecmp_hash_v6_no_flow;

    action set_nexthop(nexthop_t nexthop) {
        meta.is_ecmp = 1w0;
        meta.nexthop = nexthop;
    }

    action set_ecmp(ecmp_group_t group, bit<16> size) {
        meta.is_ecmp = 1w1;
        meta.ecmp_group = group;
    }

    table routes_v4 {
        key = {
            hdr.tun4.dst_pa : lpm @name("dst");
        }
        actions = {
            set_nexthop;
            set_ecmp;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = UNDERLAY_ROUTE_SIZE;
    }

    table routes_v6 {
        key = {
            hdr.tun6.dst_pa : lpm @name("dst");
        }
        actions = {
            set_nexthop;
            set_ecmp;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = UNDERLAY_ROUTE_SIZE;
    }

    table ecmp {
        key = {
            meta.ecmp_group  : exact @name("group");
            meta.ecmp_bucket : exact @name("bucket");
        }
        actions = {
            set_nexthop;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = ECMP_TABLE_SIZE;
    }

    action forward(port_t port, mac_addr_t smac, mac_addr_t dmac, vlan_id_t vid) {
        ig_tm_md.ucast_egress_port = port;
        hdr.nh.setValid();
        hdr.nh.smac = smac;
        hdr.nh.dmac = dmac;
        hdr.nh._pad = 4w0;
        hdr.nh.vid = vid;
    }

    table nexthop {
        key = {
            meta.nexthop : exact @name("nexthop");
        }
        actions = {
            forward;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = NEXTHOP_COUNT;
    }

    apply {
        /* Stage after TunnelSelect: hash (the bucket) and route side by side; then the
         * ECMP member and the next hop, one stage each (data dependencies). */
        if (hdr.bridge.pa_is_v6 == 1w0) {
            if (meta.use_flow_id == 1w1) {
                meta.ecmp_bucket[3:0] = ecmp_hash_v4.get(
                    { hdr.tun4.src_pa, hdr.tun4.dst_pa,
                      hdr.bridge.vsid, hdr.bridge.flow_id });
            } else {
                meta.ecmp_bucket[3:0] = ecmp_hash_v4_no_flow.get(
                    { hdr.tun4.src_pa, hdr.tun4.dst_pa,
                      hdr.bridge.vsid, meta.zero8 });
            }
            if (!routes_v4.apply().hit) {
                meta.drop_ul = DROP_UNDERLAY_ROUTE_MISS;
            }
        } else {
            if (meta.use_flow_id == 1w1) {
                meta.ecmp_bucket[3:0] = ecmp_hash_v6.get(
                    { hdr.tun6.src_pa, hdr.tun6.dst_pa,
                      hdr.bridge.vsid, hdr.bridge.flow_id });
            } else {
                meta.ecmp_bucket[3:0] = ecmp_hash_v6_no_flow.get(
                    { hdr.tun6.src_pa, hdr.tun6.dst_pa,
                      hdr.bridge.vsid, meta.zero8 });
            }
            if (!routes_v6.apply().hit) {
                meta.drop_ul = DROP_UNDERLAY_ROUTE_MISS;
            }
        }
        if (meta.use_flow_id == 1w0) {
            hdr.bridge.flow_id = 8w0;      /* the GRE key's FlowID (after the hash) */
        }
        if (meta.is_ecmp == 1w1) {
            if (!ecmp.apply().hit) {
                meta.drop_ul = DROP_ECMP_MISS;
            }
        }
        if (meta.drop_ul == DROP_NONE) {
            if (!nexthop.apply().hit) {
                meta.drop_ul = DROP_NEXTHOP_MISS;
            }
        }
    }
}

#endif
