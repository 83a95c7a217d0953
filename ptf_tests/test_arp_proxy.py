"""ARP proxy (RFC 7637 section 4.10): the NVE answers ARP requests for CAs it knows in the
requester's VSID, and for the subnet gateway, out of the ingress port and without
flooding. Replies are compared byte for byte with the RFC 826 reply built here."""

from __future__ import annotations

import pytest

from nve.p4names import Drop
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case
from nve_ptf.expect import expect_forward
from nve_ptf.packets import arp_reply, arp_request, flow_id, nvgre, tagged

pytestmark = pytest.mark.root

H1_IP, H2_IP, HR1_IP, GW_IP = "10.1.0.5", "10.1.0.6", "10.1.0.9", "10.1.0.1"


def _subnet(case: Case) -> None:
    """A1 on port 1 (untagged), port 2 (VLAN 100) and remote NVE B; ARP entries for H2, HR1, gateway."""
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1, vrf=T.VRF_A, gw_mac=T.GW_A1),
        E.attach(1, T.VSI_A1),
        E.attach(2, T.VSI_A1, vid=100),
        E.flood_group(T.VSI_A1, [1, 2], [(5, 1)]),
        E.replica(1, T.PA4, T.REMOTE4, smac=T.NVE_MAC, dmac=T.ROUTER_MAC[5]),
        E.arp_entry(T.VSI_A1, H2_IP, T.H2),
        E.arp_entry(T.VSI_A1, HR1_IP, T.HR1),
        E.arp_entry(T.VSI_A1, GW_IP, T.GW_A1),
    )


@pytest.mark.parametrize(
    "target,answer",
    [(H2_IP, T.H2), (HR1_IP, T.HR1), (GW_IP, T.GW_A1)],
    ids=["local-ca", "remote-ca", "gateway"],
)
def test_reply_byte_for_byte(case: Case, target: str, answer: str) -> None:
    _subnet(case)
    req = arp_request(T.H1, H1_IP, target)
    expect_forward(case, 1, req, {1: arp_reply(answer, target, T.H1, H1_IP)})


def test_reply_on_a_tagged_port_carries_its_tag(case: Case) -> None:
    _subnet(case)
    req = tagged(arp_request(T.H2, H2_IP, HR1_IP), 100)
    expect_forward(case, 2, req, {2: tagged(arp_reply(T.HR1, HR1_IP, T.H2, H2_IP), 100)})


def test_unicast_request_is_answered_too(case: Case) -> None:
    _subnet(case)
    req = arp_request(T.H1, H1_IP, HR1_IP, dmac=T.HR1)
    expect_forward(case, 1, req, {1: arp_reply(T.HR1, HR1_IP, T.H1, H1_IP)})


@pytest.mark.parametrize("kind", ["owner-probe", "gratuitous", "unknown-target"])
def test_not_answered_but_bridged(case: Case, kind: str) -> None:
    """The owner's own probe (sender IP 0.0.0.0, RFC 5227, from the MAC the address is bound
    to) and gratuitous ARP are not answered; unknown targets are not answered either: all
    are flooded in the subnet like any broadcast. (A probe from another MAC is answered:
    test_dad.py.)"""
    _subnet(case)
    if kind == "owner-probe":
        req = arp_request(T.H2, "0.0.0.0", H2_IP)
    elif kind == "gratuitous":
        req = arp_request(T.H1, H1_IP, H1_IP)
    else:
        req = arp_request(T.H1, H1_IP, "10.1.0.77")
    to_b = nvgre(
        req,
        src_pa=T.PA4,
        dst_pa=T.REMOTE4,
        vsid=T.VSID_A1,
        flow=flow_id(req),
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[5],
    )
    expect_forward(case, 1, req, {2: tagged(req, 100), 5: to_b}, drops={Drop.PRUNE_INGRESS_PORT: 1})


def test_arp_of_another_subnet_is_not_answered(case: Case) -> None:
    """Entries are per VSID: a requester in B1 does not learn A1's addresses."""
    _subnet(case)
    case.install(
        E.subnet(T.VSI_B1, T.VSID_B1),
        E.attach(3, T.VSI_B1),
        E.attach(4, T.VSI_B1),
        E.flood_group(T.VSI_B1, [3, 4]),
    )
    req = arp_request(T.H3, H1_IP, HR1_IP)
    expect_forward(case, 3, req, {4: req}, drops={Drop.PRUNE_INGRESS_PORT: 1})
