/* counters.p4: the drop decision and the statistics, at the end of each pipe.
 * Every drop has a reason (drop_reasons.p4) and is counted per reason. */
#ifndef NVE_COUNTERS_P4
#define NVE_COUNTERS_P4

#include "headers.p4"
#include "sizes.p4"

control IngressCounters(inout metadata_t meta,
                        inout standard_metadata_t sm) {

    counter(DROP_REASON_COUNT, CounterType.packets_and_bytes) drops;
    counter(VSI_COUNT, CounterType.packets_and_bytes) vsi_decap;
    counter(TUNNEL_COUNT, CounterType.packets_and_bytes) tunnel_rx;

    apply {
        /* Preserved into punt clones with the other FL_PUNT fields. */
        meta.punt_vsid = meta.fwd.vsid;
        if (meta.fwd.decapped == 1w1) {
            vsi_decap.count((bit<32>)meta.fwd.vsi);
            tunnel_rx.count((bit<32>)meta.fwd.rx_tunnel);
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

    apply {
        if (meta.fwd.drop_reason != DROP_NONE) {
            mark_to_drop(sm);
            drops.count((bit<32>)meta.fwd.drop_reason);
        } else if (meta.fwd.to_tunnel == 1w1) {
            vsi_encap.count((bit<32>)meta.fwd.vsi);
            tunnel_tx.count((bit<32>)meta.fwd.tunnel);
        }
    }
}

#endif
