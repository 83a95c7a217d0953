/* access.p4 (TNA): access ports, as p4src/include/access.p4. The port_vlan key's
 * tagged/vid are set by the parser (no copy stage); the subnet index is written
 * straight into the bridged header. Egress pushes the tag into hdr.vlan: in TNA
 * egress the customer frame is always the outermost Ethernet header. */
#ifndef NVE_TNA_ACCESS_P4
#define NVE_TNA_ACCESS_P4

control AccessIngress(NVE_IG_PARAMS) {

    /* The customer MACs are copied in the lookup's stage (the next stage keys on them). */
    action set_vsi(vsi_t vsi) {
        hdr.bridge.vsi = vsi;
        meta.c.dmac = hdr.ethernet.dst_addr;
        meta.c.smac = hdr.ethernet.src_addr;
    }

    table port_vlan {
        key = {
            ig_intr_md.ingress_port : exact @name("port");
            meta.c.tagged           : exact @name("tagged");
            meta.c.vid              : exact @name("vid");
        }
        actions = {
            set_vsi;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = PORT_VLAN_SIZE;
    }

    apply {
        if (!hdr.ethernet.isValid()) {
            meta.drop_reason = DROP_PARSER_ERROR;
        } else if (meta.extra_tag == 1w1) {
            meta.drop_reason = DROP_ACCESS_EXTRA_TAG;
        } else if (!port_vlan.apply().hit) {
            meta.drop_reason = DROP_ACCESS_VLAN_UNKNOWN;
        } else {
            /* Remove the tag (RFC 7637 section 3.3); egress pushes the output port's. */
            if (hdr.vlan.isValid()) {
                hdr.ethernet.ether_type = hdr.vlan.ether_type;
                hdr.vlan.setInvalid();
            }
            if (hdr.ipv4.isValid()) {
                hdr.bridge.is_ipv4 = 1w1;
                hdr.bridge.df = hdr.ipv4.flags[1:1];
                meta.c.ipv4_src = hdr.ipv4.src_addr;
                meta.c.ipv4_dst = hdr.ipv4.dst_addr;
                meta.c.ttl = hdr.ipv4.ttl;
            } else if (hdr.ipv6.isValid()) {
                hdr.bridge.is_ipv6 = 1w1;
                meta.c.ipv6_src = hdr.ipv6.src_addr;
                meta.c.ipv6_dst = hdr.ipv6.dst_addr;
                meta.c.ttl = hdr.ipv6.hop_limit;
            }
        }
    }
}

control AccessEgress(NVE_EG_PARAMS) {

    action untagged() {
    }

    action tagged(vlan_id_t vid) {
        hdr.vlan.setValid();
        hdr.vlan.pcp = 3w0;
        hdr.vlan.dei = 1w0;
        hdr.vlan.vid = vid;
        hdr.vlan.ether_type = hdr.ethernet.ether_type;
        hdr.ethernet.ether_type = ETHERTYPE_VLAN;
    }

    table port_vsi {
        key = {
            eg_intr_md.egress_port : exact @name("port");
            hdr.bridge.vsi         : exact @name("vsi");
        }
        actions = {
            untagged;
            tagged;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = PORT_VLAN_SIZE;
    }

    apply {
        if (!port_vsi.apply().hit) {
            meta.drop_late = DROP_EGRESS_NOT_MEMBER;
        }
    }
}

#endif
