/* core.p4 and v1model.p4 define the include guards programs test (as p4c's do). */
#include <core.p4>
#include <v1model.p4>
#ifndef _CORE_P4_
#error "core.p4 does not define _CORE_P4_"
#endif
#ifndef _V1_MODEL_P4_
#error "v1model.p4 does not define _V1_MODEL_P4_"
#endif
#include <core.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
struct headers_t { eth_t eth; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); transition accept; }
}
control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply { sm.egress_spec = 1; }
}
control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;

// frame: 0 ffffffffffff00000000000a0800
// expect: 1 ffffffffffff00000000000a0800
