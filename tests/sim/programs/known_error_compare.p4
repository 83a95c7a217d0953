/*
 * `==` and `!=` between two `error` values, with errors the program declares after
 * v1model.p4 (one error type, whatever error declarations came before a use).
 */
#include <core.p4>
#include <v1model.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header o_t { bit<8> same; bit<8> differ; bit<8> mine; bit<8> noerr; }
error { BadType }
struct headers_t { eth_t eth; o_t o; }
struct meta_t { error e; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.eth);
        verify(hdr.eth.type != 0xdead, error.BadType);
        transition accept;
    }
}

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply {
        hdr.o.setValid();
        error local = sm.parser_error;
        meta.e = error.BadType;
        hdr.o.same = local == sm.parser_error ? 8w1 : 8w0;
        hdr.o.differ = (bit<8>)(bit<1>)(error.NoError != error.PacketTooShort);
        hdr.o.mine = sm.parser_error == meta.e ? 8w1 : 8w0;
        if (sm.parser_error != error.NoError) { hdr.o.noerr = 0; } else { hdr.o.noerr = 1; }
        sm.egress_spec = 1;
    }
}

control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.eth); pkt.emit(hdr.o); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;

// frame: 0 ffffffffffff00000000000a0800 aa
// expect: 1 ffffffffffff00000000000a080001010001aa
// frame: 0 ffffffffffff00000000000adead aa
// expect: 1 ffffffffffff00000000000adead01010100aa
