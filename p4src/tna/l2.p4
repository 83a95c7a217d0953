/* l2.p4 (TNA): the virtual subnet, as p4src/include/l2.p4: attributes, source MAC
 * learning (a Digest), bridging to a local port, a remote NVE or the flood group.
 * Tofino: the gateway-MAC test is an XOR in set_info (gw_diff, tested against 0 by
 * Routing: a 48-bit field-to-field comparison is not a gateway operation); the subnet
 * index, VSID and tunnel are written straight into the bridged header; pruning of the
 * flood copy to the ingress port stays in egress (rid 0, no exclusion id). */
#ifndef NVE_TNA_L2_P4
#define NVE_TNA_L2_P4

const DigestType_t DIGEST_TYPE_LEARN = 3w1;

control VsiInfo(NVE_IG_PARAMS) {

    action set_info(vsid_t vsid, vrf_t vrf, mac_addr_t gw_mac) {
        hdr.bridge.vsid = vsid;
        meta.vrf = vrf;
        meta.gw_diff = meta.c.dmac ^ gw_mac;
    }

    table info {
        key = {
            hdr.bridge.vsi : exact @name("vsi");
        }
        actions = {
            set_info;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = VSI_COUNT;
    }

    apply {
        if (!info.apply().hit) {
            meta.vsi_miss = 1w1;
        }
    }
}

control L2Learn(NVE_IG_PARAMS) {

    action known() { }

    table smac {
        key = {
            hdr.bridge.vsi          : exact @name("vsi");
            meta.c.smac             : exact @name("mac");
            ig_intr_md.ingress_port : exact @name("port");
        }
        actions = {
            known;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = LEARN_TABLE_SIZE;
        idle_timeout = true;
    }

#ifdef NVE_TNA_MAC_LIMIT
    /* A port or subnet the controller marked full (at its learning limit, with the
     * limit's drop mode): frames from unknown source MACs are dropped (DROP_MAC_LIMIT,
     * counted by IngressCounters from mac_limit), not learned. Only with
     * -D NVE_TNA_MAC_LIMIT (docs/tna.md). */
    action full() { }

    table port_full {
        key = {
            ig_intr_md.ingress_port : exact @name("port");
        }
        actions = {
            full;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = PORT_TABLE_SIZE;
    }

    table vsi_full {
        key = {
            hdr.bridge.vsi : exact @name("vsi");
        }
        actions = {
            full;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = VSI_COUNT;
    }
#endif

    apply {
        /* A multicast source is dropped by IngressCounters, which tests c.smac itself
         * (no drop field written here, so no later gate waits for this stage). */
        if (meta.c.smac[40:40] == 1w0 && meta.port_role == PORT_ROLE_ACCESS) {
            if (!smac.apply().hit) {
#ifdef NVE_TNA_MAC_LIMIT
                /* the limit lookups are predicated on the miss (their keys are smac's) */
                if (port_full.apply().hit) {
                    meta.mac_limit = 1w1;
                } else if (vsi_full.apply().hit) {
                    meta.mac_limit = 1w1;
                } else {
#endif
                meta.learn.vsid = hdr.bridge.vsid;
                meta.learn.mac = meta.c.smac;
                meta.learn.port = ig_intr_md.ingress_port;
                ig_dprsr_md.digest_type = DIGEST_TYPE_LEARN;
#ifdef NVE_TNA_MAC_LIMIT
                }
#endif
            }
        }
    }
}

control L2Forward(NVE_IG_PARAMS) {

    action to_port(port_t port) {
        ig_tm_md.ucast_egress_port = port;
    }

    action to_tunnel(tunnel_t tunnel) {
        hdr.bridge.to_tunnel = 1w1;
        hdr.bridge.tunnel = tunnel;
    }

    table dmac {
        key = {
            hdr.bridge.vsi : exact @name("vsi");
            meta.c.dmac    : exact @name("mac");
        }
        actions = {
            to_port;
            to_tunnel;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = MAC_TABLE_SIZE;
    }

    apply {
        /* The action run as control flow (a flag, or to_tunnel tested after the
         * lookup, would cost a stage); bf-p4c takes no apply inside a compound
         * condition, hence the repeated miss branch. */
        if (meta.c.dmac[40:40] == 1w0) {
            switch (dmac.apply().action_run) {
                to_tunnel: {
                    /* Split horizon guards L2 loops only: a routed frame from a tunnel
                     * may go back into one (the NVE is the gateway of hosts behind
                     * other NVEs). */
                    if (hdr.bridge.decapped == 1w1 && hdr.bridge.routed == 1w0) {
                        meta.drop_fwd = DROP_SPLIT_HORIZON;
                    }
                }
                to_port: { }
                NoAction: {
                    if (hdr.bridge.routed == 1w1) {
                        meta.drop_fwd = DROP_ROUTED_DMAC_UNKNOWN;
                    } else {
                        meta.flood = 1w1;              /* flood in the subnet */
                        ig_tm_md.mcast_grp_a = hdr.bridge.vsi;
                    }
                }
            }
        } else if (hdr.bridge.routed == 1w1) {
            meta.drop_fwd = DROP_ROUTED_DMAC_UNKNOWN;
        } else {
            meta.flood = 1w1;
            ig_tm_md.mcast_grp_a = hdr.bridge.vsi;
        }
    }
}

#endif
