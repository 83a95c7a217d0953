"""Duplicate address detection through the NVE's ARP and ND proxies.

IPv6 DAD (RFC 4862 §5.4.3-5.4.4): a Neighbor Solicitation from the unspecified address
``::`` for the address the sender is about to use. It carries no source link-layer option,
so the sender is the frame's source MAC. The pipeline copies every NS from an access port
to the controller and still forwards it; the controller (``nve.events``) answers a probe for
an address bound to *another* MAC with the Neighbor Advertisement the owner would send
(all-nodes ff02::1, S=0: RFC 4861 §7.2.4; RFC 6957 §3 for a proxy defending addresses),
and never answers the owner's own probe, wherever the owner is now, or every guest that
runs DAD would declare its address duplicate. These tests run the real handler
(``EventHandler.on_packet_in``) on the packet-in the switch under test sends, through this
test's P4Runtime client, and check what the switch then emits.

IPv4 (RFC 5227 §2.1.1): an ARP probe (sender IP 0.0.0.0, target the probed address) is
answered by the pipeline's ARP proxy when the address is bound to another MAC (the
RFC 826 reply, as the owner would send it); the owner's probe, and gratuitous ARP from
anyone, are bridged like any broadcast.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import pytest
import yaml
from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, IPv6
from scapy.layers.l2 import Ether

from nve.controller import Controller
from nve.events import EventHandler
from nve.loader import parse_overlay
from nve.model import Switch
from nve.p4info import P4Index
from nve.p4names import Drop, PacketIn, Punt
from nve.p4rt_client import SwitchClient
from nve_ptf import entries as E
from nve_ptf import topo as T
from nve_ptf.base import Case
from nve_ptf.expect import expect, expect_forward, expect_nothing
from nve_ptf.packets import arp_reply, arp_request, flow_id, nvgre, tagged, untag

if TYPE_CHECKING:
    from nve.session import SwitchSession

pytestmark = pytest.mark.root

# Subnet A1: H2 is bound on port 2 (VLAN 100), HR1 behind remote NVE B, and the gateway.
H1_IP, H2_IP, HR1_IP, GW_IP = "10.1.0.5", "10.1.0.6", "10.1.0.9", "10.1.0.1"
H2_IP6, HR1_IP6, GW_IP6 = "fd00:1::6", "fd00:1::9", "fd00:1::1"
ALL_NODES_MAC = "33:33:00:00:00:01"


def _subnet(case: Case) -> None:
    """A1 on port 1 (untagged), port 2 (VLAN 100) and remote NVE B; ARP entries for H2, HR1,
    the gateway; punts to the controller."""
    case.install(
        T.roles(),
        E.subnet(T.VSI_A1, T.VSID_A1, vrf=T.VRF_A, gw_mac=T.GW_A1),
        E.attach(1, T.VSI_A1),
        E.attach(2, T.VSI_A1, vid=100),
        E.flood_group(T.VSI_A1, [1, 2], [(5, 1)]),
        E.replica(1, T.PA4, T.REMOTE4, smac=T.NVE_MAC, dmac=T.ROUTER_MAC[5]),
        E.arp_entry(T.VSI_A1, H2_IP, T.H2),
        E.arp_entry(T.VSI_A1, HR1_IP, T.HR1),
        E.arp_entry(T.VSI_A1, GW_IP, T.GW_A1),
        E.cpu_session(),
    )


def _flooded(case: Case, port: int, frame: Any) -> None:
    """frame, sent on access port 1 (untagged) or 2 (VLAN 100), is bridged as any broadcast:
    to the other access port and to remote NVE B, not back out of its own port."""
    untagged = untag(frame) if port == 2 else frame
    to_b = nvgre(
        untagged,
        src_pa=T.PA4,
        dst_pa=T.REMOTE4,
        vsid=T.VSID_A1,
        flow=flow_id(untagged),
        smac=T.NVE_MAC,
        dmac=T.ROUTER_MAC[5],
    )
    other = {1: (2, tagged(untagged, 100)), 2: (1, untagged)}[port]
    expect_forward(
        case, port, frame, {other[0]: other[1], 5: to_b}, drops={Drop.PRUNE_INGRESS_PORT: 1}
    )


def _on(port: int, frame: Any) -> Any:
    return tagged(frame, 100) if port == 2 else frame


# -- IPv4: ARP probes (pipeline) -------------------------------------------------------------


@pytest.mark.parametrize("port", [2, 1], ids=["home-port", "moved"])
def test_arp_probe_from_the_owner_is_bridged_not_answered(case: Case, port: int) -> None:
    """H2 probes its own address: bridged, on its own port or after it moved to another."""
    _subnet(case)
    _flooded(case, port, _on(port, arp_request(T.H2, "0.0.0.0", H2_IP)))


@pytest.mark.parametrize(
    "target,owner",
    [(H2_IP, T.H2), (HR1_IP, T.HR1), (GW_IP, T.GW_A1)],
    ids=["local-ca", "remote-ca", "gateway"],
)
@pytest.mark.parametrize("port", [1, 2], ids=["untagged", "tagged"])
def test_arp_probe_for_an_address_bound_elsewhere_is_answered(
    case: Case, port: int, target: str, owner: str
) -> None:
    """H1 probes an address bound to another MAC: the reply the owner would send (RFC 826,
    sender = the probed address and its MAC, target = the prober with IP 0.0.0.0), unicast
    out of the probe's port only (RFC 5227 §2.1.1: the prober sees the conflict)."""
    _subnet(case)
    probe = _on(port, arp_request(T.H1, "0.0.0.0", target))
    reply = _on(port, arp_reply(owner, target, T.H1, "0.0.0.0"))
    expect_forward(case, port, probe, {port: reply})


@pytest.mark.parametrize("sender", [T.H2, T.H1], ids=["owner", "other-mac"])
def test_gratuitous_arp_is_bridged(case: Case, sender: str) -> None:
    """Gratuitous ARP / announcement (sender IP = target IP = H2's): never answered, bridged."""
    _subnet(case)
    _flooded(case, 1, arp_request(sender, H2_IP, H2_IP))


def test_arp_probe_for_an_unbound_address_is_bridged(case: Case) -> None:
    _subnet(case)
    _flooded(case, 1, arp_request(T.H1, "0.0.0.0", "10.1.0.77"))


# -- IPv6: DAD probes (pipeline + the controller's handler) ----------------------------------


def _overlay(case: Case) -> Controller:
    """The controller's view of the same subnet: H2 with H2_IP6 on port 2 VLAN 100, HR1 with
    HR1_IP6 behind B, the gateway with GW_IP6."""
    sw = case.cp.switch
    doc = {
        "switches": [
            {
                "name": "sut",
                "address": sw.grpc_addr,
                "device_id": sw.device_id,
                "pipeline": {
                    "p4info": str(sw.pipeline.p4info),
                    "device_config": str(sw.pipeline.device_config),
                },
                "nve_mac": T.NVE_MAC,
                "local_pas": [T.PA4],
                "ports": [
                    {"port": 1, "role": "access"},
                    {"port": 2, "role": "access"},
                    {"port": 5, "role": "network"},
                ],
            }
        ],
        "tenants": [
            {
                "name": "a",
                "vrf": T.VRF_A,
                "subnets": [
                    {
                        "name": "a1",
                        "vsid": T.VSID_A1,
                        "gateway": {
                            "mac": T.GW_A1,
                            "ipv4": f"{GW_IP}/24",
                            "ipv6": f"{GW_IP6}/64",
                        },
                    }
                ],
            }
        ],
        "endpoints": [
            {
                "name": "h2",
                "vsid": T.VSID_A1,
                "mac": T.H2,
                "ipv4": H2_IP,
                "ipv6": H2_IP6,
                "attachment": {"switch": "sut", "port": 2, "vlan": 100},
            },
            {
                "name": "hr1",
                "vsid": T.VSID_A1,
                "mac": T.HR1,
                "ipv4": HR1_IP,
                "ipv6": HR1_IP6,
                "attachment": {"remote_nve": "b"},
            },
        ],
        "remote_nves": [{"name": "b", "pa": T.REMOTE4, "vsids": [T.VSID_A1]}],
    }
    return Controller(parse_overlay(yaml.safe_dump(doc), "test_dad"))


@dataclass
class _Session:
    """What EventHandler.on_packet_in uses of a SwitchSession: this test's client."""

    name: str
    switch: Switch
    index: P4Index
    client: SwitchClient


def _controller_answers(case: Case, ctl: Controller) -> None:
    """The packet-in the switch sent for the NS, handled by the controller's real handler;
    its packet-out (if any) goes through this test's primary client."""
    msg = case.packet_in_message()
    assert msg is not None, "no packet-in for the neighbor solicitation"
    names = {m.id: m.name for m in case.cp.index.packet_metadata("packet_in").values()}
    meta = {names[m.metadata_id]: int.from_bytes(m.value, "big") for m in msg.metadata}
    assert (meta[PacketIn.REASON], meta[PacketIn.VSID]) == (Punt.IPV6_NS, T.VSID_A1)
    session = _Session("sut", ctl.overlay.switches[0], case.cp.index, case.cp.client)
    handler = EventHandler(ctl, lambda: None)
    case.cp.run(handler.on_packet_in(cast("SwitchSession", session), msg))


def _dad_probe(smac: str, target: str) -> Any:
    """RFC 4862 §5.4.2: from ::, to the target's solicited-node group, no link-layer option."""
    low = ipaddress.IPv6Address(target).packed[-3:]
    group = ipaddress.IPv6Address(bytes.fromhex("ff0200000000000000000001ff") + low)
    mac = "33:33:" + ":".join(f"{b:02x}" for b in group.packed[-4:])
    return Ether(
        bytes(
            Ether(src=smac, dst=mac)
            / IPv6(src="::", dst=str(group), hlim=255)
            / ICMPv6ND_NS(tgt=target)
        )
    )


def _dad_defence(owner_mac: str, target: str) -> Any:
    """The NA the owner itself sends on a DAD probe (RFC 4861 §7.2.4, RFC 4862 §5.4.3): to
    all-nodes, S=0, O=1, with the target link-layer address option; checksum by scapy."""
    return Ether(
        bytes(
            Ether(src=owner_mac, dst=ALL_NODES_MAC)
            / IPv6(src=target, dst="ff02::1", hlim=255)
            / ICMPv6ND_NA(R=0, S=0, O=1, tgt=target)
            / ICMPv6NDOptDstLLAddr(lladdr=owner_mac)
        )
    )


@pytest.mark.parametrize("port", [2, 1], ids=["home-port", "moved"])
def test_dad_probe_from_the_owner_is_not_answered(case: Case, port: int) -> None:
    """H2 runs DAD for its own address: forwarded as before, copied to the controller,
    and no Neighbor Advertisement comes back (on its own port, or after it moved)."""
    _subnet(case)
    ctl = _overlay(case)
    _flooded(case, port, _on(port, _dad_probe(T.H2, H2_IP6)))
    _controller_answers(case, ctl)
    expect_nothing(case.test)


@pytest.mark.parametrize(
    "target,owner",
    [(H2_IP6, T.H2), (HR1_IP6, T.HR1), (GW_IP6, T.GW_A1)],
    ids=["local-ca", "remote-ca", "gateway"],
)
@pytest.mark.parametrize("port", [1, 2], ids=["untagged", "tagged"])
def test_dad_probe_for_an_address_bound_elsewhere_is_defended(
    case: Case, port: int, target: str, owner: str
) -> None:
    """H1 (port 1) or H3 (port 2) runs DAD for an address bound to another MAC: the probe is
    forwarded as before, and the controller sends the NA the owner would send, out of the
    prober's port only, so the prober finds the address duplicate."""
    _subnet(case)
    ctl = _overlay(case)
    prober = T.H1 if port == 1 else T.H3
    _flooded(case, port, _on(port, _dad_probe(prober, target)))
    _controller_answers(case, ctl)
    expect(case.test, {port: _on(port, _dad_defence(owner, target))})
