/*
 * `@priority(n)` on const entries: p4c's bmv2 back end gives an entry its @priority value
 * (and an entry without one its 1-based position in the list), and bmv2 matches the entry
 * with the smallest value among those that match. Each frame matches several entries.
 */
#include <core.p4>
#include <v1model.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header r_t { bit<8> a; bit<8> b; }
struct headers_t { eth_t eth; r_t r; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); pkt.extract(hdr.r); transition accept; }
}

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    action set(bit<8> v) { hdr.r.b = v; }
    table all_annotated {
        key = { hdr.r.a: ternary; }
        actions = { set; }
        const entries = {
            0x10 &&& 0xf0 : set(1) @priority(30);
            0x12 &&& 0xff : set(2) @priority(20);
            _             : set(3) @priority(10);   // the catch-all wins everything
        }
    }
    table some_annotated {
        key = { hdr.r.a: ternary; hdr.eth.type: exact; }
        actions = { set; }
        const entries = {
            (0x20 &&& 0xf0, 0x0800) : set(4) @priority(5);   // value 5
            (0x21 &&& 0xff, 0x0800) : set(5);                // value 2 (its position)
            (_, 0x0800)             : set(6) @priority(3);   // value 3
            (0x22 &&& 0xff, 0x0800) : set(7);                // value 4
        }
    }
    table none_annotated {
        key = { hdr.r.a: ternary; }
        actions = { set; }
        const entries = {
            0x30 &&& 0xf0 : set(8);                          // first listed, first matched
            0x31 &&& 0xff : set(9);
        }
    }
    apply {
        if (hdr.r.a[7:4] == 1) { all_annotated.apply(); }
        else if (hdr.r.a[7:4] == 2) { some_annotated.apply(); }
        else { none_annotated.apply(); }
        sm.egress_spec = 1;
    }
}

control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.eth); pkt.emit(hdr.r); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;

// frame: 0 ffffffffffff00000000000a0800 12 00
// expect: 1 ffffffffffff00000000000a08001203
// frame: 0 ffffffffffff00000000000a0800 21 00
// expect: 1 ffffffffffff00000000000a08002105
// frame: 0 ffffffffffff00000000000a0800 22 00
// expect: 1 ffffffffffff00000000000a08002206
// frame: 0 ffffffffffff00000000000a0800 20 00
// expect: 1 ffffffffffff00000000000a08002006
// frame: 0 ffffffffffff00000000000a0801 21 00
// expect: 1 ffffffffffff00000000000a08012100
// frame: 0 ffffffffffff00000000000a0800 31 00
// expect: 1 ffffffffffff00000000000a08003108
