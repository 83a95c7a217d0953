/* routing.p4: routing between the virtual subnets of one tenant (RFC 7637 section 4.6).
 * A frame to its subnet's gateway MAC is routed by LPM on (VRF, destination IP) to a
 * CA: the frame moves to the CA's subnet, its MACs are rewritten and TTL / hop limit
 * decremented; L2Forward then delivers it in the destination subnet.
 * Like a router (RFC 1812 section 5.2.2) it first verifies the customer IPv4 header
 * checksum and drops a corrupt header (ROUTED_BAD_CHECKSUM) instead of recomputing a
 * valid checksum over it, then the rest of its checks: version 4, IHL >= 5, a total
 * length that holds the header and fits the frame (ROUTED_BAD_HEADER). Bridged frames
 * are not checked: they are L2 and pass as is.
 * Nor does it route martian addresses (RFC 1812 section 5.3.7, RFC 3927 section 7,
 * RFC 4291 sections 2.5.2-2.5.6 and 2.7): martian_v4 and martian_v6 below. */
#ifndef NVE_ROUTING_P4
#define NVE_ROUTING_P4

#include "headers.p4"
#include "sizes.p4"

/* Martian addresses, never routed as source or destination: IPv4 0/8, 127/8,
 * 169.254/16 (link-local), 224/4 (no multicast routing here) and 240/4 (with
 * 255.255.255.255); IPv6 :: and ::1, fe80::/10 (link-local) and ff00::/8 (no multicast
 * routing; never a valid source). */
bool martian_v4(in ipv4_addr_t a) {
    return a[31:24] == 8w0 || a[31:24] == 8w127 || a[31:16] == 16w0xA9FE
        || a[31:28] == 4w0xE || a[31:28] == 4w0xF;
}

bool martian_v6(in ipv6_addr_t a) {
    return a[127:1] == 127w0 || a[127:118] == 10w0x3FA || a[127:120] == 8w0xFF;
}

control Routing(inout headers_t hdr,
                inout metadata_t meta) {


    action route(vsi_t vsi, vsid_t vsid, mac_addr_t smac, mac_addr_t dmac) {
        meta.fwd.vsi = vsi;
        meta.fwd.vsid = vsid;
        meta.c.smac = smac;
        meta.c.dmac = dmac;
        meta.fwd.routed = 1w1;
    }

    /* The destination is the gateway's own address (the controller installs one host
     * route per gateway address): not routed. ICMP and ICMPv6 go to the controller,
     * which answers echo requests (and Neighbor Solicitations) as the gateway; the
     * rest is dropped (ROUTED_TO_GATEWAY). */
    action to_gateway() {
        meta.fwd.drop_reason = DROP_ROUTED_TO_GATEWAY;
    }

    table routes_v4 {
        key = {
            meta.fwd.vrf    : exact @name("vrf");
            meta.c.ipv4_dst : lpm   @name("dst");
        }
        actions = {
            route;
            to_gateway;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = ROUTE_TABLE_SIZE;
    }

    table routes_v6 {
        key = {
            meta.fwd.vrf    : exact @name("vrf");
            meta.c.ipv6_dst : lpm   @name("dst");
        }
        actions = {
            route;
            to_gateway;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = ROUTE_TABLE_SIZE;
    }

    apply {
        if (meta.fwd.vrf == 16w0 || meta.c.dmac != meta.fwd.gw_mac) {
            return;
        }
        if (meta.c.is_ipv4 == 1w0 && meta.c.is_ipv6 == 1w0) {
            return;
        }
        /* RFC 1812 section 5.2.2: the header checksum is verified before anything else
         * (a corrupt TTL or destination must not be acted upon, nor hidden under a
         * recomputed checksum). meta.c.ipv4_csum_bad comes from AccessIngress
         * (checksum_error of hdr.ipv4) or Decap (inner_ipv4, evaluated there). */
        if (meta.c.is_ipv4 == 1w1 && meta.c.ipv4_csum_bad == 1w1) {
            meta.fwd.drop_reason = DROP_ROUTED_BAD_CHECKSUM;
            return;
        }
        /* The rest of RFC 1812 section 5.2.2's checks, on the header being routed: the
         * customer frame's IP bytes are frame_len less its Ethernet header (no tag:
         * AccessIngress removed it; Decap drops inner tags). A shorter total length
         * (padding or a trailer after the datagram) is allowed, a longer one is not. */
        if (meta.c.is_ipv4 == 1w1) {
            bit<4> version = 4w4;
            bit<4> ihl = 4w5;
            bit<16> total = 16w20;
            if (hdr.inner_ipv4.isValid()) {         /* decapsulated */
                version = hdr.inner_ipv4.version;
                ihl = hdr.inner_ipv4.ihl;
                total = hdr.inner_ipv4.total_len;
            } else if (hdr.ipv4.isValid()) {
                version = hdr.ipv4.version;
                ihl = hdr.ipv4.ihl;
                total = hdr.ipv4.total_len;
            }
            if (version != 4w4 || ihl < 4w5 || total < ((bit<16>)ihl << 2)
                    || total > meta.c.frame_len - ETHERNET_HEADER_BYTES) {
                meta.fwd.drop_reason = DROP_ROUTED_BAD_HEADER;
                return;
            }
        }
        if (meta.c.is_ipv4 == 1w1) {
            if (martian_v4(meta.c.ipv4_src)) {
                meta.fwd.drop_reason = DROP_ROUTED_MARTIAN_SRC;
                return;
            }
            if (martian_v4(meta.c.ipv4_dst)) {
                meta.fwd.drop_reason = DROP_ROUTED_MARTIAN_DST;
                return;
            }
        } else {
            if (martian_v6(meta.c.ipv6_src)) {
                meta.fwd.drop_reason = DROP_ROUTED_MARTIAN_SRC;
                return;
            }
            if (martian_v6(meta.c.ipv6_dst)) {
                meta.fwd.drop_reason = DROP_ROUTED_MARTIAN_DST;
                return;
            }
        }
        /* The ingress subnet, for a Time Exceeded (route() moves the frame). */
        vsi_t in_vsi = meta.fwd.vsi;
        vsid_t in_vsid = meta.fwd.vsid;
        bool hit = false;
        if (meta.c.is_ipv4 == 1w1) {
            hit = routes_v4.apply().hit;
        } else {
            hit = routes_v6.apply().hit;
        }
        /* For the gateway itself, whatever its TTL (an echo with TTL 1 is answered). */
        if (meta.fwd.drop_reason == DROP_ROUTED_TO_GATEWAY) {
            if (meta.c.proto == IP_PROTO_ICMP && meta.c.is_ipv4 == 1w1
                    || meta.c.proto == IP_PROTO_ICMPV6 && meta.c.is_ipv6 == 1w1) {
                meta.punt_reason = PUNT_GATEWAY;
                meta.fwd.drop_reason = DROP_TO_CPU;
            }
            return;
        }
        /* RFC 1812 section 5.3.1: the sender learns of it by a Time Exceeded from the
         * gateway, which the controller sends (a copy is punted; the drop is counted). */
        if (meta.c.ttl <= 8w1) {
            meta.fwd.drop_reason = DROP_TTL_EXPIRED;
            meta.punt_reason = PUNT_TTL_EXPIRED;
            meta.fwd.vsi = in_vsi;
            meta.fwd.vsid = in_vsid;
            meta.fwd.routed = 1w0;
            return;
        }
        if (!hit) {
            meta.fwd.drop_reason = DROP_ROUTE_MISS;
            return;
        }
        meta.c.ttl = meta.c.ttl - 8w1;
        /* Rewrite whichever header set carries the customer frame. */
        if (meta.fwd.decapped == 1w1) {
            hdr.inner_ethernet.src_addr = meta.c.smac;
            hdr.inner_ethernet.dst_addr = meta.c.dmac;
            if (hdr.inner_ipv4.isValid()) {
                hdr.inner_ipv4.ttl = meta.c.ttl;
            } else if (hdr.inner_ipv6.isValid()) {
                hdr.inner_ipv6.hop_limit = meta.c.ttl;
            }
        } else {
            hdr.ethernet.src_addr = meta.c.smac;
            hdr.ethernet.dst_addr = meta.c.dmac;
            if (hdr.ipv4.isValid()) {
                hdr.ipv4.ttl = meta.c.ttl;
            } else if (hdr.ipv6.isValid()) {
                hdr.ipv6.hop_limit = meta.c.ttl;
            }
        }
        meta.fwd.l3_rewritten = 1w1;
    }
}

#endif
