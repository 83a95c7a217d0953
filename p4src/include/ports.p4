/* ports.p4: port roles. Access ports face servers and VMs, network ports face the
 * L3 underlay; the CPU port is fixed (CPU_PORT). A port without a role drops. */
#ifndef NVE_PORTS_P4
#define NVE_PORTS_P4

#include "headers.p4"
#include "sizes.p4"

control PortRole(inout metadata_t meta,
                 inout standard_metadata_t sm) {

    action set_access() {
        meta.fwd.port_role = PORT_ROLE_ACCESS;
    }

    action set_network() {
        meta.fwd.port_role = PORT_ROLE_NETWORK;
    }

    table role {
        key = {
            sm.ingress_port : exact @name("port");
        }
        actions = {
            set_access;
            set_network;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = PORT_TABLE_SIZE;
    }

    apply {
        if (sm.ingress_port == CPU_PORT) {
            meta.fwd.port_role = PORT_ROLE_CPU;
        } else if (!role.apply().hit) {
            meta.fwd.drop_reason = DROP_PORT_UNKNOWN;
        }
    }
}

#endif
