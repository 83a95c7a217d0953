/*
 * Expressions and types: arithmetic (unsigned and signed, wrapping and saturating),
 * bitwise and logical operators, shifts, concatenation, casts, slices, ?:, comparisons,
 * typedef / type / enums / serializable enums, bit<(expr)>, tuples, struct-valued
 * expressions, header and struct equality, {#}, compile-time sizes and static_assert.
 * Every result lands in one byte (or more) of header `o`.
 */
#include <core.p4>
#include <v1model.p4>

typedef bit<8> byte_t;
type bit<16> port16_t;
const int WIDTH = 12;
const byte_t SEVEN = 7;
enum color_t { RED, GREEN, BLUE }
enum bit<8> kind_t { ONE = 1, TWO = 2, BIG = 0xf0 }

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header in_t { byte_t a; byte_t b; bit<16> w; int<8> s; int<8> t; }
header o_t {
    byte_t add; byte_t sub; byte_t mul; byte_t neg; byte_t sat_add; byte_t sat_sub;
    byte_t s_sat_add; byte_t s_sat_sub; byte_t s_mul; byte_t s_shr; byte_t s_lt;
    byte_t and_; byte_t or_; byte_t xor_; byte_t not_; byte_t shl; byte_t shr; byte_t shl_var;
    bit<16> concat; bit<4> pad; bit<WIDTH> wide; bit<4> hi; bit<4> lo; byte_t mux; byte_t logic;
    byte_t enum_; byte_t ser; byte_t tuple_; byte_t structs; byte_t hdr_eq; byte_t sizes;
    bit<16> cast16; byte_t cast_s; byte_t bool_bits; port16_t port;
}
struct pair_t { byte_t x; bit<16> y; }
struct headers_t { eth_t eth; in_t i; o_t o; }
struct meta_t { pair_t p; color_t c; }

const bool CHECKED = static_assert(WIDTH == 12, "WIDTH is 12");

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); pkt.extract(hdr.i); transition accept; }
}

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply {
        hdr.o.setValid();
        byte_t a = hdr.i.a;
        byte_t b = hdr.i.b;
        int<8> s = hdr.i.s;
        int<8> t = hdr.i.t;
        hdr.o.add = a + b;
        hdr.o.sub = a - b;
        hdr.o.mul = a * b;
        hdr.o.neg = -a;
        hdr.o.sat_add = a |+| b;
        hdr.o.sat_sub = a |-| b;
        hdr.o.s_sat_add = (byte_t)(s |+| t);
        hdr.o.s_sat_sub = (byte_t)(s |-| t);
        hdr.o.s_mul = (byte_t)(s * t);
        hdr.o.s_shr = (byte_t)(s >> 2);
        hdr.o.s_lt = s < t ? 8w1 : 8w0;
        hdr.o.and_ = a & b;
        hdr.o.or_ = a | b;
        hdr.o.xor_ = a ^ b;
        hdr.o.not_ = ~a;
        hdr.o.shl = a << 3;
        hdr.o.shr = a >> 3;
        hdr.o.shl_var = 8w1 << b[2:0];
        hdr.o.concat = a ++ b;
        hdr.o.wide = (bit<WIDTH>)hdr.i.w + 12w1;
        hdr.o.hi = a[7:4];
        hdr.o.lo = b[3:0];
        hdr.o.mux = a > b ? a : b;
        hdr.o.logic = (bit<8>)(bit<1>)((a > 0 && b > 0) || !(a == b));
        meta.c = a == 0 ? color_t.RED : (a < 0x80 ? color_t.GREEN : color_t.BLUE);
        if (meta.c == color_t.GREEN) { hdr.o.enum_ = 1; } else { hdr.o.enum_ = 2; }
        kind_t k = (kind_t)b;
        hdr.o.ser = k == kind_t.TWO ? (byte_t)kind_t.BIG : (byte_t)k;
        tuple<byte_t, bit<16>> tp = {a, hdr.i.w};
        hdr.o.tuple_ = tp[0] + tp[1][7:0];
        meta.p = {x = a, y = hdr.i.w};
        pair_t q = {y = hdr.i.w, x = hdr.i.a};
        hdr.o.structs = meta.p == q ? 8w1 : 8w0;
        in_t copy = hdr.i;
        in_t none = (in_t){#};
        hdr.o.hdr_eq = (copy == hdr.i ? 8w1 : 8w0) | (none != hdr.i ? 8w2 : 8w0)
                     | (none == (in_t){#} ? 8w4 : 8w0);
        hdr.o.sizes = (byte_t)(hdr.i.minSizeInBytes() + in_t.maxSizeInBits());
        hdr.o.cast16 = (bit<16>)(bit<8>)s;
        hdr.o.cast_s = (byte_t)(int<8>)(int<16>)hdr.i.w;
        hdr.o.bool_bits = (bit<1>)(hdr.i.a[0:0] == 1) ++ 7w0;
        hdr.o.port = (port16_t)(hdr.i.w + (bit<16>)SEVEN);
        sm.egress_spec = 1;
    }
}

control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.eth); pkt.emit(hdr.o); } }
V1Switch(P(), VC(), I(), E(), CC(), D()) main;

// frame: 0 ffffffffffff00000000000a0800 35 0a 1234 f6 05
// expect: 1 ffffffffffff00000000000a08003f2b12cb3f2bfbf1cefd01003f3fcaa80604350a02353a3501010a6901073600f63480123b
// frame: 0 ffffffffffff00000000000a0800 c8 02 ffff 7f 7f
// expect: 1 ffffffffffff00000000000a0800cac69038cac67f00011f0000caca37401904c8020000c2c80102f0c7010736007fff000006
// frame: 0 ffffffffffff00000000000a0800 00 f0 0001 80 01
// expect: 1 ffffffffffff00000000000a0800f0100000f000818080e00100f0f0ff00000100f0000200f00102f001010736008001000008
