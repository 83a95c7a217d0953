"""The NVE is the gateway of hosts behind remote NVEs too (RFC 7637 §4.6; issue 18 items 4
and 5): an echo request to a gateway address, or a routed packet whose TTL runs out, that
arrives in NVGRE from a remote NVE is answered like one from a local host, and the answer
goes back in NVGRE to that NVE: underlay MACs and outer addresses swapped, the same VSID,
FlowID 0, DF, outer TTL 64. A real `nve run` on a p4sim switch; frames on the veths.
"""

from __future__ import annotations

import struct

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import Ether
from scapy.utils import checksum

from nve_ptf.packets import NVGRE
from tests.runtime.events.rig import (
    DBR_4,
    GW4,
    GW6,
    GW_MAC,
    NET_PORT,
    NVE_MAC,
    PA,
    PA6,
    REMOTE1_4,
    REMOTE1_6,
    REMOTE1_MAC,
    REMOTE6_4,
    REMOTE6_MAC,
    REMOTE6_PA,
    REMOTE_PA,
    SPINE_MAC,
    VSID,
    WEB1_PORT,
    Rig,
    from_network,
    valid_icmpv6_checksum,
    valid_ipv4_checksum,
)

pytestmark = pytest.mark.root


def _ping_from_remote1(dst: str):
    if ":" in dst:
        return (
            Ether(src=REMOTE1_MAC, dst=GW_MAC)
            / IPv6(src=REMOTE1_6, dst=dst, hlim=64)
            / ICMPv6EchoRequest(id=0x99, seq=7, data=b"from-behind-hv9")
        )
    return (
        Ether(src=REMOTE1_MAC, dst=GW_MAC)
        / IP(src=REMOTE1_4, dst=dst, ttl=64)
        / ICMP(type=8, id=0x99, seq=7)
        / b"from-behind-hv9"
    )


def _tunnelled_reply(rig: Rig, inner_layer) -> tuple[Ether, Ether]:
    """The next NVGRE packet on the network port whose customer frame has `inner_layer`:
    (the whole packet, its customer frame)."""

    def match(frame: bytes) -> bool:
        p = Ether(frame)
        outer = p[IPv6] if p.type == 0x86DD else p[IP] if p.type == 0x0800 else None
        if outer is None or (outer.nh if p.type == 0x86DD else outer.proto) != 47:
            return False
        return inner_layer in Ether(bytes(outer.payload)[8:])

    got = rig.ports[NET_PORT].wait_for(match, 5.0)
    assert got is not None, "no answer in NVGRE on the network port"
    p = Ether(got)
    outer = p[IPv6] if p.type == 0x86DD else p[IP]
    gre = NVGRE(bytes(outer.payload)[:8])
    assert (gre.c, gre.k, gre.s, gre.ver, gre.proto) == (0, 1, 0, 0, 0x6558)
    assert (gre.vsid, gre.flow_id) == (VSID, 0)
    return p, Ether(bytes(outer.payload)[8:])


def _assert_back_to_hv9(p: Ether) -> None:
    assert (p.dst, p.src) == (SPINE_MAC, NVE_MAC), "not back through the neighbour it came from"
    assert (p[IP].src, p[IP].dst, p[IP].proto, p[IP].ttl) == (PA, REMOTE_PA, 47, 64)
    assert p[IP].flags.DF and valid_ipv4_checksum(p[IP])
    assert p[IP].len == len(bytes(p[IP]))


@pytest.mark.parametrize("dst", [GW4, GW6])
def test_echo_from_a_host_behind_a_remote_nve_is_answered_in_nvgre(
    rig: Rig, run_nve, dst: str
) -> None:
    run_nve(routed=True)
    rig.drain()
    rig.ports[NET_PORT].send(from_network(_ping_from_remote1(dst)))
    v6 = ":" in dst
    p, inner = _tunnelled_reply(rig, ICMPv6EchoReply if v6 else ICMP)
    _assert_back_to_hv9(p)
    assert (inner.dst, inner.src) == (REMOTE1_MAC, GW_MAC)
    if v6:
        assert (inner[IPv6].src, inner[IPv6].dst) == (GW6, REMOTE1_6)
        echo = inner[ICMPv6EchoReply]
        assert (echo.id, echo.seq, echo.data) == (0x99, 7, b"from-behind-hv9")
        assert valid_icmpv6_checksum(inner, ICMPv6EchoReply)
    else:
        assert (inner[IP].src, inner[IP].dst) == (GW4, REMOTE1_4)
        icmp = bytes(inner[IP].payload)
        assert (icmp[0], icmp[1], icmp[4:8]) == (0, 0, struct.pack("!HH", 0x99, 7))
        assert icmp[8:] == b"from-behind-hv9" and checksum(icmp) == 0
    # Nothing toward the access ports: the request was for the gateway.
    assert rig.ports[WEB1_PORT].wait_for(lambda f: True, 0.3) is None


def test_ttl_expiring_for_a_host_behind_a_remote_nve_is_answered_in_nvgre(
    rig: Rig, run_nve
) -> None:
    """remote1 (web subnet, behind hv9) → dbr (db subnet, also behind hv9) with TTL 1:
    Time Exceeded from the web subnet's gateway, quoting the packet, back to hv9."""
    run_nve(routed=True)
    rig.drain()
    f = (
        Ether(src=REMOTE1_MAC, dst=GW_MAC)
        / IP(src=REMOTE1_4, dst=DBR_4, ttl=1, id=0x4321)
        / UDP(sport=4002, dport=33434)
        / b"traceroute"
    )
    f = Ether(bytes(f))
    rig.ports[NET_PORT].send(from_network(f))
    p, inner = _tunnelled_reply(rig, ICMP)
    _assert_back_to_hv9(p)
    assert (inner.dst, inner.src) == (REMOTE1_MAC, GW_MAC)
    assert (inner[IP].src, inner[IP].dst) == (GW4, REMOTE1_4)
    icmp = bytes(inner[IP].payload)
    assert (icmp[0], icmp[1]) == (11, 0) and checksum(icmp) == 0
    assert icmp[8:] == bytes(f[IP])


def test_echo_over_an_ipv6_underlay_is_answered_over_ipv6(rig: Rig, run_nve) -> None:
    """remote6 sits behind hv6, reached over IPv6 (this switch's PA fd00:a::1): the answer's
    outer header is IPv6 from that PA to hv6's, hop limit 64."""
    run_nve(v6_underlay=True, routed=True)
    rig.drain()
    ping = (
        Ether(src=REMOTE6_MAC, dst=GW_MAC)
        / IP(src=REMOTE6_4, dst=GW4)
        / ICMP(type=8, id=0x66, seq=1)
        / b"over-v6"
    )
    packet = (
        Ether(src=SPINE_MAC, dst=NVE_MAC)
        / IPv6(src=REMOTE6_PA, dst=PA6, nh=47)
        / NVGRE(vsid=VSID, flow_id=0)
        / ping
    )
    rig.ports[NET_PORT].send(bytes(packet))
    p, inner = _tunnelled_reply(rig, ICMP)
    assert (p.dst, p.src) == (SPINE_MAC, NVE_MAC)
    assert (p[IPv6].src, p[IPv6].dst, p[IPv6].nh, p[IPv6].hlim) == (PA6, REMOTE6_PA, 47, 64)
    assert p[IPv6].plen == len(bytes(p[IPv6].payload))
    assert (inner.dst, inner[IP].src, inner[IP].dst) == (REMOTE6_MAC, GW4, REMOTE6_4)
    assert bytes(inner[IP].payload)[0] == 0


def test_an_echo_to_a_host_not_the_gateway_is_not_answered(rig: Rig, run_nve) -> None:
    """Only the gateway's own addresses are answered: a ping through the gateway to a CA
    behind the same NVE is routed back into the tunnel, not answered by the controller."""
    run_nve(routed=True)
    rig.drain()
    rig.ports[NET_PORT].send(from_network(_ping_from_remote1(DBR_4)))
    got = rig.ports[NET_PORT].wait_for(lambda f: IP in Ether(f) and Ether(f)[IP].proto == 47, 3.0)
    assert got is not None, "the ping was not routed"
    inner = Ether(bytes(Ether(got)[IP].payload)[8:])
    assert ICMP in inner and inner[ICMP].type == 8, "routed as an echo request"
    assert inner[IP].dst == DBR_4 and inner[IP].ttl == 63
