/* access.p4: access ports. Ingress: (port, VLAN or untagged) -> virtual subnet, the
 * 802.1Q tag removed (RFC 7637 section 3.3: the encapsulating NVE MUST remove it), and
 * the customer frame copied into meta.c, with its priority (IEEE 802.1Q PCP: the tag's,
 * or the port's default for an untagged frame). Egress: (port, subnet) -> the tag to
 * push on local delivery, with the frame's priority (a decapsulated frame: mapped from
 * the outer DSCP, else the output port's default). */
#ifndef NVE_ACCESS_P4
#define NVE_ACCESS_P4

#include "headers.p4"
#include "sizes.p4"

control AccessIngress(inout headers_t hdr,
                      inout metadata_t meta,
                      inout standard_metadata_t sm) {

    action set_vsi(vsi_t vsi) {
        meta.fwd.vsi = vsi;
    }

    /* The priority of untagged frames received on the port (IEEE 802.1Q port default
     * priority); without an entry 0. */
    action set_default_pcp(bit<3> pcp) {
        meta.c.pcp = pcp;
    }

    table port_pcp {
        key = {
            sm.ingress_port : exact @name("port");
        }
        actions = {
            set_default_pcp;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = PORT_TABLE_SIZE;
    }

    table port_vlan {
        key = {
            sm.ingress_port : exact @name("port");
            meta.c.tagged   : exact @name("tagged");
            meta.c.vid      : exact @name("vid");
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
            meta.fwd.drop_reason = DROP_PARSER_ERROR;
            return;
        }
        if (meta.pkt.extra_tag == 1w1) {
            meta.fwd.drop_reason = DROP_ACCESS_EXTRA_TAG;
            return;
        }
        meta.c.dmac = hdr.ethernet.dst_addr;
        meta.c.smac = hdr.ethernet.src_addr;
        meta.c.ether_type = hdr.ethernet.ether_type;
        meta.c.frame_len = (bit<16>)sm.packet_length;
        if (hdr.vlan.isValid()) {
            /* Bridged on, the frame keeps its priority (a tag pushed in egress carries it). */
            meta.c.pcp = hdr.vlan.pcp;
            /* A priority tag (VID 0, IEEE 802.1Q) classifies the frame as untagged. */
            if (hdr.vlan.vid != 12w0) {
                meta.c.tagged = 1w1;
                meta.c.vid = hdr.vlan.vid;
            }
            meta.c.ether_type = hdr.vlan.ether_type;
            meta.c.frame_len = meta.c.frame_len - VLAN_TAG_BYTES;
        } else {
            port_pcp.apply();
        }
        if (!port_vlan.apply().hit) {
            meta.fwd.drop_reason = DROP_ACCESS_VLAN_UNKNOWN;
            return;
        }
        /* Remove the tag; egress pushes the output port's tag, if any. */
        if (hdr.vlan.isValid()) {
            hdr.ethernet.ether_type = hdr.vlan.ether_type;
            hdr.vlan.setInvalid();
        }
        if (hdr.ipv4.isValid()) {
            meta.c.is_ipv4 = 1w1;
            meta.c.ipv4_src = hdr.ipv4.src_addr;
            meta.c.ipv4_dst = hdr.ipv4.dst_addr;
            meta.c.proto = hdr.ipv4.protocol;
            meta.c.ttl = hdr.ipv4.ttl;
            meta.c.df = hdr.ipv4.flags[1:1];
            /* On an access port hdr.ipv4 is the customer's: NveVerifyChecksum's verdict. */
            meta.c.ipv4_csum_bad = sm.checksum_error;
        } else if (hdr.ipv6.isValid()) {
            meta.c.is_ipv6 = 1w1;
            meta.c.ipv6_src = hdr.ipv6.src_addr;
            meta.c.ipv6_dst = hdr.ipv6.dst_addr;
            meta.c.proto = hdr.ipv6.next_hdr;
            meta.c.ttl = hdr.ipv6.hop_limit;
        }
        if (hdr.l4.isValid()) {
            meta.c.src_port = hdr.l4.src_port;
            meta.c.dst_port = hdr.l4.dst_port;
        }
    }
}

/* Pushes an 802.1Q tag (`pcp`, DEI 0, `vid`) in `tag`, the header after an Ethernet
 * header whose EtherType is `ether_type`: the tag takes over that EtherType. */
void push_vlan_tag(inout bit<16> ether_type, out vlan_h tag, in vlan_id_t vid,
                   in bit<3> pcp) {
    tag.setValid();
    tag.pcp = pcp;
    tag.dei = 1w0;
    tag.vid = vid;
    tag.ether_type = ether_type;
    ether_type = ETHERTYPE_VLAN;
}

control AccessEgress(inout headers_t hdr,
                     inout metadata_t meta,
                     inout standard_metadata_t sm) {

    bit<1>    push_tag = 1w0;
    vlan_id_t push_vid = 12w0;
    bit<3>    push_pcp = 3w0;

    action untagged() {
        push_tag = 1w0;
    }

    action tagged(vlan_id_t vid) {
        push_tag = 1w1;
        push_vid = vid;
    }

    /* The priority of a decapsulated frame that no NveIngress.decap.dscp_pcp entry
     * gave one, when it leaves tagged by the port; without an entry 0. */
    action set_default_pcp(bit<3> pcp) {
        push_pcp = pcp;
    }

    table port_pcp {
        key = {
            sm.egress_port : exact @name("port");
        }
        actions = {
            set_default_pcp;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = PORT_TABLE_SIZE;
    }

    table port_vsi {
        key = {
            sm.egress_port : exact @name("port");
            meta.fwd.vsi   : exact @name("vsi");
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
            meta.fwd.drop_reason = DROP_EGRESS_NOT_MEMBER;
            return;
        }
        if (push_tag == 1w1) {
            push_pcp = meta.c.pcp;
            if (meta.fwd.decapped == 1w1 && meta.c.pcp_mapped == 1w0) {
                port_pcp.apply();
            }
            if (meta.fwd.decapped == 1w1) {
                /* The customer frame is inner_*: its (unused) tag slot carries the tag. */
                push_vlan_tag(hdr.inner_ethernet.ether_type, hdr.inner_vlan, push_vid,
                              push_pcp);
            } else {
                push_vlan_tag(hdr.ethernet.ether_type, hdr.vlan, push_vid, push_pcp);
            }
        }
        if (meta.fwd.decapped == 1w1) {
            /* Only the customer frame leaves: bytes after the outer datagram (an L2
             * trailer or padding of the NVGRE frame) are not part of it. */
            bit<32> out_len = (bit<32>)meta.c.frame_len;
            if (push_tag == 1w1) {
                out_len = out_len + (bit<32>)VLAN_TAG_BYTES;
            }
            truncate(out_len);
        }
    }
}

#endif
