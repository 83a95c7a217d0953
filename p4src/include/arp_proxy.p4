/* arp_proxy.p4: RFC 7637 section 4.10. An ARP request on an access port for an
 * address known in the requester's subnet (a CA, or the subnet's gateway) is answered
 * by the switch, out of the ingress port, without flooding.
 * ARP probes (RFC 5227 section 2.1.1: sender IP 0.0.0.0, target the probed address) are
 * answered too, so that a host probing an address bound to another MAC sees the conflict,
 * except the owner's own probe: one whose Ethernet source is the MAC the address is
 * bound to (wherever that host now is) is bridged as usual, never answered, or the owner
 * would declare its own address in use. Gratuitous ARP (sender IP = target IP) is always
 * bridged. */
#ifndef NVE_ARP_PROXY_P4
#define NVE_ARP_PROXY_P4

#include "headers.p4"
#include "sizes.p4"

control ArpProxy(inout headers_t hdr,
                 inout metadata_t meta,
                 inout standard_metadata_t sm) {

    ipv4_addr_t target_ip = 32w0;
    mac_addr_t bound_mac = 48w0;

    /* The address is bound to `mac`: the frame is rewritten in apply, unless it is the
     * owner's probe. */
    action reply(mac_addr_t mac) {
        bound_mac = mac;
    }

    table proxy {
        key = {
            meta.fwd.vsi : exact @name("vsi");
            target_ip    : exact @name("ip");
        }
        actions = {
            reply;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = ARP_TABLE_SIZE;
    }

    apply {
        if (hdr.arp.isValid()) {
            if (hdr.arp.htype == ARP_HTYPE_ETHERNET && hdr.arp.ptype == ETHERTYPE_IPV4
                    && hdr.arp.hlen == ARP_HLEN_ETHERNET && hdr.arp.plen == ARP_PLEN_IPV4
                    && hdr.arp.oper == ARP_OPER_REQUEST
                    && hdr.arp.spa != hdr.arp.tpa) {
                target_ip = hdr.arp.tpa;
                if (proxy.apply().hit) {
                    if (hdr.arp.spa != 32w0 || hdr.ethernet.src_addr != bound_mac) {
                        /* Turn the request into the reply in place (RFC 826; for a probe,
                         * target IP 0.0.0.0 and the reply unicast to the prober, as the
                         * owner would send it). */
                        hdr.ethernet.dst_addr = hdr.ethernet.src_addr;
                        hdr.ethernet.src_addr = bound_mac;
                        hdr.arp.oper = ARP_OPER_REPLY;
                        hdr.arp.tha = hdr.arp.sha;
                        hdr.arp.tpa = hdr.arp.spa;
                        hdr.arp.sha = bound_mac;
                        hdr.arp.spa = target_ip;
                        sm.egress_spec = sm.ingress_port;
                        meta.fwd.reflect = 1w1;
                    }
                }
            }
        }
    }
}

#endif
