/* l2.p4: the virtual subnet: its attributes, source MAC learning and bridging by
 * (subnet, destination MAC) to a local port, a remote NVE, or the flood group. */
#ifndef NVE_L2_P4
#define NVE_L2_P4

#include "headers.p4"
#include "sizes.p4"

/* Subnet attributes: VSID, tenant routing domain, gateway MAC. */
control VsiInfo(inout metadata_t meta) {

    action set_info(vsid_t vsid, vrf_t vrf, mac_addr_t gw_mac) {
        meta.fwd.vsid = vsid;
        meta.fwd.vrf = vrf;
        meta.fwd.gw_mac = gw_mac;
    }

    table info {
        key = {
            meta.fwd.vsi : exact @name("vsi");
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
            meta.fwd.drop_reason = DROP_VSI_UNKNOWN;
        }
    }
}

/* Source MAC check and learning. A (subnet, MAC, port) not known on an access port is
 * reported to the controller by a digest; the controller installs it. A port or subnet
 * the controller marked full (`port_full`, `vsi_full`: at its learning limit, with the
 * limit's drop mode) drops frames from unknown source MACs instead (DROP_MAC_LIMIT). */
control L2Learn(inout metadata_t meta,
                inout standard_metadata_t sm) {

    action known() { }

    table smac {
        key = {
            meta.fwd.vsi    : exact @name("vsi");
            meta.c.smac     : exact @name("mac");
            sm.ingress_port : exact @name("port");
        }
        actions = {
            known;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = LEARN_TABLE_SIZE;
        support_timeout = true;
    }

    action full() { }

    table port_full {
        key = {
            sm.ingress_port : exact @name("port");
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
            meta.fwd.vsi : exact @name("vsi");
        }
        actions = {
            full;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = VSI_COUNT;
    }

    apply {
        if (meta.c.smac[40:40] == 1w1) {
            meta.fwd.drop_reason = DROP_SRC_MAC_MULTICAST;
            return;
        }
        if (meta.fwd.port_role == PORT_ROLE_ACCESS) {
            if (!smac.apply().hit) {
                bool at_limit = port_full.apply().hit;
                if (!at_limit) {
                    at_limit = vsi_full.apply().hit;
                }
                if (at_limit) {
                    meta.fwd.drop_reason = DROP_MAC_LIMIT;
                    return;
                }
                meta.learn.vsid = meta.fwd.vsid;
                meta.learn.mac = meta.c.smac;
                meta.learn.port = sm.ingress_port;
                digest<mac_learn_digest_t>(32w1, meta.learn);
            }
        }
    }
}

/* Bridging in the subnet. Group MACs and unknown unicast flood to multicast group vsi
 * (1 <= vsi < 0x8000: the range every target accepts; PI keeps 0x8000 and up for clone
 * sessions), whatever the frame came from. Copies of a frame decapsulated from the
 * network toward remote NVEs are dropped in egress (Replication; split horizon). */
control L2Forward(inout metadata_t meta,
                  inout standard_metadata_t sm) {

    action to_port(port_t port) {
        sm.egress_spec = port;
    }

    action to_tunnel(tunnel_t tunnel) {
        meta.fwd.to_tunnel = 1w1;
        meta.fwd.tunnel = tunnel;
    }

    table dmac {
        key = {
            meta.fwd.vsi : exact @name("vsi");
            meta.c.dmac  : exact @name("mac");
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
        bool hit = false;
        if (meta.c.dmac[40:40] == 1w0) {
            hit = dmac.apply().hit;
        }
        if (!hit) {
            if (meta.fwd.routed == 1w1) {
                meta.fwd.drop_reason = DROP_ROUTED_DMAC_UNKNOWN;
                return;
            }
            meta.fwd.flood = 1w1;
            sm.mcast_grp = meta.fwd.vsi;
        } else if (meta.fwd.to_tunnel == 1w1 && meta.fwd.decapped == 1w1
                   && meta.fwd.routed == 1w0) {
            /* Split horizon is the L2 loop guard (RFC 7637 section 4.2): a bridged frame
             * from a tunnel never goes back into one. A routed frame does: the NVE is
             * the gateway of hosts behind other NVEs too. */
            meta.fwd.drop_reason = DROP_SPLIT_HORIZON;
        }
    }
}

#endif
