/* tunnel_encap.p4 (TNA): encapsulation toward a remote NVE, as
 * p4src/include/tunnel_encap.p4.
 *   FlowId       (ingress) CRC-16 of the customer frame (Hash<bit<16>>(CRC16): CRC-16/ARC,
 *                the same as v1model's crc16; same inputs in the same order). It runs
 *                only on frames that were not decapsulated, whose customer headers
 *                are hdr.ethernet/ipv4/ipv6 (no copies); the ports are the parser's.
 *   TunnelSelect (ingress) PAs of one family into nve_tun4_h / nve_tun6_h (bridged);
 *                the FlowID is zeroed toward peers configured without it, so the
 *                bridged (vsid, flow_id) is the GRE key.
 *   Encap        (egress)  outer headers built from the bridged headers in place (the
 *                bridged FlowID is already 0 toward a peer without it: TunnelSelect /
 *                Underlay for unicast, Replication for BUM copies). */
#ifndef NVE_TNA_TUNNEL_ENCAP_P4
#define NVE_TNA_TUNNEL_ENCAP_P4

control FlowId(NVE_IG_PARAMS) {

    Hash<bit<16>>(HashAlgorithm_t.CRC16) hash_v4;
    Hash<bit<16>>(HashAlgorithm_t.CRC16) hash_v6;
    Hash<bit<16>>(HashAlgorithm_t.CRC16) hash_l2;

    apply {
        if (hdr.bridge.is_ipv4 == 1w1) {
            hdr.bridge.flow_id = hash_v4.get({ hdr.ipv4.src_addr, hdr.ipv4.dst_addr,
                hdr.ipv4.protocol, meta.l4_src, meta.l4_dst })[7:0];
        } else if (hdr.bridge.is_ipv6 == 1w1) {
            hdr.bridge.flow_id = hash_v6.get({ hdr.ipv6.src_addr, hdr.ipv6.dst_addr,
                hdr.ipv6.next_hdr, meta.l4_src, meta.l4_dst })[7:0];
        } else {
            hdr.bridge.flow_id = hash_l2.get({ hdr.ethernet.dst_addr, hdr.ethernet.src_addr,
                hdr.ethernet.ether_type })[7:0];
        }
    }
}

control TunnelSelect(NVE_IG_PARAMS) {

    action set_remote_v4(ipv4_addr_t src_pa, ipv4_addr_t dst_pa, bit<1> use_flow_id) {
        hdr.tun4.setValid();
        hdr.tun4.src_pa = src_pa;
        hdr.tun4.dst_pa = dst_pa;
        meta.use_flow_id = use_flow_id;
    }

    action set_remote_v6(ipv6_addr_t src_pa, ipv6_addr_t dst_pa, bit<1> use_flow_id) {
        hdr.tun6.setValid();
        hdr.tun6.src_pa = src_pa;
        hdr.tun6.dst_pa = dst_pa;
        hdr.bridge.pa_is_v6 = 1w1;
        meta.use_flow_id = use_flow_id;
    }

    table remote {
        key = {
            hdr.bridge.tunnel : exact @name("tunnel");
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
        /* The FlowID of a peer without it is zeroed by Underlay, after its ECMP hash
         * (which selects a hash without the FlowID instead of waiting for this). */
        if (!remote.apply().hit) {
            meta.drop_fwd = DROP_TUNNEL_UNKNOWN;
        }
    }
}

/* Encap's outer headers, written in one block per (outer family, VLAN). */
#define NVE_TNA_ENCAP_ETH(outer_type) \
        hdr.encap_ethernet.setValid(); \
        hdr.encap_ethernet.dst_addr = hdr.nh.dmac; \
        hdr.encap_ethernet.src_addr = hdr.nh.smac; \
        hdr.encap_ethernet.ether_type = (outer_type)
#define NVE_TNA_ENCAP_ETH_TAGGED(outer_type) \
        hdr.encap_ethernet.setValid(); \
        hdr.encap_ethernet.dst_addr = hdr.nh.dmac; \
        hdr.encap_ethernet.src_addr = hdr.nh.smac; \
        hdr.encap_ethernet.ether_type = ETHERTYPE_VLAN; \
        hdr.encap_vlan.setValid(); \
        hdr.encap_vlan.pcp = 3w0; \
        hdr.encap_vlan.dei = 1w0; \
        hdr.encap_vlan.vid = hdr.nh.vid; \
        hdr.encap_vlan.ether_type = (outer_type)
#define NVE_TNA_ENCAP_V4 \
        hdr.encap_ipv4.setValid(); \
        hdr.encap_ipv4.version = 4w4; \
        hdr.encap_ipv4.ihl = 4w5; \
        hdr.encap_ipv4.total_len = eg_intr_md.pkt_length - meta.adj_v4; \
        hdr.encap_ipv4.identification = 16w0; \
        hdr.encap_ipv4.flags = IPV4_FLAGS_DF; \
        hdr.encap_ipv4.frag_offset = 13w0; \
        hdr.encap_ipv4.ttl = cfg_ttl; \
        hdr.encap_ipv4.protocol = IP_PROTO_GRE; \
        hdr.encap_ipv4.hdr_checksum = 16w0; \
        hdr.encap_ipv4.src_addr = hdr.tun4.src_pa; \
        hdr.encap_ipv4.dst_addr = hdr.tun4.dst_pa; \
        meta.upd_encap_ipv4 = 1w1; \
        hdr.encap_ipv4.dscp = meta.tos4[7:2]; \
        hdr.encap_ipv4.ecn = meta.tos4[1:0]
#define NVE_TNA_ENCAP_V6 \
        hdr.encap_ipv6.setValid(); \
        hdr.encap_ipv6.ver_tc_flow = meta.tc6 | 32w0x60000000; \
        hdr.encap_ipv6.payload_len = eg_intr_md.pkt_length - meta.adj_v6_payload; \
        hdr.encap_ipv6.next_hdr = IP_PROTO_GRE; \
        hdr.encap_ipv6.hop_limit = cfg_ttl; \
        hdr.encap_ipv6.src_addr = hdr.tun6.src_pa; \
        hdr.encap_ipv6.dst_addr = hdr.tun6.dst_pa
#define NVE_TNA_ENCAP_GRE \
        hdr.encap_gre.setValid(); \
        hdr.encap_gre.c = 1w0; \
        hdr.encap_gre.r0 = 1w0; \
        hdr.encap_gre.k = 1w1; \
        hdr.encap_gre.s = 1w0; \
        hdr.encap_gre.reserved0 = 9w0; \
        hdr.encap_gre.version = 3w0; \
        hdr.encap_gre.protocol = ETHERTYPE_TEB; \
        hdr.encap_nvgre.setValid(); \
        hdr.encap_nvgre.vsid = hdr.bridge.vsid; \
        hdr.encap_nvgre.flow_id = hdr.bridge.flow_id

control Encap(NVE_EG_PARAMS) {

    bit<8> cfg_ttl = DEFAULT_OUTER_TTL;
    bit<1> cfg_dscp_pipe = 1w0;
    bit<6> cfg_dscp = 6w0;

    /* The outer ToS byte (DSCP uniform or pipe, ECN copied: RFC 6040) is built by the
     * hash unit (identity) into metadata, one field per outer family, so that each is
     * aligned with its destination: IPv4 and IPv6 keep DSCP/ECN at different bit
     * offsets, and a re-aligned PHV source may not share an action with the constants
     * of the outer header (version, IHL, flow label). */
    Hash<bit<8>>(HashAlgorithm_t.IDENTITY) tos4_v4;
    Hash<bit<8>>(HashAlgorithm_t.IDENTITY) tos4_v6;
    Hash<bit<8>>(HashAlgorithm_t.IDENTITY) tos4_cfg_v4;
    Hash<bit<8>>(HashAlgorithm_t.IDENTITY) tos4_cfg_v6;
    Hash<bit<8>>(HashAlgorithm_t.IDENTITY) tos4_cfg;
    Hash<bit<32>>(HashAlgorithm_t.IDENTITY) tos6_v4;
    Hash<bit<32>>(HashAlgorithm_t.IDENTITY) tos6_v6;
    Hash<bit<32>>(HashAlgorithm_t.IDENTITY) tos6_cfg_v4;
    Hash<bit<32>>(HashAlgorithm_t.IDENTITY) tos6_cfg_v6;
    Hash<bit<32>>(HashAlgorithm_t.IDENTITY) tos6_cfg;

    action set_config(bit<8> ttl, bit<1> dscp_pipe, bit<6> dscp) {
        cfg_ttl = ttl;
        cfg_dscp_pipe = dscp_pipe;
        cfg_dscp = dscp;
#ifdef NVE_TNA_PCP
        /* pipe: cfg_dscp for every frame (pcp_dscp, applied only when not pipe,
         * overrides both), so each ToS choice below tests one field, not
         * `dscp_pipe || map_all` (with that test the ToS hashes took five consecutive
         * egress stages; docs/tna.md, opt-in features), and cfg_dscp_pipe needs no PHV
         * in this build. */
        meta.map_all = dscp_pipe;
        meta.map_hit = dscp_pipe;
#endif
    }

    table config {
        actions = {
            set_config;
        }
        default_action = set_config(DEFAULT_OUTER_TTL, 1w0, 6w0);
        size = 1;
    }

#ifdef NVE_TNA_PCP
    /* The customer frame's priority (IEEE 802.1Q PCP, bridged) -> outer DSCP, when
     * dscp_pipe is 0: set_dscp for every frame of that PCP (nve's dscp_mode pcp),
     * set_dscp_non_ip only for frames without an IP header, which have no DSCP to copy
     * (dscp_mode uniform). Without an entry: the customer DSCP, or 0. The mapped DSCP
     * takes cfg_dscp's place (one stage after config), so that the outer ToS is built
     * by the same hash units as for pipe. */
    action set_dscp(bit<6> dscp) { cfg_dscp = dscp; meta.map_all = 1w1; meta.map_hit = 1w1; }

    action set_dscp_non_ip(bit<6> dscp) { cfg_dscp = dscp; meta.map_hit = 1w1; }

    table pcp_dscp {
        key = { hdr.bridge.pcp : exact @name("pcp"); }
        actions = { set_dscp; set_dscp_non_ip; @defaultonly NoAction; }
        default_action = NoAction();
        size = PCP_COUNT;
    }

    apply {
        config.apply();
        if (meta.map_all == 1w0) {  /* not pipe (cfg_dscp_pipe itself is not kept) */
            pcp_dscp.apply();
        }
        /* cfg_dscp (pipe, or the PCP's for every frame: map_all) or the customer's
         * (uniform); a frame without IP: cfg_dscp (pipe, or its PCP's: map_hit), else 0. */
        if (hdr.tun4.isValid()) {
            if (hdr.ipv4.isValid()) {
                if (meta.map_all == 1w1) {
                    meta.tos4 = tos4_cfg_v4.get({ cfg_dscp, hdr.ipv4.ecn });
                } else {
                    meta.tos4 = tos4_v4.get({ hdr.ipv4.dscp, hdr.ipv4.ecn });
                }
            } else if (hdr.ipv6.isValid()) {
                if (meta.map_all == 1w1) {
                    meta.tos4 = tos4_cfg_v6.get({ cfg_dscp, hdr.ipv6.ecn });
                } else {
                    meta.tos4 = tos4_v6.get({ hdr.ipv6.dscp, hdr.ipv6.ecn });
                }
            } else if (meta.map_hit == 1w1) {
                meta.tos4 = tos4_cfg.get({ cfg_dscp, meta.zero2 });
            }
        } else {
            if (hdr.ipv4.isValid()) {
                if (meta.map_all == 1w1) {
                    meta.tc6 = tos6_cfg_v4.get({ meta.zero4, cfg_dscp, hdr.ipv4.ecn, meta.zero20 });
                } else {
                    meta.tc6 = tos6_v4.get({ meta.zero4, hdr.ipv4.dscp, hdr.ipv4.ecn, meta.zero20 });
                }
            } else if (hdr.ipv6.isValid()) {
                if (meta.map_all == 1w1) {
                    meta.tc6 = tos6_cfg_v6.get({ meta.zero4, cfg_dscp, hdr.ipv6.ecn, meta.zero20 });
                } else {
                    meta.tc6 = tos6_v6.get({ meta.zero4, hdr.ipv6.dscp, hdr.ipv6.ecn, meta.zero20 });
                }
            } else if (meta.map_hit == 1w1) {
                meta.tc6 = tos6_cfg.get({ meta.zero4, cfg_dscp, meta.zero2, meta.zero20 });
            }
        }
#else
    apply {
        config.apply();
        if (hdr.tun4.isValid()) {
            if (cfg_dscp_pipe == 1w0) {
                if (hdr.ipv4.isValid()) {
                    meta.tos4 = tos4_v4.get({ hdr.ipv4.dscp, hdr.ipv4.ecn });
                } else if (hdr.ipv6.isValid()) {
                    meta.tos4 = tos4_v6.get({ hdr.ipv6.dscp, hdr.ipv6.ecn });
                }
            } else if (hdr.ipv4.isValid()) {
                meta.tos4 = tos4_cfg_v4.get({ cfg_dscp, hdr.ipv4.ecn });
            } else if (hdr.ipv6.isValid()) {
                meta.tos4 = tos4_cfg_v6.get({ cfg_dscp, hdr.ipv6.ecn });
            } else {
                meta.tos4 = tos4_cfg.get({ cfg_dscp, meta.zero2 });
            }
        } else {
            if (cfg_dscp_pipe == 1w0) {
                if (hdr.ipv4.isValid()) {
                    meta.tc6 = tos6_v4.get({ meta.zero4, hdr.ipv4.dscp, hdr.ipv4.ecn, meta.zero20 });
                } else if (hdr.ipv6.isValid()) {
                    meta.tc6 = tos6_v6.get({ meta.zero4, hdr.ipv6.dscp, hdr.ipv6.ecn, meta.zero20 });
                }
            } else if (hdr.ipv4.isValid()) {
                meta.tc6 = tos6_cfg_v4.get({ meta.zero4, cfg_dscp, hdr.ipv4.ecn, meta.zero20 });
            } else if (hdr.ipv6.isValid()) {
                meta.tc6 = tos6_cfg_v6.get({ meta.zero4, cfg_dscp, hdr.ipv6.ecn, meta.zero20 });
            } else {
                meta.tc6 = tos6_cfg.get({ meta.zero4, cfg_dscp, meta.zero2, meta.zero20 });
            }
        }
#endif
        /* The outer headers: one block per (outer family, next-hop VLAN), each written
         * once (a temporary EtherType or a FlowID zeroed later: a stage each). Not on a
         * frame Mtu drops, but for IPv4 without DF (its punt is the NVGRE packet). */
        if (meta.mtu_room == 16w0 && (hdr.bridge.is_ipv4 == 1w0 || hdr.bridge.df == 1w1)) {
            /* dropped by Mtu */
        } else if (hdr.tun4.isValid()) {
            if (hdr.nh.vid != 12w0) {
                NVE_TNA_ENCAP_ETH_TAGGED(ETHERTYPE_IPV4);
                NVE_TNA_ENCAP_V4;
                NVE_TNA_ENCAP_GRE;
            } else {
                NVE_TNA_ENCAP_ETH(ETHERTYPE_IPV4);
                NVE_TNA_ENCAP_V4;
                NVE_TNA_ENCAP_GRE;
            }
        } else {
            if (hdr.nh.vid != 12w0) {
                NVE_TNA_ENCAP_ETH_TAGGED(ETHERTYPE_IPV6);
                NVE_TNA_ENCAP_V6;
                NVE_TNA_ENCAP_GRE;
            } else {
                NVE_TNA_ENCAP_ETH(ETHERTYPE_IPV6);
                NVE_TNA_ENCAP_V6;
                NVE_TNA_ENCAP_GRE;
            }
        }
    }
}

#undef NVE_TNA_ENCAP_ETH
#undef NVE_TNA_ENCAP_ETH_TAGGED
#undef NVE_TNA_ENCAP_V4
#undef NVE_TNA_ENCAP_V6
#undef NVE_TNA_ENCAP_GRE

#endif
