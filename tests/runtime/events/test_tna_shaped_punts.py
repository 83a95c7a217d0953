"""Routing punts as the TNA program sends them, answered by the controller on a real switch.

The TNA program punts a TTL-expired frame after its route lookup has moved the frame to the
route's subnet (the VSID in the packet_in is the destination subnet's), and its punted copy
is the frame as ingress left it: the access port's 802.1Q tag already removed, and from a
network port the NVGRE headers too (docs/tna.md). The controller must still answer from
the gateway of the sender's subnet, tagged with the sender's VLAN, or encapsulated toward
the NVE the sender is behind. These tests hand such packet_ins to the controller's
EventHandler (no Tofino here) and check what the switch (p4sim, on veths) sends out of the
sender's port: the answer is a real packet_out through the pipeline.
"""

from __future__ import annotations

import asyncio

import pytest
import yaml
from finsy.proto import p4r
from scapy.layers.inet import ICMP, IP, UDP, UDPerror
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6TimeExceeded, IPv6
from scapy.layers.l2 import GRE, Dot1Q, Ether

from nve.controller import Controller
from nve.events import EventHandler
from nve.loader import load_overlay
from nve.p4info import encode_int
from nve.p4names import PacketIn, Punt
from tests.runtime.events.rig import (
    DB_VSID,
    DBR_4,
    DBR_6,
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
    WEB1_4,
    WEB1_6,
    WEB1_MAC,
    WEB1_PORT,
    WEB1_VLAN,
    Rig,
    overlay,
)

pytestmark = pytest.mark.root


def _hand_over(
    rig: Rig,
    tmp_path,
    reason: int,
    vsid: int,
    frame: bytes,
    layer: type,
    port: int = WEB1_PORT,
    v6_underlay: bool = False,
) -> bytes | None:
    """A controller for the rig's routed description reconciles the switch, then handles one
    packet_in (reason, `port`, vsid, frame) as if the switch had punted it; the first frame
    with `layer` out of `port` within 5 s, taken while the controller is still connected
    (the switch drops a packet-out whose stream has closed)."""
    path = tmp_path / "overlay.yaml"
    doc = overlay(rig.switch, 300, v6_underlay=v6_underlay, routed=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))

    async def run() -> bytes | None:
        ctl = Controller(load_overlay(path))
        await ctl.connect()
        try:
            await ctl.reconcile()
            session = ctl.sessions["tor1"]
            fields = session.index.packet_metadata("packet_in")
            values = {
                PacketIn.REASON: reason,
                PacketIn.INGRESS_PORT: port,
                PacketIn.VSID: vsid,
            }
            metadata = [
                p4r.PacketMetadata(
                    metadata_id=fields[name].id, value=encode_int(value, fields[name].bitwidth)
                )
                for name, value in values.items()
            ]
            rig.drain()
            handler = EventHandler(ctl, lambda: None)
            await handler.on_packet_in(session, p4r.PacketIn(payload=frame, metadata=metadata))
            out = rig.ports[port]
            return await asyncio.to_thread(out.wait_for, lambda x: layer in Ether(x), 5.0)
        finally:
            await ctl.close()

    return asyncio.run(run())


@pytest.mark.parametrize("kind", ["v4", "v6"])
def test_a_ttl_punt_with_the_route_s_vsid_is_answered_from_the_sender_s_gateway(
    rig: Rig, tmp_path, kind: str
) -> None:
    """The TNA TTL punt: VSID of the destination subnet (db), the frame untagged. The Time
    Exceeded comes from web's gateway address (RFC 1812 4.3.2.4), to web1, on web1's
    VLAN. Before the controller chose the sender's subnet by its source address it sent
    nothing: db's gateway MAC is not the frame's destination MAC."""
    eth = Ether(src=WEB1_MAC, dst=GW_MAC)
    if kind == "v4":
        f = eth / IP(src=WEB1_4, dst=DBR_4, ttl=1) / UDP(sport=4001, dport=33434) / b"tr"
    else:
        f = eth / IPv6(src=WEB1_6, dst=DBR_6, hlim=1) / UDP(sport=4001, dport=33434) / b"tr"
    layer = ICMP if kind == "v4" else ICMPv6TimeExceeded
    reply = _hand_over(rig, tmp_path, Punt.TTL_EXPIRED, DB_VSID, bytes(f), layer)
    assert reply is not None, "no Time Exceeded"
    p = Ether(reply)
    assert (p.dst, p.src, p[Dot1Q].vlan) == (WEB1_MAC, GW_MAC, WEB1_VLAN)
    if kind == "v4":
        assert (p[IP].src, p[IP].dst, p[ICMP].type) == (GW4, WEB1_4, 11)
    else:
        assert (p[IPv6].src, p[IPv6].dst) == (GW6, WEB1_6)


def test_an_untagged_gateway_punt_is_answered_on_the_sender_s_vlan(rig: Rig, tmp_path) -> None:
    """The TNA gateway punt: the ingress VSID, the frame untagged; the Echo Reply gets the
    VLAN web1's port carries for web."""
    f = (
        Ether(src=WEB1_MAC, dst=GW_MAC)
        / IPv6(src=WEB1_6, dst=GW6)
        / ICMPv6EchoRequest(id=7, seq=1, data=b"tna")
    )
    reply = _hand_over(rig, tmp_path, Punt.GATEWAY, VSID, bytes(f), ICMPv6EchoReply)
    assert reply is not None, "no Echo Reply"
    p = Ether(reply)
    assert (p.dst, p[Dot1Q].vlan, p[IPv6].src, p[ICMPv6EchoReply].data) == (
        WEB1_MAC,
        WEB1_VLAN,
        GW6,
        b"tna",
    )


def _nvgre_out(reply: bytes) -> Ether:
    """The customer frame of an NVGRE packet the switch sent, after checking its outer
    headers are those of the tunnel toward hv9 (10.0.9.9, by the spine next hop)."""
    p = Ether(reply)
    assert (p.src, p.dst) == (NVE_MAC, SPINE_MAC)
    assert (p[IP].src, p[IP].dst, p[IP].proto, p[IP].flags.DF) == (PA, REMOTE_PA, 47, True)
    assert p[IP].ttl == 64  # the switch's outer_ttl (default)
    gre = p[GRE]
    assert (gre.key_present, gre.chksum_present, gre.seqnum_present, gre.proto) == (1, 0, 0, 0x6558)
    assert (gre.key >> 8, gre.key & 0xFF) == (VSID, 0)  # VSID, FlowID 0
    return Ether(bytes(gre.payload))


@pytest.mark.parametrize("kind", ["v4", "v6"])
def test_a_gateway_punt_from_a_network_port_is_answered_through_the_sender_s_tunnel(
    rig: Rig, tmp_path, kind: str
) -> None:
    """The TNA gateway punt from a network port: the customer frame Decap left (no NVGRE
    headers), the ingress VSID. The Echo Reply goes to remote1 in NVGRE toward hv9, the
    NVE remote1 is behind, by the switch's next hop toward it. Before, a punt from a
    network port that was not NVGRE was not answered."""
    eth = Ether(src=REMOTE1_MAC, dst=GW_MAC)
    if kind == "v4":
        f = eth / IP(src=REMOTE1_4, dst=GW4) / ICMP(type=8, id=5, seq=1) / b"net"
    else:
        f = eth / IPv6(src=REMOTE1_6, dst=GW6) / ICMPv6EchoRequest(id=5, seq=1, data=b"net")
    reply = _hand_over(rig, tmp_path, Punt.GATEWAY, VSID, bytes(f), GRE, port=NET_PORT)
    assert reply is not None, "no NVGRE answer on the network port"
    inner = _nvgre_out(reply)
    assert (inner.src, inner.dst) == (GW_MAC, REMOTE1_MAC)
    if kind == "v4":
        assert (inner[IP].src, inner[IP].dst, inner[ICMP].type) == (GW4, REMOTE1_4, 0)
        assert bytes(inner[ICMP].payload) == b"net"
    else:
        assert (inner[IPv6].src, inner[IPv6].dst) == (GW6, REMOTE1_6)
        assert inner[ICMPv6EchoReply].data == b"net"


def test_a_ttl_punt_from_a_network_port_is_answered_from_the_sender_s_gateway(
    rig: Rig, tmp_path
) -> None:
    """The TNA TTL punt from a network port: remote1 (web, behind hv9) to dbr (db) with TTL
    1, the frame as received, with db's VSID (the route's). Time Exceeded from web's
    gateway address, in web's VSID, toward hv9."""
    f = (
        Ether(src=REMOTE1_MAC, dst=GW_MAC)
        / IP(src=REMOTE1_4, dst=DBR_4, ttl=1)
        / UDP(sport=4002, dport=33435)
        / b"tr"
    )
    reply = _hand_over(rig, tmp_path, Punt.TTL_EXPIRED, DB_VSID, bytes(f), GRE, port=NET_PORT)
    assert reply is not None, "no NVGRE answer on the network port"
    inner = _nvgre_out(reply)
    assert (inner.src, inner.dst) == (GW_MAC, REMOTE1_MAC)
    assert (inner[IP].src, inner[IP].dst, inner[ICMP].type) == (GW4, REMOTE1_4, 11)
    assert inner[UDPerror].dport == 33435


def test_a_network_punt_toward_an_ipv6_underlay_nve_gets_an_ipv6_outer_header(
    rig: Rig, tmp_path
) -> None:
    """remote6 is behind hv6, reached over the IPv6 underlay: the answer leaves in NVGRE over
    IPv6, from the switch's IPv6 PA."""
    f = (
        Ether(src=REMOTE6_MAC, dst=GW_MAC)
        / IP(src=REMOTE6_4, dst=GW4)
        / ICMP(type=8, id=6, seq=2)
        / b"six"
    )
    reply = _hand_over(
        rig, tmp_path, Punt.GATEWAY, VSID, bytes(f), GRE, port=NET_PORT, v6_underlay=True
    )
    assert reply is not None, "no NVGRE answer on the network port"
    p = Ether(reply)
    assert (p.src, p.dst) == (NVE_MAC, SPINE_MAC)
    assert (p[IPv6].src, p[IPv6].dst, p[IPv6].nh) == (PA6, REMOTE6_PA, 47)
    inner = Ether(bytes(p[GRE].payload))
    assert (inner.dst, inner[IP].src, inner[IP].dst, inner[ICMP].type) == (
        REMOTE6_MAC,
        GW4,
        REMOTE6_4,
        0,
    )


def test_a_network_punt_from_a_mac_no_tunnel_leads_to_is_not_answered(rig: Rig, tmp_path) -> None:
    """A customer frame from a MAC the switch has no tunnel for (not in the description,
    not learned): nothing goes out, on any port."""
    f = Ether(src="52:54:00:ee:00:01", dst=GW_MAC) / IP(src="192.168.10.77", dst=GW4) / ICMP()
    assert _hand_over(rig, tmp_path, Punt.GATEWAY, VSID, bytes(f), GRE, port=NET_PORT) is None
