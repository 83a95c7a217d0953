"""The test bed every packet test shares: which switch port is what, and the addresses used.

Addresses come from the documentation ranges (RFC 5737 IPv4, RFC 3849 IPv6, RFC 7042
MACs 00:00:5E:00:53:xx) for the underlay and the NVE, private ranges for customers.
"""

from __future__ import annotations

from nve.entities import TableEntry
from nve_ptf import entries as E

# Switch ports: 1-4 face servers (access), 5-7 face the underlay (network).
ACCESS = (1, 2, 3, 4)
NETWORK = (5, 6, 7)
ALL_PORTS = ACCESS + NETWORK

# This NVE and its underlay neighbours.
NVE_MAC = "00:00:5e:00:53:01"
ROUTER_MAC = {5: "00:00:5e:00:53:a5", 6: "00:00:5e:00:53:a6", 7: "00:00:5e:00:53:a7"}
PA4 = "192.0.2.1"
PA4_ALT = "192.0.2.2"  # a second local PA (RFC 7637 3.2: a CA mapping picks its PA)
PA6 = "2001:db8::1"
REMOTE4 = "198.51.100.10"  # remote NVE B
REMOTE4_C = "198.51.100.20"  # remote NVE C
REMOTE6 = "2001:db8:100::10"  # remote NVE B over IPv6
ROGUE4 = "203.0.113.66"  # not a remote NVE of anything
GROUP4 = "239.1.1.1"  # administratively scoped underlay group (RFC 7637 4.2)
GROUP4_MAC = "01:00:5e:01:01:01"

# Customers (tenant A subnets A1, A2; tenant B's subnet B1 overlaps A1 on purpose).
VSID_A1, VSID_A2, VSID_B1 = 0x005001, 0x005002, 0x006001
VSI_A1, VSI_A2, VSI_B1 = 1, 2, 3
VRF_A, VRF_B = 10, 20
GW_A1, GW_A2 = "00:00:5e:00:53:f1", "00:00:5e:00:53:f2"
H1, H2, H3, H4 = "02:00:00:00:01:01", "02:00:00:00:01:02", "02:00:00:00:01:03", "02:00:00:00:01:04"
HR1, HR2 = "02:00:00:00:02:01", "02:00:00:00:02:02"  # customer hosts behind remote NVEs


def roles() -> list[TableEntry]:
    return [E.access_port(p) for p in ACCESS] + [E.network_port(p) for p in NETWORK]


def routed_tenant() -> list[TableEntry]:
    """Tenant A (VRF_A) with two routed subnets: A1 on port 1 (gateway MAC GW_A1, H1),
    A2 on port 3 (GW_A2, H3), with the port roles. Routes are the test's own."""
    return [
        *roles(),
        *E.subnet(VSI_A1, VSID_A1, vrf=VRF_A, gw_mac=GW_A1),
        *E.subnet(VSI_A2, VSID_A2, vrf=VRF_A, gw_mac=GW_A2),
        *E.attach(1, VSI_A1),
        *E.attach(3, VSI_A2),
        E.local_ca(VSI_A1, H1, 1),
        E.local_ca(VSI_A2, H3, 3),
    ]


def receiving_nve(*, v6: bool = True) -> list[TableEntry]:
    """This NVE as the decapsulating end: its MAC and PAs (IPv4, and IPv6 unless
    ``v6=False``), remote NVE B a known peer for VSID A1 (tunnel 1 over IPv4, 2 over IPv6)."""
    out = [E.my_mac(NVE_MAC), E.my_pa(PA4)] + ([E.my_pa(PA6)] if v6 else [])
    out.append(E.peer(VSID_A1, REMOTE4, 1))
    if v6:
        out.append(E.peer(VSID_A1, REMOTE6, 2))
    return out


def underlay_v4(
    nh: int = 1, port: int = 5, prefix: str = "198.51.100.0/24", vid: int = 0
) -> list[TableEntry]:
    """An underlay route to the remote PAs through the neighbour on ``port``."""
    return [
        E.underlay_route(prefix, nexthop=nh),
        E.nexthop(nh, port, smac=NVE_MAC, dmac=ROUTER_MAC[port], vid=vid),
    ]


def underlay_v6(nh: int = 2, port: int = 6, prefix: str = "2001:db8:100::/48") -> list[TableEntry]:
    return [
        E.underlay_route(prefix, nexthop=nh),
        E.nexthop(nh, port, smac=NVE_MAC, dmac=ROUTER_MAC[port]),
    ]
