/* underlay.p4 (TNA): the underlay next hop of a unicast encapsulated frame, as
 * p4src/include/underlay.p4. Tofino: ALPM routes keyed on the bridged PA; the ECMP
 * hash (CRC-16 over source PA, destination PA, GRE key, the GRE key being the bridged
 * (vsid, flow_id)) is computed before the route is known and masked after it:
 * bucket = hash AND (size - 1). Tofino has no run-time modulo, so the controller
 * installs power-of-two groups on this target (docs/tna.md); the next hop's MACs and
 * VLAN go into the bridged nve_nh_h. */
#ifndef NVE_TNA_UNDERLAY_P4
#define NVE_TNA_UNDERLAY_P4

control Underlay(NVE_IG_PARAMS) {

    Hash<bit<16>>(HashAlgorithm_t.CRC16) ecmp_hash_v4;
    Hash<bit<16>>(HashAlgorithm_t.CRC16) ecmp_hash_v6;

    action set_nexthop(nexthop_t nexthop) {
        meta.is_ecmp = 1w0;
        meta.nexthop = nexthop;
    }

    action set_ecmp(ecmp_group_t group, bit<16> size) {
        meta.is_ecmp = 1w1;
        meta.ecmp_group = group;
        meta.ecmp_mask = size - 16w1;
    }

    @alpm(1)
    @alpm_partitions(UNDERLAY_ALPM_PARTITIONS)
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

    @alpm(1)
    @alpm_partitions(UNDERLAY_ALPM_PARTITIONS)
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
        bit<16> h;
        bool hit;
        if (hdr.bridge.pa_is_v6 == 1w0) {
            h = ecmp_hash_v4.get({ hdr.tun4.src_pa, hdr.tun4.dst_pa,
                                   hdr.bridge.vsid, hdr.bridge.flow_id });
            hit = routes_v4.apply().hit;
        } else {
            h = ecmp_hash_v6.get({ hdr.tun6.src_pa, hdr.tun6.dst_pa,
                                   hdr.bridge.vsid, hdr.bridge.flow_id });
            hit = routes_v6.apply().hit;
        }
        if (!hit) {
            meta.drop_reason = DROP_UNDERLAY_ROUTE_MISS;
        } else {
            bool nh_ok = true;
            if (meta.is_ecmp == 1w1) {
                meta.ecmp_bucket = h & meta.ecmp_mask;
                if (!ecmp.apply().hit) {
                    meta.drop_reason = DROP_ECMP_MISS;
                    nh_ok = false;
                }
            }
            if (nh_ok) {
                if (!nexthop.apply().hit) {
                    meta.drop_reason = DROP_NEXTHOP_MISS;
                }
            }
        }
    }
}

#endif
