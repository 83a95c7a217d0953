/*
 * Declarations: the newer v1model variant (generic counters and registers, PortId_t),
 * typedef of a header type, `type`, serializable enums as header fields,
 * bool header fields, nested structs holding headers, constants of every kind, widths
 * given by constants, a forward extern declaration, structured and plain annotations,
 * error declarations in two places, `match_kind` additions used by no table.
 */
#define V1MODEL_VERSION 20200408
#include <core.p4>
#include <v1model.p4>

extern Unused;
const bit<8> W8 = 8;
const bool YES = true;
const int<8> MINUS_TWO = -2;
enum bit<8> proto_t { TCP = 6, UDP = 17 }
header eth_h { bit<48> dst; bit<48> src; bit<16> type; }
typedef eth_h eth_t;
type bit<32> addr_t;
header l3_t { proto_t proto; bool flag; bit<7> pad; addr_t addr; bit<(W8 * 2)> wide; }
header o_t { bit<8> proto; bit<8> flag; bit<32> addr; bit<8> err; bit<8> const_; }
struct inner_t { l3_t l3; bit<8> n; }
struct outer_t { inner_t inner; eth_t eth; }
struct headers_t { eth_t eth; l3_t l3; o_t o; }
struct meta_t { outer_t saved; }
error { FirstExtra }
error { SecondExtra }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.eth);
        pkt.extract(hdr.l3);
        verify(hdr.l3.proto != proto_t.UDP, error.SecondExtra);
        transition accept;
    }
}

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    counter<bit<2>>(4, CounterType.packets) c;
    register<bit<32>, bit<1>>(2) r;

    @my_annotation[level = 2, name = "x"]
    @name("remember")
    action keep(@name("n") bit<8> n) { meta.saved.inner.n = n; }
    table t {
        key = { hdr.l3.proto: exact @name("proto"); }
        actions = { keep; }
        const entries = { proto_t.TCP: keep(1); }
        default_action = keep(0);
    }

    apply {
        meta.saved.inner.l3 = hdr.l3;
        meta.saved.eth = hdr.eth;
        t.apply();
        c.count(1);
        r.write(1, (bit<32>)hdr.l3.addr);
        bit<32> back;
        r.read(back, 1);
        PortId_t port = 1;
        hdr.o.setValid();
        hdr.o.proto = (bit<8>)meta.saved.inner.l3.proto + meta.saved.inner.n;
        hdr.o.flag = meta.saved.inner.l3.flag ? 8w1 : 8w0;
        hdr.o.addr = back + (bit<32>)(bit<8>)MINUS_TWO;
        hdr.o.err = sm.parser_error == error.SecondExtra ? 8w2 : 8w0;
        hdr.o.const_ = YES ? W8 : 0;
        sm.egress_spec = port;
    }
}

control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) {
    apply { pkt.emit(hdr.eth); pkt.emit(hdr.l3); pkt.emit(hdr.o); }
}
V1Switch(P(), VC(), I(), E(), CC(), D()) main;

// frame: 0 ffffffffffff00000000000a0800 06 80 0a000001 1234
// expect: 1 ffffffffffff00000000000a080006800a000001123407010a0000ff0008
// frame: 0 ffffffffffff00000000000a0800 11 00 0a000002 1234
// expect: 1 ffffffffffff00000000000a080011000a000002123411000a0001000208
