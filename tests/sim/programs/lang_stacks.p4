/*
 * Header stacks: extract into stack.next until a bottom-of-stack bit (stack.last in a
 * select), stack.lastIndex, constant indices, push_front and pop_front, whole-stack
 * assignment, comparison and emission, a stack in a local variable, and
 * error.StackOutOfBounds when a packet has more labels than the stack holds.
 */
#include <core.p4>
#include <v1model.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header label_t { bit<20> label; bit<3> tc; bit<1> bos; bit<8> ttl; }
header o_t { bit<8> depth; bit<8> err; bit<8> same; bit<8> top_was; }
struct headers_t { eth_t eth; label_t[3] labels; o_t o; }
struct meta_t { bit<32> last_index; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.eth);
        transition select(hdr.eth.type) { 0x8847: labels; default: accept; }
    }
    state labels {
        pkt.extract(hdr.labels.next);
        meta.last_index = hdr.labels.lastIndex;
        transition select(hdr.labels.last.bos) { 1: accept; default: labels; }
    }
}

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply {
        hdr.o.setValid();
        hdr.o.depth = (bit<8>)meta.last_index;
        hdr.o.err = sm.parser_error == error.StackOutOfBounds ? 8w1 : 8w0;
        label_t[3] copy = hdr.labels;
        hdr.o.same = copy == hdr.labels ? 8w1 : 8w0;
        hdr.o.top_was = hdr.labels[0].ttl;
        if (hdr.labels[0].isValid() && hdr.labels[0].label == 100) {
            hdr.labels.pop_front(1);            // swap the top label for two new ones
            hdr.labels.push_front(2);
            hdr.labels[0].setValid();
            hdr.labels[0] = { label = 200, tc = 0, bos = 0, ttl = 64 };
            hdr.labels[1].setValid();
            hdr.labels[1].label = 300;
            hdr.labels[1].ttl = copy[0].ttl - 1;
        }
        sm.egress_spec = 1;
    }
}

control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) {
    apply { pkt.emit(hdr.eth); pkt.emit(hdr.labels); pkt.emit(hdr.o); }
}
V1Switch(P(), VC(), I(), E(), CC(), D()) main;

// one label (100, bottom of stack): popped, two pushed
// frame: 0 ffffffffffff00000000000a8847 00064140 aabb
// expect: 1 ffffffffffff00000000000a8847000c80400012c03f00000140aabb
// two labels
// frame: 0 ffffffffffff00000000000a8847 00065020 00066140 aabb
// expect: 1 ffffffffffff00000000000a8847000650200006614001000120aabb
// four labels: more than the stack holds
// frame: 0 ffffffffffff00000000000a8847 00001010 00002010 00003010 00004110 aabb
// expect: 1 ffffffffffff00000000000a88470000101000002010000030100201011000004110aabb
// no labels
// frame: 0 ffffffffffff00000000000a0800 aabb
// expect: 1 ffffffffffff00000000000a080000000100aabb
