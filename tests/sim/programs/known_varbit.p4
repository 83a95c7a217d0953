/* varbit: a header with a varbit field, a varbit local variable, `==` on varbits. */
#include <core.p4>
#include <v1model.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header opt_t { bit<8> len; varbit<64> data; }
header o_t { bit<8> eq_local; bit<8> eq_other; bit<8> eq_self; }
struct headers_t { eth_t eth; opt_t a; opt_t b; o_t o; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.eth);
        pkt.extract(hdr.a, (bit<32>)pkt.lookahead<bit<8>>() * 8);
        pkt.extract(hdr.b, (bit<32>)pkt.lookahead<bit<8>>() * 8);
        transition accept;
    }
}

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply {
        varbit<64> v;
        v = hdr.a.data;
        hdr.o.setValid();
        hdr.o.eq_local = v == hdr.a.data ? 8w1 : 8w0;
        hdr.o.eq_other = hdr.a.data == hdr.b.data ? 8w1 : 8w0;
        hdr.o.eq_self = hdr.b.data != hdr.b.data ? 8w1 : 8w0;
        sm.egress_spec = 1;
    }
}

control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) {
    apply { pkt.emit(hdr.eth); pkt.emit(hdr.o); pkt.emit(hdr.a); pkt.emit(hdr.b); }
}
V1Switch(P(), VC(), I(), E(), CC(), D()) main;

// same bits, same length
// frame: 0 ffffffffffff00000000000a0800 02 0102 02 0102 ee
// expect: 1 ffffffffffff00000000000a0800010100020102020102ee
// different bits
// frame: 0 ffffffffffff00000000000a0800 02 0102 02 0103 ee
// expect: 1 ffffffffffff00000000000a0800010000020102020103ee
// the same value 1 in 8 and in 16 bits
// frame: 0 ffffffffffff00000000000a0800 01 01 02 0001 ee
// expect: 1 ffffffffffff00000000000a08000101000101020001ee
