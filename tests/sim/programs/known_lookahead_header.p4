/* `lookahead` of a header type: in a select key, as a value, and field by field. */
#include <core.p4>
#include <v1model.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header tag_t { bit<4> kind; bit<4> len; bit<8> value; }
header o_t { bit<8> kind; bit<8> len; bit<8> value; bit<8> valid; }
struct headers_t { eth_t eth; tag_t tag; o_t o; }
struct meta_t { tag_t seen; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.eth);
        meta.seen = pkt.lookahead<tag_t>();
        transition select(pkt.lookahead<tag_t>().kind) { 1: tag; default: accept; }
    }
    state tag { pkt.extract(hdr.tag); transition accept; }
}

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply {
        hdr.o.setValid();
        hdr.o.kind = (bit<8>)meta.seen.kind;
        hdr.o.len = (bit<8>)meta.seen.len;
        hdr.o.value = meta.seen.value;
        hdr.o.valid = meta.seen.isValid() ? 8w1 : 8w0;
        sm.egress_spec = 1;
    }
}

control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) {
    apply { pkt.emit(hdr.eth); pkt.emit(hdr.o); pkt.emit(hdr.tag); }
}
V1Switch(P(), VC(), I(), E(), CC(), D()) main;

// frame: 0 ffffffffffff00000000000a0800 13 7f 99
// expect: 1 ffffffffffff00000000000a080001037f01137f99
// frame: 0 ffffffffffff00000000000a0800 25 7e 99
// expect: 1 ffffffffffff00000000000a080002057e01257e99
