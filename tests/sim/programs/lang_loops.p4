/*
 * for loops: several variables in init and update, continue and break, nested loops, a
 * return from inside a loop (of a function and of an action). The loops are in actions:
 * p4c-bm2-ss compiles a loop in an action to bmv2's jumps, but not one in an apply block
 * (it runs its body once at most there); p4sim runs both as the P4 spec says.
 */
#include <core.p4>
#include <v1model.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header r_t { bit<8> a; bit<8> b; }
header o_t { bit<8> sum; bit<8> first_bit; bit<8> grid; bit<8> act; bit<8> steps; }
struct headers_t { eth_t eth; r_t r; o_t o; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); pkt.extract(hdr.r); transition accept; }
}

bit<8> lowest_set_bit(in bit<8> x) {
    bit<8> v = x;
    for (bit<8> i = 0; i < 8; i = i + 1) {
        if (v[0:0] == 1) { return i; }
        v = v >> 1;
    }
    return 0xff;
}

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    action sums() {
        bit<8> s = 0;
        for (bit<8> i = 0, bit<8> j = 1; i < 6; i = i + 1, j = j << 1) {
            if (i == 1) { continue; }
            if (i == hdr.r.a) { break; }
            s = s + j;
        }
        hdr.o.sum = s;
    }
    action bits() { hdr.o.first_bit = lowest_set_bit(hdr.r.b); }
    action grid() {
        bit<8> g = 0;
        for (bit<8> x = 0; x < 3; x = x + 1) {
            for (bit<8> y = 0; y < 3; y = y + 1) {
                if (y > x) { break; }
                g = g + 1;
            }
        }
        hdr.o.grid = g;
    }
    action count_down(bit<8> from) {
        hdr.o.act = 0;
        for (bit<8> k = from; k > 0; k = k - 1) {
            if (k == 2) { return; }
            hdr.o.act = hdr.o.act + k;
        }
    }
    action steps() {
        bit<8> n = 0;
        for (; n < 200; n = n + 7) { }
        hdr.o.steps = n;
    }
    apply {
        hdr.o.setValid();
        sums();
        bits();
        grid();
        count_down(hdr.r.a);
        steps();
        sm.egress_spec = 1;
    }
}

control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) {
    apply { pkt.emit(hdr.eth); pkt.emit(hdr.r); pkt.emit(hdr.o); }
}
V1Switch(P(), VC(), I(), E(), CC(), D()) main;

// frame: 0 ffffffffffff00000000000a0800 04 28
// expect: 1 ffffffffffff00000000000a080004280d030607cb
// frame: 0 ffffffffffff00000000000a0800 09 00
// expect: 1 ffffffffffff00000000000a080009003dff062acb
// frame: 0 ffffffffffff00000000000a0800 01 81
// expect: 1 ffffffffffff00000000000a080001813d000601cb
