"""IP for the switch's control-plane host (docs/pipeline.md, NveIngress.punt_local).

On a network port, an IPv4/IPv6 datagram to one of the switch's own addresses (its PAs,
its network ports' addresses) that is neither GRE nor a fragment, or one to an IPv6
link-local address, is punted with PUNT_UNDERLAY_LOCAL and consumed: ICMP echo, BGP
(TCP 179) and BFD (UDP 3784) reach the host's kernel. NVGRE to a PA is still
decapsulated; IP to an address that is not the switch's is not punted; the punt meter
limits the copies.
"""

from __future__ import annotations

import time

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import Ether

from nve.p4names import Counter, Drop, Meter, PacketIn, Punt
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case
from nve_ptf.expect import expect_drop, expect_forward
from nve_ptf.packets import customer, nvgre

pytestmark = pytest.mark.root

PORT5_V4 = "10.5.0.1"  # port 5's interface addresses
PORT5_V6 = "fd00:5::1"
SPINE_V4 = "10.5.0.0"  # the router on port 5
SPINE_V6 = "fd00:5::"


def _setup(case: Case) -> None:
    """The receiving NVE of test_decap (PAs, MAC, peer B for VSID A1, H1 on port 1), with
    its PAs and port 5's addresses as host addresses."""
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1),
        E.attach(1, T.VSI_A1),
        E.local_ca(T.VSI_A1, T.H1, 1),
        T.receiving_nve(),
        E.cpu_session(),
        *(E.host_address(a) for a in (T.PA4, T.PA6, PORT5_V4, PORT5_V6)),
    )


def _ip(dst: str, src: str | None = None, *, dmac: str = T.NVE_MAC) -> Ether:
    eth = Ether(src=T.ROUTER_MAC[5], dst=dmac)
    if ":" in dst:
        return eth / IPv6(src=src or SPINE_V6, dst=dst, hlim=64)
    return eth / IP(src=src or SPINE_V4, dst=dst, ttl=64)


def _echo(dst: str, **kw: str) -> Ether:
    icmp = ICMPv6EchoRequest(id=7, seq=1) if ":" in dst else ICMP(id=7, seq=1)
    return Ether(bytes(_ip(dst, **kw) / icmp / (b"p" * 24)))


def _expect_punted(case: Case, pkt: Ether, port: int = 5) -> None:
    expect_drop(case, port, pkt, Drop.TO_CPU)
    pin = case.packet_in()
    assert pin is not None, "no packet-in"
    assert {k: pin.metadata.get(k) for k in ("ingress_port", "reason", "vsid")} == {
        PacketIn.INGRESS_PORT: port,
        PacketIn.REASON: Punt.UNDERLAY_LOCAL,
        PacketIn.VSID: 0,
    }
    assert pin.payload == bytes(pkt)


@pytest.mark.parametrize("dst", [T.PA4, PORT5_V4, T.PA6, PORT5_V6])
def test_echo_to_a_switch_address_goes_to_the_host(case: Case, dst: str) -> None:
    _setup(case)
    _expect_punted(case, _echo(dst))


def test_bgp_syn_to_the_port_address_goes_to_the_host(case: Case) -> None:
    _setup(case)
    for dst in (PORT5_V4, PORT5_V6):
        _expect_punted(case, Ether(bytes(_ip(dst) / TCP(sport=40001, dport=179, flags="S"))))


@pytest.mark.parametrize("dport", [3784, 4784])
def test_bfd_to_the_port_address_goes_to_the_host(case: Case, dport: int) -> None:
    _setup(case)
    pkt = Ether(
        bytes(
            _ip(
                PORT5_V4,
            )
            / UDP(sport=49152, dport=dport)
            / (b"\x20" + b"\0" * 23)
        )
    )
    _expect_punted(case, pkt)


def test_ipv6_link_local_destination_goes_to_the_host(case: Case) -> None:
    """The TAP's own link-local address (BGP over link-local, ND's unicast follow-ups)."""
    _setup(case)
    _expect_punted(case, _echo("fe80::200:5eff:fe00:5301", src="fe80::1"), port=6)


def test_nvgre_to_a_pa_is_still_decapsulated(case: Case) -> None:
    _setup(case)
    frame = customer("v4", T.HR1, T.H1, "10.1.0.9", "10.1.0.5")
    for src, dst in ((T.REMOTE4, T.PA4), (T.REMOTE6, T.PA6)):
        pkt = nvgre(
            frame,
            src_pa=src,
            dst_pa=dst,
            vsid=T.VSID_A1,
            smac=T.ROUTER_MAC[5],
            dmac=T.NVE_MAC,
        )
        expect_forward(case, 5, pkt, {1: frame})
    assert case.packet_in(timeout=0.5) is None


@pytest.mark.parametrize("dst", ["192.0.2.99", "10.5.0.3", "2001:db8::99"])
def test_ip_to_another_address_is_not_punted(case: Case, dst: str) -> None:
    _setup(case)
    expect_drop(case, 5, _echo(dst), Drop.NET_NOT_LOCAL)
    assert case.packet_in(timeout=0.5) is None


def test_another_mac_is_not_punted(case: Case) -> None:
    """The host gets only what was sent to the switch's MAC (OuterChecks runs first)."""
    _setup(case)
    expect_drop(case, 5, _echo(T.PA4, dmac="00:00:5e:00:53:99"), Drop.NET_DMAC_NOT_LOCAL)
    assert case.packet_in(timeout=0.5) is None


def test_a_fragment_to_a_pa_is_not_punted(case: Case) -> None:
    _setup(case)
    pkt = Ether(bytes(_ip(T.PA4) / ICMP(id=7, seq=1) / (b"p" * 24)))
    pkt[IP].flags = "MF"
    expect_drop(case, 5, Ether(bytes(pkt)), Drop.NET_FRAGMENT)
    assert case.packet_in(timeout=0.5) is None


def test_host_punts_are_rate_limited_by_the_meter(case: Case) -> None:
    """NveIngress.punt.rate cell PUNT_UNDERLAY_LOCAL at 1 packet/s, burst 1: of a quick
    series of pings, at most one more than a second's worth reaches the controller; the
    others are counted as suppressed, and every one is consumed."""
    _setup(case)
    case.install(
        E.meter(Meter.INGRESS_PUNT_RATE, Punt.UNDERLAY_LOCAL, cir=1, cburst=1, pir=1, pburst=1)
    )
    sup0 = case.counter(Counter.INGRESS_PUNT_SUPPRESSED, Punt.UNDERLAY_LOCAL)[0]
    started = time.monotonic()
    expect_drop(case, 5, _echo(T.PA4), Drop.TO_CPU, count=6)
    allowed = 2 + int(time.monotonic() - started)
    punts = 0
    while case.packet_in(timeout=0.5) is not None:
        punts += 1
    assert 1 <= punts <= min(allowed, 5)
    suppressed = case.counter(Counter.INGRESS_PUNT_SUPPRESSED, Punt.UNDERLAY_LOCAL)[0] - sup0
    assert suppressed == 6 - punts
