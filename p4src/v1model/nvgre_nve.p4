/* nvgre_nve.p4: the NVGRE (RFC 7637) Network Virtualization Edge for v1model
 * (bmv2 simple_switch_grpc, p4sim).
 *
 * Read top to bottom as a table of contents: each feature is one control in
 * p4src/include/, instantiated and applied here in packet order. The controller's
 * API (table, action, counter names) is documented in docs/pipeline.md.
 *
 * Build: p4c-bm2-ss -I p4src/include [-D NVE_PROFILE_SMALL] nvgre_nve.p4
 *        (or p4sim compile with the same flags); start with --cpu-port 255. */
#include <core.p4>
#include <v1model.p4>

#include "constants.p4"
#include "drop_reasons.p4"
#include "sizes.p4"
#include "headers.p4"
#include "parser.p4"
#include "ports.p4"
#include "access.p4"
#include "outer_checks.p4"
#include "tunnel_decap.p4"
#include "punt.p4"
#include "l2.p4"
#include "storm.p4"
#include "arp_proxy.p4"
#include "routing.p4"
#include "tunnel_encap.p4"
#include "underlay.p4"
#include "replication.p4"
#include "mtu.p4"
#include "counters.p4"

/* Checksum of the first IPv4 header of received packets (options included). A mismatch
 * sets standard_metadata.checksum_error: on a network port (outer header) Decap turns
 * it into DROP_NET_BAD_CHECKSUM; on an access port (the customer's header) AccessIngress
 * records it and Routing drops a routed packet with DROP_ROUTED_BAD_CHECKSUM (bridged
 * frames pass as they are). The inner header after decapsulation is checked in Decap,
 * apart from this bit, which cannot say which header failed. */
control NveVerifyChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply {
        verify_checksum(hdr.ipv4.isValid(),
            { hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.dscp, hdr.ipv4.ecn,
              hdr.ipv4.total_len, hdr.ipv4.identification, hdr.ipv4.flags,
              hdr.ipv4.frag_offset, hdr.ipv4.ttl, hdr.ipv4.protocol,
              hdr.ipv4.src_addr, hdr.ipv4.dst_addr, hdr.ipv4_options.data },
            hdr.ipv4.hdr_checksum, HashAlgorithm.csum16);
    }
}

control NveIngress(inout headers_t hdr,
                   inout metadata_t meta,
                   inout standard_metadata_t standard_metadata) {

    PortRole()        port;
    PuntClassify()    punt_classify;
    AccessIngress()   access;
    OuterChecks()     outer;
    PuntLocal()       punt_local;
    Decap()           decap;
    VsiInfo()         vsi;
    L2Learn()         learn;
    ArpProxy()        arp;
    Routing()         routing;
    L2Forward()       l2;
    StormControl()    storm;
    FlowId()          flow;
    TunnelSelect()    tunnel;
    Underlay()        underlay;
    PuntIngress()     punt;
    IngressCounters() counters;

    apply {
        if (hdr.packet_out.isValid()) {
            /* From the controller: out of the port it names, untouched. */
            standard_metadata.egress_spec = hdr.packet_out.egress_port;
            hdr.packet_out.setInvalid();
            meta.fwd.from_cpu = 1w1;
        } else {
            if (standard_metadata.parser_error != error.NoError) {
                meta.fwd.drop_reason = DROP_PARSER_ERROR;
            }
            /* Which side of the NVE the frame comes from. */
            if (meta.fwd.drop_reason == DROP_NONE) {
                port.apply(meta, standard_metadata);
            }
            /* Into a virtual subnet: from an access port (its VLAN bound there), or
             * decapsulated. Copies to the controller in between: after the access port's
             * VLAN is known (no punt of a frame port_vlan drops), before decapsulation
             * (underlay ARP and ND are consumed). */
            if (meta.fwd.drop_reason == DROP_NONE
                    && meta.fwd.port_role == PORT_ROLE_ACCESS) {
                access.apply(hdr, meta, standard_metadata);
            }
            if (meta.fwd.drop_reason == DROP_NONE) {
                punt_classify.apply(hdr, meta);
            }
            if (meta.fwd.drop_reason == DROP_NONE
                    && meta.fwd.port_role != PORT_ROLE_ACCESS) {
                outer.apply(hdr, meta, standard_metadata);
            }
            /* For the switch's control-plane host: IP to its own addresses, not GRE. */
            if (meta.fwd.drop_reason == DROP_NONE
                    && meta.fwd.port_role == PORT_ROLE_NETWORK) {
                punt_local.apply(hdr, meta);
            }
            if (meta.fwd.drop_reason == DROP_NONE
                    && meta.fwd.port_role != PORT_ROLE_ACCESS) {
                decap.apply(hdr, meta, standard_metadata);
            }
            if (meta.fwd.drop_reason == DROP_NONE) {
                vsi.apply(meta);
            }
            if (meta.fwd.drop_reason == DROP_NONE) {
                learn.apply(meta, standard_metadata);
            }
            /* Answered here: ARP for known addresses (access ports). */
            if (meta.fwd.drop_reason == DROP_NONE
                    && meta.fwd.port_role == PORT_ROLE_ACCESS) {
                arp.apply(hdr, meta, standard_metadata);
            }
            /* Forwarding in the overlay: routed between subnets, then bridged. */
            if (meta.fwd.drop_reason == DROP_NONE && meta.fwd.reflect == 1w0) {
                routing.apply(hdr, meta);
            }
            if (meta.fwd.drop_reason == DROP_NONE && meta.fwd.reflect == 1w0) {
                l2.apply(meta, standard_metadata);
            }
            /* Storm control: BUM frames from access ports, metered per port. */
            if (meta.fwd.drop_reason == DROP_NONE && meta.fwd.flood == 1w1
                    && meta.fwd.port_role == PORT_ROLE_ACCESS) {
                storm.apply(meta, standard_metadata);
            }
            /* Toward remote NVEs (unicast and BUM copies need the FlowID); a decapsulated
             * frame goes back into a tunnel only when routed. */
            if (meta.fwd.drop_reason == DROP_NONE
                    && (meta.fwd.decapped == 1w0 || meta.fwd.routed == 1w1)
                    && (meta.fwd.to_tunnel == 1w1 || meta.fwd.flood == 1w1)) {
                flow.apply(meta);
            }
            if (meta.fwd.drop_reason == DROP_NONE && meta.fwd.to_tunnel == 1w1) {
                tunnel.apply(meta);
            }
            if (meta.fwd.drop_reason == DROP_NONE && meta.fwd.to_tunnel == 1w1) {
                underlay.apply(meta, standard_metadata);
            }
            /* Copies to the controller (asked for above), rate-limited. */
            punt.apply(meta, standard_metadata);
        }
        /* Drop with reason, statistics. */
        counters.apply(meta, standard_metadata);
    }
}

control NveEgress(inout headers_t hdr,
                  inout metadata_t meta,
                  inout standard_metadata_t standard_metadata) {

    ToCpu()          to_cpu;
    Replication()    replica;
    AccessEgress()   access;
    Mtu()            mtu;
    PuntEgress()     punt;
    Encap()          encap;
    EgressCounters() counters;

    apply {
        if (standard_metadata.instance_type == INSTANCE_INGRESS_CLONE
                || standard_metadata.instance_type == INSTANCE_EGRESS_CLONE) {
            /* A punt: the frame with a packet_in header, to the CPU port. */
            to_cpu.apply(hdr, meta);
        } else if (meta.fwd.from_cpu == 1w0) {
            /* BUM copies toward remote NVEs. */
            replica.apply(meta, standard_metadata);
            /* No frame leaves by its ingress port, except ARP replies and frames
             * routed between two subnets on the same port. */
            if (meta.fwd.drop_reason == DROP_NONE
                    && standard_metadata.egress_port == standard_metadata.ingress_port
                    && meta.fwd.reflect == 1w0 && meta.fwd.routed == 1w0) {
                meta.fwd.drop_reason = DROP_PRUNE_INGRESS_PORT;
            }
            if (meta.fwd.drop_reason == DROP_NONE) {
                if (meta.fwd.to_tunnel == 1w1) {
                    mtu.apply(meta, standard_metadata);
                    /* The punt Mtu asks for when it drops, rate-limited. */
                    punt.apply(meta, standard_metadata);
                } else {
                    access.apply(hdr, meta, standard_metadata);
                }
            }
            /* Also for a frame Mtu dropped to be fragmented by the controller: its punt
             * carries the NVGRE packet. */
            if ((meta.fwd.drop_reason == DROP_NONE || meta.egress_punt == PUNT_FRAGMENT)
                    && meta.fwd.to_tunnel == 1w1) {
                encap.apply(hdr, meta);
            }
            counters.apply(meta, standard_metadata);
        }
    }
}

/* Outer IPv4 checksum of encapsulated packets; customer IPv4 checksum after a TTL
 * decrement (routed) or an ECN change (decapsulated), options included. */
control NveComputeChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply {
        update_checksum(hdr.encap_ipv4.isValid(),
            { hdr.encap_ipv4.version, hdr.encap_ipv4.ihl, hdr.encap_ipv4.dscp,
              hdr.encap_ipv4.ecn, hdr.encap_ipv4.total_len,
              hdr.encap_ipv4.identification, hdr.encap_ipv4.flags,
              hdr.encap_ipv4.frag_offset, hdr.encap_ipv4.ttl, hdr.encap_ipv4.protocol,
              hdr.encap_ipv4.src_addr, hdr.encap_ipv4.dst_addr },
            hdr.encap_ipv4.hdr_checksum, HashAlgorithm.csum16);
        update_checksum(hdr.ipv4.isValid() && meta.fwd.l3_rewritten == 1w1,
            { hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.dscp, hdr.ipv4.ecn,
              hdr.ipv4.total_len, hdr.ipv4.identification, hdr.ipv4.flags,
              hdr.ipv4.frag_offset, hdr.ipv4.ttl, hdr.ipv4.protocol,
              hdr.ipv4.src_addr, hdr.ipv4.dst_addr, hdr.ipv4_options.data },
            hdr.ipv4.hdr_checksum, HashAlgorithm.csum16);
        update_checksum(hdr.inner_ipv4.isValid() && meta.fwd.decapped == 1w1
                            && meta.fwd.l3_rewritten == 1w1,
            { hdr.inner_ipv4.version, hdr.inner_ipv4.ihl, hdr.inner_ipv4.dscp,
              hdr.inner_ipv4.ecn, hdr.inner_ipv4.total_len,
              hdr.inner_ipv4.identification, hdr.inner_ipv4.flags,
              hdr.inner_ipv4.frag_offset, hdr.inner_ipv4.ttl, hdr.inner_ipv4.protocol,
              hdr.inner_ipv4.src_addr, hdr.inner_ipv4.dst_addr,
              hdr.inner_ipv4_options.data },
            hdr.inner_ipv4.hdr_checksum, HashAlgorithm.csum16);
    }
}

control NveDeparser(packet_out pkt, in headers_t hdr) {
    apply {
        pkt.emit(hdr.packet_in);
        pkt.emit(hdr.encap_ethernet);
        pkt.emit(hdr.encap_vlan);
        pkt.emit(hdr.encap_ipv4);
        pkt.emit(hdr.encap_ipv6);
        pkt.emit(hdr.encap_gre);
        pkt.emit(hdr.encap_nvgre);
        pkt.emit(hdr.ethernet);
        pkt.emit(hdr.vlan);
        pkt.emit(hdr.arp);
        pkt.emit(hdr.ipv4);
        pkt.emit(hdr.ipv4_options);
        pkt.emit(hdr.ipv6);
        pkt.emit(hdr.ipv6_ext0);
        pkt.emit(hdr.ipv6_ext0_more);
        pkt.emit(hdr.ipv6_ext1);
        pkt.emit(hdr.ipv6_ext1_more);
        pkt.emit(hdr.icmpv6);
        pkt.emit(hdr.l4);
        pkt.emit(hdr.gre);
        pkt.emit(hdr.nvgre);
        pkt.emit(hdr.inner_ethernet);
        pkt.emit(hdr.inner_vlan);
        pkt.emit(hdr.inner_arp);
        pkt.emit(hdr.inner_ipv4);
        pkt.emit(hdr.inner_ipv4_options);
        pkt.emit(hdr.inner_ipv6);
        pkt.emit(hdr.inner_l4);
    }
}

/* The program's name and version in P4Info (pkg_info): the version changes with every
 * change of the P4Runtime API (CHANGELOG.md). */
@pkginfo(name="nvgre-nve", version="3.8.0", organization="nvgre-nve")
V1Switch(NveParser(),
         NveVerifyChecksum(),
         NveIngress(),
         NveEgress(),
         NveComputeChecksum(),
         NveDeparser()) main;
