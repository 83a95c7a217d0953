/* arp_proxy.p4: RFC 7637 section 4.10. An ARP request on an access port for an
 * address known in the requester's subnet (a CA, or the subnet's gateway) is answered
 * by the switch, out of the ingress port, without flooding. Probes (sender IP 0.0.0.0)
 * and gratuitous ARP (sender IP = target IP) are bridged as usual. */
#ifndef NVE_ARP_PROXY_P4
#define NVE_ARP_PROXY_P4

#include "headers.p4"
#include "sizes.p4"

control ArpProxy(inout headers_t hdr,
                 inout metadata_t meta,
                 inout standard_metadata_t sm) {

    ipv4_addr_t target_ip = 32w0;

    /* Turn the request into the reply in place. */
    action reply(mac_addr_t mac) {
        hdr.ethernet.dst_addr = hdr.ethernet.src_addr;
        hdr.ethernet.src_addr = mac;
        hdr.arp.oper = ARP_OPER_REPLY;
        hdr.arp.tha = hdr.arp.sha;
        hdr.arp.tpa = hdr.arp.spa;
        hdr.arp.sha = mac;
        hdr.arp.spa = target_ip;
        sm.egress_spec = sm.ingress_port;
        meta.fwd.reflect = 1w1;
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
                    && hdr.arp.spa != 32w0 && hdr.arp.spa != hdr.arp.tpa) {
                target_ip = hdr.arp.tpa;
                proxy.apply();
            }
        }
    }
}

#endif
