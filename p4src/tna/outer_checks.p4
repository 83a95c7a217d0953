/* outer_checks.p4 (TNA): network ports, as p4src/include/outer_checks.p4: the outer
 * destination MAC must be in my_mac (filled by the controller with nve_mac, local_mac,
 * and, on TNA, the multicast MAC of every underlay group the switch joins, group_mac),
 * the IP version must match the EtherType, IPv4 IHL >= 5.
 * Tofino: my_mac only sets a flag (1 local, 2 a group's), in the stage of Decap's
 * lookups; the verdicts are entries of Decap's checks table (one ternary table), ahead
 * of its own: a group's MAC passes only with a destination my_pa holds as a group.
 * Differences (docs/tna.md): a joined group's MAC is not compared with the group the
 * packet is addressed to (any joined group's MAC passes for any joined group); the
 * length checks are not made (Tofino ingress does not know the frame length); IPv6
 * extension headers are not parsed past (still NET_NOT_NVGRE). */
#ifndef NVE_TNA_OUTER_CHECKS_P4
#define NVE_TNA_OUTER_CHECKS_P4

control OuterChecks(NVE_IG_PARAMS) {

    action local_mac() {
        meta.mac_ok = 2w1;
    }

    action group_mac() {
        meta.mac_ok = 2w2;
    }

    table my_mac {
        key = {
            hdr.ethernet.dst_addr : exact @name("dst");
        }
        actions = {
            local_mac;
            group_mac;
            @defaultonly NoAction;
        }
        default_action = NoAction();
        size = LOCAL_MAC_SIZE;
    }

    apply {
        my_mac.apply();
    }
}

#endif
