"""Priority per path (IEEE 802.1Q PCP, RFC 7637 section 3.3): the customer frame's PCP
(its tag's, or the access port's default when untagged) -> outer DSCP on encapsulation;
the outer DSCP -> PCP of the tag an access port pushes on decapsulation, else the port's
default (docs/pipeline.md: NveEgress.encap.pcp_dscp, NveIngress.decap.dscp_pcp,
NveIngress.access.port_pcp, NveEgress.access.port_pcp).
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from scapy.packet import Packet

from nve.entities import Entity
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case
from nve_ptf.expect import expect_forward
from nve_ptf.packets import customer, flow_id, nvgre, tagged

pytestmark = pytest.mark.root

VLAN = 100  # port 2's VLAN in subnet A1


def _setup(case: Case, *extra: Entity | Iterable[Entity]) -> None:
    """A1 on port 1 (untagged, H1) and port 2 (VLAN 100, H2); HR1 behind remote NVE B
    (tunnel 1 over IPv4, reached through port 5)."""
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.attach(2, T.VSI_A1, vid=VLAN),
        E.local_ca(T.VSI_A1, T.H1, 1),
        E.local_ca(T.VSI_A1, T.H2, 2),
        T.receiving_nve(v6=False),
        E.remote_nve(1, T.PA4, T.REMOTE4),
        E.remote_ca(T.VSI_A1, T.HR1, 1),
        T.underlay_v4(),
        *extra,
    )


def _encap(frame: Packet, dscp: int) -> Packet:
    return nvgre(
        frame,
        src_pa=T.PA4,
        dst_pa=T.REMOTE4,
        vsid=T.VSID_A1,
        flow=flow_id(frame),
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[5],
        dscp=dscp,
    )


def _from_remote(frame: Packet, dscp: int) -> Packet:
    return nvgre(
        frame,
        src_pa=T.REMOTE4,
        dst_pa=T.PA4,
        vsid=T.VSID_A1,
        smac=T.ROUTER_MAC[5],
        dmac=T.NVE_MAC,
        dscp=dscp,
    )


def test_uniform_maps_the_tag_pcp_of_non_ip_frames(case: Case) -> None:
    """dscp_mode uniform: a frame without an IP header takes the DSCP of its PCP; an IP
    frame keeps copying its own DSCP; a PCP without an entry gives 0."""
    _setup(case, E.pcp_dscp(5, 46, ip_too=False))
    l2 = customer("l2", T.H2, T.HR1)
    expect_forward(case, 2, tagged(l2, VLAN, pcp=5), {5: _encap(l2, 46)})
    expect_forward(case, 2, tagged(l2, VLAN, pcp=4), {5: _encap(l2, 0)})
    v4 = customer("v4", T.H2, T.HR1, "10.1.0.6", "10.1.0.9", tos=18 << 2)
    expect_forward(case, 2, tagged(v4, VLAN, pcp=5), {5: _encap(v4, 18)})


@pytest.mark.parametrize("kind", ["v4", "v6", "l2"])
def test_pcp_mode_maps_every_frame(case: Case, kind: str) -> None:
    """dscp_mode pcp: the outer DSCP comes from the PCP, whatever the customer DSCP."""
    _setup(case, E.pcp_dscp(5, 46, ip_too=True), E.pcp_dscp(0, 8, ip_too=True))
    f = customer(kind, T.H2, T.HR1, tos=18 << 2)
    expect_forward(case, 2, tagged(f, VLAN, pcp=5), {5: _encap(f, 46)})
    expect_forward(case, 2, tagged(f, VLAN, pcp=0), {5: _encap(f, 8)})


def test_untagged_frames_take_the_port_default_pcp(case: Case) -> None:
    """An untagged frame has the port's default priority: mapped to the outer DSCP, and
    carried in the tag a local tagged port pushes; a priority tag keeps its own PCP."""
    _setup(case, E.default_pcp(1, 3), E.pcp_dscp(3, 24, ip_too=True))
    f = customer("v4", T.H1, T.HR1, "10.1.0.5", "10.1.0.9")
    expect_forward(case, 1, f, {5: _encap(f, 24)})
    local = customer("v4", T.H1, T.H2)
    expect_forward(case, 1, local, {2: tagged(local, VLAN, pcp=3)})
    expect_forward(case, 1, tagged(local, 0, pcp=6), {2: tagged(local, VLAN, pcp=6)})


def test_pipe_mode_ignores_the_pcp_map(case: Case) -> None:
    _setup(case, E.pcp_dscp(5, 46, ip_too=True), E.encap_config(dscp_pipe=True, dscp=10))
    f = customer("l2", T.H2, T.HR1)
    expect_forward(case, 2, tagged(f, VLAN, pcp=5), {5: _encap(f, 10)})


def test_decap_maps_the_outer_dscp_to_the_pushed_pcp(case: Case) -> None:
    """Toward a tagged port: the PCP of the outer DSCP's entry, else the output port's
    default, else 0; an untagged port has no tag to carry it."""
    _setup(case, E.dscp_pcp(46, 5), E.default_pcp(2, 2))
    f = customer("v4", T.HR1, T.H2, "10.1.0.9", "10.1.0.6")
    expect_forward(case, 5, _from_remote(f, 46), {2: tagged(f, VLAN, pcp=5)})
    expect_forward(case, 5, _from_remote(f, 10), {2: tagged(f, VLAN, pcp=2)})
    g = customer("l2", T.HR1, T.H1)
    expect_forward(case, 5, _from_remote(g, 46), {1: g})


def test_decap_without_map_or_default_pushes_pcp_0(case: Case) -> None:
    _setup(case)
    f = customer("l2", T.HR1, T.H2)
    expect_forward(case, 5, _from_remote(f, 46), {2: tagged(f, VLAN, pcp=0)})
