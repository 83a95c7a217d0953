"""The events rig: one p4sim switch on veth pairs (tor1: port 1 access with a VLAN 50
binding and learned MACs, port 2 access with web1 on VLAN 60, port 3 network toward the
spine, behind which the remote NVE hv9 holds remote1), the description `nve run` gets, and
the frames the tests send and expect."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import (
    IPv6,
)
from scapy.layers.l2 import Ether
from scapy.utils import checksum

from lab.targets import RunningSwitch
from nve.entities import Exact, TableEntry
from nve.p4info import P4Index, load_p4info
from nve.p4rt_client import SwitchClient
from nve.reconcile import read_installed
from nve_ptf.packets import NVGRE, tagged
from tests.support.rawport import RawPort

VSID = 0x001001
NVE_MAC, PA, SPINE_MAC, REMOTE_PA = "02:00:0a:00:00:01", "10.0.0.1", "02:00:0b:00:00:01", "10.0.9.9"
GW_MAC, GW4, GW6 = "02:00:00:00:10:01", "192.168.10.1", "fd00:b1::1"
WEB1_MAC, WEB1_4, WEB1_6, WEB1_PORT, WEB1_VLAN = (
    "52:54:00:b1:00:01",
    "192.168.10.11",
    "fd00:b1::11",
    2,
    60,
)
REMOTE1_MAC, REMOTE1_4, REMOTE1_6 = "52:54:00:b1:00:99", "192.168.10.99", "fd00:b1::99"
REMOTE6_MAC, REMOTE6_4, PA6, REMOTE6_PA = (
    "52:54:00:b1:00:66",
    "192.168.10.66",
    "fd00:a::1",
    "fd00:9::9",
)
DB_VSID, DB_GW_MAC, DB_GW4, DB_GW6 = 0x001002, "02:00:00:00:10:02", "192.168.20.1", "fd00:b2::1"
DBR_MAC, DBR_4, DBR_6 = "52:54:00:b2:00:99", "192.168.20.99", "fd00:b2::99"
LEARN_PORT, LEARN_VLAN = 1, 50
HOST_MAC = "52:54:00:aa:00:01"  # in no description: learned
NET_PORT, NET_MTU = 3, 1400
# docs/pipeline.md, MTU: outer IP length = customer frame (untagged) + 8 (GRE with key) + 20 (outer
# IPv4); the customer frame is its IP packet + 14 (Ethernet). So the largest customer IP packet
# that leaves by the network port, and the MTU the sender must be told, is:
CUSTOMER_MTU = NET_MTU - 20 - 8 - 14
CUSTOMER_MTU_OVER_V6 = NET_MTU - 40 - 8 - 14  # with an outer IPv6 header


def overlay(
    switch: RunningSwitch, mac_ageing_s: int, v6_underlay: bool = False, routed: bool = False
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "switches": [
            {
                "name": "tor1",
                "address": switch.grpc_addr,
                "device_id": switch.device_id,
                "election_id": 10,
                "pipeline": {
                    "p4info": str(switch.pipeline.p4info),
                    "device_config": str(switch.pipeline.device_config),
                },
                "nve_mac": NVE_MAC,
                "local_pas": [PA],
                "mac_ageing_s": mac_ageing_s,
                "ports": [
                    {
                        "port": LEARN_PORT,
                        "role": "access",
                        "bindings": [{"vsid": VSID, "vlan": LEARN_VLAN}],
                    },
                    {"port": WEB1_PORT, "role": "access"},
                    {"port": NET_PORT, "role": "network", "mtu": NET_MTU},
                ],
                "next_hops": [{"name": "spine", "port": NET_PORT, "mac": SPINE_MAC}],
                "underlay_routes": [{"prefix": "10.0.0.0/16", "via": "spine"}],
            }
        ],
        "tenants": [
            {
                "name": "blue",
                "vrf": 1,
                "subnets": [
                    {
                        "name": "web",
                        "vsid": VSID,
                        "gateway": {"mac": GW_MAC, "ipv4": f"{GW4}/24", "ipv6": f"{GW6}/64"},
                    }
                ],
            }
        ],
        "endpoints": [
            {
                "name": "web1",
                "vsid": VSID,
                "mac": WEB1_MAC,
                "ipv4": WEB1_4,
                "ipv6": WEB1_6,
                "attachment": {"switch": "tor1", "port": WEB1_PORT, "vlan": WEB1_VLAN},
            },
            {
                "name": "remote1",
                "vsid": VSID,
                "mac": REMOTE1_MAC,
                "ipv4": REMOTE1_4,
                "ipv6": REMOTE1_6,
                "attachment": {"remote_nve": "hv9"},
            },
        ],
        "remote_nves": [{"name": "hv9", "pa": REMOTE_PA, "flow_id": False, "vsids": [VSID]}],
    }
    if v6_underlay:  # also an IPv6 local PA, and remote6 behind an NVE reached over IPv6
        sw = doc["switches"][0]
        sw["local_pas"].append(PA6)
        sw["underlay_routes"].append({"prefix": "fd00:9::/64", "via": "spine"})
        doc["endpoints"].append(
            {
                "name": "remote6",
                "vsid": VSID,
                "mac": REMOTE6_MAC,
                "ipv4": REMOTE6_4,
                "attachment": {"remote_nve": "hv6"},
            }
        )
        doc["remote_nves"].append(
            {"name": "hv6", "pa": REMOTE6_PA, "flow_id": False, "vsids": [VSID]}
        )
    if (
        routed
    ):  # a second subnet of the tenant, with dbr behind hv9: web1 reaches it through the gateway
        doc["tenants"][0]["subnets"].append(
            {
                "name": "db",
                "vsid": DB_VSID,
                "gateway": {"mac": DB_GW_MAC, "ipv4": f"{DB_GW4}/24", "ipv6": f"{DB_GW6}/64"},
            }
        )
        doc["endpoints"].append(
            {
                "name": "dbr",
                "vsid": DB_VSID,
                "mac": DBR_MAC,
                "ipv4": DBR_4,
                "ipv6": DBR_6,
                "attachment": {"remote_nve": "hv9"},
            }
        )
        doc["remote_nves"][0]["vsids"].append(DB_VSID)
    return doc


@dataclass
class Rig:
    switch: RunningSwitch
    ports: dict[int, RawPort]
    work: Path

    def drain(self) -> None:
        for p in self.ports.values():
            p.drain()

    def installed(self) -> list:
        """What the switch holds, read by a separate low-priority client (an operator's view)."""

        async def read():
            index = P4Index(load_p4info(self.switch.pipeline.p4info))
            async with SwitchClient(self.switch.grpc_addr, self.switch.device_id, 1) as client:
                return await read_installed(client, index)

        return asyncio.run(read())


# -- frames -------------------------------------------------------------------------------


def from_web1(frame) -> bytes:
    return bytes(tagged(frame, WEB1_VLAN))


def from_host(frame) -> bytes:
    return bytes(tagged(frame, LEARN_VLAN))


def from_network(inner) -> bytes:
    """inner encapsulated by the remote NVE hv9 toward this switch's PA (VSID 0x001001, FlowID 0)."""
    return bytes(
        Ether(src=SPINE_MAC, dst=NVE_MAC)
        / IP(src=REMOTE_PA, dst=PA, proto=47, flags="DF")
        / NVGRE(vsid=VSID, flow_id=0)
        / inner
    )


def is_nvgre_with_inner(inner: bytes):
    def match(frame: bytes) -> bool:
        p = Ether(frame)
        if IP in p and p[IP].proto == 47:
            return bytes(p[IP].payload)[8:] == inner
        return IPv6 in p and p[IPv6].nh == 47 and bytes(p[IPv6].payload)[8:] == inner

    return match


def exactly(expected: bytes):
    return lambda frame: frame == expected


def ip_packet(
    kind: str, length: int, *, df: bool = True, to: tuple[str, str] = (REMOTE1_MAC, REMOTE1_4)
):
    """web1 → remote1: an IPv4 (UDP, DF) or IPv6 (UDP) packet of exactly `length` bytes, in a frame."""
    eth = Ether(src=WEB1_MAC, dst=to[0])
    if kind == "v4":
        head = (
            eth
            / IP(src=WEB1_4, dst=to[1], flags="DF" if df else 0, id=0x1234)
            / UDP(sport=4000, dport=5000)
        )
    else:
        head = eth / IPv6(src=WEB1_6, dst=REMOTE1_6) / UDP(sport=4000, dport=5000)
    pad = length - (len(bytes(head)) - 14)
    frame = head / bytes(i & 0xFF for i in range(pad))
    frame = Ether(bytes(frame))
    assert len(bytes(frame)) - 14 == length
    return frame


def table_entries(installed, table: str, mac: str) -> list[TableEntry]:
    value = int(mac.replace(":", ""), 16)
    return [
        e
        for e in installed
        if isinstance(e, TableEntry)
        and e.table == table
        and dict(e.match).get("mac") == Exact(value)
    ]


def wait_until(cond, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = cond()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"not reached within {timeout} s: {what}")


def valid_ipv4_checksum(ip: IP) -> bool:
    return checksum(bytes(ip)[: ip.ihl * 4]) == 0


def valid_icmpv6_checksum(pkt, layer) -> bool:
    """Recompute the ICMPv6 checksum with scapy (pseudo-header included) and compare."""
    got = pkt[layer].cksum
    copy = Ether(bytes(pkt))
    del copy[layer].cksum
    return Ether(bytes(copy))[layer].cksum == got
