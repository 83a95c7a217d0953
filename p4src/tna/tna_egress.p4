/* tna_egress.p4: the egress features in TNA form (same names as the v1model controls
 * in p4src/include/; differences in docs/tna.md).
 *
 * In TNA egress the customer frame is always the outermost Ethernet header the egress
 * parser found: the ingress deparser already dropped the underlay headers of a
 * decapsulated frame. So a tag is always pushed into hdr.vlan (v1model uses
 * hdr.inner_vlan for decapsulated frames) and the outer headers go in front of
 * hdr.ethernet. */
#ifndef NVE_TNA_EGRESS_P4
#define NVE_TNA_EGRESS_P4

#include "tna_headers.p4"

#define NVE_EG_PARAMS inout nve_headers_t hdr, \
                      inout nve_eg_meta_t meta, \
                      in egress_intrinsic_metadata_t eg_intr_md, \
                      inout egress_intrinsic_metadata_for_deparser_t eg_dprsr_md

control Replication(NVE_EG_PARAMS) {

    action replica_v4(ipv4_addr_t src_pa, ipv4_addr_t dst_pa, bit<1> use_flow_id,
                      mac_addr_t smac, mac_addr_t dmac, vlan_id_t vid) {
        meta.tun.pa_is_v6 = 1w0;
        meta.tun.src_pa_v4 = src_pa;
        meta.tun.dst_pa_v4 = dst_pa;
        meta.tun.flow_id_en = use_flow_id;
        meta.tun.nh_smac = smac;
        meta.tun.nh_dmac = dmac;
        meta.tun.nh_vid = vid;
    }

    action replica_v6(ipv6_addr_t src_pa, ipv6_addr_t dst_pa, bit<1> use_flow_id,
                      mac_addr_t smac, mac_addr_t dmac, vlan_id_t vid) {
        meta.tun.pa_is_v6 = 1w1;
        meta.tun.src_pa_v6 = src_pa;
        meta.tun.dst_pa_v6 = dst_pa;
        meta.tun.flow_id_en = use_flow_id;
        meta.tun.nh_smac = smac;
        meta.tun.nh_dmac = dmac;
        meta.tun.nh_vid = vid;
    }

    table tunnel {
        key = {
            eg_intr_md.egress_rid : exact @name("rid");
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
        if (eg_intr_md.egress_rid != 16w0) {
            if (meta.fwd.decapped == 1w1) {
                meta.fwd.drop_reason = DROP_EGRESS_SPLIT_HORIZON;
            } else if (!tunnel.apply().hit) {
                meta.fwd.drop_reason = DROP_REPLICA_UNKNOWN;
            } else {
                meta.fwd.to_tunnel = 1w1;
                meta.fwd.tunnel = eg_intr_md.egress_rid;
                if (meta.tun.flow_id_en == 1w1) {
                    meta.tun.gre_key = meta.fwd.vsid ++ meta.fwd.flow_id;
                } else {
                    meta.tun.gre_key = meta.fwd.vsid ++ 8w0;
                }
            }
        }
    }
}

control AccessEgress(NVE_EG_PARAMS) {

    bit<1>    push_tag = 1w0;
    vlan_id_t push_vid = 12w0;

    action untagged() {
        push_tag = 1w0;
    }

    action tagged(vlan_id_t vid) {
        push_tag = 1w1;
        push_vid = vid;
    }

    table port_vsi {
        key = {
            eg_intr_md.egress_port : exact @name("port");
            meta.fwd.vsi           : exact @name("vsi");
        }
        actions = {
            untagged;
            tagged;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = PORT_VLAN_SIZE;
    }

    apply {
        if (!port_vsi.apply().hit) {
            meta.fwd.drop_reason = DROP_EGRESS_NOT_MEMBER;
        } else if (push_tag == 1w1) {
            hdr.vlan.setValid();
            hdr.vlan.pcp = 3w0;
            hdr.vlan.dei = 1w0;
            hdr.vlan.vid = push_vid;
            hdr.vlan.ether_type = hdr.ethernet.ether_type;
            hdr.ethernet.ether_type = ETHERTYPE_VLAN;
        }
    }
}

control Mtu(NVE_EG_PARAMS) {

    Meter<bit<8>>(PUNT_REASON_COUNT, MeterType_t.PACKETS) punt_rate;
    Counter<bit<32>, bit<8>>(PUNT_REASON_COUNT, CounterType_t.PACKETS) punt_suppressed;

    bit<16> mtu_bytes = DEFAULT_PORT_MTU;

    action set_mtu(bit<16> mtu) {
        mtu_bytes = mtu;
    }

    table port {
        key = {
            eg_intr_md.egress_port : exact @name("port");
        }
        actions = {
            set_mtu;
        }
        default_action = set_mtu(DEFAULT_PORT_MTU);
        size = PORT_TABLE_SIZE;
    }

    apply {
        port.apply();
        bit<16> outer_len = meta.c.frame_len + (GRE_KEY_HEADER_BYTES + IPV4_HEADER_BYTES);
        if (meta.tun.pa_is_v6 == 1w1) {
            outer_len = meta.c.frame_len + (GRE_KEY_HEADER_BYTES + IPV6_HEADER_BYTES);
        }
        /* outer_len > mtu_bytes, as a subtraction whose sign bit a gateway can test. */
        bit<17> excess = (1w0 ++ mtu_bytes) - (1w0 ++ outer_len);
        if (excess[16:16] == 1w1) {
            meta.fwd.drop_reason = DROP_MTU_EXCEEDED;
            if ((meta.c.is_ipv4 == 1w1 && meta.c.df == 1w1) || meta.c.is_ipv6 == 1w1) {
                meta.tna.meter_color = punt_rate.execute(PUNT_MTU_EXCEEDED);
                if (meta.tna.meter_color == (bit<8>)MeterColor_t.RED) {
                    punt_suppressed.count(PUNT_MTU_EXCEEDED);
                } else {
                    /* The egress deparser's Mirror makes the copy (E2E): the frame as
                     * egress leaves it (no outer headers: Encap does not run). */
                    eg_dprsr_md.mirror_type = MIRROR_TYPE_PUNT;
                    meta.tna.mirror_session = (MirrorId_t)CPU_CLONE_SESSION;
                    meta.tna.punt_reason = PUNT_MTU_EXCEEDED;
                }
            }
        }
    }
}

control Encap(NVE_EG_PARAMS) {

    bit<8> cfg_ttl = DEFAULT_OUTER_TTL;
    bit<1> cfg_dscp_pipe = 1w0;
    bit<6> cfg_dscp = 6w0;

    action set_config(bit<8> ttl, bit<1> dscp_pipe, bit<6> dscp) {
        cfg_ttl = ttl;
        cfg_dscp_pipe = dscp_pipe;
        cfg_dscp = dscp;
    }

    table config {
        actions = {
            set_config;
        }
        default_action = set_config(DEFAULT_OUTER_TTL, 1w0, 6w0);
        size = 1;
    }

    apply {
        config.apply();

        bit<6> dscp = 6w0;
        bit<2> ecn = ECN_NOT_ECT;
        if (hdr.ipv4.isValid()) {
            dscp = hdr.ipv4.dscp;
            ecn = hdr.ipv4.ecn;
        } else if (hdr.ipv6.isValid()) {
            dscp = hdr.ipv6.dscp;
            ecn = hdr.ipv6.ecn;
        }
        if (cfg_dscp_pipe == 1w1) {
            dscp = cfg_dscp;
        }

        bit<16> outer_type = ETHERTYPE_IPV4;
        if (meta.tun.pa_is_v6 == 1w1) {
            outer_type = ETHERTYPE_IPV6;
        }

        hdr.encap_ethernet.setValid();
        hdr.encap_ethernet.dst_addr = meta.tun.nh_dmac;
        hdr.encap_ethernet.src_addr = meta.tun.nh_smac;
        if (meta.tun.nh_vid != 12w0) {
            hdr.encap_vlan.setValid();
            hdr.encap_vlan.pcp = 3w0;
            hdr.encap_vlan.dei = 1w0;
            hdr.encap_vlan.vid = meta.tun.nh_vid;
            hdr.encap_vlan.ether_type = outer_type;
            hdr.encap_ethernet.ether_type = ETHERTYPE_VLAN;
        } else {
            hdr.encap_ethernet.ether_type = outer_type;
        }

        if (meta.tun.pa_is_v6 == 1w0) {
            hdr.encap_ipv4.setValid();
            hdr.encap_ipv4.version = 4w4;
            hdr.encap_ipv4.ihl = 4w5;
            hdr.encap_ipv4.dscp = dscp;
            hdr.encap_ipv4.ecn = ecn;
            hdr.encap_ipv4.total_len = meta.c.frame_len + (GRE_KEY_HEADER_BYTES + IPV4_HEADER_BYTES);
            hdr.encap_ipv4.identification = 16w0;
            hdr.encap_ipv4.flags = IPV4_FLAGS_DF;
            hdr.encap_ipv4.frag_offset = 13w0;
            hdr.encap_ipv4.ttl = cfg_ttl;
            hdr.encap_ipv4.protocol = IP_PROTO_GRE;
            hdr.encap_ipv4.hdr_checksum = 16w0;     /* NveEgressDeparser */
            hdr.encap_ipv4.src_addr = meta.tun.src_pa_v4;
            hdr.encap_ipv4.dst_addr = meta.tun.dst_pa_v4;
            meta.tna.upd_encap_ipv4 = 1w1;
        } else {
            hdr.encap_ipv6.setValid();
            hdr.encap_ipv6.version = 4w6;
            hdr.encap_ipv6.dscp = dscp;
            hdr.encap_ipv6.ecn = ecn;
            hdr.encap_ipv6.flow_label = 20w0;
            hdr.encap_ipv6.payload_len = meta.c.frame_len + GRE_KEY_HEADER_BYTES;
            hdr.encap_ipv6.next_hdr = IP_PROTO_GRE;
            hdr.encap_ipv6.hop_limit = cfg_ttl;
            hdr.encap_ipv6.src_addr = meta.tun.src_pa_v6;
            hdr.encap_ipv6.dst_addr = meta.tun.dst_pa_v6;
        }

        hdr.encap_gre.setValid();
        hdr.encap_gre.c = 1w0;
        hdr.encap_gre.r0 = 1w0;
        hdr.encap_gre.k = 1w1;
        hdr.encap_gre.s = 1w0;
        hdr.encap_gre.reserved0 = 9w0;
        hdr.encap_gre.version = 3w0;
        hdr.encap_gre.protocol = ETHERTYPE_TEB;
        hdr.encap_nvgre.setValid();
        hdr.encap_nvgre.vsid = meta.tun.gre_key[31:8];
        hdr.encap_nvgre.flow_id = meta.tun.gre_key[7:0];
    }
}

/* A punted copy (mirror header parsed): the packet_in header in front of the frame. */
control ToCpu(NVE_EG_PARAMS) {
    apply {
        hdr.packet_in.setValid();
        hdr.packet_in.ingress_port = hdr.mirror.ingress_port;
        hdr.packet_in.reason = hdr.mirror.reason;
        hdr.packet_in.vsid = hdr.mirror.vsid;
        hdr.packet_in._pad = 7w0;
        hdr.mirror.setInvalid();
    }
}

control EgressCounters(NVE_EG_PARAMS) {

    Counter<bit<64>, drop_reason_t>(DROP_REASON_COUNT, CounterType_t.PACKETS_AND_BYTES) drops;
    Counter<bit<64>, vsi_t>(VSI_COUNT, CounterType_t.PACKETS_AND_BYTES) vsi_encap;
    Counter<bit<64>, tunnel_t>(TUNNEL_COUNT, CounterType_t.PACKETS_AND_BYTES) tunnel_tx;

    apply {
        if (meta.fwd.drop_reason != DROP_NONE) {
            /* Bit 0 drops the packet; bit 2 (mirroring) stays clear so that an MTU
             * punt still reaches the CPU. */
            eg_dprsr_md.drop_ctl = 3w1;
            drops.count(meta.fwd.drop_reason);
        } else if (meta.fwd.to_tunnel == 1w1) {
            vsi_encap.count(meta.fwd.vsi);
            tunnel_tx.count(meta.fwd.tunnel);
        }
    }
}

#endif
