"""Packets for the gateway itself and packets whose TTL runs out at the gateway.

A host route with `to_gateway` marks each gateway address (the controller installs one
per address): ICMP / ICMPv6 to it is punted (PUNT_GATEWAY, the controller answers echo
requests) and dropped as TO_CPU, whatever its TTL; anything else to it is dropped
(ROUTED_TO_GATEWAY). A routed packet whose TTL / hop limit runs out is dropped
(TTL_EXPIRED) and punted (PUNT_TTL_EXPIRED) with the sender's subnet's VSID, so the
controller can send Time Exceeded from that subnet's gateway.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import Ether

from nve.p4names import Drop, PacketIn, Punt
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case
from nve_ptf.expect import expect_drop
from nve_ptf.packets import customer, tagged

pytestmark = pytest.mark.root

H1_IP, H1_IP6, H3_IP, H3_IP6 = "10.1.0.5", "fd00:1::5", "10.2.0.7", "fd00:2::7"
GW1_IP, GW1_IP6, GW2_IP = "10.1.0.1", "fd00:1::1", "10.2.0.1"


def _tenant(case: Case) -> None:
    """Tenant A (VRF 10): A1 on port 1 (H1; gateways 10.1.0.1, fd00:1::1), A2 on port 3 (H3;
    gateway 10.2.0.1); host routes to H3."""
    case.install(
        T.routed_tenant(),
        E.to_gateway(T.VRF_A, GW1_IP),
        E.to_gateway(T.VRF_A, GW1_IP6),
        E.to_gateway(T.VRF_A, GW2_IP),
        E.route(T.VRF_A, f"{H3_IP}/32", vsi=T.VSI_A2, vsid=T.VSID_A2, smac=T.GW_A2, dmac=T.H3),
        E.route(T.VRF_A, f"{H3_IP6}/128", vsi=T.VSI_A2, vsid=T.VSID_A2, smac=T.GW_A2, dmac=T.H3),
        E.cpu_session(),
    )


def _echo(dst: str, ttl: int):
    eth = Ether(src=T.H1, dst=T.GW_A1)
    if ":" in dst:
        return eth / IPv6(src=H1_IP6, dst=dst, hlim=ttl) / ICMPv6EchoRequest(id=1, seq=1)
    return eth / IP(src=H1_IP, dst=dst, ttl=ttl) / ICMP(type=8, id=1, seq=1)


def _expect_punt(case: Case, frame, reason: int, vsid: int) -> None:
    pin = case.packet_in()
    assert pin is not None, "no packet-in"
    got = {k: pin.metadata.get(k) for k in (PacketIn.INGRESS_PORT, PacketIn.REASON, PacketIn.VSID)}
    assert got == {PacketIn.INGRESS_PORT: 1, PacketIn.REASON: reason, PacketIn.VSID: vsid}
    assert pin.payload == bytes(frame), "the punt carries the frame as received"


@pytest.mark.parametrize("dst", [GW1_IP, GW1_IP6, GW2_IP])
@pytest.mark.parametrize("ttl", [64, 1])
def test_icmp_to_a_gateway_address_is_punted_not_routed(case: Case, dst: str, ttl: int) -> None:
    _tenant(case)
    f = _echo(dst, ttl)
    expect_drop(case, 1, f, Drop.TO_CPU)
    _expect_punt(case, f, Punt.GATEWAY, T.VSID_A1)


def test_icmp_to_the_gateway_from_a_tagged_port_keeps_its_tag_in_the_punt(case: Case) -> None:
    _tenant(case)
    case.install(E.attach(2, T.VSI_A1, 100))
    f = tagged(_echo(GW1_IP, 64), 100)
    expect_drop(case, 2, f, Drop.TO_CPU)
    pin = case.packet_in()
    assert pin is not None and pin.metadata.get(PacketIn.REASON) == Punt.GATEWAY
    assert pin.payload == bytes(f)


@pytest.mark.parametrize("dst", [GW1_IP, GW2_IP])
def test_other_traffic_to_a_gateway_address_is_dropped_without_punt(case: Case, dst: str) -> None:
    _tenant(case)
    f = Ether(src=T.H1, dst=T.GW_A1) / IP(src=H1_IP, dst=dst) / UDP(sport=9, dport=53) / b"q"
    expect_drop(case, 1, f, Drop.ROUTED_TO_GATEWAY)
    assert case.packet_in(timeout=0.5) is None


@pytest.mark.parametrize("fam", ["v4", "v6"])
@pytest.mark.parametrize("ttl", [1, 0])
def test_ttl_expired_is_punted_with_the_senders_vsid(case: Case, fam: str, ttl: int) -> None:
    _tenant(case)
    src, dst = (H1_IP, H3_IP) if fam == "v4" else (H1_IP6, H3_IP6)
    f = customer(fam, T.H1, T.GW_A1, src, dst, ttl=ttl)
    expect_drop(case, 1, f, Drop.TTL_EXPIRED)
    _expect_punt(case, f, Punt.TTL_EXPIRED, T.VSID_A1)


def test_ttl_expired_without_a_route_is_still_ttl_expired(case: Case) -> None:
    """The TTL verdict comes before the route lookup's: traceroute toward an unrouted
    address still shows the gateway."""
    _tenant(case)
    f = customer("v4", T.H1, T.GW_A1, H1_IP, "10.9.9.9", ttl=1)
    expect_drop(case, 1, f, Drop.TTL_EXPIRED)
    _expect_punt(case, f, Punt.TTL_EXPIRED, T.VSID_A1)
