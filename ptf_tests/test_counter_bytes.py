"""Byte counters per VSID and per remote NVE, both ways (docs/pipeline.md, Counters;
issue: the same customer traffic showed tx 3,962 bytes against rx 5,684).

Since pipeline 3.7.0 the `frame_bytes` counters count the customer frame both ways: no
802.1Q tag, no outer headers, no bytes after the outer datagram. bmv2 and p4sim add, per
counted packet, the length of the frame as the switch received it, so `vsi_encap` /
`tunnel_tx` keep counting the customer frame with its tag and `vsi_decap` / `tunnel_rx`
the whole NVGRE packet; those figures are pinned too, so that a change of meaning of
either shows up here. The same figures on both targets.
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
TRAILER = bytes.fromhex("a5a5a5a5a5a5a5a5")

RECEIVED = {
    "vsi_encap": (Counter.COUNTERS_VSI_ENCAP, "vsi"),
    "tunnel_tx": (Counter.COUNTERS_TUNNEL_TX, "tunnel"),
    "vsi_decap": (Counter.COUNTERS_VSI_DECAP, "vsi"),
    "tunnel_rx": (Counter.COUNTERS_TUNNEL_RX, "tunnel"),
}
FRAME = {
    "vsi_encap": (Counter.COUNTERS_FRAME_BYTES_VSI_ENCAP, "vsi"),
    "tunnel_tx": (Counter.COUNTERS_FRAME_BYTES_TUNNEL_TX, "tunnel"),
    "vsi_decap": (Counter.COUNTERS_FRAME_BYTES_VSI_DECAP, "vsi"),
    "tunnel_rx": (Counter.COUNTERS_FRAME_BYTES_TUNNEL_RX, "tunnel"),
}


def _setup(case: Case, *, v6: bool = False) -> None:
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.attach(2, T.VSI_A1, vid=100),
        E.local_ca(T.VSI_A1, T.H1, 1),
        E.local_ca(T.VSI_A1, T.H2, 2),
        T.receiving_nve(v6=v6),
        E.remote_nve(1, T.PA4, T.REMOTE4),
        E.remote_ca(T.VSI_A1, T.HR1, 1),
        T.underlay_v4(),
    )
    if v6:
        case.install(E.remote_nve(2, T.PA6, T.REMOTE6), T.underlay_v6())


def _frame(src: str, dst: str, sip: str, dip: str, size: int = PAYLOAD):
    return customer("v4", src, dst, sip, dip, payload=b"p" * (size - 42))


def _cells(case: Case, tunnel: int) -> dict[str, tuple[int, int, int]]:
    """name -> (packets, bytes as received, customer-frame bytes)."""
    ids = {"vsi": T.VSI_A1, "tunnel": tunnel}
    out = {}
    for key, (name, what) in RECEIVED.items():
        packets, received = case.counter(name, ids[what])
        fname, _ = FRAME[key]
        out[key] = (packets, received, case.frame_bytes(fname, ids[what]))
    return out


def _delta(case: Case, before: dict, tunnel: int, packets: int) -> dict[str, tuple[int, int, int]]:
    deadline = time.monotonic() + 2.0
    while True:
        now = _cells(case, tunnel)
        d = {k: tuple(a - b for a, b in zip(now[k], before[k], strict=True)) for k in now}
        if all(c[0] == packets for c in d.values()) or time.monotonic() > deadline:
            return d
        time.sleep(0.05)


def _wires(out, back, *, v6: bool = False):
    """``out`` as this NVE encapsulates it toward the remote NVE, ``back`` as that NVE
    sends it here (over IPv6 when ``v6``)."""
    src_pa, dst_pa, net = (T.PA6, T.REMOTE6, 6) if v6 else (T.PA4, T.REMOTE4, 5)
    wire_out = nvgre(
        out,
        src_pa=src_pa,
        dst_pa=dst_pa,
        vsid=T.VSID_A1,
        flow=flow_id(out),
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[net],
    )
    wire_back = nvgre(
        back, src_pa=dst_pa, dst_pa=src_pa, vsid=T.VSID_A1, smac=T.ROUTER_MAC[net], dmac=T.NVE_MAC
    )
    return wire_out, wire_back


def _both_ways(case: Case, port: int, out, back, *, v6: bool = False, trailer: bytes = b""):
    """Send ``out`` from ``port`` toward HR1 and ``back`` from HR1 N times each; return the
    counter deltas and the lengths of what was received on each side."""
    tagged_port = port == 2
    sent = tagged(out, 100) if tagged_port else out
    delivered = tagged(back, 100) if tagged_port else back
    net, tunnel = (6, 2) if v6 else (5, 1)
    wire_out, wire_back = _wires(out, back, v6=v6)
    before = _cells(case, tunnel)
    for _ in range(N):
        expect_forward(case, port, sent, {net: wire_out})
        expect_forward(case, net, bytes(wire_back) + trailer, {port: delivered})
    return _delta(case, before, tunnel, N), len(bytes(sent)), len(bytes(wire_back)) + len(trailer)


@pytest.mark.parametrize("access", ["untagged", "tagged"])
def test_the_customer_frame_is_counted_the_same_both_ways(case: Case, access: str) -> None:
    _setup(case)
    port, host = (1, T.H1) if access == "untagged" else (2, T.H2)
    out = _frame(host, T.HR1, "10.1.0.5", "10.1.0.9")
    back = _frame(T.HR1, host, "10.1.0.9", "10.1.0.5")
    got, customer_in, nvgre_in = _both_ways(case, port, out, back)
    assert customer_in == PAYLOAD + (4 if access == "tagged" else 0)
    assert nvgre_in == PAYLOAD + 14 + 20 + 8
    assert got == {
        "vsi_encap": (N, N * customer_in, N * PAYLOAD),
        "tunnel_tx": (N, N * customer_in, N * PAYLOAD),
        "vsi_decap": (N, N * nvgre_in, N * PAYLOAD),
        "tunnel_rx": (N, N * nvgre_in, N * PAYLOAD),
    }


def test_an_ipv6_underlay_counts_the_same_customer_bytes(case: Case) -> None:
    """Outer IPv6 (40 bytes) instead of IPv4 (20): received bytes differ, frame bytes do not."""
    _setup(case, v6=True)
    case.install(E.remote_ca(T.VSI_A1, T.HR2, 2))
    out = _frame(T.H1, T.HR2, "10.1.0.5", "10.1.0.10")
    back = _frame(T.HR2, T.H1, "10.1.0.10", "10.1.0.5")
    got, _, nvgre_in = _both_ways(case, 1, out, back, v6=True)
    assert nvgre_in == PAYLOAD + 14 + 40 + 8
    assert got["vsi_decap"] == (N, N * nvgre_in, N * PAYLOAD)
    assert got["tunnel_rx"] == (N, N * nvgre_in, N * PAYLOAD)
    assert got["vsi_encap"][2] == got["tunnel_tx"][2] == N * PAYLOAD


def test_a_trailer_after_the_outer_datagram_is_not_counted(case: Case) -> None:
    """8 bytes after the NVGRE datagram are received (and counted as received) but never
    delivered: the customer-frame count leaves them out."""
    _setup(case)
    out = _frame(T.H1, T.HR1, "10.1.0.5", "10.1.0.9")
    back = _frame(T.HR1, T.H1, "10.1.0.9", "10.1.0.5")
    got, _, received = _both_ways(case, 1, out, back, trailer=TRAILER)
    assert received == PAYLOAD + 42 + len(TRAILER)
    assert got["vsi_decap"] == (N, N * received, N * PAYLOAD)


def test_every_bit_of_the_length_adds_up(case: Case) -> None:
    """Frames of 60 to 1,458 bytes (lengths with bits 0 to 10 set, odd and even): the
    frame bytes are their exact sum both ways."""
    _setup(case)
    sizes = [60, 61, 127, 255, 256, 511, 1023, 1024, 1400, 1458]  # 1458 + 42 = 1,500
    before = _cells(case, 1)
    for size in sizes:
        out = _frame(T.H1, T.HR1, "10.1.0.5", "10.1.0.9", size)
        back = _frame(T.HR1, T.H1, "10.1.0.9", "10.1.0.5", size)
        wire_out, wire_back = _wires(out, back)
        expect_forward(case, 1, out, {5: wire_out})
        expect_forward(case, 5, wire_back, {1: back})
    got = _delta(case, before, 1, len(sizes))
    for key in FRAME:
        assert got[key][0] == len(sizes)
        assert got[key][2] == sum(sizes), key
