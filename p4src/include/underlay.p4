/* underlay.p4: the underlay next hop of a unicast encapsulated frame: LPM on the outer
 * destination PA -> next hop or ECMP group; the ECMP member is hash(outer source,
 * outer destination, 32-bit key) % group size (RFC 7637 section 4.1), looked up in a
 * (group, bucket) table so that every target runs it (no action selectors). */
#ifndef NVE_UNDERLAY_P4
#define NVE_UNDERLAY_P4

#include "headers.p4"
#include "sizes.p4"

control Underlay(inout metadata_t meta,
                 inout standard_metadata_t sm) {

    action set_nexthop(nexthop_t nexthop) {
        meta.ul.is_ecmp = 1w0;
        meta.ul.nexthop = nexthop;
    }

    action set_ecmp(ecmp_group_t group, bit<16> size) {
        meta.ul.is_ecmp = 1w1;
        meta.ul.ecmp_group = group;
        meta.ul.ecmp_size = size;
    }

    table routes_v4 {
        key = {
            meta.tun.dst_pa_v4 : lpm @name("dst");
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
            meta.tun.dst_pa_v6 : lpm @name("dst");
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
            meta.ul.ecmp_group  : exact @name("group");
            meta.ul.ecmp_bucket : exact @name("bucket");
        }
        actions = {
            set_nexthop;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = ECMP_TABLE_SIZE;
    }

    action forward(port_t port, mac_addr_t smac, mac_addr_t dmac, vlan_id_t vid) {
        sm.egress_spec = port;
        meta.tun.nh_smac = smac;
        meta.tun.nh_dmac = dmac;
        meta.tun.nh_vid = vid;
    }

    table nexthop {
        key = {
            meta.ul.nexthop : exact @name("nexthop");
        }
        actions = {
            forward;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = NEXTHOP_COUNT;
    }

    apply {
        bool hit = false;
        if (meta.tun.pa_is_v6 == 1w0) {
            hit = routes_v4.apply().hit;
        } else {
            hit = routes_v6.apply().hit;
        }
        if (!hit) {
            meta.fwd.drop_reason = DROP_UNDERLAY_ROUTE_MISS;
            return;
        }
        if (meta.ul.is_ecmp == 1w1) {
            if (meta.tun.pa_is_v6 == 1w0) {
                hash(meta.ul.ecmp_bucket, HashAlgorithm.crc16, 16w0,
                     { meta.tun.src_pa_v4, meta.tun.dst_pa_v4, meta.tun.gre_key },
                     (bit<32>)meta.ul.ecmp_size);
            } else {
                hash(meta.ul.ecmp_bucket, HashAlgorithm.crc16, 16w0,
                     { meta.tun.src_pa_v6, meta.tun.dst_pa_v6, meta.tun.gre_key },
                     (bit<32>)meta.ul.ecmp_size);
            }
            if (!ecmp.apply().hit) {
                meta.fwd.drop_reason = DROP_ECMP_MISS;
                return;
            }
        }
        if (!nexthop.apply().hit) {
            meta.fwd.drop_reason = DROP_NEXTHOP_MISS;
        }
    }
}

#endif
