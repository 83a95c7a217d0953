/* deparser.p4 (TNA only; v1model deparses in its main): NveIngressDeparser and
 * NveEgressDeparser. Header checksums are recomputed here (Checksum.update, guarded
 * by flags the controls set); punts are mirrored here (Mirror(), selected by
 * mirror_type; the no-argument constructor: bf-p4c rejects the typed one together
 * with the mirror_type test as "Inconsistent mirror selectors"); the learning digest
 * is sent here (Digest, selected by digest_type). Mirror and digest field lists are
 * PHV fields only (the compiler rejects constants in them): the packet type and the
 * bridged header's packet_in-shaped bytes 1..6 (no copies: copying them re-aligned
 * together with constants breaks Tofino's action and slice-list constraints). */
#ifndef NVE_TNA_DEPARSER_P4
#define NVE_TNA_DEPARSER_P4

/* Customer IPv4 checksums after a TTL decrement or an ECN change (no options on Tofino:
 * an IPv4 header with options is never extracted, parser.p4),
 * the punt mirror, the learning digest. */
control NveIngressDeparser(packet_out pkt,
                           inout nve_headers_t hdr,
                           in nve_ig_meta_t meta,
                           in ingress_intrinsic_metadata_for_deparser_t ig_dprsr_md) {

    Checksum() ipv4_csum;
    Checksum() inner_ipv4_csum;
#ifdef NVE_TNA_PUNTS
    Mirror() punt_mirror;
#endif
#ifdef NVE_TNA_L2
    /* Named absolutely: the P4Info digest name is the v1model one (docs/tna.md). */
    @name(".mac_learn_digest_t")
    Digest<mac_learn_digest_t>() learn_digest;
#endif

    apply {
        if (meta.upd_ipv4 == 1w1) {
            hdr.ipv4.hdr_checksum = ipv4_csum.update(
                { hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.dscp, hdr.ipv4.ecn,
                  hdr.ipv4.total_len, hdr.ipv4.identification, hdr.ipv4.flags,
                  hdr.ipv4.frag_offset, hdr.ipv4.ttl, hdr.ipv4.protocol,
                  hdr.ipv4.src_addr, hdr.ipv4.dst_addr });
        }
        if (meta.upd_inner_ipv4 == 1w1) {
            hdr.inner_ipv4.hdr_checksum = inner_ipv4_csum.update(
                { hdr.inner_ipv4.version, hdr.inner_ipv4.ihl, hdr.inner_ipv4.dscp,
                  hdr.inner_ipv4.ecn, hdr.inner_ipv4.total_len,
                  hdr.inner_ipv4.identification, hdr.inner_ipv4.flags,
                  hdr.inner_ipv4.frag_offset, hdr.inner_ipv4.ttl,
                  hdr.inner_ipv4.protocol, hdr.inner_ipv4.src_addr,
                  hdr.inner_ipv4.dst_addr });
        }
#ifdef NVE_TNA_PUNTS
        if (ig_dprsr_md.mirror_type == MIRROR_TYPE_PUNT) {
            punt_mirror.emit<nve_punt_mirror_t>(meta.mirror_session,
                { meta.punt_type, hdr.bridge._pad0, hdr.bridge.ingress_port,
                  hdr.bridge.punt_reason, hdr.bridge.vsid });
        }
#endif
#ifdef NVE_TNA_L2
        if (ig_dprsr_md.digest_type == DIGEST_TYPE_LEARN) {
            learn_digest.pack(meta.learn);
        }
#endif
        pkt.emit(hdr);
    }
}

/* The outer IPv4 checksum of encapsulated packets; the MTU punt mirror. */
control NveEgressDeparser(packet_out pkt,
                          inout nve_headers_t hdr,
                          in nve_eg_meta_t meta,
                          in egress_intrinsic_metadata_for_deparser_t eg_dprsr_md) {

    Checksum() encap_ipv4_csum;
#ifdef NVE_TNA_PUNTS
    Mirror() punt_mirror;
#endif

    apply {
        if (meta.upd_encap_ipv4 == 1w1) {
            hdr.encap_ipv4.hdr_checksum = encap_ipv4_csum.update(
                { hdr.encap_ipv4.version, hdr.encap_ipv4.ihl, hdr.encap_ipv4.dscp,
                  hdr.encap_ipv4.ecn, hdr.encap_ipv4.total_len,
                  hdr.encap_ipv4.identification, hdr.encap_ipv4.flags,
                  hdr.encap_ipv4.frag_offset, hdr.encap_ipv4.ttl,
                  hdr.encap_ipv4.protocol, hdr.encap_ipv4.src_addr,
                  hdr.encap_ipv4.dst_addr });
        }
#ifdef NVE_TNA_PUNTS
        if (eg_dprsr_md.mirror_type == MIRROR_TYPE_PUNT) {
            punt_mirror.emit<nve_punt_mirror_t>(meta.mirror_session,
                { meta.punt_type, hdr.bridge._pad0, hdr.bridge.ingress_port,
                  hdr.bridge.punt_reason, hdr.bridge.vsid });
        }
#endif
        pkt.emit(hdr);
    }
}

#endif
