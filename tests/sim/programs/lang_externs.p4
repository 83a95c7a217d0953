/*
 * v1model externs: registers (state kept across frames), counters, meters, direct
 * counters and meters, hash with each algorithm bmv2 has, random, checksums (verify and
 * update, with and without payload), log_msg, assert/assume, truncate, digest, clone to a
 * session the control plane never configured, resubmit and recirculate with field lists.
 */
#include <core.p4>
#include <v1model.p4>

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header ip_t { bit<8> ttl; bit<8> proto; bit<16> csum; bit<32> src; }
header o_t { bit<16> crc16; bit<32> crc32; bit<16> csum16; bit<16> xor16; bit<16> ident;
             bit<8> seq; bit<8> rnd; bit<8> color; bit<8> csum_err; bit<8> passes;
             bit<8> dcolor; }
struct headers_t { eth_t eth; ip_t ip; o_t o; }
struct meta_t { @field_list(1) bit<8> passes; bit<8> seq; }
struct learn_t { bit<48> src; bit<8> ttl; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); pkt.extract(hdr.ip); transition accept; }
}

control VC(inout headers_t hdr, inout meta_t meta) {
    apply {
        verify_checksum(hdr.ip.isValid(), { hdr.ip.ttl, hdr.ip.proto, hdr.ip.src },
                        hdr.ip.csum, HashAlgorithm.csum16);
        verify_checksum_with_payload(hdr.ip.proto == 0x11, { hdr.ip.src }, hdr.ip.csum,
                                     HashAlgorithm.csum16);
    }
}

control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    register<bit<8>>(1) seq;
    counter(4, CounterType.packets_and_bytes) pkts;
    meter(4, MeterType.packets) m;
    direct_counter(CounterType.packets) dc;
    direct_meter<bit<8>>(MeterType.bytes) dm;

    action mark() { dc.count(); dm.read(hdr.o.dcolor); }
    table t {
        key = { hdr.ip.proto: exact; }
        actions = { mark; NoAction; }
        const entries = { 6: mark(); }
        counters = dc;
        meters = dm;
    }

    apply {
        hdr.o.setValid();
        bit<8> n;
        seq.read(n, 0);
        n = n + 1;
        seq.write(0, n);
        hdr.o.seq = n;
        pkts.count((bit<32>)hdr.ip.proto & 3);
        m.execute_meter((bit<32>)2, hdr.o.color);
        t.apply();
        hash(hdr.o.crc16, HashAlgorithm.crc16, 16w0, { hdr.ip.src, hdr.ip.ttl }, 32w65536);
        hash(hdr.o.crc32, HashAlgorithm.crc32, 32w0, { hdr.ip.src }, 33w0x100000000);
        hash(hdr.o.csum16, HashAlgorithm.csum16, 16w0, { hdr.ip.src, hdr.ip.proto }, 17w0x10000);
        hash(hdr.o.xor16, HashAlgorithm.xor16, 16w0, { hdr.ip.src }, 17w0x10000);
        hash(hdr.o.ident, HashAlgorithm.identity, 16w100, { hdr.ip.ttl }, 16w1000);
        random(hdr.o.rnd, 8w42, 8w42);
        hdr.o.csum_err = (bit<8>)sm.checksum_error;
        log_msg("ttl {} seq {}", { hdr.ip.ttl, n });
        assert(hdr.eth.isValid());
        assume(hdr.o.isValid());
        digest<learn_t>(1, { hdr.eth.src, hdr.ip.ttl });
        clone(CloneType.I2E, 5);
        if (hdr.ip.ttl == 0xff && meta.passes == 0) {
            meta.passes = 1;
            resubmit_preserving_field_list(1);
        }
        hdr.o.passes = meta.passes;
        if (hdr.ip.ttl == 0x02) { truncate(20); }
        sm.egress_spec = 1;
    }
}

control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply {
        if (hdr.ip.ttl == 0xfe && meta.passes == 0) {
            meta.passes = 2;
            recirculate_preserving_field_list(1);
        }
        hdr.o.passes = hdr.o.passes + meta.passes;
    }
}

control CC(inout headers_t hdr, inout meta_t meta) {
    apply {
        update_checksum(hdr.ip.isValid(), { hdr.ip.ttl, hdr.ip.proto, hdr.ip.src },
                        hdr.ip.csum, HashAlgorithm.csum16);
        update_checksum_with_payload(hdr.o.isValid(), { hdr.o.seq }, hdr.o.crc16,
                                     HashAlgorithm.csum16);
        update_checksum(hdr.o.isValid(), { hdr.o.seq, hdr.o.rnd }, hdr.o.ident,
                        HashAlgorithm.crc16);
    }
}
control D(packet_out pkt, in headers_t hdr) {
    apply { pkt.emit(hdr.eth); pkt.emit(hdr.ip); pkt.emit(hdr.o); }
}
V1Switch(P(), VC(), I(), E(), CC(), D()) main;

// a good checksum
// frame: 0 ffffffffffff00000000000a0800 40 06 b1f5 0a000001 aabbcc
// expect: 1 ffffffffffff00000000000a08004006b5f80a000001428939fe0feeeffe0a014f80012a00010000aabbcc
// a bad checksum
// frame: 0 ffffffffffff00000000000a0800 40 11 0000 0a000002 aabbcc
// expect: 1 ffffffffffff00000000000a08004011b5ec0a0000024189a0f75e54e4fd0a02bf80022a00010000aabbcc
// resubmitted once
// frame: 0 ffffffffffff00000000000a0800 ff 06 0000 0a000003 aabbcc
// expect: 1 ffffffffffff00000000000a0800ff06f6f50a0000033f89d7f06ec2effc0a031f83042a00010200aabbcc
// truncated to 20 bytes
// frame: 0 ffffffffffff00000000000a0800 02 06 0000 0a000005 aabbcc
// expect: 1 ffffffffffff00000000000a08000206f3f40a00
// recirculated once (last: bmv2 queues it behind the frames that came in meanwhile)
// frame: 0 ffffffffffff00000000000a0800 fe 06 0000 0a000004 aabbcc
// expect: 1 ffffffffffff00000000000a0800fe06f7f40a0000040f854994fb61effb0a04ef83072a000004003d894994fb61effb0a047f82062a00010200aabbcc
