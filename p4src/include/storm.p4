/* storm.p4: storm control on access ports. Broadcast, unknown unicast and multicast
 * frames (those L2Forward floods) received on a port with an entry in `port` are
 * metered per port, in packets per second; a frame over the rate (red) is dropped
 * (DROP_STORM_CONTROL) and counted per port in `dropped`. Known unicast, ARP answered
 * by the proxy and routed frames are not metered. */
#ifndef NVE_STORM_P4
#define NVE_STORM_P4

#include "headers.p4"
#include "sizes.p4"

control StormControl(inout metadata_t meta,
                     inout standard_metadata_t sm) {

    /* Indexed by port number: configured by the controller for each limited port. */
    meter(PORT_COUNT, MeterType.packets) rate;
    counter(PORT_COUNT, CounterType.packets) dropped;

    action limit() { }

    table port {
        key = {
            sm.ingress_port : exact @name("port");
        }
        actions = {
            limit;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = PORT_TABLE_SIZE;
    }

    apply {
        if (port.apply().hit) {
            bit<2> color = METER_GREEN;
            rate.execute_meter<bit<2>>((bit<32>)sm.ingress_port, color);
            if (color == METER_RED) {
                dropped.count((bit<32>)sm.ingress_port);
                meta.fwd.drop_reason = DROP_STORM_CONTROL;
            }
        }
    }
}

#endif
