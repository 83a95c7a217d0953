/* counters.p4: the drop decision and the statistics, at the end of each pipe.
 * Every drop has a reason (drop_reasons.p4) and is counted per reason. */
#ifndef NVE_COUNTERS_P4
#define NVE_COUNTERS_P4

#include "headers.p4"
#include "sizes.p4"

/* The customer frame's bytes, the same both ways. A v1model counter adds the length
 * the frame had on arrival (bmv2's get_ingress_length()): the customer frame with its
 * 802.1Q tag on encapsulation, the whole NVGRE packet on decapsulation. What crosses the
 * overlay is meta.c.frame_len (no tag, no outer headers, no trailer), and no counter
 * counts a given length, so a packets-only counter keeps, per vsi or tunnel, 64 cells:
 * for each hexadecimal digit k (0..3) of that length, 16 cells, one per value d of the
 * digit. Cell (index << 6) + (k << 4) + d counts the frames whose digit k is d, and
 * bytes = sum over k, d of cell * d * 16^k (nve.stats, docs/pipeline.md). Four counts
 * per frame and counter, whatever the length, and no branch. Ingress/EgressCounters
 * apply them where vsi_decap/vsi_encap count. */
#define FRAME_CELLS 64

control IngressFrameBytes(in metadata_t meta) {

    counter(VSI_COUNT * FRAME_CELLS, CounterType.packets) vsi_decap;
    counter(TUNNEL_COUNT * FRAME_CELLS, CounterType.packets) tunnel_rx;

    apply {
        bit<16> len = meta.c.frame_len;
        bit<32> v = (bit<32>)meta.fwd.vsi << 6;
        bit<32> t = (bit<32>)meta.fwd.rx_tunnel << 6;
        vsi_decap.count(v | (bit<32>)len[3:0]);
        vsi_decap.count(v | 16 | (bit<32>)len[7:4]);
        vsi_decap.count(v | 32 | (bit<32>)len[11:8]);
        vsi_decap.count(v | 48 | (bit<32>)len[15:12]);
        tunnel_rx.count(t | (bit<32>)len[3:0]);
        tunnel_rx.count(t | 16 | (bit<32>)len[7:4]);
        tunnel_rx.count(t | 32 | (bit<32>)len[11:8]);
        tunnel_rx.count(t | 48 | (bit<32>)len[15:12]);
    }
}

control EgressFrameBytes(in metadata_t meta) {

    counter(VSI_COUNT * FRAME_CELLS, CounterType.packets) vsi_encap;
    counter(TUNNEL_COUNT * FRAME_CELLS, CounterType.packets) tunnel_tx;

    apply {
        bit<16> len = meta.c.frame_len;
        bit<32> v = (bit<32>)meta.fwd.vsi << 6;
        bit<32> t = (bit<32>)meta.fwd.tunnel << 6;
        vsi_encap.count(v | (bit<32>)len[3:0]);
        vsi_encap.count(v | 16 | (bit<32>)len[7:4]);
        vsi_encap.count(v | 32 | (bit<32>)len[11:8]);
        vsi_encap.count(v | 48 | (bit<32>)len[15:12]);
        tunnel_tx.count(t | (bit<32>)len[3:0]);
        tunnel_tx.count(t | 16 | (bit<32>)len[7:4]);
        tunnel_tx.count(t | 32 | (bit<32>)len[11:8]);
        tunnel_tx.count(t | 48 | (bit<32>)len[15:12]);
    }
}

control IngressCounters(inout metadata_t meta,
                        inout standard_metadata_t sm) {

    counter(DROP_REASON_COUNT, CounterType.packets_and_bytes) drops;
    counter(VSI_COUNT, CounterType.packets_and_bytes) vsi_decap;
    counter(TUNNEL_COUNT, CounterType.packets_and_bytes) tunnel_rx;
    IngressFrameBytes() frame_bytes;

    apply {
        /* Preserved into punt clones with the other FL_PUNT fields. */
        meta.punt_vsid = meta.fwd.vsid;
        if (meta.fwd.decapped == 1w1) {
            vsi_decap.count((bit<32>)meta.fwd.vsi);
            tunnel_rx.count((bit<32>)meta.fwd.rx_tunnel);
            frame_bytes.apply(meta);
        }
        if (meta.fwd.drop_reason != DROP_NONE) {
            mark_to_drop(sm);
            drops.count((bit<32>)meta.fwd.drop_reason);
        }
    }
}

control EgressCounters(inout metadata_t meta,
                       inout standard_metadata_t sm) {

    counter(DROP_REASON_COUNT, CounterType.packets_and_bytes) drops;
    counter(VSI_COUNT, CounterType.packets_and_bytes) vsi_encap;
    counter(TUNNEL_COUNT, CounterType.packets_and_bytes) tunnel_tx;
    EgressFrameBytes() frame_bytes;

    apply {
        if (meta.fwd.drop_reason != DROP_NONE) {
            mark_to_drop(sm);
            drops.count((bit<32>)meta.fwd.drop_reason);
        } else if (meta.fwd.to_tunnel == 1w1) {
            vsi_encap.count((bit<32>)meta.fwd.vsi);
            tunnel_tx.count((bit<32>)meta.fwd.tunnel);
            frame_bytes.apply(meta);
        }
    }
}

#endif
