/*
 * Copy-in/copy-out (P4_16 spec, "Calling convention"): an out/inout argument is copied
 * into the parameter at the call and the parameter is copied back over the argument when
 * the body ends, whatever the body did to the argument's storage by other names.
 * Each statement of the apply block writes one byte of header `o` that tells the result.
 */
#include <core.p4>
#include <v1model.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header r_t { bit<8> a; bit<8> b; bit<16> c; }
header o_t { bit<8> o0; bit<8> o1; bit<8> o2; bit<8> o3; bit<8> o4; bit<8> o5; bit<8> o6;
             bit<8> o7; bit<8> o8; bit<8> o9; bit<8> o10; }
struct pair_t { bit<8> x; bit<8> y; }
struct headers_t { eth_t eth; r_t r; o_t o; }
struct meta_t { bit<8> m; pair_t p; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); pkt.extract(hdr.r); transition accept; }
}

/* A function sees only its parameters: overlapping arguments are what can go wrong. */
void twice(inout bit<8> x, inout bit<8> y) { x = x + 1; y = y + 10; }

control Sub(inout bit<8> x, inout bit<8> y) { apply { x = x * 2; y = y + 3; } }

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    bit<8> c = 0;
    r_t lh;
    pair_t lp;
    Sub() sub;
    register<bit<8>>(4) reg;

    /* a control local bound to an inout parameter and assigned directly too */
    action bump(inout bit<8> x) { x = x + 1; c = 100; }
    /* the same through an action called by the action */
    action set_c() { c = 50; }
    action bump2(inout bit<8> x) { x = x + 2; set_c(); }
    /* an out parameter read back after the body wrote the local by its own name */
    action put(out bit<8> y) { y = 7; c = 9; }
    /* reads of the local see the value before the call, not the parameter's */
    action peek(inout bit<8> x) { x = 33; hdr.o.o3 = c; }
    /* a whole header */
    action hdr_inout(inout r_t h) { h.a = 0x44; lh.a = 0x55; lh.b = h.b; }
    /* a whole struct */
    action pair_inout(inout pair_t q) { q.x = 0x66; lp.x = 0x77; lp.y = q.y + 1; }
    /* exit ends the action: its parameter is still copied back (as p4c compiles exit) */
    action last_word(inout bit<8> x) { x = 0x5a; hdr.o.o10 = 0xa5; exit; }
    /* table action with a directional parameter bound in the actions list */
    action via_table(inout bit<8> x) { x = 0x88; c = 0x99; }
    table t {
        key = { hdr.eth.type: exact; }
        actions = { via_table(c); NoAction; }
        const entries = { 0x0800: via_table(c); }
        default_action = NoAction();
    }

    apply {
        hdr.o.setValid();
        c = hdr.r.a;            bump(c);         hdr.o.o0 = c;   // a + 1 (aliasing: 100)
        c = hdr.r.a;            bump2(c);        hdr.o.o1 = c;   // a + 2 (aliasing: 50)
        c = 1;                  put(c);          hdr.o.o2 = c;   // 7 (aliasing: 9)
        c = 5;                  peek(c);                          // o3 = 5 (aliasing: 33)
        lh = hdr.r;             hdr_inout(lh);   hdr.o.o4 = lh.a; // 0x44 (aliasing: 0x55)
                                                 hdr.o.o5 = lh.b; // r.b
        lp.x = 1; lp.y = 2;     pair_inout(lp);  hdr.o.o6 = lp.x; // 0x66 (aliasing: 0x77)
        t.apply();                               hdr.o.o7 = c;   // 0x88 (aliasing: 0x99)
        meta.m = 1;             twice(meta.m, meta.m);            // y written back last: 11
        sub.apply(meta.m, meta.m);               hdr.o.o8 = meta.m; // 11 + 3 = 14
        /* an extern's out argument that is also its index: the index is read first */
        reg.write(2, 0xAB);
        meta.m = 2;             reg.read(meta.m, (bit<32>)meta.m); hdr.o.o9 = meta.m; // 0xAB
        sm.egress_spec = 1;
        last_word(hdr.o.o10);                                      // o10 = 0x5a (not 0xa5)
    }
}

control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) {
    apply { pkt.emit(hdr.eth); pkt.emit(hdr.r); pkt.emit(hdr.o); }
}
V1Switch(P(), VC(), I(), E(), CC(), D()) main;

// frame: 0 ffffffffffff 00000000000a 0800 10 20 0304
// expect: 1 ffffffffffff00000000000a08001020030411120705442066880eab5a
// frame: 0 ffffffffffff 00000000000a 0801 f0 21 0304 aabb
// expect: 1 ffffffffffff00000000000a0801f0210304f1f20705442166210eab5aaabb
