/*
 * Controls: actions (data and directional parameters, an action calling an action),
 * tables with every v1model match kind, const entries, const default actions, a table
 * without a key, hit/miss and switch on action_run (with default and fall-through),
 * switch on values, exit and return, nested control instances (applied by instance and
 * by type), annotated blocks and annotations, egress, and dropping.
 */
#include <core.p4>
#include <v1model.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header r_t { bit<8> a; bit<8> b; bit<16> c; bit<32> d; }
header o_t { bit<8> t1; bit<8> t2; bit<8> sw; bit<8> vsw; bit<8> sub1; bit<8> sub2;
             bit<8> direct; bit<8> keyless; bit<8> eg; bit<8> ret; }
struct headers_t { eth_t eth; r_t r; o_t o; }
struct meta_t { bit<8> note; bit<8> eg; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); pkt.extract(hdr.r); transition accept; }
}

/* a control with its own table: each instance has its own */
control Lookup(in bit<8> k, out bit<8> result) {
    action hit(bit<8> v) { result = v; }
    action miss() { result = 0xee; }
    table t {
        key = { k: exact; }
        actions = { hit; miss; }
        const entries = { 1: hit(0x11); 2: hit(0x22); }
        const default_action = miss();
    }
    apply { t.apply(); }
}

control Twice(inout bit<8> x) { apply { x = x + x; } }

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    Lookup() first;
    @name("second_lookup") Lookup() second;

    action note(bit<8> n) { meta.note = n; }
    action set_t1(bit<8> v) { hdr.o.t1 = v; note(v + 1); }
    action set_both(inout bit<8> dst, bit<8> v) { dst = v; }
    action drop() { mark_to_drop(sm); exit; }
    @name("kinds") table all_kinds {
        key = {
            hdr.r.a: exact;
            hdr.r.b: lpm;
            hdr.r.c: ternary;
            hdr.r.d: range;
            hdr.eth.type: optional @name("ethertype");
        }
        actions = { set_t1; @defaultonly NoAction; }
        const entries = {
            (1, 0x80 &&& 0x80, 0x0001 &&& 0x000f, 10 .. 20, 0x0800): set_t1(0x31);
            (1, _, _, _, _): set_t1(0x32);
            (2, 0x20, 0x1234, 5, _): set_t1(0x33);
        }
        size = 16;
    }
    table by_b {
        key = { hdr.r.b: exact; }
        actions = { set_both(hdr.o.t2); drop; NoAction; }
        const entries = { 0x41: set_both(hdr.o.t2, 0x41); 0x66: drop(); }
    }
    action keyless_act() { hdr.o.keyless = 0x77; }
    table no_key { actions = { keyless_act; } const default_action = keyless_act(); }

    apply {
        hdr.o.setValid();
        if (all_kinds.apply().hit) { hdr.o.ret = meta.note; } else { hdr.o.ret = 0xff; }
        switch (by_b.apply().action_run) {
            set_both: { hdr.o.sw = 1; }
            NoAction:
            default: { hdr.o.sw = 2; }
        }
        switch (hdr.r.a) {
            1:
            2: { hdr.o.vsw = 12; }
            3: { hdr.o.vsw = 3; }
            default: { hdr.o.vsw = 0xdd; }
        }
        first.apply(hdr.r.a, hdr.o.sub1);
        second.apply(hdr.r.a + 1, hdr.o.sub2);
        hdr.o.direct = hdr.r.a;
        Twice.apply(hdr.o.direct);
        no_key.apply();
        @atomic {
            meta.eg = hdr.r.a;
        }
        sm.egress_spec = 1;
        if (hdr.r.a == 9) { return; }
        hdr.o.ret = hdr.o.ret + 1;
    }
}

control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply {
        hdr.o.eg = meta.eg + (bit<8>)sm.egress_port;
        if (meta.eg == 7) { mark_to_drop(sm); }
    }
}
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) {
    apply { pkt.emit(hdr.eth); pkt.emit(hdr.r); pkt.emit(hdr.o); }
}
V1Switch(P(), VC(), I(), E(), CC(), D()) main;

// frame: 0 ffffffffffff00000000000a0800 01 81 0001 0000000f
// expect: 1 ffffffffffff00000000000a0800018100010000000f3100020c112202770233
// frame: 0 ffffffffffff00000000000a0800 01 41 0002 00000000
// expect: 1 ffffffffffff00000000000a080001410002000000003241010c112202770234
// frame: 0 ffffffffffff00000000000a0800 02 20 1234 00000005
// expect: 1 ffffffffffff00000000000a080002201234000000053300020c22ee04770335
// frame: 0 ffffffffffff00000000000a0800 03 00 0000 00000000
// expect: 1 ffffffffffff00000000000a0800030000000000000000000203eeee06770400
// frame: 0 ffffffffffff00000000000a0800 09 00 0000 00000000
// expect: 1 ffffffffffff00000000000a08000900000000000000000002ddeeee12770aff
// dropped in ingress by an action that exits
// frame: 0 ffffffffffff00000000000a0800 01 66 0000 00000000
// expect: none
// dropped in egress
// frame: 0 ffffffffffff00000000000a0800 07 00 0000 00000000
// expect: none
