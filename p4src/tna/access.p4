/* access.p4 (TNA): access ports, as p4src/include/access.p4. The port_vlan key's
 * tagged/vid are set by the parser (no copy stage); the subnet index is written
 * straight into the bridged header. Egress pushes the tag into hdr.vlan: in TNA
 * egress the customer frame is always the outermost Ethernet header. Priorities (PCP
 * per path, port_pcp both ways) only with -D NVE_TNA_PCP (docs/tna.md): the frame's
 * PCP (the tag's, also a priority tag's, or the port's default) in the bridged header. */
#ifndef NVE_TNA_ACCESS_P4
#define NVE_TNA_ACCESS_P4

control AccessIngress(NVE_IG_PARAMS) {

#ifdef NVE_TNA_PCP
    /* The tag's PCP into the bridged byte through the hash unit (identity): a PHV move
     * would tie the bridged header's layout to the tag's ("Unable to slice"). */
    Hash<bit<3>>(HashAlgorithm_t.IDENTITY) tag_pcp;

    /* The priority of untagged frames received on the port (IEEE 802.1Q port default
     * priority); without an entry 0. */
    action set_default_pcp(bit<3> pcp) {
        hdr.bridge.pcp = pcp;
    }

    table port_pcp {
        key = {
            ig_intr_md.ingress_port : exact @name("port");
        }
        actions = {
            set_default_pcp;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = PORT_TABLE_SIZE;
    }
#endif

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
            /* Remove the tag (RFC 7637 section 3.3); egress pushes the output port's
             * (-D NVE_TNA_PCP: with the priority the frame arrived with). */
            if (hdr.vlan.isValid()) {
#ifdef NVE_TNA_PCP
                hdr.bridge.pcp = tag_pcp.get({ hdr.vlan.pcp });
#endif
                hdr.ethernet.ether_type = hdr.vlan.ether_type;
                hdr.vlan.setInvalid();
            }
#ifdef NVE_TNA_PCP
            else {
                port_pcp.apply();
            }
#endif
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

#ifdef NVE_TNA_PCP
    /* The frame's PCP (bridged) goes into the pushed tag in the stage after the push,
     * through the hash unit (identity): in the push's action, beside its action data
     * and constants, the tag's fields could not be allocated. */
    Hash<bit<3>>(HashAlgorithm_t.IDENTITY) push_pcp;

    /* The priority of a decapsulated frame that no NveIngress.decap.dscp_pcp entry
     * gave one, when it leaves tagged by the port; without an entry 0. */
    action set_default_pcp(bit<3> pcp) {
        hdr.bridge.pcp = pcp;
    }

    table port_pcp {
        key = {
            eg_intr_md.egress_port : exact @name("port");
        }
        actions = {
            set_default_pcp;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = PORT_TABLE_SIZE;
    }

    apply {
        /* The output port's default beside the push (both key on the port). */
        if (hdr.bridge.decapped == 1w1 && hdr.bridge.pcp_mapped == 1w0) {
            port_pcp.apply();
        }
        switch (port_vsi.apply().action_run) {
            tagged: {
                hdr.vlan.pcp = push_pcp.get({ hdr.bridge.pcp });
            }
            untagged: {
            }
            default: {
                meta.drop_late = DROP_EGRESS_NOT_MEMBER;
            }
        }
    }
#else
    apply {
        if (!port_vsi.apply().hit) {
            meta.drop_late = DROP_EGRESS_NOT_MEMBER;
        }
    }
#endif
}

#endif
