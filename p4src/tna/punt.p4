/* punt.p4 (TNA): copies to the controller, as p4src/include/punt.p4.
 *   PuntIngress (ingress) IPv6 NS on access ports (copied; the original goes on), ARP,
 *                         ND and IPv6 to fe80::/10 on network ports (consumed: Decap's
 *                         checks drop them with DROP_TO_CPU); ICMP to a gateway's
 *                         address and routed frames whose TTL ran out, from either port
 *                         role (consumed: IngressCounters drops them); rate-limited per
 *                         reason.
 *   ToCpu       (egress)  a punted copy: the packet_in header in front of the frame.
 * Tofino: the copy is made by the ingress deparser's Mirror extern (mirror_type
 * MIRROR_TYPE_PUNT, session CPU_CLONE_SESSION); the packet_in contents travel in
 * nve_mirror_h. An I2E mirror copies what the ingress deparser emits: the bridged
 * headers (removed by ToCpu) and the frame as ingress left it. For the consumed
 * punts that is the frame as received; for an access NS the 802.1Q tag, if any, is
 * already removed (docs/tna.md). */
#ifndef NVE_TNA_PUNT_P4
#define NVE_TNA_PUNT_P4

const MirrorType_t MIRROR_TYPE_PUNT = 3w1;

control PuntIngress(NVE_IG_PARAMS) {

    Meter<bit<8>>(PUNT_REASON_COUNT, MeterType_t.PACKETS) rate;
    Counter<bit<32>, bit<8>>(PUNT_REASON_COUNT, CounterType_t.PACKETS) suppressed;
    bit<8> reason = PUNT_NONE;

    action punt_as(bit<8> r) { reason = r; }

    /* The punt reason as one ternary table (TNA only, const entries), in the order
     * of p4src/include/punt.p4 and Routing's punts: a chain of gateways and one-
     * instruction tables took logical tables the stages of both gresses share.
     * Access ports: an NS once the port/VLAN is known (AccessIngress did not drop it);
     * either port role: Routing's outcomes (it ran only on frames no earlier check
     * dropped), martians and a bad checksum first, the gateway's own address whatever the TTL. The TTL
     * copy is the frame as received (the rewrite skips it) with the VSID of the
     * route's subnet: the controller takes the sender's subnet from the source
     * address (docs/tna.md). Not from network ports: after decapsulation the copy has
     * lost the NVGRE headers the controller answers through. */
    table reasons {
        key = {
            meta.port_role         : ternary @name("port_role");
            meta.drop_reason       : ternary @name("drop_reason");
            hdr.arp.isValid()      : ternary @name("arp");
            hdr.icmpv6.isValid()   : ternary @name("icmpv6");
            hdr.icmpv6.msg_type    : ternary @name("icmpv6_type");
            meta.drop_martian      : ternary @name("martian");
            meta.drop_fwd          : ternary @name("fwd");
            meta.drop_rchk         : ternary @name("rchk");
            meta.icmp              : ternary @name("icmp");
            meta.drop_net          : ternary @name("net");
        }
        actions = {
            punt_as;
            NoAction;
        }
        default_action = NoAction();
        const entries = {
            (PORT_ROLE_ACCESS, DROP_NONE, _, true, ICMPV6_NEIGHBOR_SOLICIT, _, _, _, _, _) : punt_as(PUNT_IPV6_NS);
            (_, _, _, _, _, DROP_NONE, DROP_ROUTED_TO_GATEWAY, DROP_NONE, 1, _) : punt_as(PUNT_GATEWAY);
            (_, _, _, _, _, DROP_NONE, DROP_ROUTED_TO_GATEWAY, DROP_TTL_EXPIRED, 1, _) : punt_as(PUNT_GATEWAY);
            (_, _, _, _, _, _, DROP_ROUTED_TO_GATEWAY, _, _, _) : NoAction();
            (_, _, _, _, _, DROP_NONE, _, DROP_TTL_EXPIRED, _, _) : punt_as(PUNT_TTL_EXPIRED);
            (PORT_ROLE_NETWORK, _, true, _, _, _, _, _, _, _) : punt_as(PUNT_UNDERLAY_ARP);
            (PORT_ROLE_NETWORK, _, _, true, ICMPV6_NEIGHBOR_SOLICIT, _, _, _, _, _) : punt_as(PUNT_UNDERLAY_ND);
            (PORT_ROLE_NETWORK, _, _, true, ICMPV6_NEIGHBOR_ADVERT, _, _, _, _, _) : punt_as(PUNT_UNDERLAY_ND);
            (PORT_ROLE_NETWORK, _, _, true, ICMPV6_ROUTER_SOLICIT, _, _, _, _, _) : punt_as(PUNT_UNDERLAY_ND);
            (PORT_ROLE_NETWORK, _, _, true, ICMPV6_ROUTER_ADVERT, _, _, _, _, _) : punt_as(PUNT_UNDERLAY_ND);
            (PORT_ROLE_NETWORK, _, _, _, _, _, _, _, _, DROP_TO_CPU) : punt_as(PUNT_UNDERLAY_LOCAL);  /* fe80::/10 */
        }
        size = 16;
    }

    apply {
        reasons.apply();
        if (reason != PUNT_NONE) {
            bit<8> color = rate.execute(reason);
            if (color == (bit<8>)MeterColor_t.RED) {
                suppressed.count(reason);
            } else {
                ig_dprsr_md.mirror_type = MIRROR_TYPE_PUNT;
                meta.mirror_session = (MirrorId_t)CPU_CLONE_SESSION;
                meta.punt_type = PKT_TYPE_PUNT_I2E;
                hdr.bridge.punt_reason = reason;
            }
        }
    }
}

/* The punt of a frame Mtu drops, rate-limited, an E2E mirror of what egress emits:
 * for customer IPv4 without DF the NVGRE packet (Encap still runs on it; the copy
 * carries the egress port, where the controller sends the fragments), PUNT_FRAGMENT;
 * for IPv4 with DF and IPv6 the frame as egress left it (no outer headers: Encap
 * skips it), PUNT_MTU_EXCEEDED. Tested here on Mtu's room field, in Mtu's verdict
 * stage (a flag from Mtu would cost the meter a stage); the reason depends on
 * bridged fields only, so it is known before. */
control PuntEgress(NVE_EG_PARAMS) {

    Meter<bit<8>>(PUNT_REASON_COUNT, MeterType_t.PACKETS) rate;
    Counter<bit<32>, bit<8>>(PUNT_REASON_COUNT, CounterType_t.PACKETS) suppressed;

    apply {
        /* The reason in the bridged field the mirror header takes it from (a local
         * would need PHV egress does not have). */
        if (hdr.bridge.is_ipv4 == 1w1 && hdr.bridge.df == 1w0) {
            hdr.bridge.punt_reason = PUNT_FRAGMENT;
        } else {
            hdr.bridge.punt_reason = PUNT_MTU_EXCEEDED;
        }
        /* Not for a frame Replication or the prune dropped first (v1model runs Mtu
         * only on frames not dropped). */
        if (meta.drop_reason == DROP_NONE
                && (hdr.bridge.is_ipv4 == 1w1 || hdr.bridge.is_ipv6 == 1w1)) {
            if (meta.mtu_room == 16w0) {
                bit<8> color = rate.execute(hdr.bridge.punt_reason);
                if (color == (bit<8>)MeterColor_t.RED) {
                    suppressed.count(hdr.bridge.punt_reason);
                } else {
                    eg_dprsr_md.mirror_type = MIRROR_TYPE_PUNT;
                    meta.mirror_session = (MirrorId_t)CPU_CLONE_SESSION;
                    meta.punt_type = PKT_TYPE_PUNT_E2E;
                    if (hdr.bridge.punt_reason == PUNT_FRAGMENT) {
                        hdr.bridge.ingress_port = eg_intr_md.egress_port;
                    }
                }
            }
        }
    }
}

/* A punted copy: the egress parser already extracted packet_in from the mirror
 * header; the mirror header and an I2E copy's bridged headers are dropped here. */
control ToCpu(NVE_EG_PARAMS) {
    apply {
        hdr.mirror.setInvalid();
        hdr.bridge.setInvalid();
        hdr.tun4.setInvalid();
        hdr.tun6.setInvalid();
        hdr.nh.setInvalid();
    }
}

#endif
