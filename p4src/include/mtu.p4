/* mtu.p4: RFC 7637 section 4.4: a sender NVE MUST NOT fragment. An encapsulated frame
 * whose outer IP packet exceeds the egress port's MTU is dropped and counted; for
 * customer IPv4 with DF set, and customer IPv6, a copy is punted to the controller
 * (E2E clone, rate-limited) so that it can answer ICMP fragmentation-needed /
 * ICMPv6 packet-too-big. */
#ifndef NVE_MTU_P4
#define NVE_MTU_P4

#include "headers.p4"
#include "sizes.p4"

control Mtu(inout headers_t hdr,
            inout metadata_t meta,
            inout standard_metadata_t sm) {

    meter(PUNT_REASON_COUNT, MeterType.packets) punt_rate;
    counter(PUNT_REASON_COUNT, CounterType.packets) punt_suppressed;

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
                bit<2> color = METER_GREEN;
                punt_rate.execute_meter<bit<2>>((bit<32>)PUNT_MTU_EXCEEDED, color);
                if (color == METER_RED) {
                    punt_suppressed.count((bit<32>)PUNT_MTU_EXCEEDED);
                } else {
                    meta.punt_reason = PUNT_MTU_EXCEEDED;
                    meta.punt_port = sm.ingress_port;
                    meta.punt_vsid = meta.fwd.vsid;
                    clone_preserving_field_list(CloneType.E2E, CPU_CLONE_SESSION, FL_PUNT);
                }
            }
        }
    }
}

#endif
