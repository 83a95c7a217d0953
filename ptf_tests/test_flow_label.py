"""Outer IPv6 flow label of encapsulated frames (RFC 6438, RFC 6437).

An NVE over an IPv6 underlay puts the entropy of the customer flow into the outer flow
label, so that ECMP/LAG in the underlay can spread tunnelled traffic without looking
past the outer header: the label is the low 20 bits of a CRC-32 over the FlowID's inputs
(docs/pipeline.md, "Hashes"), toward every IPv6 remote NVE, whether it takes a FlowID or
not; a hash of 0 is sent as 1, since 0 means "no label". Every expected label is
recomputed by the test's own CRC-32 (nve_ptf.packets); IPv4 outer headers do not change.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Packet

from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case
from nve_ptf.expect import expect_forward
from nve_ptf.packets import (
    FLOW_LABEL_FOR_ZERO_HASH,
    crc32_ieee,
    customer,
    flow_hash_input,
    flow_id,
    nvgre,
    outer_flow_label,
)

pytestmark = pytest.mark.root

INNER_ADDR = {
    "v4": ("10.1.0.5", "10.1.0.9"),
    "v4tcp": ("10.1.0.5", "10.1.0.9"),
    "v6": ("fd00:1::5", "fd00:1::9"),
    "v6tcp": ("fd00:1::5", "fd00:1::9"),
    "l2": (None, None),
}

# An IPv4/UDP flow 10.1.0.5:2661 -> 10.1.0.9:168 whose CRC-32 has its low 20 bits 0.
ZERO_HASH_PORTS = (2661, 168)


def _base(case: Case, *, flow: bool = True) -> None:
    """Subnet A1 on port 1; HR1 behind remote NVE B over IPv4 (tunnel 1, port 5), HR2
    behind B over IPv6 (tunnel 2, port 6), both with or without FlowID."""
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.remote_nve(1, T.PA4, T.REMOTE4, flow_id=flow),
        E.remote_nve(2, T.PA6, T.REMOTE6, flow_id=flow),
        E.remote_ca(T.VSI_A1, T.HR1, 1),
        E.remote_ca(T.VSI_A1, T.HR2, 2),
        T.underlay_v4(nh=1, port=5),
        T.underlay_v6(nh=2, port=6),
    )


def _to_v6(frame: Packet, *, flow: bool = True) -> Packet:
    label = outer_flow_label(frame)
    exp = nvgre(
        frame,
        src_pa=T.PA6,
        dst_pa=T.REMOTE6,
        vsid=T.VSID_A1,
        flow=flow_id(frame) if flow else 0,
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[6],
        flow_label=label,
    )
    assert Ether(bytes(exp))[IPv6].fl == label != 0
    return exp


def test_oracle_crc32_and_label() -> None:
    """The test's CRC-32 is the IEEE one (catalogue check value), the label its low 20 bits."""
    assert crc32_ieee(b"123456789") == 0xCBF43926
    f = customer("v4", T.H1, T.HR2, "10.1.0.5", "10.1.0.9", sport=1234, dport=80)
    data = bytes([10, 1, 0, 5, 10, 1, 0, 9, 17]) + bytes.fromhex("04d2 0050")
    assert flow_hash_input(f) == data
    assert outer_flow_label(f) == crc32_ieee(data) & 0xFFFFF


@pytest.mark.parametrize("inner", ["v4", "v4tcp", "v6", "v6tcp"])
def test_flows_differing_only_in_l4_port_get_their_own_labels(case: Case, inner: str) -> None:
    """Same addresses, different source or destination port: each flow carries the label its
    5-tuple hashes to (RFC 6438 section 3), not 0 and not the 8-bit FlowID."""
    _base(case)
    src_ip, dst_ip = INNER_ADDR[inner]
    frames = [
        customer(inner, T.H1, T.HR2, src_ip, dst_ip, sport=sport, dport=443)
        for sport in range(40000, 40006)
    ] + [
        customer(inner, T.H1, T.HR2, src_ip, dst_ip, sport=40000, dport=dport)
        for dport in (80, 8080)
    ]
    labels = [outer_flow_label(f) for f in frames]
    assert len(set(labels)) == len(frames), "test flows must differ in flow label"
    assert any(label > 0xFF for label in labels), "labels must use more than the FlowID's 8 bits"
    for f in frames:
        expect_forward(case, 1, f, {6: _to_v6(f)})


def test_same_flow_same_label(case: Case) -> None:
    """The label is a function of the flow only: repeated frames of one flow (different
    payloads) carry the same label."""
    _base(case)
    a = customer("v6tcp", T.H1, T.HR2, "fd00:1::5", "fd00:1::9", sport=5555, payload=b"a" * 60)
    b = customer("v6tcp", T.H1, T.HR2, "fd00:1::5", "fd00:1::9", sport=5555, payload=b"b" * 90)
    assert outer_flow_label(a) == outer_flow_label(b)
    for f in (a, b, a):
        expect_forward(case, 1, f, {6: _to_v6(f)})


@pytest.mark.parametrize("inner", ["v4", "v6", "l2"])
def test_peers_without_flow_id_still_get_a_hashed_label(case: Case, inner: str) -> None:
    """A remote NVE configured without FlowID gets FlowID 0 in the key, but the outer flow
    label is still the hash of the customer flow (the label is for the underlay, not the
    peer); for non-IP frames the hash covers the MACs and EtherType."""
    _base(case, flow=False)
    src_ip, dst_ip = INNER_ADDR[inner]
    frames = [
        customer(inner, T.H1, T.HR2, src_ip, dst_ip),
        customer(inner, T.H2, T.HR2, src_ip, dst_ip, sport=999),
    ]
    assert outer_flow_label(frames[0]) != outer_flow_label(frames[1])
    for f in frames:
        expect_forward(case, 1, f, {6: _to_v6(f, flow=False)})


def test_a_zero_hash_is_sent_as_label_one(case: Case) -> None:
    """A flow whose 20 hashed bits are 0 gets label 1: 0 means "not labelled" (RFC 6437)."""
    _base(case)
    sport, dport = ZERO_HASH_PORTS
    f = customer("v4", T.H1, T.HR2, "10.1.0.5", "10.1.0.9", sport=sport, dport=dport)
    assert crc32_ieee(flow_hash_input(f)) & 0xFFFFF == 0
    assert outer_flow_label(f) == FLOW_LABEL_FOR_ZERO_HASH == 1
    expect_forward(case, 1, f, {6: _to_v6(f)})


@pytest.mark.parametrize("flow", [True, False])
def test_ipv4_outer_header_is_unchanged(case: Case, flow: bool) -> None:
    """An IPv4 underlay has no flow label: the outer IPv4 header is what it was (identification
    0, DF, TTL 64), whatever the flow."""
    _base(case, flow=flow)
    for sport in (40000, 40001, ZERO_HASH_PORTS[0]):
        f = customer("v4", T.H1, T.HR1, "10.1.0.5", "10.1.0.9", sport=sport, dport=443)
        exp = nvgre(
            f,
            src_pa=T.PA4,
            dst_pa=T.REMOTE4,
            vsid=T.VSID_A1,
            flow=flow_id(f) if flow else 0,
            smac=T.NVE_MAC,
            dmac=T.ROUTER_MAC[5],
        )
        expect_forward(case, 1, f, {5: exp})
