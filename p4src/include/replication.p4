/* replication.p4: broadcast, unknown unicast and multicast (RFC 7637 section 4.2).
 * L2Forward sends such frames to the subnet's multicast group. Each copy with
 * egress_rid != 0 goes to a remote NVE: rid is its tunnel index, and this table gives
 * its tunnel and the next hop the controller resolved (N-way unicast: one member per
 * remote NVE; underlay group mode: one member whose destination PA is the group).
 * Copies with rid 0 are local. Frames decapsulated from the network never go back
 * into a tunnel (split horizon, RFC 7637 section 4.2): one flood group per VSI serves
 * both directions, and a decapsulated frame's tunnel copies are dropped here, each
 * counted under DROP_EGRESS_SPLIT_HORIZON. */
#ifndef NVE_REPLICATION_P4
#define NVE_REPLICATION_P4

#include "headers.p4"
#include "sizes.p4"
#include "tunnel_encap.p4"

control Replication(inout metadata_t meta,
                    inout standard_metadata_t sm) {

    action replica_v4(ipv4_addr_t src_pa, ipv4_addr_t dst_pa, bit<1> use_flow_id,
                      mac_addr_t smac, mac_addr_t dmac, vlan_id_t vid) {
        meta.tun.pa_is_v6 = 1w0;
        meta.tun.src_pa_v4 = src_pa;
        meta.tun.dst_pa_v4 = dst_pa;
        meta.tun.use_flow_id = use_flow_id;
        meta.tun.nh_smac = smac;
        meta.tun.nh_dmac = dmac;
        meta.tun.nh_vid = vid;
    }

    action replica_v6(ipv6_addr_t src_pa, ipv6_addr_t dst_pa, bit<1> use_flow_id,
                      mac_addr_t smac, mac_addr_t dmac, vlan_id_t vid) {
        meta.tun.pa_is_v6 = 1w1;
        meta.tun.src_pa_v6 = src_pa;
        meta.tun.dst_pa_v6 = dst_pa;
        meta.tun.use_flow_id = use_flow_id;
        meta.tun.nh_smac = smac;
        meta.tun.nh_dmac = dmac;
        meta.tun.nh_vid = vid;
    }

    table tunnel {
        key = {
            sm.egress_rid : exact @name("rid");
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
        if (sm.egress_rid == 16w0) {
            return;
        }
        if (meta.fwd.decapped == 1w1) {
            meta.fwd.drop_reason = DROP_EGRESS_SPLIT_HORIZON;
            return;
        }
        if (!tunnel.apply().hit) {
            meta.fwd.drop_reason = DROP_REPLICA_UNKNOWN;
            return;
        }
        meta.fwd.to_tunnel = 1w1;
        meta.fwd.tunnel = sm.egress_rid;
        meta.tun.gre_key = nvgre_key(meta.fwd.vsid, meta.fwd.flow_id, meta.tun.use_flow_id);
    }
}

#endif
