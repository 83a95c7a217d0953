/* arp_proxy.p4 (TNA): RFC 7637 section 4.10, as p4src/include/arp_proxy.p4. The key
 * reads hdr.arp.tpa directly (no copy); the request checks are gateways. */
#ifndef NVE_TNA_ARP_PROXY_P4
#define NVE_TNA_ARP_PROXY_P4

control ArpProxy(NVE_IG_PARAMS) {

    /* spa XOR tpa through the hash unit: a gateway cannot test the 64 bits of
     * spa != tpa, nor an ALU result it would fold back into the condition. */
    Hash<ipv4_addr_t>(HashAlgorithm_t.XOR32) ip_diff;

    action reply(mac_addr_t mac) {
        hdr.ethernet.dst_addr = hdr.ethernet.src_addr;
        hdr.ethernet.src_addr = mac;
        hdr.arp.oper = ARP_OPER_REPLY;
        hdr.arp.tha = hdr.arp.sha;
        hdr.arp.sha = mac;
        ipv4_addr_t target = hdr.arp.tpa;   /* swapped in one action (parallel ALUs) */
        hdr.arp.tpa = hdr.arp.spa;
        hdr.arp.spa = target;
        ig_tm_md.ucast_egress_port = ig_intr_md.ingress_port;
        hdr.bridge.reflect = 1w1;
    }

    table proxy {
        key = {
            hdr.bridge.vsi : exact @name("vsi");
            hdr.arp.tpa    : exact @name("ip");
        }
        actions = {
            reply;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = ARP_TABLE_SIZE;
    }

    apply {
        /* A gateway tests at most 44 bits of PHV: the request checks are split, and
         * spa != tpa is tested on their XOR (hash unit). */
        if (hdr.arp.isValid()) {
            meta.arp_ip_diff = ip_diff.get({ hdr.arp.spa, hdr.arp.tpa });
            if (hdr.arp.htype == ARP_HTYPE_ETHERNET && hdr.arp.ptype == ETHERTYPE_IPV4) {
                if (hdr.arp.hlen == ARP_HLEN_ETHERNET && hdr.arp.plen == ARP_PLEN_IPV4
                        && hdr.arp.oper == ARP_OPER_REQUEST) {
                    if (hdr.arp.spa != 32w0) {
                        if (meta.arp_ip_diff != 32w0) {
                            proxy.apply();
                        }
                    }
                }
            }
        }
    }
}

#endif
