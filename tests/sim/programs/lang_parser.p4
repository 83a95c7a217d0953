/*
 * Parsers: select on one key and on tuples (values, masks, ranges, default, `_`),
 * lookahead of bits, advance, verify, varbit extraction, parser locals and constants,
 * conditionals and assignments in states, a state loop, transition reject, and the
 * parser error as ingress sees it. Ingress reports what the parser found in header `o`.
 */
#include <core.p4>
#include <v1model.p4>

const bit<16> TYPE_TLV = 0x88b5;

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header tlv_t { bit<8> kind; bit<8> len; }
header opt_t { bit<8> len; varbit<32> data; }
header o_t { bit<8> path; bit<8> tlvs; bit<8> err; bit<8> peek; bit<8> cond; }
struct headers_t { eth_t eth; tlv_t tlv; opt_t opt; o_t o; }
struct meta_t { bit<8> path; bit<8> tlvs; bit<8> peek; bit<8> cond; }

error { BadLength }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    bit<8> seen = 0;
    const bit<8> LIMIT = 3;

    state start {
        pkt.extract(hdr.eth);
        meta.peek = pkt.lookahead<bit<8>>();
        if (hdr.eth.src[0:0] == 1) { meta.cond = 1; } else { meta.cond = 2; }
        transition select(hdr.eth.type, hdr.eth.dst[7:0]) {
            (TYPE_TLV, _): tlv;
            (0x0800 &&& 0xff00, 0x01): p_mask;
            (0x0900 .. 0x09ff, _): p_range;
            (0x0a00, 0x10 &&& 0xf0): p_opt;
            (0x0b00, default): p_skip;
            (0x0c00, _): reject;
            (0x0d00, _): p_verify;
            default: accept;
        }
    }
    state p_mask { meta.path = 1; transition accept; }
    state p_range { meta.path = 2; transition accept; }
    state p_skip { pkt.advance(16); meta.path = 3; transition accept; }
    state p_verify {
        meta.path = 4;
        verify(meta.peek < 0x80, error.BadLength);
        transition accept;
    }
    state p_opt {
        meta.path = 5;
        pkt.extract(hdr.opt, (bit<32>)pkt.lookahead<bit<8>>() << 3);
        transition accept;
    }
    /* TLVs until kind 0 or LIMIT of them: a loop through one state */
    state tlv {
        pkt.extract(hdr.tlv);
        seen = seen + 1;
        pkt.advance((bit<32>)hdr.tlv.len * 8);
        transition select(hdr.tlv.kind, seen == LIMIT) {
            (0, _): tlv_done;
            (_, true): tlv_done;
            default: tlv;
        }
    }
    state tlv_done { meta.tlvs = seen; meta.path = 6; transition accept; }
}

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply {
        hdr.o.setValid();
        hdr.o.path = meta.path;
        hdr.o.tlvs = meta.tlvs;
        hdr.o.peek = meta.peek;
        hdr.o.cond = meta.cond;
        if (sm.parser_error == error.NoError) { hdr.o.err = 0; }
        else if (sm.parser_error == error.PacketTooShort) { hdr.o.err = 1; }
        else if (sm.parser_error == error.NoMatch) { hdr.o.err = 2; }
        else if (sm.parser_error == error.BadLength) { hdr.o.err = 3; }
        else { hdr.o.err = 4; }
        sm.egress_spec = 1;
    }
}

control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control VC(inout headers_t hdr, inout meta_t meta) { apply { } }
control CC(inout headers_t hdr, inout meta_t meta) { apply { } }
control D(packet_out pkt, in headers_t hdr) {
    apply { pkt.emit(hdr.eth); pkt.emit(hdr.o); pkt.emit(hdr.tlv); pkt.emit(hdr.opt); }
}
V1Switch(P(), VC(), I(), E(), CC(), D()) main;

// masked type, exact dst byte
// frame: 0 0000000000010000000000010812 aabb
// expect: 1 0000000000010000000000010812010000aa01aabb
// a range
// frame: 0 0000000000330000000000000950 aabb
// expect: 1 0000000000330000000000000950020000aa02aabb
// advance 2 bytes
// frame: 0 0000000000330000000000000b00 aabbccdd
// expect: 1 0000000000330000000000000b00030000aa02ccdd
// reject: ends parsing like accept on v1model
// frame: 0 0000000000330000000000000c00 aabb
// expect: 1 0000000000330000000000000c00000000aa02aabb
// verify fails
// frame: 0 0000000000330000000000000d00 90bb
// expect: 1 0000000000330000000000000d00040003900290bb
// verify passes
// frame: 0 0000000000330000000000000d00 10bb
// expect: 1 0000000000330000000000000d00040000100210bb
// a varbit option of 2 bytes
// frame: 0 0000000000130000000000000a00 02 c0c1 ee
// expect: 1 0000000000130000000000000a00050000020202c0c1ee
// three TLVs: the loop stops at the limit
// frame: 0 00000000003300000000000088b5 0101aa 0202bbbb 0100 ee
// expect: 1 00000000003300000000000088b506030001020100ee
// a TLV with kind 0 ends the loop
// frame: 0 00000000003300000000000088b5 0001aa ee
// expect: 1 00000000003300000000000088b506010000020001ee
// the packet ends inside a TLV's value
// frame: 0 00000000003300000000000088b5 0105aa
// expect: 1 00000000003300000000000088b500000101020105aa
// no select case matches
// frame: 0 0000000000330000000000000a00 aa
// expect: 1 0000000000330000000000000a00000000aa02aa
// the packet is shorter than Ethernet
// frame: 0 000000000033000000
// expect: 1 0000010000000000000033000000
