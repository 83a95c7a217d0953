"""Data-plane events end to end: real frames through a p4sim switch on veth pairs, handled by a
real `nve run` process (learning, ageing, MTU punts answered with ICMP, Neighbor Solicitations
answered with Neighbor Advertisements). What the switch holds is read back over P4Runtime;
what the controller sends is captured on the veths' test ends and checked with scapy.

Topology (one switch, tor1): port 1 access with a VLAN 50 binding for VSID 0x001001 and no
endpoint (its MACs are learned); port 2 access with the configured endpoint web1 on VLAN
60; port 3 network (MTU 1400) toward the spine, behind which the remote NVE hv9 holds
remote1. Each test starts its own `nve run` on the same switch; the controller's first
reconcile removes whatever an earlier test left.
"""

from __future__ import annotations

import ipaddress
import subprocess
import time

import pytest
from scapy.layers.inet import ICMP, IP, UDP, defragment
from scapy.layers.inet6 import (
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptSrcLLAddr,
    ICMPv6PacketTooBig,
    ICMPv6TimeExceeded,
    IPv6,
)
from scapy.layers.l2 import Dot1Q, Ether
from scapy.utils import checksum

from nve.entities import Entity, Exact
from nve.p4names import Action, Table
from nve_ptf.packets import customer
from tests.runtime.events.rig import (
    CUSTOMER_MTU,
    CUSTOMER_MTU_OVER_V6,
    DB_GW4,
    DB_GW6,
    DBR_4,
    DBR_6,
    GW4,
    GW6,
    GW_MAC,
    HOST_MAC,
    LEARN_PORT,
    NET_MTU,
    NET_PORT,
    NVE_MAC,
    PA,
    REMOTE1_4,
    REMOTE1_6,
    REMOTE1_MAC,
    REMOTE6_4,
    REMOTE6_MAC,
    REMOTE_PA,
    SPINE_MAC,
    WEB1_4,
    WEB1_6,
    WEB1_MAC,
    WEB1_PORT,
    WEB1_VLAN,
    Rig,
    exactly,
    from_host,
    from_network,
    from_web1,
    ip_packet,
    is_nvgre_with_inner,
    table_entries,
    valid_icmpv6_checksum,
    valid_ipv4_checksum,
    wait_until,
)
from tests.support.nve_run import NVE

pytestmark = pytest.mark.root

# -- learning and ageing ---------------------------------------------------------------------


def send_to_host_from_web1_and_network(rig: Rig) -> dict[str, bytes | None]:
    """web1 (port 2) and remote1 (from the network) each send a frame to HOST_MAC; what arrives where."""
    rig.drain()
    f = customer("v4", WEB1_MAC, HOST_MAC, WEB1_4, "192.168.10.50")
    rig.ports[WEB1_PORT].send(from_web1(f))
    seen = {
        "web1->port1": rig.ports[LEARN_PORT].wait_for(exactly(from_host(f)), 3.0),
        "web1->network": rig.ports[NET_PORT].wait_for(is_nvgre_with_inner(bytes(f)), 0.5),
    }
    g = customer("v4", REMOTE1_MAC, HOST_MAC, REMOTE1_4, "192.168.10.50")
    rig.drain()
    rig.ports[NET_PORT].send(from_network(g))
    seen["network->port1"] = rig.ports[LEARN_PORT].wait_for(exactly(from_host(g)), 3.0)
    seen["network->port2"] = rig.ports[WEB1_PORT].wait_for(exactly(from_web1(g)), 0.5)
    return seen


def host_speaks(rig: Rig) -> None:
    """HOST_MAC sends one frame to web1 on the learning port; it is bridged to web1 either way."""
    f = customer("v4", HOST_MAC, WEB1_MAC, "192.168.10.50", WEB1_4)
    rig.ports[LEARN_PORT].send(from_host(f))
    assert rig.ports[WEB1_PORT].wait_for(exactly(from_web1(f)), 3.0) is not None, (
        "host's frame not bridged to web1"
    )


def test_unknown_source_is_learned_installed_and_shown(rig: Rig, run_nve) -> None:
    run = run_nve(mac_ageing_s=300)
    before = send_to_host_from_web1_and_network(rig)
    # Unknown destination: flooded (to the learning port and, from an access port, to the remote NVE).
    assert before["web1->port1"] is not None and before["web1->network"] is not None
    assert before["network->port1"] is not None and before["network->port2"] is not None

    host_speaks(rig)

    def installed_once_learned() -> list[Entity] | None:
        i = rig.installed()
        return i if table_entries(i, Table.LEARN_SMAC, HOST_MAC) else None

    installed = wait_until(installed_once_learned, 10.0, "learn.smac entry for the learned MAC")
    smac = table_entries(installed, Table.LEARN_SMAC, HOST_MAC)
    dmac = table_entries(installed, Table.L2_DMAC, HOST_MAC)
    web1 = table_entries(installed, Table.L2_DMAC, WEB1_MAC)
    assert len(smac) == 1 and len(dmac) == 1 and len(web1) == 1
    vsi = dict(web1[0].match)["vsi"]
    assert dict(smac[0].match) == {
        "vsi": vsi,
        "mac": Exact(0x525400AA0001),
        "port": Exact(LEARN_PORT),
    }
    assert smac[0].idle_timeout_ns == 300 * 10**9
    assert dict(dmac[0].match)["vsi"] == vsi
    assert (dmac[0].action, dict(dmac[0].params)) == (Action.L2_TO_PORT, {"port": LEARN_PORT})
    assert f"learned {HOST_MAC} in VSID 0x001001 on port {LEARN_PORT}" in run.text()

    after = send_to_host_from_web1_and_network(rig)
    # Known now: delivered to the learned port only, from an access port and from the network alike.
    assert after["web1->port1"] is not None and after["web1->network"] is None
    assert after["network->port1"] is not None and after["network->port2"] is None

    show = subprocess.run(
        [NVE, "show", str(run.overlay)], capture_output=True, check=False, text=True, timeout=60
    )
    assert show.returncode == 0, show.stderr
    # `nve run` holds the election id, so the switch refuses show's arbitration: reads still work,
    # and show must say so rather than name a primary that does not exist.
    assert "election id None" not in show.stdout + show.stderr
    assert "refused arbitration with election id 10" in show.stdout
    assert f"learned: VSID 0x001001 {HOST_MAC} port {LEARN_PORT}" in show.stdout


def test_idle_learned_mac_ages_out_and_floods_again(rig: Rig, run_nve) -> None:
    run = run_nve(mac_ageing_s=1)  # the schema's minimum
    host_speaks(rig)
    wait_until(
        lambda: table_entries(rig.installed(), Table.LEARN_SMAC, HOST_MAC), 5.0, "the MAC learned"
    )
    # While the host keeps talking the entry stays, well past the ageing time.
    for _ in range(10):
        time.sleep(0.25)
        host_speaks(rig)
    assert table_entries(rig.installed(), Table.LEARN_SMAC, HOST_MAC), (
        "aged out although the host kept sending"
    )
    # Silent: the switch reports the entry idle and the controller removes the MAC everywhere.
    wait_until(
        lambda: (
            not any(
                table_entries(i, t, HOST_MAC)
                for i in [rig.installed()]
                for t in (Table.LEARN_SMAC, Table.L2_DMAC)
            )
        ),
        6.0,
        "the learned MAC removed",
    )
    assert f"aged out {HOST_MAC} in VSID 0x001001" in run.text()
    again = send_to_host_from_web1_and_network(rig)
    assert again["web1->port1"] is not None and again["web1->network"] is not None
    assert again["network->port1"] is not None and again["network->port2"] is not None


# -- packet-ins --------------------------------------------------------------------------------


def test_ipv4_df_too_big_is_answered_with_fragmentation_needed(rig: Rig, run_nve) -> None:
    run_nve()
    fits = ip_packet("v4", CUSTOMER_MTU)
    rig.ports[WEB1_PORT].send(from_web1(fits))
    assert rig.ports[NET_PORT].wait_for(is_nvgre_with_inner(bytes(fits)), 3.0) is not None, (
        "a packet of exactly the reported MTU must leave encapsulated"
    )

    big = ip_packet("v4", CUSTOMER_MTU + 1)
    rig.drain()
    rig.ports[WEB1_PORT].send(from_web1(big))
    reply = rig.ports[WEB1_PORT].wait_for(lambda f: ICMP in Ether(f), 5.0)
    assert reply is not None, "no ICMP fragmentation-needed"
    assert rig.ports[NET_PORT].wait_for(is_nvgre_with_inner(bytes(big)), 0.3) is None, (
        "too big, yet sent"
    )
    p = Ether(reply)
    assert (p.dst, p.src, p.type) == (WEB1_MAC, GW_MAC, 0x8100)
    assert (p[Dot1Q].vlan, p[Dot1Q].type) == (WEB1_VLAN, 0x0800)
    ip = p[IP]
    assert (ip.version, ip.ihl, ip.src, ip.dst, ip.proto) == (4, 5, GW4, WEB1_4, 1)
    assert ip.len == 20 + 8 + 28 and ip.ttl > 0
    assert valid_ipv4_checksum(ip)
    icmp = bytes(ip.payload)
    assert (p[ICMP].type, p[ICMP].code) == (3, 4)
    assert icmp[4:6] == b"\0\0", "unused field"
    assert int.from_bytes(icmp[6:8], "big") == CUSTOMER_MTU
    assert checksum(icmp) == 0
    assert icmp[8:] == bytes(big[IP])[:28], "must quote the original IP header and 8 bytes"


def test_mtu_reported_over_an_ipv6_underlay_fits_the_ipv6_tunnel(rig: Rig, run_nve) -> None:
    """With IPv4 and IPv6 local PAs, a sender toward a CA behind an IPv6 PA must be told an MTU
    that its next packets fit in: the outer IPv6 header is 20 bytes more than IPv4's."""
    run_nve(v6_underlay=True)
    to = (REMOTE6_MAC, REMOTE6_4)
    big = ip_packet("v4", CUSTOMER_MTU_OVER_V6 + 1, to=to)
    rig.ports[WEB1_PORT].send(from_web1(big))
    reply = rig.ports[WEB1_PORT].wait_for(lambda f: ICMP in Ether(f), 5.0)
    assert reply is not None, "no ICMP fragmentation-needed"
    reported = int.from_bytes(bytes(Ether(reply)[ICMP])[6:8], "big")
    fits = ip_packet("v4", reported, to=to)
    rig.drain()
    rig.ports[WEB1_PORT].send(from_web1(fits))
    assert rig.ports[NET_PORT].wait_for(is_nvgre_with_inner(bytes(fits)), 3.0) is not None, (
        f"a packet of the reported MTU ({reported}) does not fit the IPv6 tunnel"
    )


@pytest.mark.parametrize("kind", ["v4", "v6"])
def test_routed_packet_too_big_is_answered_to_its_sender(rig: Rig, run_nve, kind: str) -> None:
    """A packet routed into another subnet is punted as egress left it (MACs rewritten for the
    destination subnet, TTL decremented: docs/pipeline.md); the answer must still reach the
    sender: to its MAC, from the gateway of its own subnet, with its own VLAN tag, quoting
    the packet it sent."""
    run_nve(routed=True)
    eth = Ether(src=WEB1_MAC, dst=GW_MAC)
    if kind == "v4":
        head = (
            eth
            / IP(src=WEB1_4, dst=DBR_4, flags="DF", id=0x4321, ttl=64)
            / UDP(sport=4001, dport=5001)
        )
    else:
        head = eth / IPv6(src=WEB1_6, dst=DBR_6, hlim=64) / UDP(sport=4001, dport=5001)
    big = Ether(bytes(head / bytes(CUSTOMER_MTU + 1 - (len(bytes(head)) - 14))))
    rig.ports[WEB1_PORT].send(from_web1(big))
    layer = ICMP if kind == "v4" else ICMPv6PacketTooBig
    reply = rig.ports[WEB1_PORT].wait_for(lambda f: layer in Ether(f), 5.0)
    assert reply is not None, "no answer for a routed packet"
    p = Ether(reply)
    assert (p.dst, p.src, p.type, p[Dot1Q].vlan) == (WEB1_MAC, GW_MAC, 0x8100, WEB1_VLAN)
    if kind == "v4":
        ip = p[IP]
        assert (ip.src, ip.dst) == (GW4, WEB1_4) and valid_ipv4_checksum(ip)
        icmp = bytes(ip.payload)
        assert (icmp[0], icmp[1], int.from_bytes(icmp[6:8], "big")) == (
            3,
            4,
            CUSTOMER_MTU,
        ) and checksum(icmp) == 0
        assert icmp[8:] == bytes(big[IP])[:28]
    else:
        ip6 = p[IPv6]
        assert (ip6.src, ip6.dst) == (GW6, WEB1_6)
        ptb = p[ICMPv6PacketTooBig]
        assert (ptb.type, ptb.code, ptb.mtu) == (2, 0, CUSTOMER_MTU)
        assert valid_icmpv6_checksum(p, ICMPv6PacketTooBig)
        assert bytes(ptb.payload) == bytes(big[IPv6])[: 1280 - 48]


def test_ipv6_too_big_is_answered_with_packet_too_big(rig: Rig, run_nve) -> None:
    run_nve()
    fits = ip_packet("v6", CUSTOMER_MTU)
    rig.ports[WEB1_PORT].send(from_web1(fits))
    assert rig.ports[NET_PORT].wait_for(is_nvgre_with_inner(bytes(fits)), 3.0) is not None

    big = ip_packet("v6", CUSTOMER_MTU + 1)
    rig.drain()
    rig.ports[WEB1_PORT].send(from_web1(big))
    reply = rig.ports[WEB1_PORT].wait_for(lambda f: ICMPv6PacketTooBig in Ether(f), 5.0)
    assert reply is not None, "no ICMPv6 packet-too-big"
    assert rig.ports[NET_PORT].wait_for(is_nvgre_with_inner(bytes(big)), 0.3) is None
    p = Ether(reply)
    assert (p.dst, p.src, p[Dot1Q].vlan, p[Dot1Q].type) == (WEB1_MAC, GW_MAC, WEB1_VLAN, 0x86DD)
    ip6 = p[IPv6]
    assert (ip6.src, ip6.dst, ip6.nh, ip6.hlim) == (GW6, WEB1_6, 58, 255)
    ptb = p[ICMPv6PacketTooBig]
    assert (ptb.type, ptb.code, ptb.mtu) == (2, 0, CUSTOMER_MTU)
    assert valid_icmpv6_checksum(p, ICMPv6PacketTooBig)
    quoted = bytes(ptb.payload)
    # RFC 4443 §2.4: as much of the invoking packet as fits without exceeding the minimum IPv6 MTU.
    assert 40 + len(bytes(ptb)) == 1280 == ip6.plen + 40
    assert quoted == bytes(big[IPv6])[: 1280 - 48]


def neighbor_solicitation(target: str):
    """web1 asks for `target` (RFC 4861 §7.2.2: to the solicited-node group, with its own link-layer address)."""
    low = ipaddress.IPv6Address(target).packed[-3:]
    group = ipaddress.IPv6Address(bytes.fromhex("ff02" + "00" * 9 + "01ff") + low)
    mac = "33:33:" + ":".join(f"{b:02x}" for b in group.packed[-4:])
    return (
        Ether(src=WEB1_MAC, dst=mac)
        / IPv6(src=WEB1_6, dst=str(group), hlim=255)
        / ICMPv6ND_NS(tgt=target)
        / ICMPv6NDOptSrcLLAddr(lladdr=WEB1_MAC)
    )


def expect_na(rig: Rig, target: str, target_mac: str) -> None:
    rig.drain()
    rig.ports[WEB1_PORT].send(from_web1(neighbor_solicitation(target)))
    reply = rig.ports[WEB1_PORT].wait_for(lambda f: ICMPv6ND_NA in Ether(f), 5.0)
    assert reply is not None, f"no Neighbor Advertisement for {target}"
    p = Ether(reply)
    assert (p.dst, p.src, p[Dot1Q].vlan, p[Dot1Q].type) == (WEB1_MAC, target_mac, WEB1_VLAN, 0x86DD)
    ip6 = p[IPv6]
    assert (ip6.src, ip6.dst, ip6.nh, ip6.hlim) == (target, WEB1_6, 58, 255)
    na = p[ICMPv6ND_NA]
    assert (na.type, na.code, na.R, na.S, na.O, na.tgt) == (136, 0, 0, 1, 1, target)
    assert valid_icmpv6_checksum(p, ICMPv6ND_NA)
    opt = p[ICMPv6NDOptDstLLAddr]
    assert (opt.type, opt.len, opt.lladdr) == (2, 1, target_mac)
    assert ip6.plen == 24 + 8


def test_neighbor_solicitation_for_known_ca_is_answered(rig: Rig, run_nve) -> None:
    run_nve()
    expect_na(rig, REMOTE1_6, REMOTE1_MAC)  # a CA behind a remote NVE
    expect_na(rig, GW6, GW_MAC)  # the subnet's gateway
    # Nobody known has this address: no answer from the controller.
    rig.drain()
    rig.ports[WEB1_PORT].send(from_web1(neighbor_solicitation("fd00:b1::77")))
    assert rig.ports[WEB1_PORT].wait_for(lambda f: ICMPv6ND_NA in Ether(f), 1.5) is None


def _ping(dst: str, *, ttl: int = 64, ident: int = 0x77, seq: int = 3):
    if ":" in dst:
        return (
            Ether(src=WEB1_MAC, dst=GW_MAC)
            / IPv6(src=WEB1_6, dst=dst, hlim=ttl)
            / ICMPv6EchoRequest(id=ident, seq=seq, data=b"ping-the-gateway")
        )
    return (
        Ether(src=WEB1_MAC, dst=GW_MAC)
        / IP(src=WEB1_4, dst=dst, ttl=ttl)
        / ICMP(type=8, id=ident, seq=seq)
        / b"ping-the-gateway"
    )


@pytest.mark.parametrize("dst", [GW4, GW6, DB_GW4, DB_GW6])
def test_echo_to_a_gateway_address_is_answered_by_the_gateway(rig: Rig, run_nve, dst: str) -> None:
    """RFC 1812 4.3.3.6: a router answers echo requests to its addresses: its own subnet's
    gateway and another subnet's (reached through the sender's gateway MAC), TTL 1
    included (the packet is for the router, not through it). The request is not routed."""
    run_nve(routed=True)
    rig.drain()
    rig.ports[WEB1_PORT].send(from_web1(_ping(dst, ttl=1)))
    v6 = ":" in dst
    layer = ICMPv6EchoReply if v6 else ICMP
    reply = rig.ports[WEB1_PORT].wait_for(
        lambda f: layer in Ether(f) and (v6 or Ether(f)[ICMP].type == 0), 5.0
    )
    assert reply is not None, f"no echo reply from {dst}"
    p = Ether(reply)
    assert (p.dst, p.src, p[Dot1Q].vlan) == (WEB1_MAC, GW_MAC, WEB1_VLAN)
    if v6:
        assert (p[IPv6].src, p[IPv6].dst) == (dst, WEB1_6)
        echo = p[ICMPv6EchoReply]
        assert (echo.id, echo.seq, echo.data) == (0x77, 3, b"ping-the-gateway")
        assert valid_icmpv6_checksum(p, ICMPv6EchoReply)
    else:
        assert (p[IP].src, p[IP].dst) == (dst, WEB1_4) and valid_ipv4_checksum(p[IP])
        icmp = bytes(p[IP].payload)
        assert (icmp[0], icmp[1], icmp[4:8]) == (0, 0, bytes.fromhex("00770003"))
        assert icmp[8:] == b"ping-the-gateway" and checksum(icmp) == 0
    assert rig.ports[NET_PORT].wait_for(lambda f: True, 0.3) is None, "the request was routed"


def test_udp_to_the_gateway_is_dropped_unanswered(rig: Rig, run_nve) -> None:
    run_nve(routed=True)
    rig.drain()
    f = Ether(src=WEB1_MAC, dst=GW_MAC) / IP(src=WEB1_4, dst=GW4) / UDP(sport=5, dport=53) / b"q"
    rig.ports[WEB1_PORT].send(from_web1(f))
    assert rig.ports[WEB1_PORT].wait_for(lambda f: True, 1.0) is None
    assert rig.ports[NET_PORT].wait_for(lambda f: True, 0.1) is None


@pytest.mark.parametrize("kind", ["v4", "v6"])
def test_ttl_expiring_at_the_gateway_is_answered_with_time_exceeded(
    rig: Rig, run_nve, kind: str
) -> None:
    """RFC 1812 5.3.1 / RFC 4443 3.3: traceroute through the gateway shows it: a routed
    packet whose TTL / hop limit runs out gets Time Exceeded from the gateway address of
    the sender's subnet, quoting the packet; it is not forwarded."""
    run_nve(routed=True)
    rig.drain()
    eth = Ether(src=WEB1_MAC, dst=GW_MAC)
    if kind == "v4":
        f = eth / IP(src=WEB1_4, dst=DBR_4, ttl=1, id=0x1234) / UDP(sport=4001, dport=33434)
    else:
        f = eth / IPv6(src=WEB1_6, dst=DBR_6, hlim=1) / UDP(sport=4001, dport=33434)
    f = Ether(bytes(f / b"traceroute"))
    rig.ports[WEB1_PORT].send(from_web1(f))
    layer = ICMP if kind == "v4" else ICMPv6TimeExceeded
    reply = rig.ports[WEB1_PORT].wait_for(lambda x: layer in Ether(x), 5.0)
    assert reply is not None, "no Time Exceeded"
    p = Ether(reply)
    assert (p.dst, p.src, p[Dot1Q].vlan) == (WEB1_MAC, GW_MAC, WEB1_VLAN)
    if kind == "v4":
        assert (p[IP].src, p[IP].dst) == (GW4, WEB1_4) and valid_ipv4_checksum(p[IP])
        icmp = bytes(p[IP].payload)
        assert (icmp[0], icmp[1]) == (11, 0) and checksum(icmp) == 0
        assert icmp[8:] == bytes(f[IP])
    else:
        assert (p[IPv6].src, p[IPv6].dst, p[IPv6].hlim) == (GW6, WEB1_6, 255)
        te = p[ICMPv6TimeExceeded]
        assert (te.type, te.code) == (3, 0) and valid_icmpv6_checksum(p, ICMPv6TimeExceeded)
        assert bytes(te.payload) == bytes(f[IPv6])
    assert rig.ports[NET_PORT].wait_for(lambda x: True, 0.3) is None, "the packet was forwarded"


def test_port_mac_limit_learns_the_first_and_floods_the_rest(rig: Rig, run_nve) -> None:
    """learning.max_macs_per_port: 1 on the learning port: its first MAC is learned and
    installed; a second MAC on that port is not (its frames still reach web1), and the
    refusal is logged (the 1st, 2nd, 4th ... of each reason) and counted."""
    run = run_nve(learning={"max_macs_per_port": 1})
    second = "52:54:00:aa:00:02"
    host_speaks(rig)
    wait_until(
        lambda: table_entries(rig.installed(), Table.LEARN_SMAC, HOST_MAC) or None,
        10.0,
        "learn.smac entry for the first MAC",
    )
    for _ in range(3):
        f = customer("v4", second, WEB1_MAC, "192.168.10.51", WEB1_4)
        rig.ports[LEARN_PORT].send(from_host(f))
        assert rig.ports[WEB1_PORT].wait_for(exactly(from_web1(f)), 3.0) is not None
    time.sleep(1.0)  # time for digests the controller would act on (none may be installed)
    installed = rig.installed()
    assert table_entries(installed, Table.LEARN_SMAC, HOST_MAC)
    assert not table_entries(installed, Table.LEARN_SMAC, second), "over the port's limit"
    line = run.wait_log("not learned (port_limit", 5.0)
    assert second in line and f"on port {LEARN_PORT}" in line


@pytest.mark.parametrize("kind", ["v4", "v6"])
def test_oversize_in_a_subnet_without_gateway_is_answered_from_the_destination(
    rig: Rig, run_nve, kind: str
) -> None:
    """A bridged subnet has no router address: the MTU is still reported, from the packet's
    own destination (address and MAC), which the sender accepts by the quoted packet."""
    run_nve(gateway=False)
    big = ip_packet(kind, CUSTOMER_MTU + 1)
    rig.drain()
    rig.ports[WEB1_PORT].send(from_web1(big))
    layer = ICMP if kind == "v4" else ICMPv6PacketTooBig
    reply = rig.ports[WEB1_PORT].wait_for(lambda f: layer in Ether(f), 5.0)
    assert reply is not None, "no MTU signal in a subnet without gateway"
    p = Ether(reply)
    assert (p.dst, p.src, p[Dot1Q].vlan) == (WEB1_MAC, REMOTE1_MAC, WEB1_VLAN)
    if kind == "v4":
        assert (p[IP].src, p[IP].dst) == (REMOTE1_4, WEB1_4) and valid_ipv4_checksum(p[IP])
        icmp = bytes(p[IP].payload)
        assert (icmp[0], icmp[1], int.from_bytes(icmp[6:8], "big")) == (3, 4, CUSTOMER_MTU)
        assert icmp[8:] == bytes(big[IP])[:28]
    else:
        assert (p[IPv6].src, p[IPv6].dst) == (REMOTE1_6, WEB1_6)
        ptb = p[ICMPv6PacketTooBig]
        assert ptb.mtu == CUSTOMER_MTU and valid_icmpv6_checksum(p, ICMPv6PacketTooBig)


def test_ipv4_without_df_too_big_is_fragmented_into_the_tunnel(rig: Rig, run_nve) -> None:
    """RFC 4459 3.4: the customer packet (DF clear) is fragmented, never the NVGRE packet:
    each fragment leaves in its own NVGRE packet that fits the network port's MTU, with
    the outer headers the switch built, and the fragments reassemble to what web1 sent."""
    run_nve()
    big = ip_packet("v4", CUSTOMER_MTU + 100, df=False)
    rig.drain()
    rig.ports[WEB1_PORT].send(from_web1(big))
    seen: list[bytes] = []

    def nvgre_fragment(frame: bytes) -> bool:
        p = Ether(frame)
        if IP not in p or p[IP].proto != 47:
            return False
        seen.append(frame)
        return len(seen) == 2

    assert rig.ports[NET_PORT].wait_for(nvgre_fragment, 5.0) is not None, (
        f"expected two NVGRE packets, got {len(seen)}"
    )
    assert rig.ports[NET_PORT].wait_for(lambda f: IP in Ether(f), 0.5) is None, "more than two"
    frags = []
    for frame in seen:
        p = Ether(frame)
        assert p[IP].len <= NET_MTU and p[IP].flags == 2, "fits the port, outer DF set"
        assert (p.src, p.dst, p[IP].src, p[IP].dst) == (NVE_MAC, SPINE_MAC, PA, REMOTE_PA)
        assert valid_ipv4_checksum(p[IP])
        cust = Ether(bytes(p[IP].payload)[8:])
        assert (cust.src, cust.dst) == (WEB1_MAC, REMOTE1_MAC)
        assert valid_ipv4_checksum(cust[IP])
        frags.append(cust[IP])
    whole = defragment(frags)
    assert len(whole) == 1 and bytes(whole[0]) == bytes(big[IP])


def test_a_flooded_frame_too_big_for_two_tunnels_is_answered_once(rig: Rig, run_nve) -> None:
    """Flooded to two remote NVEs, a DF packet too big for either is punted once per tunnel
    replica; its sender gets one fragmentation-needed, not one per replica."""
    run_nve(v6_underlay=True)
    unknown = ("52:54:00:b1:00:77", "192.168.10.77")
    big = ip_packet("v4", CUSTOMER_MTU + 1, to=unknown)
    rig.drain()
    rig.ports[WEB1_PORT].send(from_web1(big))
    answers: list[bytes] = []

    def icmp(frame: bytes) -> bool:
        if ICMP in Ether(frame):
            answers.append(frame)
        return False

    rig.ports[WEB1_PORT].wait_for(icmp, 2.0)
    assert len(answers) == 1, f"{len(answers)} answers"
    assert Ether(answers[0])[ICMP].type == 3
