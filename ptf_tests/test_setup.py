"""The packet-test bed itself: the pipeline is on the switch and every entry kind the
tests use is accepted by it (by P4Info name, through the controller's codec) and removed
again after a test."""

from __future__ import annotations

import pytest

from nve.p4names import Table
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case

pytestmark = pytest.mark.root


def test_pipeline_is_installed(nve_switch) -> None:
    cfg = nve_switch.cp._loop.run(nve_switch.cp.client.get_pipeline(with_p4info=True))
    assert cfg is not None
    names = {t.preamble.name for t in cfg.p4info.tables}
    assert Table.DECAP_PEER_V4 in names and Table.REPLICA_TUNNEL in names


def test_every_entry_kind_installs_and_is_removed(case: Case) -> None:
    case.install(
        T.roles(),
        E.attach(1, T.VSI_A1),
        E.attach(2, T.VSI_A1, vid=100),
        E.subnet(T.VSI_A1, T.VSID_A1, vrf=T.VRF_A, gw_mac=T.GW_A1),
        E.local_ca(T.VSI_A1, T.H1, 1),
        E.remote_ca(T.VSI_A1, T.HR1, 1),
        E.learned(T.VSI_A1, T.H1, 1),
        E.arp_entry(T.VSI_A1, "10.1.0.5", T.H1),
        E.route(T.VRF_A, "10.2.0.0/24", vsi=T.VSI_A2, vsid=T.VSID_A2, smac=T.GW_A2, dmac=T.H3),
        E.route(T.VRF_A, "fd00:2::/64", vsi=T.VSI_A2, vsid=T.VSID_A2, smac=T.GW_A2, dmac=T.H3),
        E.my_mac(T.NVE_MAC),
        E.my_pa(T.PA4),
        E.my_pa(T.PA6),
        E.my_pa(T.GROUP4, group=True),
        E.peer(T.VSID_A1, T.REMOTE4, 1),
        E.peer(T.VSID_A1, T.REMOTE6, 2),
        E.remote_nve(1, T.PA4, T.REMOTE4),
        E.remote_nve(2, T.PA6, T.REMOTE6, flow_id=False),
        E.replica(1, T.PA4, T.REMOTE4, smac=T.NVE_MAC, dmac=T.ROUTER_MAC[5]),
        T.underlay_v4(),
        T.underlay_v6(),
        E.underlay_route("203.0.113.0/24", ecmp=(1, 2)),
        E.ecmp_member(1, 0, 1),
        E.ecmp_member(1, 1, 2),
        E.flood_group(T.VSI_A1, [1, 2], [(5, 1)]),
        E.encap_config(ttl=10, dscp_pipe=True, dscp=46),
        E.port_mtu(5, 1400),
        E.cpu_session(),
    )
    assert len(case.cp.table_entries()) > 20
    case.cleanup()
    assert case.cp.table_entries() == []
