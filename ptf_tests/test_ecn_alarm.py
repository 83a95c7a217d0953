"""RFC 6040 section 4.2: the decapsulation combinations its table marks (!!!) are counted.

No compliant encapsulator produces them (inner Not-ECT under an ECT or CE outer, inner CE
under an ECT(1) outer); the RFC asks the decapsulator to log them. NveIngress.decap.ecn_alarm
counts each in cell inner_ecn * 4 + outer_ecn; the packet itself is handled as the table
says (delivered, or dropped for Not-ECT under CE). The other combinations, and frames
whose inner frame is not IP (no ECN field), count nothing.
"""

from __future__ import annotations

import time

import pytest
from test_ecn import DECAP, NAMES, _with_ecn

from nve.p4names import Counter, Drop
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case
from nve_ptf.expect import expect_drop, expect_forward
from nve_ptf.packets import customer, nvgre

pytestmark = pytest.mark.root

NOT_ECT, ECT1, ECT0, CE = 0, 1, 2, 3
# (inner, outer) pairs RFC 6040 Figure 4 marks (!!!)
ALARM = {(NOT_ECT, ECT0), (NOT_ECT, ECT1), (NOT_ECT, CE), (CE, ECT1)}


def _setup(case: Case) -> None:
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.local_ca(T.VSI_A1, T.H1, 1),
        T.receiving_nve(),
    )


def _alarms(case: Case) -> dict[int, int]:
    return {i: c[0] for i, c in case.cp.counter(Counter.DECAP_ECN_ALARM).items() if c[0]}


def _delta(case: Case, before: dict[int, int], want: dict[int, int]) -> dict[int, int]:
    """Counter deltas, polled briefly until they reach ``want`` (a target may count late)."""
    deadline = time.monotonic() + 2.0
    while True:
        now = _alarms(case)
        d = {i: now.get(i, 0) - before.get(i, 0) for i in set(now) | set(before)}
        d = {i: n for i, n in d.items() if n}
        if d == want or time.monotonic() > deadline:
            return d
        time.sleep(0.05)


def _send(case: Case, inner_family: str, inner: int, outer: int) -> None:
    if inner_family == "v4":
        f = customer("v4", T.HR1, T.H1, "10.1.0.9", "10.1.0.5", tos=(4 << 2) | inner)
        src, dst = T.REMOTE4, T.PA4
    else:
        f = customer("v6", T.HR1, T.H1, "fd00:1::9", "fd00:1::5", tos=inner)
        src, dst = T.REMOTE6, T.PA6
    pkt = nvgre(
        f, src_pa=src, dst_pa=dst, vsid=T.VSID_A1, smac=T.ROUTER_MAC[5], dmac=T.NVE_MAC, ecn=outer
    )
    result = DECAP[(inner, outer)]
    if result is None:
        expect_drop(case, 5, pkt, Drop.NET_ECN_NOT_ECT)
    else:
        expect_forward(case, 5, pkt, {1: _with_ecn(f, result)})


@pytest.mark.parametrize("outer", [NOT_ECT, ECT0, ECT1, CE], ids=lambda e: "outer-" + NAMES[e])
@pytest.mark.parametrize("inner", [NOT_ECT, ECT0, ECT1, CE], ids=lambda e: "inner-" + NAMES[e])
def test_ecn_alarm_counts_exactly_the_unused_combinations(
    case: Case, inner: int, outer: int
) -> None:
    _setup(case)
    before = _alarms(case)
    _send(case, "v4", inner, outer)
    want = {inner * 4 + outer: 1} if (inner, outer) in ALARM else {}
    assert _delta(case, before, want) == want


@pytest.mark.parametrize("inner,outer", sorted(ALARM), ids=lambda e: NAMES[e])
def test_ecn_alarm_ipv6_inner_ipv6_outer(case: Case, inner: int, outer: int) -> None:
    _setup(case)
    before = _alarms(case)
    _send(case, "v6", inner, outer)
    assert _delta(case, before, {inner * 4 + outer: 1}) == {inner * 4 + outer: 1}


def test_ecn_alarm_ignores_non_ip_inner_frames(case: Case) -> None:
    """A non-IP inner frame has no ECN field: CE or ECT outside is no alarm."""
    _setup(case)
    before = _alarms(case)
    f = customer("l2", T.HR1, T.H1)
    for outer in (ECT0, ECT1, CE):
        pkt = nvgre(
            f,
            src_pa=T.REMOTE4,
            dst_pa=T.PA4,
            vsid=T.VSID_A1,
            smac=T.ROUTER_MAC[5],
            dmac=T.NVE_MAC,
            ecn=outer,
        )
        expect_forward(case, 5, pkt, {1: f})
    assert _delta(case, before, {}) == {}
