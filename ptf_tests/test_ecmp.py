"""Underlay ECMP (RFC 7637 section 4.1): the member is chosen by a hash over the outer source
and destination addresses and the full 32-bit GRE key, so flows of one VSID (different
FlowIDs) spread over the members while each flow stays on one path. The bucket of every
flow is recomputed here: CRC-16/ARC(src PA ++ dst PA ++ key) % group size."""

from __future__ import annotations

import pytest

from nve.p4names import Drop
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case
from nve_ptf.expect import expect_drop, expect_forward
from nve_ptf.packets import customer, ecmp_bucket, flow_id, gre_key, nvgre

pytestmark = pytest.mark.root

MEMBERS = {0: 5, 1: 6, 2: 7}  # bucket -> port (next hops 1..3)


def _setup(case: Case, *, outer: str = "v4", flow: bool = True) -> None:
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        [E.nexthop(b + 1, p, smac=T.NVE_MAC, dmac=T.ROUTER_MAC[p]) for b, p in MEMBERS.items()],
        [E.ecmp_member(4, b, b + 1) for b in MEMBERS],
    )
    if outer == "v4":
        case.install(
            E.remote_nve(1, T.PA4, T.REMOTE4, flow_id=flow),
            E.underlay_route("198.51.100.0/24", ecmp=(4, 3)),
        )
    else:
        case.install(
            E.remote_nve(1, T.PA6, T.REMOTE6, flow_id=flow),
            E.underlay_route("2001:db8:100::/48", ecmp=(4, 3)),
        )
    case.install(E.remote_ca(T.VSI_A1, T.HR1, 1))


@pytest.mark.parametrize("outer", ["v4", "v6"])
def test_flows_spread_over_members_by_the_recomputed_bucket(case: Case, outer: str) -> None:
    _setup(case, outer=outer)
    src, dst = (T.PA4, T.REMOTE4) if outer == "v4" else (T.PA6, T.REMOTE6)
    used = set()
    for sport in range(2000, 2012):
        f = customer("v4tcp", T.H1, T.HR1, "10.1.0.5", "10.1.0.9", sport=sport, dport=443)
        key = gre_key(T.VSID_A1, f, True)
        port = MEMBERS[ecmp_bucket(src, dst, key, 3)]
        used.add(port)
        exp = nvgre(
            f,
            src_pa=src,
            dst_pa=dst,
            vsid=T.VSID_A1,
            flow=flow_id(f),
            smac=T.NVE_MAC,
            dmac=T.ROUTER_MAC[port],
        )
        expect_forward(case, 1, f, {port: exp})
    assert len(used) >= 2, "the test flows must exercise more than one member"


def test_without_flow_id_all_flows_of_a_vsid_share_one_member(case: Case) -> None:
    """The key is the hash input: with FlowID 0 every flow of the VSID takes the same path."""
    _setup(case, flow=False)
    port = MEMBERS[ecmp_bucket(T.PA4, T.REMOTE4, T.VSID_A1 << 8, 3)]
    for sport in range(3000, 3004):
        f = customer("v4tcp", T.H1, T.HR1, "10.1.0.5", "10.1.0.9", sport=sport)
        exp = nvgre(
            f,
            src_pa=T.PA4,
            dst_pa=T.REMOTE4,
            vsid=T.VSID_A1,
            flow=0,
            smac=T.NVE_MAC,
            dmac=T.ROUTER_MAC[port],
        )
        expect_forward(case, 1, f, {port: exp})


def test_drop_ecmp_miss(case: Case) -> None:
    """A bucket without member is dropped: a /32 route into group 5 (size 3) with bucket 2 missing."""
    _setup(case)
    case.install(
        E.underlay_route("198.51.100.10/32", ecmp=(5, 3)),
        E.ecmp_member(5, 0, 1),
        E.ecmp_member(5, 1, 2),
    )
    flows = [
        customer("v4tcp", T.H1, T.HR1, "10.1.0.5", "10.1.0.9", sport=s) for s in range(4000, 4100)
    ]
    f = next(f for f in flows if ecmp_bucket(T.PA4, T.REMOTE4, gre_key(T.VSID_A1, f, True), 3) == 2)
    expect_drop(case, 1, f, Drop.ECMP_MISS)
