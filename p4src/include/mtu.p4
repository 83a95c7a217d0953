/* mtu.p4: RFC 7637 section 4.4: a sender NVE MUST NOT fragment. An encapsulated frame
 * whose outer IP packet exceeds the egress port's MTU is dropped and counted; for
 * customer IPv4 with DF set, and customer IPv6, Mtu asks for a punt to the controller
 * (meta.egress_punt; PuntEgress, applied next, makes the rate-limited E2E clone) so
 * that it can answer ICMP fragmentation-needed / ICMPv6 packet-too-big. Customer IPv4
 * without DF is punted as PUNT_FRAGMENT, encapsulated (the main still applies Encap):
 * the controller fragments the customer packet and sends each fragment in the same
 * outer headers (RFC 4459 section 3.4: the inner packet, never the NVGRE packet). */
#ifndef NVE_MTU_P4
#define NVE_MTU_P4

#include "headers.p4"
#include "sizes.p4"

control Mtu(inout metadata_t meta,
            inout standard_metadata_t sm) {

    bit<16> mtu_bytes = DEFAULT_PORT_MTU;

    action set_mtu(bit<16> mtu) {
        mtu_bytes = mtu;
    }

    table port {
        key = {
            sm.egress_port : exact @name("port");
        }
        actions = {
            set_mtu;
        }
        default_action = set_mtu(DEFAULT_PORT_MTU);
        size = PORT_TABLE_SIZE;
    }

    apply {
        port.apply();
        bit<16> outer_len = meta.c.frame_len + GRE_KEY_HEADER_BYTES + IPV4_HEADER_BYTES;
        if (meta.tun.pa_is_v6 == 1w1) {
            outer_len = meta.c.frame_len + GRE_KEY_HEADER_BYTES + IPV6_HEADER_BYTES;
        }
        if (outer_len > mtu_bytes) {
            meta.fwd.drop_reason = DROP_MTU_EXCEEDED;
            if ((meta.c.is_ipv4 == 1w1 && meta.c.df == 1w1) || meta.c.is_ipv6 == 1w1) {
                meta.egress_punt = PUNT_MTU_EXCEEDED;
            } else if (meta.c.is_ipv4 == 1w1) {
                meta.egress_punt = PUNT_FRAGMENT;
            }
        }
    }
}

#endif
