"""IPv6 Neighbor Solicitations from access ports are punted only once the port's VLAN is known.

PuntIngress runs after AccessIngress: an NS whose (port, VLAN) has no port_vlan entry is
dropped as ACCESS_VLAN_UNKNOWN and the controller gets no copy; an NS of a bound VLAN is
copied to the controller (and forwarded) as before.
"""

from __future__ import annotations

import pytest
from scapy.layers.inet6 import ICMPv6ND_NS, IPv6
from scapy.layers.l2 import Ether

from nve.p4names import Drop, PacketIn, Punt
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case
from nve_ptf.expect import expect_drop, expect_forward
from nve_ptf.packets import tagged

pytestmark = pytest.mark.root


def _setup(case: Case) -> None:
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.attach(2, T.VSI_A1, vid=100),
        E.flood_group(T.VSI_A1, [1, 2]),
        E.cpu_session(),
    )


def _ns(smac: str) -> Ether:
    return Ether(
        bytes(
            Ether(src=smac, dst="33:33:ff:00:00:09")
            / IPv6(src="fd00:1::5", dst="ff02::1:ff00:9", hlim=255)
            / ICMPv6ND_NS(tgt="fd00:1::9")
        )
    )


@pytest.mark.parametrize("vlan", ["unbound-vid", "untagged-on-tagged-port"])
def test_ns_of_an_unbound_vlan_is_dropped_and_not_punted(case: Case, vlan: str) -> None:
    _setup(case)
    ns = _ns(T.H2)
    pkt = tagged(ns, 200) if vlan == "unbound-vid" else ns
    expect_drop(case, 2, pkt, Drop.ACCESS_VLAN_UNKNOWN)
    pin = case.packet_in(timeout=1.0)
    assert pin is None, f"packet-in for an NS of an unbound VLAN: {pin}"


def test_ns_of_a_bound_vlan_is_punted_and_forwarded(case: Case) -> None:
    _setup(case)
    ns = _ns(T.H2)
    expect_forward(case, 2, tagged(ns, 100), {1: ns}, drops={Drop.PRUNE_INGRESS_PORT: 1})
    pin = case.packet_in()
    assert pin is not None, "no packet-in for the neighbor solicitation"
    assert {k: pin.metadata.get(k) for k in (PacketIn.INGRESS_PORT, PacketIn.REASON)} == {
        PacketIn.INGRESS_PORT: 2,
        PacketIn.REASON: Punt.IPV6_NS,
    }
    assert pin.metadata.get(PacketIn.VSID) == T.VSID_A1
    assert pin.payload in (bytes(tagged(ns, 100)), bytes(ns))
