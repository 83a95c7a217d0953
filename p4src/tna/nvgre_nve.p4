/* nvgre_nve.p4: the NVGRE (RFC 7637) Network Virtualization Edge for the Tofino Native
 * Architecture (TNA, Tofino 1; one pipeline).
 *
 * The same features and the same P4Runtime names as p4src/v1model/nvgre_nve.p4: the
 * top-level controls are NveIngress / NveEgress with the same instance names, so
 * tables are NveIngress.<feature>.<table> as on v1model (bf-p4c prefixes the name of
 * the Pipeline instance, "pipe."; docs/tna.md says how a controller handles that and
 * lists every other difference).
 *
 * Shared with v1model, unchanged: p4src/include/constants.p4, drop_reasons.p4,
 * headers.p4 (header types, metadata sub-structs, digest struct) and sizes.p4.
 *
 * Build (see docs/tna.md; `make p4-tofino`):
 *   p4c --target tofino --arch tna -I p4src/include -I p4src/tna \
 *       -D NVE_PROFILE_TOFINO --p4runtime-files nvgre_nve.p4info.txtpb \
 *       --p4runtime-force-std-externs p4src/tna/nvgre_nve.p4 */
#include <core.p4>
#include <tna.p4>

#if defined(NVE_PROFILE_TOFINO)
#include "tofino_sizes.p4"
#else
#include "sizes.p4"
#endif
#include "constants.p4"
#include "drop_reasons.p4"
#include "headers.p4"
#include "tna_headers.p4"
#include "tna_parser.p4"
#include "tna_ingress.p4"
#include "tna_egress.p4"

control NveIngress(inout nve_headers_t hdr,
                   inout nve_ig_meta_t meta,
                   in ingress_intrinsic_metadata_t ig_intr_md,
                   in ingress_intrinsic_metadata_from_parser_t ig_prsr_md,
                   inout ingress_intrinsic_metadata_for_deparser_t ig_dprsr_md,
                   inout ingress_intrinsic_metadata_for_tm_t ig_tm_md) {

    PortRole()        port;
    PuntIngress()     punt;
    AccessIngress()   access;
    Decap()           decap;
    VsiInfo()         vsi;
    L2Learn()         learn;
    ArpProxy()        arp;
    Routing()         routing;
    L2Forward()       l2;
    FlowId()          flow;
    TunnelSelect()    tunnel;
    Underlay()        underlay;
    IngressCounters() counters;

    apply {
        if (hdr.packet_out.isValid()) {
            /* From the controller: out of the port it names, untouched. */
            ig_tm_md.ucast_egress_port = hdr.packet_out.egress_port;
            hdr.packet_out.setInvalid();
            meta.fwd.from_cpu = 1w1;
        } else {
            if (ig_prsr_md.parser_err != PARSER_ERROR_OK) {
                meta.fwd.drop_reason = DROP_PARSER_ERROR;
            }
            if (meta.fwd.drop_reason == DROP_NONE) {
                port.apply(hdr, meta, ig_intr_md, ig_dprsr_md, ig_tm_md);
            }
            if (meta.fwd.drop_reason == DROP_NONE) {
                punt.apply(hdr, meta, ig_intr_md, ig_dprsr_md, ig_tm_md);
            }
            if (meta.fwd.drop_reason == DROP_NONE) {
                if (meta.fwd.port_role == PORT_ROLE_ACCESS) {
                    access.apply(hdr, meta, ig_intr_md, ig_dprsr_md, ig_tm_md);
                } else {
                    decap.apply(hdr, meta, ig_intr_md, ig_dprsr_md, ig_tm_md);
                }
            }
            if (meta.fwd.drop_reason == DROP_NONE) {
                vsi.apply(hdr, meta, ig_intr_md, ig_dprsr_md, ig_tm_md);
            }
            if (meta.fwd.drop_reason == DROP_NONE) {
                learn.apply(hdr, meta, ig_intr_md, ig_dprsr_md, ig_tm_md);
            }
            if (meta.fwd.drop_reason == DROP_NONE
                    && meta.fwd.port_role == PORT_ROLE_ACCESS) {
                arp.apply(hdr, meta, ig_intr_md, ig_dprsr_md, ig_tm_md);
            }
            if (meta.fwd.drop_reason == DROP_NONE && meta.fwd.reflect == 1w0) {
                routing.apply(hdr, meta, ig_intr_md, ig_dprsr_md, ig_tm_md);
            }
            if (meta.fwd.drop_reason == DROP_NONE && meta.fwd.reflect == 1w0) {
                l2.apply(hdr, meta, ig_intr_md, ig_dprsr_md, ig_tm_md);
            }
            if (meta.fwd.drop_reason == DROP_NONE && meta.fwd.decapped == 1w0
                    && (meta.fwd.to_tunnel == 1w1 || meta.fwd.flood == 1w1)) {
                flow.apply(hdr, meta, ig_intr_md, ig_dprsr_md, ig_tm_md);
            }
            if (meta.fwd.drop_reason == DROP_NONE && meta.fwd.to_tunnel == 1w1) {
                tunnel.apply(hdr, meta, ig_intr_md, ig_dprsr_md, ig_tm_md);
            }
            if (meta.fwd.drop_reason == DROP_NONE && meta.fwd.to_tunnel == 1w1) {
                underlay.apply(hdr, meta, ig_intr_md, ig_dprsr_md, ig_tm_md);
            }
        }
        counters.apply(hdr, meta, ig_intr_md, ig_dprsr_md, ig_tm_md);

        /* Everything egress needs (TNA egress sees none of the ingress metadata). */
        hdr.bridge.setValid();
        hdr.bridge.pkt_type = PKT_TYPE_BRIDGED;
        hdr.bridge._pad0 = 7w0;
        hdr.bridge.ingress_port = ig_intr_md.ingress_port;
        hdr.bridge.from_cpu = meta.fwd.from_cpu;
        hdr.bridge.decapped = meta.fwd.decapped;
        hdr.bridge.routed = meta.fwd.routed;
        hdr.bridge.reflect = meta.fwd.reflect;
        hdr.bridge.to_tunnel = meta.fwd.to_tunnel;
        hdr.bridge.is_ipv4 = meta.c.is_ipv4;
        hdr.bridge.is_ipv6 = meta.c.is_ipv6;
        hdr.bridge.df = meta.c.df;
        hdr.bridge.vsi = meta.fwd.vsi;
        hdr.bridge.vsid = meta.fwd.vsid;
        hdr.bridge.tunnel = meta.fwd.tunnel;
        hdr.bridge.flow_id = meta.fwd.flow_id;
        hdr.bridge._pad1 = 7w0;
        hdr.bridge.pa_is_v6 = meta.tun.pa_is_v6;
        hdr.bridge.gre_key = meta.tun.gre_key;
        if (meta.tun.pa_is_v6 == 1w1) {
            hdr.bridge.src_pa = meta.tun.src_pa_v6;
            hdr.bridge.dst_pa = meta.tun.dst_pa_v6;
        } else {
            hdr.bridge.src_pa = 96w0 ++ meta.tun.src_pa_v4;
            hdr.bridge.dst_pa = 96w0 ++ meta.tun.dst_pa_v4;
        }
        hdr.bridge.nh_smac = meta.tun.nh_smac;
        hdr.bridge.nh_dmac = meta.tun.nh_dmac;
        hdr.bridge._pad2 = 4w0;
        hdr.bridge.nh_vid = meta.tun.nh_vid;
    }
}

/* Checksums of the customer IPv4 header after a TTL decrement (routed) or an ECN
 * change (decapsulated), options included; the punt mirror; the learning digest. */
control NveIngressDeparser(packet_out pkt,
                           inout nve_headers_t hdr,
                           in nve_ig_meta_t meta,
                           in ingress_intrinsic_metadata_for_deparser_t ig_dprsr_md,
                           in ingress_intrinsic_metadata_t ig_intr_md) {

    Checksum() ipv4_csum;
    Checksum() inner_ipv4_csum;
    Mirror(MIRROR_TYPE_PUNT) punt_mirror;
    /* Named absolutely so that the P4Info digest name equals v1model's (the struct
     * type name) once the pipe prefix is stripped (docs/tna.md). */
    @name(".mac_learn_digest_t")
    Digest<mac_learn_digest_t>(DIGEST_TYPE_LEARN) learn_digest;

    apply {
        if (meta.tna.upd_ipv4 == 1w1) {
            hdr.ipv4.hdr_checksum = ipv4_csum.update(
                { hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.dscp, hdr.ipv4.ecn,
                  hdr.ipv4.total_len, hdr.ipv4.identification, hdr.ipv4.flags,
                  hdr.ipv4.frag_offset, hdr.ipv4.ttl, hdr.ipv4.protocol,
                  hdr.ipv4.src_addr, hdr.ipv4.dst_addr, hdr.ipv4_options.data });
        }
        if (meta.tna.upd_inner_ipv4 == 1w1) {
            hdr.inner_ipv4.hdr_checksum = inner_ipv4_csum.update(
                { hdr.inner_ipv4.version, hdr.inner_ipv4.ihl, hdr.inner_ipv4.dscp,
                  hdr.inner_ipv4.ecn, hdr.inner_ipv4.total_len,
                  hdr.inner_ipv4.identification, hdr.inner_ipv4.flags,
                  hdr.inner_ipv4.frag_offset, hdr.inner_ipv4.ttl,
                  hdr.inner_ipv4.protocol, hdr.inner_ipv4.src_addr,
                  hdr.inner_ipv4.dst_addr, hdr.inner_ipv4_options.data });
        }
        if (ig_dprsr_md.mirror_type == MIRROR_TYPE_PUNT) {
            punt_mirror.emit<nve_mirror_h>(meta.tna.mirror_session,
                { meta.tna.punt_pkt_type, meta.tna.punt_pad, meta.tna.punt_port,
                  meta.tna.punt_reason, meta.fwd.vsid });
        }
        if (ig_dprsr_md.digest_type == DIGEST_TYPE_LEARN) {
            learn_digest.pack(meta.learn);
        }
        pkt.emit(hdr);
    }
}

control NveEgress(inout nve_headers_t hdr,
                  inout nve_eg_meta_t meta,
                  in egress_intrinsic_metadata_t eg_intr_md,
                  in egress_intrinsic_metadata_from_parser_t eg_prsr_md,
                  inout egress_intrinsic_metadata_for_deparser_t eg_dprsr_md,
                  inout egress_intrinsic_metadata_for_output_port_t eg_oport_md) {

    ToCpu()          to_cpu;
    Replication()    replica;
    AccessEgress()   access;
    Mtu()            mtu;
    Encap()          encap;
    EgressCounters() counters;

    apply {
        if (meta.tna.is_punt == 1w1) {
            to_cpu.apply(hdr, meta, eg_intr_md, eg_dprsr_md);
        } else if (meta.fwd.from_cpu == 1w0) {
            /* The customer frame length (no tag, no FCS) from the egress length. */
            meta.c.frame_len = eg_intr_md.pkt_length - (NVE_BRIDGE_BYTES + ETHERNET_FCS_BYTES);
            replica.apply(hdr, meta, eg_intr_md, eg_dprsr_md);
            if (meta.fwd.drop_reason == DROP_NONE
                    && eg_intr_md.egress_port == meta.tna.ingress_port
                    && meta.fwd.reflect == 1w0 && meta.fwd.routed == 1w0) {
                meta.fwd.drop_reason = DROP_PRUNE_INGRESS_PORT;
            }
            if (meta.fwd.drop_reason == DROP_NONE) {
                if (meta.fwd.to_tunnel == 1w1) {
                    mtu.apply(hdr, meta, eg_intr_md, eg_dprsr_md);
                } else {
                    access.apply(hdr, meta, eg_intr_md, eg_dprsr_md);
                }
            }
            if (meta.fwd.drop_reason == DROP_NONE && meta.fwd.to_tunnel == 1w1) {
                encap.apply(hdr, meta, eg_intr_md, eg_dprsr_md);
            }
            counters.apply(hdr, meta, eg_intr_md, eg_dprsr_md);
        }
        /* The bridged header ends here; it never leaves the switch. */
        hdr.bridge.setInvalid();
    }
}

/* Outer IPv4 header checksum of encapsulated packets; the MTU punt mirror. */
control NveEgressDeparser(packet_out pkt,
                          inout nve_headers_t hdr,
                          in nve_eg_meta_t meta,
                          in egress_intrinsic_metadata_for_deparser_t eg_dprsr_md) {

    Checksum() encap_ipv4_csum;
    Mirror(MIRROR_TYPE_PUNT) punt_mirror;

    apply {
        if (meta.tna.upd_encap_ipv4 == 1w1) {
            hdr.encap_ipv4.hdr_checksum = encap_ipv4_csum.update(
                { hdr.encap_ipv4.version, hdr.encap_ipv4.ihl, hdr.encap_ipv4.dscp,
                  hdr.encap_ipv4.ecn, hdr.encap_ipv4.total_len,
                  hdr.encap_ipv4.identification, hdr.encap_ipv4.flags,
                  hdr.encap_ipv4.frag_offset, hdr.encap_ipv4.ttl,
                  hdr.encap_ipv4.protocol, hdr.encap_ipv4.src_addr,
                  hdr.encap_ipv4.dst_addr });
        }
        if (eg_dprsr_md.mirror_type == MIRROR_TYPE_PUNT) {
            punt_mirror.emit<nve_mirror_h>(meta.tna.mirror_session,
                { meta.tna.punt_pkt_type, meta.tna.punt_pad, meta.tna.ingress_port,
                  meta.tna.punt_reason, meta.fwd.vsid });
        }
        pkt.emit(hdr);
    }
}

Pipeline(NveIngressParser(),
         NveIngress(),
         NveIngressDeparser(),
         NveEgressParser(),
         NveEgress(),
         NveEgressDeparser()) pipe;

Switch(pipe) main;
