/* storm.p4 (TNA): storm control on access ports, as p4src/include/storm.p4. Frames that
 * L2Forward floods (meta.flood) from a port with an entry in `port` are metered per
 * port, in packets per second; a red one is dropped (DROP_STORM_CONTROL: it overrides
 * the forwarding decision) and counted per port in `dropped`.
 * Tofino: an indexed Meter<> returns the colour (MeterColor_t) as bit<8>. The meter runs
 * in `port`'s action and its colour is the drop itself (meta.storm_color, a key of
 * IngressCounters.first_drop, which drops and counts it where v1model's order puts it:
 * TunnelSelect writes drop_fwd in the stage the meter runs); `dropped` counts in the
 * stage after, beside first_drop, so the meter costs no stage of its own before the
 * counters. Built only with -D NVE_TNA_STORM (docs/tna.md: not in the default build). */
#ifndef NVE_TNA_STORM_P4
#define NVE_TNA_STORM_P4

#ifndef PORT_COUNT
#define PORT_COUNT 512  /* per-port meters and counters, indexed by the 9-bit port */
#endif

#ifdef NVE_TNA_STORM
control StormControl(NVE_IG_PARAMS) {

    Meter<PortId_t>(PORT_COUNT, MeterType_t.PACKETS) rate;
    Counter<bit<64>, PortId_t>(PORT_COUNT, CounterType_t.PACKETS) dropped;

    action limit() {
        meta.storm_color = rate.execute(ig_intr_md.ingress_port);
    }

    table port {
        key = {
            ig_intr_md.ingress_port : exact @name("port");
        }
        actions = {
            limit;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = PORT_TABLE_SIZE;
    }

    apply {
        port.apply();
        if (meta.storm_color == (bit<8>)MeterColor_t.RED) {
            dropped.count(ig_intr_md.ingress_port);
        }
    }
}

#endif

#endif
