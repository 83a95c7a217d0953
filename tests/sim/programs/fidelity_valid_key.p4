/*
 * A table key on a header's validity: P4Info names it `hdr.vlan.$valid$` (p4c), and
 * const entries match it as a 1-bit exact key.
 */
#include <core.p4>
#include <v1model.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header vlan_t { bit<16> tci; bit<16> type; }
struct headers_t { eth_t eth; vlan_t vlan; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.eth);
        transition select(hdr.eth.type) { 0x8100: vlan; default: accept; }
    }
    state vlan { pkt.extract(hdr.vlan); transition accept; }
}

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    action to(bit<9> port) { sm.egress_spec = port; }
    table by_tag {
        key = { hdr.vlan.isValid(): exact; hdr.eth.src: ternary; }
        actions = { to; }
        const entries = {
            (true, _) : to(2);
            (false, 0x00000000000a &&& 0xffffffffffff) : to(3);
        }
        default_action = to(1);
    }
    apply { by_tag.apply(); }
}

control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.eth); pkt.emit(hdr.vlan); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;

// frame: 0 ffffffffffff00000000000a8100 0005 0800 ee
// expect: 2 ffffffffffff00000000000a810000050800ee
// frame: 0 ffffffffffff00000000000a0800 ee
// expect: 3 ffffffffffff00000000000a0800ee
// frame: 0 ffffffffffff00000000000b0800 ee
// expect: 1 ffffffffffff00000000000b0800ee
