/* nvgre_nve.p4: the NVGRE (RFC 7637) Network Virtualization Edge for the Tofino Native
 * Architecture (TNA, Tofino 1, one pipeline).
 *
 * Read as a table of contents, like p4src/v1model/nvgre_nve.p4: the same feature
 * files (p4src/tna/<feature>.p4, same names as p4src/include/), included in the same
 * order, the same control types, instance names, tables, actions and keys, so the
 * P4Runtime names are the v1model program's (docs/tna.md lists the differences).
 * constants.p4 and drop_reasons.p4 are the shared ones (p4src/include/).
 *
 * Where control flow differs for Tofino, and why:
 *   - ingress fills a bridged header (headers.p4) as it goes: the feature actions write
 *     egress's inputs straight into it, because TNA egress sees only the packet;
 *   - the customer frame length is known in egress only (eg_intr_md.pkt_length);
 *   - a punt sets mirror_type in ingress/egress and the deparser's Mirror makes the
 *     copy; a learn sets digest_type and the deparser's Digest sends it; header
 *     checksums are verified by the parser and recomputed by the deparsers;
 *   - a punted copy is recognised by its mirror header (v1model: instance_type);
 *   - NveEgress applies Replication only to copies with egress_rid != 0 (v1model's
 *     Replication tests it itself);
 *   - every metadata field starts at zero (@pa_auto_init_metadata) instead of being
 *     assigned defaults in the parser.
 *
 * Feature steps (`make p4-tofino-steps`): -D NVE_TNA_STEP=1..6 builds a prefix of the
 * features; without it, all of them (6).
 *   1 parser, port roles, access ports, decapsulation, subnet info, counters
 *   2 + L2: learning (digest), ARP proxy, bridging
 *   3 + encapsulation: FlowID, tunnel select, underlay/ECMP, MTU, Encap
 *   4 + routing
 *   5 + replication (BUM copies toward remote NVEs)
 *   6 + punts (ingress mirror, MTU mirror, packet_in)
 * Pipeline 3.4.0 features not in the default build, each compiled with its step by
 * adding -D (docs/tna.md: the whole program's PHV has no room for them yet):
 *   NVE_TNA_PCP (priorities per path), NVE_TNA_MAC_LIMIT (learning-limit drop mode),
 *   NVE_TNA_STORM (storm control).
 *
 * Build: make p4-tofino (docs/tna.md). */
#include <core.p4>
#include <tna.p4>

#ifndef NVE_TNA_STEP
#define NVE_TNA_STEP 6
#endif
#if NVE_TNA_STEP >= 2
#define NVE_TNA_L2
#endif
#if NVE_TNA_STEP >= 3
#define NVE_TNA_ENCAP
#endif
#if NVE_TNA_STEP >= 4
#define NVE_TNA_ROUTING
#endif
#if NVE_TNA_STEP >= 5
#define NVE_TNA_REPLICATION
#endif
#if NVE_TNA_STEP >= 6
#define NVE_TNA_PUNTS
#endif

/* The CPU port: a Tofino device port (192: PCIe on 2-pipe Tofino 1; 320 on 4-pipe
 * parts; 64..67 Ethernet), not bmv2's 255. */
#ifndef NVE_TNA_CPU_PORT
#define NVE_TNA_CPU_PORT 192
#endif
/* Bytes eg_intr_md.pkt_length counts beyond the bridged headers and the frame: the
 * Ethernet FCS (docs/tna.md: to be confirmed on the target). */
#ifndef NVE_TNA_PKT_LENGTH_EXTRA
#define NVE_TNA_PKT_LENGTH_EXTRA 4
#endif

#include "constants.p4"
#include "drop_reasons.p4"
#include "sizes.p4"
#include "headers.p4"

const PortId_t TNA_CPU_PORT = NVE_TNA_CPU_PORT;
const bit<16> NVE_EG_LEN_EXTRA = NVE_TNA_PKT_LENGTH_EXTRA;

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
#include "deparser.p4"

@pa_auto_init_metadata

/* Flags that tables of one stage write side by side (Decap's lookups, VsiInfo): a
 * container is written by one action per stage, so each flag gets its own. */
@pa_solitary("ingress", "meta.mac_ok")
@pa_solitary("ingress", "meta.pa_local")
@pa_solitary("ingress", "meta.vsid_ok")
@pa_solitary("ingress", "meta.peer_ok")
@pa_solitary("ingress", "meta.vsi_miss")
@pa_solitary("ingress", "meta.outer_ecn")

control NveIngress(inout nve_headers_t hdr,
                   inout nve_ig_meta_t meta,
                   in ingress_intrinsic_metadata_t ig_intr_md,
                   in ingress_intrinsic_metadata_from_parser_t ig_prsr_md,
                   inout ingress_intrinsic_metadata_for_deparser_t ig_dprsr_md,
                   inout ingress_intrinsic_metadata_for_tm_t ig_tm_md) {

    PortRole()        port;
#ifdef NVE_TNA_PUNTS
    PuntIngress()     punt;
#endif
    AccessIngress()   access;
    OuterChecks()     outer;
    Decap()           decap;
    VsiInfo()         vsi;
#ifdef NVE_TNA_L2
    L2Learn()         learn;
    ArpProxy()        arp;
#endif
#ifdef NVE_TNA_ROUTING
    Routing()         routing;
#endif
#ifdef NVE_TNA_L2
    L2Forward()       l2;
#endif
#ifdef NVE_TNA_STORM
    StormControl()    storm;
#endif
#ifdef NVE_TNA_ENCAP
    FlowId()          flow;
    TunnelSelect()    tunnel;
    Underlay()        underlay;
#endif
    IngressCounters() counters;

    apply {
        hdr.bridge.setValid();
        hdr.bridge.pkt_type = PKT_TYPE_BRIDGED;
        hdr.bridge.ingress_port = ig_intr_md.ingress_port;
        if (hdr.packet_out.isValid()) {
            ig_tm_md.ucast_egress_port = hdr.packet_out.egress_port;
            hdr.packet_out.setInvalid();
            hdr.bridge.from_cpu = 1w1;
        } else if (ig_prsr_md.parser_err != PARSER_ERROR_OK) {
            meta.drop_reason = DROP_PARSER_ERROR;
        } else {
            /* Stage by stage (the compiler's table_dependency_summary.log): each gate
             * reads only what an earlier stage wrote; a feature whose frame a later-
             * stage check drops still runs, and IngressCounters keeps the first drop
             * reason in the v1model order (headers.p4). */
            port.apply(NVE_IG_ARGS);
            if (meta.port_role == PORT_ROLE_ACCESS) {
                access.apply(NVE_IG_ARGS);
            } else if (meta.port_role == PORT_ROLE_NETWORK) {
                /* ARP and ND are consumed (DROP_TO_CPU, PuntIngress copies them): the
                 * first entries of Decap's checks, into drop_net. */
                outer.apply(NVE_IG_ARGS);
                decap.apply(NVE_IG_ARGS);
            }
#ifdef NVE_TNA_L2
            /* Before VsiInfo and L2Learn in the program (its XOR hash then runs in the
             * first stage); it writes nothing they read, so the order is v1model's in
             * effect. It gates itself on the access port and the frame not dropped. */
            arp.apply(NVE_IG_ARGS);
#endif
            if (meta.port_role != 2w0) {
                vsi.apply(NVE_IG_ARGS);
            }
#ifdef NVE_TNA_L2
            if (meta.drop_reason == DROP_NONE) {
                learn.apply(NVE_IG_ARGS);
            }
#endif
#ifdef NVE_TNA_ROUTING
            /* It gates its lookups itself (its header rewrite is not under that gate). */
            routing.apply(NVE_IG_ARGS);
#endif
#ifdef NVE_TNA_PUNTS
            /* After AccessIngress (NS only on a bound VLAN) and Routing (gateway, TTL). */
            punt.apply(NVE_IG_ARGS);
#endif
#ifdef NVE_TNA_L2
            /* Not gated on Routing's miss (route_miss, written in this stage): a frame
             * whose route missed is bridged to no effect, the drop decides. */
            if (meta.drop_reason == DROP_NONE && meta.drop_net == DROP_NONE
                    && meta.c.smac[40:40] == 1w0
                    && meta.drop_fwd == DROP_NONE && hdr.bridge.reflect == 1w0) {
                l2.apply(NVE_IG_ARGS);
            }
#endif
#ifdef NVE_TNA_STORM
            /* Storm control: flooded frames from access ports (after L2Forward, as in
             * v1model); not in the default build (docs/tna.md, storm control). */
            if (meta.flood == 1w1 && meta.port_role == PORT_ROLE_ACCESS) {
                storm.apply(NVE_IG_ARGS);
            }
#endif
#ifdef NVE_TNA_ENCAP
            if (meta.drop_reason == DROP_NONE && meta.drop_net == DROP_NONE
                    && hdr.bridge.decapped == 1w0) {
                flow.apply(NVE_IG_ARGS);
            }
            /* Not gated on drop_fwd (written in the previous stage): to_tunnel is set
             * only when L2Forward ran; a decapsulated frame goes back into a tunnel only
             * routed (split horizon, L2Forward), with the FlowID it came with (Decap). */
            if (hdr.bridge.to_tunnel == 1w1) {
                tunnel.apply(NVE_IG_ARGS);
                underlay.apply(NVE_IG_ARGS);
            }
#endif
        }
        counters.apply(NVE_IG_ARGS);
    }
}

control NveEgress(inout nve_headers_t hdr,
                  inout nve_eg_meta_t meta,
                  in egress_intrinsic_metadata_t eg_intr_md,
                  in egress_intrinsic_metadata_from_parser_t eg_prsr_md,
                  inout egress_intrinsic_metadata_for_deparser_t eg_dprsr_md,
                  inout egress_intrinsic_metadata_for_output_port_t eg_oport_md) {

#ifdef NVE_TNA_PUNTS
    ToCpu()          to_cpu;
    PuntEgress()     punt;
#endif
#ifdef NVE_TNA_REPLICATION
    Replication()    replica;
#endif
    AccessEgress()   access;
#ifdef NVE_TNA_ENCAP
    Mtu()            mtu;
    Encap()          encap;
#endif
    EgressCounters() counters;
    /* The bridged ingress port sits at the packet_in bit position (headers.p4), the
     * egress port at bit 0: a gateway compares equally aligned fields only, so the
     * ingress port is re-aligned through the hash unit (identity) first. */
    Hash<PortId_t>(HashAlgorithm_t.IDENTITY) in_port_hash;

    apply {
        if (hdr.mirror.isValid()) {
#ifdef NVE_TNA_PUNTS
            to_cpu.apply(NVE_EG_ARGS);
#endif
        } else if (hdr.bridge.from_cpu == 1w0) {
            PortId_t in_port = in_port_hash.get({ hdr.bridge.ingress_port });
#ifdef NVE_TNA_REPLICATION
            if (eg_intr_md.egress_rid != 16w0) {
                replica.apply(NVE_EG_ARGS);
            }
#endif
            /* No frame leaves by its ingress port, except ARP replies and frames
             * routed between two subnets on the same port. */
            if (meta.drop_reason == DROP_NONE
                    && eg_intr_md.egress_port == in_port
                    && hdr.bridge.reflect == 1w0 && hdr.bridge.routed == 1w0) {
                meta.drop_reason = DROP_PRUNE_INGRESS_PORT;
            }
            /* Not gated on the two drops above (the prune is written in the stage this
             * gate is tested): Mtu and AccessEgress write drop_late, which counts only
             * when drop_reason does not, and PuntEgress and Encap test what they need
             * themselves; a dropped frame's rewrites are never sent. */
            if (hdr.bridge.to_tunnel == 1w1 || meta.bum_tunnel == 1w1) {
#ifdef NVE_TNA_ENCAP
                mtu.apply(NVE_EG_ARGS);
#endif
#ifdef NVE_TNA_PUNTS
                punt.apply(NVE_EG_ARGS);    /* the punt Mtu asks for */
#endif
#ifdef NVE_TNA_ENCAP
                encap.apply(NVE_EG_ARGS);   /* not on a frame Mtu drops */
#endif
            } else {
                access.apply(NVE_EG_ARGS);
            }
            counters.apply(NVE_EG_ARGS);
        }
        /* The bridged headers never leave the switch. */
        hdr.bridge.setInvalid();
        hdr.tun4.setInvalid();
        hdr.tun6.setInvalid();
        hdr.nh.setInvalid();
    }
}

Pipeline(NveIngressParser(),
         NveIngress(),
         NveIngressDeparser(),
         NveEgressParser(),
         NveEgress(),
         NveEgressDeparser()) pipe;

Switch(pipe) main;
