/* outer_checks.p4: network ports. Sanity of the outer Ethernet and IP headers before
 * Decap looks at their addresses, in a fixed order, each failure dropped with its own
 * reason:
 *   1. the destination MAC is this NVE's (my_mac with local_mac, filled by the
 *      controller with the switch's nve_mac), or the multicast MAC of the outer IP
 *      destination when that is an IP multicast group (RFC 1112 section 6.4, RFC 2464
 *      section 7): Decap's my_pa then accepts only a group this NVE joined
 *      (underlay_group). A my_mac entry with group_mac (what the controller installs
 *      on TNA, which cannot derive a group's MAC) changes nothing here: the MAC must
 *      still be the one of the outer destination;
 *   2. the IP version matches the EtherType (RFC 1122 section 3.2.1.1);
 *   3. IPv4 IHL >= 5 (RFC 1812 section 5.2.2; the parser stops after the fixed header);
 *   4. the IP length field fits the frame and holds the IP header (RFC 1812 section
 *      5.2.2): IPv4 total length, IPv6 40 + payload length, at most the frame's bytes
 *      after the Ethernet header and tag (standard_metadata.packet_length: the frame as
 *      received, without FCS); the datagram holds its IPv4 header or IPv6 extension
 *      headers, and, when NVGRE was parsed, the GRE header with key and the inner
 *      Ethernet header (bytes of those in a trailer after the datagram do not count).
 * A frame that is neither IPv4 nor IPv6 only has its MAC checked (ARP and ND to the
 * underlay were consumed by PuntIngress before). */
#ifndef NVE_OUTER_CHECKS_P4
#define NVE_OUTER_CHECKS_P4

#include "headers.p4"
#include "sizes.p4"

control OuterChecks(inout headers_t hdr,
                    inout metadata_t meta,
                    inout standard_metadata_t sm) {

    action local_mac() { }

    /* An underlay group's MAC: accepted only as the MAC of the outer destination. */
    action group_mac() { }

    table my_mac {
        key = {
            hdr.ethernet.dst_addr : exact @name("dst");
        }
        actions = {
            local_mac;
            group_mac;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = LOCAL_MAC_SIZE;
    }

    apply {
        /* 1. Addressed to this NVE at layer 2. */
        bool mac_ok = false;
        switch (my_mac.apply().action_run) {
            local_mac: { mac_ok = true; }
            default: { }
        }
        if (!mac_ok && hdr.ipv4.isValid()) {
            /* 01:00:5e + the low 23 bits of an IPv4 group (224.0.0.0/4). */
            mac_ok = hdr.ipv4.dst_addr[31:28] == 4w0xE
                && hdr.ethernet.dst_addr == (24w0x01005E ++ 1w0 ++ hdr.ipv4.dst_addr[22:0]);
        } else if (!mac_ok && hdr.ipv6.isValid()) {
            /* 33:33 + the low 32 bits of an IPv6 group (ff00::/8). */
            mac_ok = hdr.ipv6.dst_addr[127:120] == 8w0xFF
                && hdr.ethernet.dst_addr == (16w0x3333 ++ hdr.ipv6.dst_addr[31:0]);
        }
        if (!mac_ok) {
            meta.fwd.drop_reason = DROP_NET_DMAC_NOT_LOCAL;
            return;
        }

        /* The frame's bytes after the Ethernet header and 802.1Q tag. */
        bit<32> l3_bytes = sm.packet_length - (bit<32>)ETHERNET_HEADER_BYTES;
        if (hdr.vlan.isValid()) {
            l3_bytes = l3_bytes - (bit<32>)VLAN_TAG_BYTES;
        }
        /* The outer IPv6 extension headers the parser went past (Decap needs it too). */
        if (hdr.ipv6_ext0.isValid()) {
            meta.pkt.ipv6_ext_bytes = ((bit<16>)hdr.ipv6_ext0.hdr_ext_len << 3) + 16w8;
        }
        if (hdr.ipv6_ext1.isValid()) {
            meta.pkt.ipv6_ext_bytes = meta.pkt.ipv6_ext_bytes
                                      + ((bit<16>)hdr.ipv6_ext1.hdr_ext_len << 3) + 16w8;
        }
        /* GRE with key and the inner Ethernet header, when the parser found NVGRE. */
        bit<32> nvgre_bytes = 32w0;
        if (hdr.nvgre.isValid()) {
            nvgre_bytes = (bit<32>)GRE_KEY_HEADER_BYTES + (bit<32>)ETHERNET_HEADER_BYTES;
        }

        if (hdr.ipv4.isValid()) {
            /* 2. */
            if (hdr.ipv4.version != 4w4) {
                meta.fwd.drop_reason = DROP_NET_BAD_VERSION;
                return;
            }
            /* 3. */
            if (hdr.ipv4.ihl < 4w5) {
                meta.fwd.drop_reason = DROP_NET_BAD_IHL;
                return;
            }
            /* 4. */
            bit<32> total = (bit<32>)hdr.ipv4.total_len;
            bit<32> ip_header = (bit<32>)hdr.ipv4.ihl << 2;
            if (total > l3_bytes || total < ip_header + nvgre_bytes) {
                meta.fwd.drop_reason = DROP_NET_BAD_LENGTH;
                return;
            }
        } else if (hdr.ipv6.isValid()) {
            /* 2. */
            if (hdr.ipv6.version != 4w6) {
                meta.fwd.drop_reason = DROP_NET_BAD_VERSION;
                return;
            }
            /* 4. */
            bit<32> payload = (bit<32>)hdr.ipv6.payload_len;
            if (payload + (bit<32>)IPV6_HEADER_BYTES > l3_bytes
                    || payload < (bit<32>)meta.pkt.ipv6_ext_bytes + nvgre_bytes) {
                meta.fwd.drop_reason = DROP_NET_BAD_LENGTH;
                return;
            }
        }
    }
}

#endif
