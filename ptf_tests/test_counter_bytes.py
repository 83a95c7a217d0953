"""What the per-VSID and per-remote-NVE byte counters count, both ways (docs/pipeline.md, Counters).

bmv2 and p4sim add, per counted packet, the length of the frame as the switch received
it. Encapsulation (NveEgress.counters.vsi_encap / tunnel_tx) thus counts the customer
frame as received on the access port, its 802.1Q tag included; decapsulation
(NveIngress.counters.vsi_decap / tunnel_rx) the whole NVGRE packet. These tests pin that
(same figures on both targets), so that a change of meaning shows up here; they do not
make the two directions equal (v1model has no counter of a given length).
"""

from __future__ import annotations

import time

import pytest

from nve.p4names import Counter
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case
from nve_ptf.expect import expect_forward
from nve_ptf.packets import customer, flow_id, nvgre, tagged

pytestmark = pytest.mark.root

N = 4
PAYLOAD = 100  # customer frame: Ethernet 14 + IPv4 20 + UDP 8 + 58 bytes


def _setup(case: Case) -> None:
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.attach(2, T.VSI_A1, vid=100),
        E.local_ca(T.VSI_A1, T.H1, 1),
        E.local_ca(T.VSI_A1, T.H2, 2),
        T.receiving_nve(v6=False),
        E.remote_nve(1, T.PA4, T.REMOTE4),
        E.remote_ca(T.VSI_A1, T.HR1, 1),
        T.underlay_v4(),
    )


def _frame(src: str, dst: str, sip: str, dip: str):
    return customer("v4", src, dst, sip, dip, payload=b"p" * (PAYLOAD - 42))


def _cells(case: Case) -> dict[str, tuple[int, int]]:
    return {
        "vsi_encap": case.counter(Counter.COUNTERS_VSI_ENCAP, T.VSI_A1),
        "tunnel_tx": case.counter(Counter.COUNTERS_TUNNEL_TX, 1),
        "vsi_decap": case.counter(Counter.COUNTERS_VSI_DECAP, T.VSI_A1),
        "tunnel_rx": case.counter(Counter.COUNTERS_TUNNEL_RX, 1),
    }


def _per_frame(case: Case, before: dict[str, tuple[int, int]]) -> dict[str, tuple[int, float]]:
    deadline = time.monotonic() + 2.0
    while True:
        now = _cells(case)
        d = {k: (now[k][0] - before[k][0], now[k][1] - before[k][1]) for k in now}
        if all(p == N for p, _ in d.values()) or time.monotonic() > deadline:
            return {k: (p, b / p if p else 0.0) for k, (p, b) in d.items()}
        time.sleep(0.05)


@pytest.mark.parametrize("access", ["untagged", "tagged"])
def test_encap_and_decap_bytes_per_frame(case: Case, access: str) -> None:
    _setup(case)
    port, host = (1, T.H1) if access == "untagged" else (2, T.H2)
    out = _frame(host, T.HR1, "10.1.0.5", "10.1.0.9")
    back = _frame(T.HR1, host, "10.1.0.9", "10.1.0.5")
    assert len(bytes(out)) == len(bytes(back)) == PAYLOAD
    sent = out if access == "untagged" else tagged(out, 100)
    delivered = back if access == "untagged" else tagged(back, 100)
    wire_out = nvgre(
        out,
        src_pa=T.PA4,
        dst_pa=T.REMOTE4,
        vsid=T.VSID_A1,
        flow=flow_id(out),
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[5],
    )
    wire_back = nvgre(
        back, src_pa=T.REMOTE4, dst_pa=T.PA4, vsid=T.VSID_A1, smac=T.ROUTER_MAC[5], dmac=T.NVE_MAC
    )
    before = _cells(case)
    for _ in range(N):
        expect_forward(case, port, sent, {5: wire_out})
        expect_forward(case, 5, wire_back, {port: delivered})
    got = _per_frame(case, before)
    customer_in = len(bytes(sent))  # 100, or 104 with the tag
    nvgre_in = len(bytes(wire_back))  # 100 + 14 + 20 + 8 = 142
    assert got == {
        "vsi_encap": (N, customer_in),
        "tunnel_tx": (N, customer_in),
        "vsi_decap": (N, nvgre_in),
        "tunnel_rx": (N, nvgre_in),
    }
