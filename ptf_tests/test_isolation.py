"""Two tenants with overlapping customer addresses never see each other's traffic
(RFC 7637 sections 1 and 4: the VSID, not the customer address, decides where a frame goes).

Tenant A's subnet A1 (VSID 0x5001, VRF 10) is on port 1, tenant B's subnet B1 (VSID 0x6001,
VRF 20) on port 3; both use the same customer IP addresses and the same host MACs.
"""

from __future__ import annotations

import pytest

from nve.p4names import Drop
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case
from nve_ptf.expect import expect_drop, expect_forward
from nve_ptf.packets import customer, flow_id, nvgre, tagged

pytestmark = pytest.mark.root

SAME_MAC, OTHER_MAC = "02:00:00:00:0c:01", "02:00:00:00:0c:02"
REMOTE_MAC = "02:00:00:00:0c:03"
A_GW, B_GW = "00:00:5e:00:53:fa", "00:00:5e:00:53:fb"


def _two_tenants(case: Case) -> None:
    case.install(
        T.roles(),
        E.my_mac(T.NVE_MAC),
        E.my_pa(T.PA4),
        E.subnet(T.VSI_A1, T.VSID_A1, vrf=T.VRF_A, gw_mac=A_GW),
        E.subnet(T.VSI_A2, T.VSID_A2, vrf=T.VRF_A, gw_mac=A_GW),
        E.subnet(T.VSI_B1, T.VSID_B1, vrf=T.VRF_B, gw_mac=B_GW),
        E.attach(1, T.VSI_A1),
        E.attach(2, T.VSI_A2),
        E.attach(3, T.VSI_B1),
        E.attach(4, T.VSI_B1, vid=44),
        # the same MAC in both tenants, each on its own port
        E.local_ca(T.VSI_A1, SAME_MAC, 1),
        E.local_ca(T.VSI_B1, SAME_MAC, 3),
        E.local_ca(T.VSI_A2, OTHER_MAC, 2),
        E.local_ca(T.VSI_B1, OTHER_MAC, 4),
        # the same remote host MAC in both tenants, behind the same remote NVE, two tunnels
        E.remote_nve(1, T.PA4, T.REMOTE4),
        E.remote_nve(3, T.PA4, T.REMOTE4),
        E.remote_ca(T.VSI_A1, REMOTE_MAC, 1),
        E.remote_ca(T.VSI_B1, REMOTE_MAC, 3),
        T.underlay_v4(),
        E.peer(T.VSID_A1, T.REMOTE4, 1),
        E.peer(T.VSID_B1, T.REMOTE4, 3),
        E.flood_group(T.VSI_A1, [1]),
        E.flood_group(T.VSI_A2, [2]),
        E.flood_group(T.VSI_B1, [3, 4]),
        # overlapping routes: 10.0.0.7 is OTHER_MAC in A2 for tenant A, OTHER_MAC in B1 for tenant B
        E.route(T.VRF_A, "10.0.0.7/32", vsi=T.VSI_A2, vsid=T.VSID_A2, smac=A_GW, dmac=OTHER_MAC),
        E.route(T.VRF_B, "10.0.0.7/32", vsi=T.VSI_B1, vsid=T.VSID_B1, smac=B_GW, dmac=OTHER_MAC),
    )


def test_decapsulated_frames_reach_only_their_tenant(case: Case) -> None:
    _two_tenants(case)
    for vsid, port in ((T.VSID_A1, 1), (T.VSID_B1, 3)):
        f = customer("v4", REMOTE_MAC, SAME_MAC, "10.0.0.9", "10.0.0.5")
        pkt = nvgre(
            f, src_pa=T.REMOTE4, dst_pa=T.PA4, vsid=vsid, smac=T.ROUTER_MAC[5], dmac=T.NVE_MAC
        )
        expect_forward(case, 5, pkt, {port: f})


def test_encapsulated_frames_carry_their_tenants_vsid(case: Case) -> None:
    _two_tenants(case)
    for port, vsid in ((1, T.VSID_A1), (3, T.VSID_B1)):
        f = customer("v4", SAME_MAC, REMOTE_MAC, "10.0.0.5", "10.0.0.9")
        exp = nvgre(
            f,
            src_pa=T.PA4,
            dst_pa=T.REMOTE4,
            vsid=vsid,
            flow=flow_id(f),
            smac=T.NVE_MAC,
            dmac=T.ROUTER_MAC[5],
        )
        expect_forward(case, port, f, {5: exp})


def test_broadcast_stays_in_the_tenant(case: Case) -> None:
    _two_tenants(case)
    f = customer("v4", SAME_MAC, "ff:ff:ff:ff:ff:ff", "10.0.0.5", "10.0.0.255")
    # A1 has no other port: only the pruned ingress copy, nothing reaches B's ports 3 and 4.
    expect_forward(case, 1, f, {}, drops={Drop.PRUNE_INGRESS_PORT: 1})


def test_routing_uses_the_tenants_own_vrf(case: Case) -> None:
    _two_tenants(case)
    fa = customer("v4", SAME_MAC, A_GW, "10.0.0.5", "10.0.0.7")
    ra = customer("v4", A_GW, OTHER_MAC, "10.0.0.5", "10.0.0.7", ttl=63)
    expect_forward(case, 1, fa, {2: ra})
    fb = customer("v4", SAME_MAC, B_GW, "10.0.0.5", "10.0.0.7")
    rb = customer("v4", B_GW, OTHER_MAC, "10.0.0.5", "10.0.0.7", ttl=63)
    expect_forward(case, 3, fb, {4: tagged(rb, 44)})


def test_a_vsid_from_the_wrong_tenants_peer_is_refused(case: Case) -> None:
    """Remote NVE registered for A1 through tunnel 1 only: sending into B1 from another PA fails."""
    _two_tenants(case)
    f = customer("v4", REMOTE_MAC, SAME_MAC, "10.0.0.9", "10.0.0.5")
    pkt = nvgre(
        f, src_pa=T.REMOTE4_C, dst_pa=T.PA4, vsid=T.VSID_B1, smac=T.ROUTER_MAC[5], dmac=T.NVE_MAC
    )
    expect_drop(case, 5, pkt, Drop.NET_PEER_UNKNOWN)
