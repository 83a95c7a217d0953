"""Routing punts as the TNA program sends them, answered by the controller on a real switch.

The TNA program punts a TTL-expired frame after its route lookup has moved the frame to the
route's subnet (the VSID in the packet_in is the destination subnet's), and its punted copy
is the frame as ingress left it: the access port's 802.1Q tag already removed
(docs/tna.md). The controller must still answer from the gateway of the sender's subnet,
tagged with the sender's VLAN. These tests hand such packet_ins to the controller's
EventHandler (no Tofino here) and check what the switch (p4sim, on veths) sends out of the
sender's port: the answer is a real packet_out through the pipeline.
"""

from __future__ import annotations

import asyncio

import pytest
import yaml
from finsy.proto import p4r
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6TimeExceeded, IPv6
from scapy.layers.l2 import Dot1Q, Ether

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
    rig: Rig, tmp_path, reason: int, vsid: int, frame: bytes, layer: type
) -> bytes | None:
    """A controller for the rig's routed description reconciles the switch, then handles one
    packet_in (reason, the sender's port, vsid, frame) as if the switch had punted it; the
    first frame with `layer` out of the sender's port within 5 s, taken while the
    controller is still connected (the switch drops a packet-out whose stream has closed)."""
    path = tmp_path / "overlay.yaml"
    path.write_text(yaml.safe_dump(overlay(rig.switch, 300, routed=True), sort_keys=False))

    async def run() -> bytes | None:
        ctl = Controller(load_overlay(path))
        await ctl.connect()
        try:
            await ctl.reconcile()
            session = ctl.sessions["tor1"]
            fields = session.index.packet_metadata("packet_in")
            values = {
                PacketIn.REASON: reason,
                PacketIn.INGRESS_PORT: WEB1_PORT,
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
            port = rig.ports[WEB1_PORT]
            return await asyncio.to_thread(port.wait_for, lambda x: layer in Ether(x), 5.0)
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
