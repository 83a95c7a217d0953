/*
 * Functions: values and void, early returns, in/out/inout parameters, functions calling
 * functions, overloading by arity, a header-returning function, use in parsers and
 * actions; default parameter values and named arguments (of an extern too).
 */
#include <core.p4>
#include <v1model.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header r_t { bit<8> a; bit<8> b; bit<16> c; }
header o_t { bit<8> max; bit<8> clamp; bit<8> swap_a; bit<8> swap_b; bit<8> out_; bit<8> over;
             bit<8> nested; bit<8> built_a; bit<8> built_b; bit<8> parsed; bit<8> act;
             bit<8> defaults; bit<8> named; bit<16> hashed; }
struct headers_t { eth_t eth; r_t r; o_t o; }
struct meta_t { bit<8> parsed; }

bit<8> max8(in bit<8> x, in bit<8> y) {
    if (x > y) { return x; }
    return y;
}
bit<8> clamp(in bit<8> x, in bit<8> lo, in bit<8> hi) {
    return max8(lo, x > hi ? hi : x);
}
void swap(inout bit<8> x, inout bit<8> y) { bit<8> t = x; x = y; y = t; }
void split(in bit<16> v, out bit<8> high, out bit<8> low) { high = v[15:8]; low = v[7:0]; }
bit<8> pick(in bit<8> x) { return x; }
bit<8> pick(in bit<8> x, in bit<8> y) { return y; }
r_t make(in bit<8> a) {
    r_t r;
    r.setValid();
    r.a = a;
    r.b = a + 1;
    r.c = 0x0102;
    return r;
}
bool is_ipv4(in bit<16> t) { return t == 0x0800; }
bit<8> scaled(in bit<8> x, in bit<8> times = 3, in bit<8> plus = 1) { return x * times + plus; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.eth);
        meta.parsed = is_ipv4(hdr.eth.type) ? 8w4 : 8w0;
        transition select(is_ipv4(hdr.eth.type)) { true: r; default: accept; }
    }
    state r { pkt.extract(hdr.r); transition accept; }
}

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    action via_action(bit<8> v) { hdr.o.act = max8(v, hdr.r.a); }
    apply {
        hdr.o.setValid();
        hdr.o.max = max8(hdr.r.a, hdr.r.b);
        hdr.o.clamp = clamp(hdr.r.a, 0x10, 0x40);
        hdr.o.swap_a = hdr.r.a;
        hdr.o.swap_b = hdr.r.b;
        swap(hdr.o.swap_a, hdr.o.swap_b);
        bit<8> ignored;
        split(hdr.r.c, hdr.o.out_, ignored);
        hdr.o.over = pick(1) + pick(2, 3);
        hdr.o.nested = max8(max8(hdr.r.a, 5), clamp(hdr.r.b, 1, 2));
        r_t built = make(hdr.r.b);
        hdr.o.built_a = built.a;
        hdr.o.built_b = built.isValid() ? built.b : 8w0;
        hdr.o.parsed = meta.parsed;
        via_action(0x30);
        hdr.o.defaults = scaled(2) + scaled(2, 5) + scaled(plus = 0, x = 1);
        hdr.o.named = clamp(hi = 0x20, lo = 0x08, x = hdr.r.a);
        hash(data = { hdr.r.a }, result = hdr.o.hashed, algo = HashAlgorithm.identity,
             base = 16w1, max = 32w1000);
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

// frame: 0 ffffffffffff00000000000a0800 08 50 a1b2
// expect: 1 ffffffffffff00000000000a08000850a1b250105008a104085051043015080009
// frame: 0 ffffffffffff00000000000a0800 60 02 0000
// expect: 1 ffffffffffff00000000000a080060020000604002600004600203046015200061
// frame: 0 ffffffffffff00000000000a0801 60 02 0000
// expect: 1 ffffffffffff00000000000a080100100000000405000100301508000160020000
