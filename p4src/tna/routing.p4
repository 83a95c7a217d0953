/* routing.p4 (TNA): routing between the subnets of one tenant, as
 * p4src/include/routing.p4. Tofino: routes are algorithmic LPM (@alpm: a small TCAM
 * of partitions in front of SRAM), which is what lets the route sizes fit; the
 * gateway-MAC test reads gw_diff (VsiInfo); the MAC and TTL rewrite is written per
 * header set after the lookup, as on v1model. */
#ifndef NVE_TNA_ROUTING_P4
#define NVE_TNA_ROUTING_P4

/* Martian IPv4 addresses (as p4src/include/routing.p4): never routed either way. */
bool martian_v4(in ipv4_addr_t a) {
    return a[31:24] == 8w0 || a[31:24] == 8w127 || a[31:16] == 16w0xA9FE
        || a[31:28] == 4w0xE || a[31:28] == 4w0xF;
}

control Routing(NVE_IG_PARAMS) {

    action route(vsi_t vsi, vsid_t vsid, mac_addr_t smac, mac_addr_t dmac) {
        hdr.bridge.vsi = vsi;
        hdr.bridge.vsid = vsid;
        meta.c.smac = smac;
        meta.c.dmac = dmac;
        hdr.bridge.routed = 1w1;
    }

    /* The gateway's own address (as on v1model): dropped; PuntIngress punts ICMP and
     * ICMPv6 (PUNT_GATEWAY; the controller answers echo). */
    action to_gateway() {
        meta.drop_fwd = DROP_ROUTED_TO_GATEWAY;
    }

    /* IPv6 martians (martian_v6 of p4src/include/routing.p4): a 128-bit test is beyond
     * a gateway's 44 bits of input, so they are const entries, looked up beside
     * routes_v6 into their own drop field (IngressCounters puts it before drop_fwd). */
    action martian_src() { meta.drop_martian = DROP_ROUTED_MARTIAN_SRC; }
    action martian_dst() { meta.drop_martian = DROP_ROUTED_MARTIAN_DST; }

    table martians_v6 {
        key = {
            meta.c.ipv6_src : ternary @name("src");
            meta.c.ipv6_dst : ternary @name("dst");
        }
        actions = {
            martian_src;
            martian_dst;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        const entries = {
            (128w0 &&& ~128w1, _) : martian_src();                 /* :: and ::1 */
            (128w0xfe80 << 112 &&& 128w0xffc0 << 112, _) : martian_src();  /* fe80::/10 */
            (128w0xff << 120 &&& 128w0xff << 120, _) : martian_src();      /* ff00::/8 */
            (_, 128w0 &&& ~128w1) : martian_dst();
            (_, 128w0xfe80 << 112 &&& 128w0xffc0 << 112) : martian_dst();
            (_, 128w0xff << 120 &&& 128w0xff << 120) : martian_dst();
        }
        size = 8;
    }

    @alpm(1)
    @alpm_partitions(ROUTE_ALPM_PARTITIONS)
    table routes_v4 {
        key = {
            meta.vrf        : exact @name("vrf");
            meta.c.ipv4_dst : lpm   @name("dst");
        }
        actions = {
            route;
            to_gateway;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = ROUTE_TABLE_SIZE;
    }

    @alpm(1)
    @alpm_partitions(ROUTE_ALPM_PARTITIONS)
    table routes_v6 {
        key = {
            meta.vrf        : exact @name("vrf");
            meta.c.ipv6_dst : lpm   @name("dst");
        }
        actions = {
            route;
            to_gateway;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = ROUTE_TABLE_SIZE;
    }

    apply {
        /* v1model stops at a multicast source (L2Learn): tested on c.smac here. A
         * gateway tests at most 44 bits of PHV: the 48-bit gw_diff in two halves. */
        if (meta.drop_reason == DROP_NONE && meta.drop_net == DROP_NONE
                && meta.c.smac[40:40] == 1w0) {
        if (meta.gw_diff[47:24] == 24w0) { if (meta.gw_diff[23:0] == 24w0) {
        if (meta.vrf != 16w0 && (hdr.bridge.is_ipv4 == 1w1 || hdr.bridge.is_ipv6 == 1w1)) {
            /* The checks beside the lookup (not gating it: as gates they would fill
             * the lookup's stage), into drop_rchk, which IngressCounters takes before
             * the lookup's own outcomes. The customer IPv4 checksum, verified by the
             * parser: the inner header's after decapsulation, else the outermost one. */
            if (hdr.bridge.is_ipv4 == 1w1 && hdr.bridge.decapped == 1w1
                    && !meta.inner_ipv4_csum_ok) {
                meta.drop_rchk = DROP_ROUTED_BAD_CHECKSUM;
            } else if (hdr.bridge.is_ipv4 == 1w1 && hdr.bridge.decapped == 1w0
                    && !meta.ipv4_csum_ok) {
                meta.drop_rchk = DROP_ROUTED_BAD_CHECKSUM;
            } else if (hdr.bridge.is_ipv4 == 1w1 && martian_v4(meta.c.ipv4_src)) {
                meta.drop_rchk = DROP_ROUTED_MARTIAN_SRC;
            } else if (hdr.bridge.is_ipv4 == 1w1 && martian_v4(meta.c.ipv4_dst)) {
                meta.drop_rchk = DROP_ROUTED_MARTIAN_DST;
            } else if (meta.c.ttl <= 8w1) {
                meta.drop_rchk = DROP_TTL_EXPIRED;
            }
            if (hdr.bridge.is_ipv4 == 1w1) {
                if (!routes_v4.apply().hit) {
                    meta.route_miss = 1w1;
                }
            } else {
                if (!routes_v6.apply().hit) {
                    meta.route_miss = 1w1;
                }
            }
            if (hdr.bridge.is_ipv6 == 1w1) {
                martians_v6.apply();
            }
        }
        } }
        }
        /* The rewrite follows the lookup (routed is the route action's); nothing
         * downstream keys on the rewritten headers, so it is off the critical path.
         * Outside the gate above: under it, the gate would have to wait for ArpProxy's
         * answer, which reads the Ethernet header the rewrite writes. */
        /* One block per header set and family (MACs and TTL together: four tables,
         * not six). Not when a check beside the lookup drops the frame: a TTL-expired
         * frame is punted as received (PuntIngress, PUNT_TTL_EXPIRED). */
        if (hdr.bridge.routed == 1w1 && meta.drop_rchk == DROP_NONE) {
            if (hdr.bridge.decapped == 1w1) {
                if (hdr.inner_ipv4.isValid()) {
                    hdr.inner_ethernet.src_addr = meta.c.smac;
                    hdr.inner_ethernet.dst_addr = meta.c.dmac;
                    hdr.inner_ipv4.ttl = hdr.inner_ipv4.ttl - 8w1;
                    meta.upd_inner_ipv4 = 1w1;
                } else {
                    hdr.inner_ethernet.src_addr = meta.c.smac;
                    hdr.inner_ethernet.dst_addr = meta.c.dmac;
                    hdr.inner_ipv6.hop_limit = hdr.inner_ipv6.hop_limit - 8w1;
                }
            } else if (hdr.ipv4.isValid()) {
                hdr.ethernet.src_addr = meta.c.smac;
                hdr.ethernet.dst_addr = meta.c.dmac;
                hdr.ipv4.ttl = hdr.ipv4.ttl - 8w1;
                meta.upd_ipv4 = 1w1;
            } else {
                hdr.ethernet.src_addr = meta.c.smac;
                hdr.ethernet.dst_addr = meta.c.dmac;
                hdr.ipv6.hop_limit = hdr.ipv6.hop_limit - 8w1;
            }
        }
    }
}

#endif
