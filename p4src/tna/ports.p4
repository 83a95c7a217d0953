/* ports.p4 (TNA): port roles, as p4src/include/ports.p4. The CPU port is TNA_CPU_PORT
 * (a Tofino device port), not the shared CPU_PORT (bmv2's 255). */
#ifndef NVE_TNA_PORTS_P4
#define NVE_TNA_PORTS_P4

control PortRole(NVE_IG_PARAMS) {

    action set_access() {
        meta.port_role = PORT_ROLE_ACCESS;
    }

    action set_network() {
        meta.port_role = PORT_ROLE_NETWORK;
    }

    table role {
        key = {
            ig_intr_md.ingress_port : exact @name("port");
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
        if (!role.apply().hit) {
            meta.drop_reason = DROP_PORT_UNKNOWN;
        }
    }
}

#endif
