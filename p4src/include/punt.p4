/* punt.p4: copies to the controller.
 *   PuntClassify (ingress) what is punted where the frame is first understood: IPv6
 *                          Neighbor Solicitations on access ports, applied after
 *                          AccessIngress so only frames of a VLAN bound on the port
 *                          (copied, the original is forwarded), ARP and ND on network
 *                          ports (Neighbor and Router Solicitations and Advertisements,
 *                          consumed: DROP_TO_CPU; the host's kernel and FRR need the
 *                          routers' advertisements for BGP unnumbered). Routing asks for its own punts
 *                          later (PUNT_TTL_EXPIRED, PUNT_GATEWAY) in meta.punt_reason.
 *   PuntLocal    (ingress) network ports, after OuterChecks (the frame is for this MAC and
 *                          its IP header is sane), before Decap: an IP datagram for the
 *                          switch's control-plane host, consumed (DROP_TO_CPU) with
 *                          PUNT_UNDERLAY_LOCAL. That is one to an address of the switch
 *                          (addresses_v4/v6: its PAs and its network ports' addresses)
 *                          or to an IPv6 link-local address (fe80::/10), that is not GRE
 *                          (GRE to a PA goes on to Decap, which decapsulates NVGRE and
 *                          drops the rest with its reasons) and not a fragment (Decap
 *                          drops fragments to a PA as DROP_NET_FRAGMENT, RFC 7637 4.4).
 *   PuntIngress  (ingress) at the end of ingress, whatever the frame's fate: the punt
 *                          asked for, as an I2E clone, rate-limited per reason by a meter.
 *   PuntEgress   (egress)  the punt an egress control asked for in meta.egress_punt
 *                          (Mtu: PUNT_MTU_EXCEEDED); E2E clones, rate-limited the same way.
 *   ToCpu        (egress)  on a clone: the packet_in header in front of the frame.
 * The packet_in fields travel in the FL_PUNT field list; v1model copies them at the
 * end of the pipe that cloned, so IngressCounters fills in the VSID last. */
#ifndef NVE_PUNT_P4
#define NVE_PUNT_P4

#include "headers.p4"
#include "sizes.p4"

control PuntClassify(inout headers_t hdr,
                     inout metadata_t meta) {
    apply {
        if (meta.fwd.port_role == PORT_ROLE_ACCESS) {
            if (hdr.icmpv6.isValid()) {
                if (hdr.icmpv6.msg_type == ICMPV6_NEIGHBOR_SOLICIT) {
                    meta.punt_reason = PUNT_IPV6_NS;
                }
            }
        } else if (meta.fwd.port_role == PORT_ROLE_NETWORK) {
            if (hdr.arp.isValid()) {
                meta.punt_reason = PUNT_UNDERLAY_ARP;
                meta.fwd.drop_reason = DROP_TO_CPU;
            } else if (hdr.icmpv6.isValid()) {
                if (hdr.icmpv6.msg_type == ICMPV6_NEIGHBOR_SOLICIT
                        || hdr.icmpv6.msg_type == ICMPV6_NEIGHBOR_ADVERT
                        || hdr.icmpv6.msg_type == ICMPV6_ROUTER_SOLICIT
                        || hdr.icmpv6.msg_type == ICMPV6_ROUTER_ADVERT) {
                    meta.punt_reason = PUNT_UNDERLAY_ND;
                    meta.fwd.drop_reason = DROP_TO_CPU;
                }
            }
        }
    }
}

control PuntLocal(inout headers_t hdr,
                  inout metadata_t meta) {

    action to_host() {
        meta.punt_reason = PUNT_UNDERLAY_LOCAL;
        meta.fwd.drop_reason = DROP_TO_CPU;
    }

    table addresses_v4 {
        key = {
            hdr.ipv4.dst_addr : exact @name("dst");
        }
        actions = {
            to_host;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = LOCAL_ADDR_SIZE;
    }

    table addresses_v6 {
        key = {
            hdr.ipv6.dst_addr : exact @name("dst");
        }
        actions = {
            to_host;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = LOCAL_ADDR_SIZE;
    }

    apply {
        if (!hdr.gre.isValid() && meta.pkt.ip_frag == 1w0) {
            if (hdr.ipv4.isValid()) {
                addresses_v4.apply();
            } else if (hdr.ipv6.isValid()) {
                if (hdr.ipv6.dst_addr[127:118] == 10w0x3FA) {
                    to_host();
                } else {
                    addresses_v6.apply();
                }
            }
        }
    }
}

control PuntIngress(inout metadata_t meta,
                    inout standard_metadata_t sm) {

    meter(PUNT_REASON_COUNT, MeterType.packets) rate;
    counter(PUNT_REASON_COUNT, CounterType.packets) suppressed;

    apply {
        if (meta.punt_reason != PUNT_NONE) {
            bit<2> color = METER_GREEN;
            rate.execute_meter<bit<2>>((bit<32>)meta.punt_reason, color);
            if (color == METER_RED) {
                suppressed.count((bit<32>)meta.punt_reason);
            } else {
                meta.punt_port = sm.ingress_port;
                clone_preserving_field_list(CloneType.I2E, CPU_CLONE_SESSION, FL_PUNT);
            }
        }
    }
}

/* Runs after Mtu, whose drop it does not change: a copy of the dropped frame. */
control PuntEgress(inout metadata_t meta,
                   inout standard_metadata_t sm) {

    meter(PUNT_REASON_COUNT, MeterType.packets) rate;
    counter(PUNT_REASON_COUNT, CounterType.packets) suppressed;

    apply {
        if (meta.egress_punt != PUNT_NONE) {
            bit<2> color = METER_GREEN;
            rate.execute_meter<bit<2>>((bit<32>)meta.egress_punt, color);
            if (color == METER_RED) {
                suppressed.count((bit<32>)meta.egress_punt);
            } else {
                meta.punt_reason = meta.egress_punt;
                meta.punt_port = sm.ingress_port;
                if (meta.egress_punt == PUNT_FRAGMENT) {
                    meta.punt_port = sm.egress_port;   /* where the fragments go */
                }
                meta.punt_vsid = meta.fwd.vsid;
                clone_preserving_field_list(CloneType.E2E, CPU_CLONE_SESSION, FL_PUNT);
            }
        }
    }
}

control ToCpu(inout headers_t hdr,
              inout metadata_t meta) {
    apply {
        hdr.packet_in.setValid();
        hdr.packet_in.ingress_port = meta.punt_port;
        hdr.packet_in.reason = meta.punt_reason;
        hdr.packet_in.vsid = meta.punt_vsid;
        hdr.packet_in._pad = 7w0;
        /* An egress clone carries the headers as egress left them: no outer headers,
         * except for PUNT_FRAGMENT, whose copy is the NVGRE packet. */
        if (meta.punt_reason != PUNT_FRAGMENT) {
            hdr.encap_ethernet.setInvalid();
            hdr.encap_vlan.setInvalid();
            hdr.encap_ipv4.setInvalid();
            hdr.encap_ipv6.setInvalid();
            hdr.encap_gre.setInvalid();
            hdr.encap_nvgre.setInvalid();
        }
    }
}

#endif
