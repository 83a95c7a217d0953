/* tna_ingress.p4: the ingress features in TNA form.
 *
 * One control per feature with the SAME control type names, table names, action
 * names, key @names and action parameter names as the v1model controls in
 * p4src/include/ (those take v1model's standard_metadata_t and cannot be reused).
 * The logic follows them line for line; the differences (docs/tna.md):
 *   - egress port / multicast group / drop go to ig_tm_md / ig_dprsr_md;
 *   - hashes are Hash<bit<16>>(CRC16) instances, one per input list;
 *   - meters and counters are Meter<> / Counter<>; a punt sets mirror_type (the
 *     deparser's Mirror extern makes the copy) and a learn sets digest_type (the
 *     deparser's Digest extern sends it);
 *   - ingress does not know the packet length (egress computes frame_len);
 *   - header checksums are flagged here and computed by the deparser.
 */
#ifndef NVE_TNA_INGRESS_P4
#define NVE_TNA_INGRESS_P4

#include "tna_headers.p4"

#define NVE_IG_PARAMS inout nve_headers_t hdr, \
                      inout nve_ig_meta_t meta, \
                      in ingress_intrinsic_metadata_t ig_intr_md, \
                      inout ingress_intrinsic_metadata_for_deparser_t ig_dprsr_md, \
                      inout ingress_intrinsic_metadata_for_tm_t ig_tm_md

control PortRole(NVE_IG_PARAMS) {

    action set_access() {
        meta.fwd.port_role = PORT_ROLE_ACCESS;
    }

    action set_network() {
        meta.fwd.port_role = PORT_ROLE_NETWORK;
    }

    table role {
        key = {
            ig_intr_md.ingress_port : exact @name("port");
        }
        actions = {
            set_access;
            set_network;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = PORT_TABLE_SIZE;
    }

    apply {
        if (ig_intr_md.ingress_port == TNA_CPU_PORT) {
            meta.fwd.port_role = PORT_ROLE_CPU;
        } else if (!role.apply().hit) {
            meta.fwd.drop_reason = DROP_PORT_UNKNOWN;
        }
    }
}

control PuntIngress(NVE_IG_PARAMS) {

    Meter<bit<8>>(PUNT_REASON_COUNT, MeterType_t.PACKETS) rate;
    Counter<bit<32>, bit<8>>(PUNT_REASON_COUNT, CounterType_t.PACKETS) suppressed;

    apply {
        bit<8> reason = PUNT_NONE;
        bit<1> consume = 1w0;
        if (meta.fwd.port_role == PORT_ROLE_ACCESS) {
            if (hdr.icmpv6.isValid()) {
                if (hdr.icmpv6.msg_type == ICMPV6_NEIGHBOR_SOLICIT) {
                    reason = PUNT_IPV6_NS;
                }
            }
        } else if (meta.fwd.port_role == PORT_ROLE_NETWORK) {
            if (hdr.arp.isValid()) {
                reason = PUNT_UNDERLAY_ARP;
                consume = 1w1;
            } else if (hdr.icmpv6.isValid()) {
                if (hdr.icmpv6.msg_type == ICMPV6_NEIGHBOR_SOLICIT
                        || hdr.icmpv6.msg_type == ICMPV6_NEIGHBOR_ADVERT) {
                    reason = PUNT_UNDERLAY_ND;
                    consume = 1w1;
                }
            }
        }
        if (reason != PUNT_NONE) {
            meta.tna.meter_color = rate.execute(reason);
            if (meta.tna.meter_color == (bit<8>)MeterColor_t.RED) {
                suppressed.count(reason);
            } else {
                /* The ingress deparser's Mirror makes the copy (I2E): the frame as
                 * received, behind nve_mirror_h. */
                ig_dprsr_md.mirror_type = MIRROR_TYPE_PUNT;
                meta.tna.mirror_session = (MirrorId_t)CPU_CLONE_SESSION;
                meta.tna.punt_reason = reason;
                meta.tna.punt_port = ig_intr_md.ingress_port;
            }
            if (consume == 1w1) {
                meta.fwd.drop_reason = DROP_TO_CPU;
            }
        }
    }
}

control AccessIngress(NVE_IG_PARAMS) {

    action set_vsi(vsi_t vsi) {
        meta.fwd.vsi = vsi;
    }

    table port_vlan {
        key = {
            ig_intr_md.ingress_port : exact @name("port");
            meta.c.tagged           : exact @name("tagged");
            meta.c.vid              : exact @name("vid");
        }
        actions = {
            set_vsi;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = PORT_VLAN_SIZE;
    }

    apply {
        if (!hdr.ethernet.isValid()) {
            meta.fwd.drop_reason = DROP_PARSER_ERROR;
        } else if (meta.pkt.extra_tag == 1w1) {
            meta.fwd.drop_reason = DROP_ACCESS_EXTRA_TAG;
        } else {
            meta.c.dmac = hdr.ethernet.dst_addr;
            meta.c.smac = hdr.ethernet.src_addr;
            meta.c.ether_type = hdr.ethernet.ether_type;
            meta.c.tagged = 1w0;
            meta.c.vid = 12w0;
            if (hdr.vlan.isValid()) {
                meta.c.tagged = 1w1;
                meta.c.vid = hdr.vlan.vid;
                meta.c.ether_type = hdr.vlan.ether_type;
            }
            if (!port_vlan.apply().hit) {
                meta.fwd.drop_reason = DROP_ACCESS_VLAN_UNKNOWN;
            } else {
                /* Remove the tag (RFC 7637 section 3.3); egress pushes the output
                 * port's tag, if any. */
                if (hdr.vlan.isValid()) {
                    hdr.ethernet.ether_type = hdr.vlan.ether_type;
                    hdr.vlan.setInvalid();
                }
                if (hdr.ipv4.isValid()) {
                    meta.c.is_ipv4 = 1w1;
                    meta.c.ipv4_src = hdr.ipv4.src_addr;
                    meta.c.ipv4_dst = hdr.ipv4.dst_addr;
                    meta.c.proto = hdr.ipv4.protocol;
                    meta.c.ttl = hdr.ipv4.ttl;
                    meta.c.df = hdr.ipv4.flags[1:1];
                    /* The customer's header here: the parser's checksum verdict. */
                    meta.c.ipv4_csum_bad = 1w0;
                    if (!meta.tna.ipv4_csum_ok) {
                        meta.c.ipv4_csum_bad = 1w1;
                    }
                } else if (hdr.ipv6.isValid()) {
                    meta.c.is_ipv6 = 1w1;
                    meta.c.ipv6_src = hdr.ipv6.src_addr;
                    meta.c.ipv6_dst = hdr.ipv6.dst_addr;
                    meta.c.proto = hdr.ipv6.next_hdr;
                    meta.c.ttl = hdr.ipv6.hop_limit;
                }
                if (hdr.l4.isValid()) {
                    meta.c.src_port = hdr.l4.src_port;
                    meta.c.dst_port = hdr.l4.dst_port;
                }
            }
        }
    }
}

control Decap(NVE_IG_PARAMS) {

    action local_pa() { }

    action underlay_group() { }

    table my_pa_v4 {
        key = {
            hdr.ipv4.dst_addr : exact @name("dst");
        }
        actions = {
            local_pa;
            underlay_group;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = LOCAL_PA_SIZE;
    }

    table my_pa_v6 {
        key = {
            hdr.ipv6.dst_addr : exact @name("dst");
        }
        actions = {
            local_pa;
            underlay_group;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = LOCAL_PA_SIZE;
    }

    action set_vsi(vsi_t vsi) {
        meta.fwd.vsi = vsi;
    }

    table vsid {
        key = {
            hdr.nvgre.vsid : exact @name("vsid");
        }
        actions = {
            set_vsi;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = VSI_COUNT;
    }

    action peer(tunnel_t tunnel) {
        meta.fwd.rx_tunnel = tunnel;
    }

    table peer_v4 {
        key = {
            hdr.nvgre.vsid    : exact @name("vsid");
            hdr.ipv4.src_addr : exact @name("src");
        }
        actions = {
            peer;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = PEER_TABLE_SIZE;
    }

    table peer_v6 {
        key = {
            hdr.nvgre.vsid    : exact @name("vsid");
            hdr.ipv6.src_addr : exact @name("src");
        }
        actions = {
            peer;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = PEER_TABLE_SIZE;
    }

    apply {
        /* Checks 1..8 of docs/pipeline.md in order, written as one if/else chain on
         * hit/miss and parser facts so that the compiler sees control (not data)
         * dependencies between them. */
        bool is_local = false;
        if (hdr.ipv4.isValid()) {
            is_local = my_pa_v4.apply().hit;
        } else if (hdr.ipv6.isValid()) {
            is_local = my_pa_v6.apply().hit;
        }
        if (!is_local) {
            meta.fwd.drop_reason = DROP_NET_NOT_LOCAL;
        } else if (meta.pkt.ip_frag == 1w1) {
            meta.fwd.drop_reason = DROP_NET_FRAGMENT;
        } else if (hdr.ipv4.isValid() && !meta.tna.ipv4_csum_ok) {
            meta.fwd.drop_reason = DROP_NET_BAD_CHECKSUM;
        } else if (!hdr.nvgre.isValid() || !hdr.inner_ethernet.isValid()) {
            meta.fwd.drop_reason = DROP_NET_NOT_NVGRE;
        } else if (hdr.nvgre.vsid <= VSID_RESERVED_LOW_MAX || hdr.nvgre.vsid == VSID_VENDOR) {
            meta.fwd.drop_reason = DROP_NET_VSID_RESERVED;
        } else if (!vsid.apply().hit) {
            meta.fwd.drop_reason = DROP_NET_VSID_UNKNOWN;
        } else {
            bool known_peer = false;
            if (hdr.ipv4.isValid()) {
                known_peer = peer_v4.apply().hit;
            } else {
                known_peer = peer_v6.apply().hit;
            }
            if (!known_peer) {
                meta.fwd.drop_reason = DROP_NET_PEER_UNKNOWN;
            } else if (hdr.inner_vlan.isValid()) {
                meta.fwd.drop_reason = DROP_NET_INNER_TAGGED;
            } else {
                /* 9. ECN decapsulation, RFC 6040 section 4.2. */
                bit<2> outer_ecn = ECN_NOT_ECT;
                if (hdr.ipv4.isValid()) {
                    outer_ecn = hdr.ipv4.ecn;
                } else {
                    outer_ecn = hdr.ipv6.ecn;
                }
                bit<2> inner_ecn = ECN_NOT_ECT;
                if (hdr.inner_ipv4.isValid()) {
                    inner_ecn = hdr.inner_ipv4.ecn;
                } else if (hdr.inner_ipv6.isValid()) {
                    inner_ecn = hdr.inner_ipv6.ecn;
                }
                bit<2> new_ecn = inner_ecn;
                if (outer_ecn == ECN_CE) {
                    if (inner_ecn == ECN_NOT_ECT) {
                        if (hdr.inner_ipv4.isValid() || hdr.inner_ipv6.isValid()) {
                            meta.fwd.drop_reason = DROP_NET_ECN_NOT_ECT;
                        }
                    } else {
                        new_ecn = ECN_CE;
                    }
                } else if (outer_ecn == ECN_ECT1 && inner_ecn == ECN_ECT0) {
                    new_ecn = ECN_ECT1;
                }
                if (meta.fwd.drop_reason == DROP_NONE) {
                    if (new_ecn != inner_ecn) {
                        if (hdr.inner_ipv4.isValid()) {
                            hdr.inner_ipv4.ecn = new_ecn;
                            meta.fwd.l3_rewritten = 1w1;
                            meta.tna.upd_inner_ipv4 = 1w1;
                        } else if (hdr.inner_ipv6.isValid()) {
                            hdr.inner_ipv6.ecn = new_ecn;
                        }
                    }
                    /* The customer frame, from the inner headers. FlowID ignored. */
                    meta.fwd.vsid = hdr.nvgre.vsid;
                    meta.c.dmac = hdr.inner_ethernet.dst_addr;
                    meta.c.smac = hdr.inner_ethernet.src_addr;
                    meta.c.ether_type = hdr.inner_ethernet.ether_type;
                    if (hdr.inner_ipv4.isValid()) {
                        meta.c.is_ipv4 = 1w1;
                        meta.c.ipv4_src = hdr.inner_ipv4.src_addr;
                        meta.c.ipv4_dst = hdr.inner_ipv4.dst_addr;
                        meta.c.proto = hdr.inner_ipv4.protocol;
                        meta.c.ttl = hdr.inner_ipv4.ttl;
                        meta.c.df = hdr.inner_ipv4.flags[1:1];
                        /* Verified by the parser before the ECN rewrite above. */
                        meta.c.ipv4_csum_bad = 1w0;
                        if (!meta.tna.inner_ipv4_csum_ok) {
                            meta.c.ipv4_csum_bad = 1w1;
                        }
                    } else if (hdr.inner_ipv6.isValid()) {
                        meta.c.is_ipv6 = 1w1;
                        meta.c.ipv6_src = hdr.inner_ipv6.src_addr;
                        meta.c.ipv6_dst = hdr.inner_ipv6.dst_addr;
                        meta.c.proto = hdr.inner_ipv6.next_hdr;
                        meta.c.ttl = hdr.inner_ipv6.hop_limit;
                    }
                    if (hdr.inner_l4.isValid()) {
                        meta.c.src_port = hdr.inner_l4.src_port;
                        meta.c.dst_port = hdr.inner_l4.dst_port;
                    }
                    /* Remove the underlay headers. */
                    hdr.ethernet.setInvalid();
                    hdr.vlan.setInvalid();
                    hdr.ipv4.setInvalid();
                    hdr.ipv4_options.setInvalid();
                    hdr.ipv6.setInvalid();
                    hdr.gre.setInvalid();
                    hdr.nvgre.setInvalid();
                    meta.fwd.decapped = 1w1;
                }
            }
        }
    }
}

control VsiInfo(NVE_IG_PARAMS) {

    /* gw_diff: 0 when the frame is addressed to the subnet's gateway (Routing). A
     * 48-bit PHV-to-PHV comparison is not a gateway operation on Tofino; an XOR in
     * the action is. */
    action set_info(vsid_t vsid, vrf_t vrf, mac_addr_t gw_mac) {
        meta.fwd.vsid = vsid;
        meta.fwd.vrf = vrf;
        meta.fwd.gw_mac = gw_mac;
        meta.tna.gw_diff = meta.c.dmac ^ gw_mac;
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

control L2Learn(NVE_IG_PARAMS) {

    action known() { }

    table smac {
        key = {
            meta.fwd.vsi            : exact @name("vsi");
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

    apply {
        if (meta.c.smac[40:40] == 1w1) {
            meta.fwd.drop_reason = DROP_SRC_MAC_MULTICAST;
        } else if (meta.fwd.port_role == PORT_ROLE_ACCESS) {
            if (!smac.apply().hit) {
                meta.learn.vsid = meta.fwd.vsid;
                meta.learn.mac = meta.c.smac;
                meta.learn.port = ig_intr_md.ingress_port;
                ig_dprsr_md.digest_type = DIGEST_TYPE_LEARN;
            }
        }
    }
}

control ArpProxy(NVE_IG_PARAMS) {

    ipv4_addr_t target_ip = 32w0;

    action reply(mac_addr_t mac) {
        hdr.ethernet.dst_addr = hdr.ethernet.src_addr;
        hdr.ethernet.src_addr = mac;
        hdr.arp.oper = ARP_OPER_REPLY;
        hdr.arp.tha = hdr.arp.sha;
        hdr.arp.tpa = hdr.arp.spa;
        hdr.arp.sha = mac;
        hdr.arp.spa = target_ip;
        ig_tm_md.ucast_egress_port = ig_intr_md.ingress_port;
        meta.fwd.reflect = 1w1;
    }

    table proxy {
        key = {
            meta.fwd.vsi : exact @name("vsi");
            target_ip    : exact @name("ip");
        }
        actions = {
            reply;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = ARP_TABLE_SIZE;
    }

    apply {
        if (hdr.arp.isValid()) {
            if (hdr.arp.htype == ARP_HTYPE_ETHERNET && hdr.arp.ptype == ETHERTYPE_IPV4
                    && hdr.arp.hlen == ARP_HLEN_ETHERNET && hdr.arp.plen == ARP_PLEN_IPV4
                    && hdr.arp.oper == ARP_OPER_REQUEST
                    && hdr.arp.spa != 32w0 && hdr.arp.spa != hdr.arp.tpa) {
                target_ip = hdr.arp.tpa;
                proxy.apply();
            }
        }
    }
}

control Routing(NVE_IG_PARAMS) {

    action route(vsi_t vsi, vsid_t vsid, mac_addr_t smac, mac_addr_t dmac) {
        meta.fwd.vsi = vsi;
        meta.fwd.vsid = vsid;
        meta.c.smac = smac;
        meta.c.dmac = dmac;
        meta.fwd.routed = 1w1;
    }

    /* Algorithmic LPM: the prefixes live in SRAM behind a small TCAM of partitions,
     * which is what lets 16K (VRF, prefix) routes per family fit (docs/tna.md). */
    @alpm(1)
    @alpm_partitions(2048)
    table routes_v4 {
        key = {
            meta.fwd.vrf    : exact @name("vrf");
            meta.c.ipv4_dst : lpm   @name("dst");
        }
        actions = {
            route;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = ROUTE_TABLE_SIZE;
    }

    @alpm(1)
    @alpm_partitions(2048)
    table routes_v6 {
        key = {
            meta.fwd.vrf    : exact @name("vrf");
            meta.c.ipv6_dst : lpm   @name("dst");
        }
        actions = {
            route;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = ROUTE_TABLE_SIZE;
    }

    apply {
        if (meta.fwd.vrf != 16w0 && meta.tna.gw_diff == 48w0
                && (meta.c.is_ipv4 == 1w1 || meta.c.is_ipv6 == 1w1)) {
            /* RFC 1812 section 5.2.2: a corrupt customer IPv4 header is dropped before
             * anything in it is acted upon (bridged frames are not checked). */
            if (meta.c.is_ipv4 == 1w1 && meta.c.ipv4_csum_bad == 1w1) {
                meta.fwd.drop_reason = DROP_ROUTED_BAD_CHECKSUM;
            } else if (meta.c.ttl <= 8w1) {
                meta.fwd.drop_reason = DROP_TTL_EXPIRED;
            } else {
                bool hit = false;
                if (meta.c.is_ipv4 == 1w1) {
                    hit = routes_v4.apply().hit;
                } else {
                    hit = routes_v6.apply().hit;
                }
                if (!hit) {
                    meta.fwd.drop_reason = DROP_ROUTE_MISS;
                } else {
                    meta.c.ttl = meta.c.ttl - 8w1;
                    if (meta.fwd.decapped == 1w1) {
                        hdr.inner_ethernet.src_addr = meta.c.smac;
                        hdr.inner_ethernet.dst_addr = meta.c.dmac;
                        if (hdr.inner_ipv4.isValid()) {
                            hdr.inner_ipv4.ttl = meta.c.ttl;
                            meta.tna.upd_inner_ipv4 = 1w1;
                        } else if (hdr.inner_ipv6.isValid()) {
                            hdr.inner_ipv6.hop_limit = meta.c.ttl;
                        }
                    } else {
                        hdr.ethernet.src_addr = meta.c.smac;
                        hdr.ethernet.dst_addr = meta.c.dmac;
                        if (hdr.ipv4.isValid()) {
                            hdr.ipv4.ttl = meta.c.ttl;
                            meta.tna.upd_ipv4 = 1w1;
                        } else if (hdr.ipv6.isValid()) {
                            hdr.ipv6.hop_limit = meta.c.ttl;
                        }
                    }
                    meta.fwd.l3_rewritten = 1w1;
                }
            }
        }
    }
}

control L2Forward(NVE_IG_PARAMS) {

    action to_port(port_t port) {
        ig_tm_md.ucast_egress_port = port;
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
            } else {
                meta.fwd.flood = 1w1;
                ig_tm_md.mcast_grp_a = meta.fwd.vsi;
                /* Pruning of the copy to the ingress port is done in egress
                 * (PRUNE_INGRESS_PORT), as on v1model: rid 0 and no L2 exclusion id,
                 * so the replication engine itself prunes nothing. */
                ig_tm_md.rid = 16w0;
                ig_tm_md.level2_exclusion_id = 9w0;
            }
        } else if (meta.fwd.to_tunnel == 1w1 && meta.fwd.decapped == 1w1) {
            meta.fwd.drop_reason = DROP_SPLIT_HORIZON;
        }
    }
}

/* FlowID = low 8 bits of CRC-16 (HashAlgorithm_t.CRC16: polynomial 0x8005, reflected,
 * init 0, no final XOR, the same CRC-16/ARC as v1model's crc16) over the same inputs
 * as the v1model program. Tofino needs one Hash instance per input list. */
control FlowId(NVE_IG_PARAMS) {

    Hash<bit<16>>(HashAlgorithm_t.CRC16) hash_v4;
    Hash<bit<16>>(HashAlgorithm_t.CRC16) hash_v6;
    Hash<bit<16>>(HashAlgorithm_t.CRC16) hash_l2;

    apply {
        bit<16> h = 16w0;
        if (meta.c.is_ipv4 == 1w1) {
            h = hash_v4.get({ meta.c.ipv4_src, meta.c.ipv4_dst, meta.c.proto,
                              meta.c.src_port, meta.c.dst_port });
        } else if (meta.c.is_ipv6 == 1w1) {
            h = hash_v6.get({ meta.c.ipv6_src, meta.c.ipv6_dst, meta.c.proto,
                              meta.c.src_port, meta.c.dst_port });
        } else {
            h = hash_l2.get({ meta.c.dmac, meta.c.smac, meta.c.ether_type });
        }
        meta.fwd.flow_id = h[7:0];
    }
}

control TunnelSelect(NVE_IG_PARAMS) {

    action set_remote_v4(ipv4_addr_t src_pa, ipv4_addr_t dst_pa, bit<1> use_flow_id) {
        meta.tun.pa_is_v6 = 1w0;
        meta.tun.src_pa_v4 = src_pa;
        meta.tun.dst_pa_v4 = dst_pa;
        meta.tun.flow_id_en = use_flow_id;
    }

    action set_remote_v6(ipv6_addr_t src_pa, ipv6_addr_t dst_pa, bit<1> use_flow_id) {
        meta.tun.pa_is_v6 = 1w1;
        meta.tun.src_pa_v6 = src_pa;
        meta.tun.dst_pa_v6 = dst_pa;
        meta.tun.flow_id_en = use_flow_id;
    }

    table remote {
        key = {
            meta.fwd.tunnel : exact @name("tunnel");
        }
        actions = {
            set_remote_v4;
            set_remote_v6;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = TUNNEL_COUNT;
    }

    apply {
        if (!remote.apply().hit) {
            meta.fwd.drop_reason = DROP_TUNNEL_UNKNOWN;
        } else if (meta.tun.flow_id_en == 1w1) {
            meta.tun.gre_key = meta.fwd.vsid ++ meta.fwd.flow_id;
        } else {
            meta.tun.gre_key = meta.fwd.vsid ++ 8w0;
        }
    }
}

/* ECMP: bucket = CRC-16 over (src PA, dst PA, 32-bit key) AND (size - 1). Tofino has
 * no run-time modulo, so `size` must be a power of two on this target; with such a
 * size the bucket equals v1model's hash % size (docs/tna.md). */
control Underlay(NVE_IG_PARAMS) {

    Hash<bit<16>>(HashAlgorithm_t.CRC16) ecmp_hash_v4;
    Hash<bit<16>>(HashAlgorithm_t.CRC16) ecmp_hash_v6;

    action set_nexthop(nexthop_t nexthop) {
        meta.ul.is_ecmp = 1w0;
        meta.ul.nexthop = nexthop;
    }

    action set_ecmp(ecmp_group_t group, bit<16> size) {
        meta.ul.is_ecmp = 1w1;
        meta.ul.ecmp_group = group;
        meta.ul.ecmp_size = size;
        meta.tna.ecmp_mask = size - 16w1;
    }

    @alpm(1)
    @alpm_partitions(1024)
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

    @alpm(1)
    @alpm_partitions(1024)
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
        ig_tm_md.ucast_egress_port = port;
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
        } else {
            bool nh_ok = true;
            if (meta.ul.is_ecmp == 1w1) {
                bit<16> h = 16w0;
                if (meta.tun.pa_is_v6 == 1w0) {
                    h = ecmp_hash_v4.get({ meta.tun.src_pa_v4, meta.tun.dst_pa_v4,
                                           meta.tun.gre_key });
                } else {
                    h = ecmp_hash_v6.get({ meta.tun.src_pa_v6, meta.tun.dst_pa_v6,
                                           meta.tun.gre_key });
                }
                meta.ul.ecmp_bucket = h & meta.tna.ecmp_mask;
                if (!ecmp.apply().hit) {
                    meta.fwd.drop_reason = DROP_ECMP_MISS;
                    nh_ok = false;
                }
            }
            if (nh_ok) {
                if (!nexthop.apply().hit) {
                    meta.fwd.drop_reason = DROP_NEXTHOP_MISS;
                }
            }
        }
    }
}

control IngressCounters(NVE_IG_PARAMS) {

    Counter<bit<64>, drop_reason_t>(DROP_REASON_COUNT, CounterType_t.PACKETS_AND_BYTES) drops;
    Counter<bit<64>, vsi_t>(VSI_COUNT, CounterType_t.PACKETS_AND_BYTES) vsi_decap;
    Counter<bit<64>, tunnel_t>(TUNNEL_COUNT, CounterType_t.PACKETS_AND_BYTES) tunnel_rx;

    apply {
        if (meta.fwd.decapped == 1w1) {
            vsi_decap.count(meta.fwd.vsi);
            tunnel_rx.count(meta.fwd.rx_tunnel);
        }
        if (meta.fwd.drop_reason != DROP_NONE) {
            /* Bit 0 stops the unicast/multicast copy; a punt mirror still leaves. */
            ig_dprsr_md.drop_ctl = 3w1;
            drops.count(meta.fwd.drop_reason);
        }
    }
}

#endif
