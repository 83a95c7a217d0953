/* arp_proxy.p4 (TNA): RFC 7637 section 4.10, as p4src/include/arp_proxy.p4: a request
 * for a bound address is answered in place, a probe (RFC 5227, sender 0.0.0.0) too
 * unless it comes from the MAC the address is bound to (its owner), gratuitous ARP
 * (sender = target) is bridged. The key reads hdr.arp.tpa directly (no copy).
 * Tofino: a gateway tests at most 44 bits of PHV, so spa != tpa and "source MAC !=
 * bound MAC" are tested on XORs (spa XOR tpa from the hash unit, computed in the first
 * stage; source MAC XOR the bound MAC in the lookup's action) and the request checks
 * are split; the rewrite is one action, applied from the branches that answer. */
#ifndef NVE_TNA_ARP_PROXY_P4
#define NVE_TNA_ARP_PROXY_P4

/* The answer's XOR form frees the ingress PHV the opt-in features need; in the default
 * build it costs an ingress stage (13, not 12: docs/tna.md), so only with them. */
#if defined(NVE_TNA_PCP) || defined(NVE_TNA_MAC_LIMIT) || defined(NVE_TNA_STORM)
#define NVE_TNA_ARP_XOR
#endif

control ArpProxy(NVE_IG_PARAMS) {

    Hash<ipv4_addr_t>(HashAlgorithm_t.XOR32) ip_diff;

#ifdef NVE_TNA_ARP_XOR
    /* The address is bound to `mac`: kept only as the source MAC XOR it (zero: the
     * owner asks), which the answer XORs back: 48 bits of PHV less than keeping both,
     * which the opt-in features need. */
    action reply(mac_addr_t mac) {
        meta.arp_mac_diff = hdr.ethernet.src_addr ^ mac;
    }
#else
    /* The address is bound to `mac`: remembered, and compared with the source MAC. */
    action reply(mac_addr_t mac) {
        meta.arp_bound_mac = mac;
        meta.arp_mac_diff = hdr.ethernet.src_addr ^ mac;
    }
#endif

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

    /* The request becomes the reply in place (RFC 826; for a probe, target IP 0.0.0.0
     * and the reply unicast to the prober, as the owner would send it). */
    action answer() {
#ifdef NVE_TNA_ARP_XOR
        /* Each write reads only fields not yet written (one ALU operation apiece). */
        hdr.arp.tha = hdr.arp.sha;
        hdr.ethernet.dst_addr = hdr.ethernet.src_addr;
        hdr.arp.sha = hdr.ethernet.src_addr ^ meta.arp_mac_diff;
        hdr.ethernet.src_addr = hdr.ethernet.src_addr ^ meta.arp_mac_diff;
        hdr.arp.oper = ARP_OPER_REPLY;
#else
        hdr.ethernet.dst_addr = hdr.ethernet.src_addr;
        hdr.ethernet.src_addr = meta.arp_bound_mac;
        hdr.arp.oper = ARP_OPER_REPLY;
        hdr.arp.tha = hdr.arp.sha;
        hdr.arp.sha = meta.arp_bound_mac;
#endif
        ipv4_addr_t target = hdr.arp.tpa;   /* swapped in one action (parallel ALUs) */
        hdr.arp.tpa = hdr.arp.spa;
        hdr.arp.spa = target;
        ig_tm_md.ucast_egress_port = ig_intr_md.ingress_port;
        hdr.bridge.reflect = 1w1;
    }

    apply {
        /* In the first stage, outside the gate below: Decap's checks (a stage later)
         * key on the Ethernet header the answer rewrites, which holds the gate's
         * subtree back to their stage; the hash under it would take one more. */
        meta.arp_ip_diff = ip_diff.get({ hdr.arp.spa, hdr.arp.tpa });
        if (hdr.arp.isValid()) {
            if (meta.drop_reason == DROP_NONE && meta.port_role == PORT_ROLE_ACCESS
                    && meta.c.smac[40:40] == 1w0) {
            if (hdr.arp.htype == ARP_HTYPE_ETHERNET && hdr.arp.ptype == ETHERTYPE_IPV4) {
                if (hdr.arp.hlen == ARP_HLEN_ETHERNET && hdr.arp.plen == ARP_PLEN_IPV4
                        && hdr.arp.oper == ARP_OPER_REQUEST) {
                    if (meta.arp_ip_diff != 32w0) {
                        if (proxy.apply().hit) {
                            if (hdr.arp.spa != 32w0) {
                                answer();
                            } else if (meta.arp_mac_diff[47:24] != 24w0) {
                                answer();      /* a probe from another MAC */
                            } else if (meta.arp_mac_diff[23:0] != 24w0) {
                                answer();
                            }
                        }
                    }
                }
            }
            }
        }
    }
}

#endif
