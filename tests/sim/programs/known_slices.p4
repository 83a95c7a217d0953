/* Slices as assignment targets (a slice of a slice too) and as out/inout arguments. */
#include <core.p4>
#include <v1model.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header r_t { bit<8> a; bit<8> b; bit<16> c; bit<32> d; }
struct headers_t { eth_t eth; r_t r; }
struct meta_t { bit<16> m; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); pkt.extract(hdr.r); transition accept; }
}

void inc4(inout bit<4> x) { x = x + 1; }

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    action put5(out bit<4> x) { x = 5; }
    action add(inout bit<4> x, bit<4> v) { x = x + v; }
    apply {
        hdr.r.d[15:0][11:4] = 0xab;          // a slice of a slice: d[11:4]
        hdr.r.d[31:16][15:8][3:0] = 0xc;     // d[27:24]
        put5(hdr.r.a[3:0]);                  // out: the low nibble of a
        add(hdr.r.b[7:4], 3);                // inout: the high nibble of b
        inc4(hdr.r.c[11:8]);                 // a function's inout
        meta.m = hdr.r.c;
        add(meta.m[3:0], 1);
        hdr.r.c = meta.m;
        sm.egress_spec = 1;
    }
}

control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.eth); pkt.emit(hdr.r); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;

// frame: 0 ffffffffffff00000000000a0800 11 22 3344 55667788
// expect: 1 ffffffffffff00000000000a0800155234455c667ab8
// frame: 0 ffffffffffff00000000000a0800 ff ff ffff ffffffff
// expect: 1 ffffffffffff00000000000a0800f52ff0f0fcfffabf
