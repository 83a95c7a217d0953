"""ECN across the tunnel (RFC 6040, normal mode), as RFC 7637 section 4.3 asks.

Encapsulation copies the customer ECN field to the outer header (RFC 6040 section 4.1).
Decapsulation combines outer and inner per the table of RFC 6040 section 4.2:

    inner \\ outer   Not-ECT   ECT(0)   ECT(1)   CE
    Not-ECT         Not-ECT   Not-ECT  Not-ECT  drop
    ECT(0)          ECT(0)    ECT(0)   ECT(1)   CE
    ECT(1)          ECT(1)    ECT(1)   ECT(1)   CE
    CE              CE        CE       CE       CE
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

from nve.p4names import Drop
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case
from nve_ptf.expect import expect_drop, expect_forward
from nve_ptf.packets import customer, flow_id, nvgre

pytestmark = pytest.mark.root

NOT_ECT, ECT1, ECT0, CE = 0, 1, 2, 3
NAMES = {NOT_ECT: "not-ect", ECT1: "ect1", ECT0: "ect0", CE: "ce"}
# RFC 6040 section 4.2, written out: (inner, outer) -> result (None = drop)
DECAP = {
    (NOT_ECT, NOT_ECT): NOT_ECT,
    (NOT_ECT, ECT0): NOT_ECT,
    (NOT_ECT, ECT1): NOT_ECT,
    (NOT_ECT, CE): None,
    (ECT0, NOT_ECT): ECT0,
    (ECT0, ECT0): ECT0,
    (ECT0, ECT1): ECT1,
    (ECT0, CE): CE,
    (ECT1, NOT_ECT): ECT1,
    (ECT1, ECT0): ECT1,
    (ECT1, ECT1): ECT1,
    (ECT1, CE): CE,
    (CE, NOT_ECT): CE,
    (CE, ECT0): CE,
    (CE, ECT1): CE,
    (CE, CE): CE,
}


def _setup(case: Case) -> None:
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.local_ca(T.VSI_A1, T.H1, 1),
        T.receiving_nve(),
        E.remote_nve(1, T.PA4, T.REMOTE4),
        E.remote_ca(T.VSI_A1, T.HR1, 1),
        T.underlay_v4(),
    )


def _with_ecn(frame, ecn: int):
    f = Ether(bytes(frame))
    if IP in f:
        f[IP].tos = (f[IP].tos & 0xFC) | ecn
        del f[IP].chksum
    else:
        f[IPv6].tc = (f[IPv6].tc & 0xFC) | ecn
    return Ether(bytes(f))


@pytest.mark.parametrize("ecn", [NOT_ECT, ECT1, ECT0, CE], ids=NAMES.get)
def test_encap_copies_ecn(case: Case, ecn: int) -> None:
    _setup(case)
    f = customer("v4", T.H1, T.HR1, "10.1.0.5", "10.1.0.9", tos=(18 << 2) | ecn)
    exp = nvgre(
        f,
        src_pa=T.PA4,
        dst_pa=T.REMOTE4,
        vsid=T.VSID_A1,
        flow=flow_id(f),
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[5],
        dscp=18,
        ecn=ecn,
    )
    expect_forward(case, 1, f, {5: exp})


@pytest.mark.parametrize("outer", [NOT_ECT, ECT0, ECT1, CE], ids=lambda e: "outer-" + NAMES[e])
@pytest.mark.parametrize("inner", [NOT_ECT, ECT0, ECT1, CE], ids=lambda e: "inner-" + NAMES[e])
def test_decap_ecn_ipv4_inner(case: Case, inner: int, outer: int) -> None:
    _setup(case)
    f = customer("v4", T.HR1, T.H1, "10.1.0.9", "10.1.0.5", tos=(4 << 2) | inner)
    pkt = nvgre(
        f,
        src_pa=T.REMOTE4,
        dst_pa=T.PA4,
        vsid=T.VSID_A1,
        smac=T.ROUTER_MAC[5],
        dmac=T.NVE_MAC,
        ecn=outer,
    )
    result = DECAP[(inner, outer)]
    if result is None:
        expect_drop(case, 5, pkt, Drop.NET_ECN_NOT_ECT)
    else:
        expect_forward(case, 5, pkt, {1: _with_ecn(f, result)})


@pytest.mark.parametrize(
    "inner,outer", [(ECT0, CE), (ECT0, ECT1), (NOT_ECT, CE), (CE, ECT0)], ids=lambda e: NAMES[e]
)
def test_decap_ecn_ipv6_inner_ipv6_outer(case: Case, inner: int, outer: int) -> None:
    _setup(case)
    f = customer("v6", T.HR1, T.H1, "fd00:1::9", "fd00:1::5", tos=inner)
    pkt = nvgre(
        f,
        src_pa=T.REMOTE6,
        dst_pa=T.PA6,
        vsid=T.VSID_A1,
        smac=T.ROUTER_MAC[5],
        dmac=T.NVE_MAC,
        ecn=outer,
    )
    result = DECAP[(inner, outer)]
    if result is None:
        expect_drop(case, 5, pkt, Drop.NET_ECN_NOT_ECT)
    else:
        expect_forward(case, 5, pkt, {1: _with_ecn(f, result)})


def test_decap_ce_onto_non_ip_is_delivered(case: Case) -> None:
    """A non-IP inner frame has no ECN field to drop for: it is delivered unchanged."""
    _setup(case)
    f = customer("l2", T.HR1, T.H1)
    pkt = nvgre(
        f,
        src_pa=T.REMOTE4,
        dst_pa=T.PA4,
        vsid=T.VSID_A1,
        smac=T.ROUTER_MAC[5],
        dmac=T.NVE_MAC,
        ecn=CE,
    )
    expect_forward(case, 5, pkt, {1: f})
