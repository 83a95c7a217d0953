"""Sentinel frames: how a batch is known to be complete on every port of a target.

bmv2 has one ingress thread, egress threads that each serve a set of ports, and reads
its ports in no fixed order across ports; p4sim reads a port up to 64 frames at a time.
Both keep the order of frames *per ingress port* through ingress, and *per egress port*
from ingress to the wire. So a frame that enters by port ``i`` after every frame of the
batch sent there, and leaves by port ``e``, proves that every output of those frames on
``e`` is out. The sentinels cover every (ingress, egress) pair that can carry traffic:

* from each access port, an ARP request for an unknown address in the sentinel subnet
  (tagged ``SENTINEL_VLAN``): flooded to every other access port and, through one remote
  NVE behind each network port, to every network port; and an ARP request for the
  sentinel gateway, which the ARP proxy answers out of the same access port;
* from each network port, an NVGRE frame of the sentinel subnet from the remote NVE
  behind it, whose inner broadcast floods to every access port. No frame from a network
  port can leave by a network port (split horizon), so nothing more is needed;
* from the CPU port (packet-outs, in stream order), one packet-out to each data port.

Punts reach the controller by another path (the CPU port, then the P4Runtime stream),
and MTU punts are made in egress. Once every data sentinel is out, every punt of the
batch is already queued toward the CPU port; one more frame punted then (an ARP on a
network port, phase 2) comes after all of them on the stream.

Every sentinel carries MAGIC, the batch number and its ingress port in its payload; the
frame generator never produces MAGIC.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from fuzz import wire
from fuzz.overlay import (
    ACCESS_PORTS,
    LOCAL_PA4,
    NETWORK_PORTS,
    NVE_MAC,
    SENTINEL_GW_IP,
    SENTINEL_PA,
    SENTINEL_VLAN,
    SENTINEL_VSID,
    sentinel_local_ip,
    sentinel_local_mac,
    sentinel_remote_mac,
)

MAGIC = b"\x7fNVGRE-FUZZ-SENTINEL\x7f"
_TAIL = struct.Struct("!IHBB")
KIND_FLOOD, KIND_REPLY, KIND_DECAP, KIND_PUNT, KIND_MARK, KIND_OUT = 1, 2, 3, 4, 5, 6
DATA_KINDS = (KIND_FLOOD, KIND_REPLY, KIND_DECAP, KIND_OUT)
MARK_PORT = ACCESS_PORTS[0]
ROUTER_MAC = "00:00:5e:00:53:ee"
SENTINEL_ETHERTYPE = 0x88B5  # IEEE 802 local experimental EtherType
UNKNOWN_TARGET = "10.255.0.250"


class Tag(NamedTuple):
    """What a sentinel says about itself."""

    batch: int
    seq: int
    port: int
    kind: int


def _trailer(batch: int, port: int, kind: int, seq: int = 0) -> bytes:
    return MAGIC + _TAIL.pack(batch & 0xFFFFFFFF, seq & 0xFFFF, port, kind)


def _access_pair(port: int, batch: int, kind: int, seq: int) -> list[tuple[int, bytes]]:
    """From an access port: an ARP request flooded everywhere else, and one the proxy
    answers out of the same port."""
    mac, ip = sentinel_local_mac(port), sentinel_local_ip(port)
    head = wire.ether(wire.BROADCAST, mac, wire.ETH_VLAN) + wire.vlan(SENTINEL_VLAN, wire.ETH_ARP)
    flood = head + wire.arp(1, mac, ip, "00:00:00:00:00:00", UNKNOWN_TARGET)
    reply = head + wire.arp(1, mac, ip, "00:00:00:00:00:00", SENTINEL_GW_IP)
    return [
        (port, flood + _trailer(batch, port, kind or KIND_FLOOD, seq)),
        (port, reply + _trailer(batch, port, kind or KIND_REPLY, seq)),
    ]


def data_sentinels(batch: int) -> list[tuple[int, bytes]]:
    """(ingress port, frame) for every data sentinel of ``batch``, in sending order."""
    out: list[tuple[int, bytes]] = []
    for p in ACCESS_PORTS:
        out += _access_pair(p, batch, 0, 0)
    for p in NETWORK_PORTS:
        inner = wire.ether(wire.BROADCAST, sentinel_remote_mac(p), SENTINEL_ETHERTYPE)
        inner += _trailer(batch, p, KIND_DECAP)
        gre = wire.gre_nvgre(SENTINEL_VSID, 0)
        ip = wire.ipv4(SENTINEL_PA[p], LOCAL_PA4, wire.PROTO_GRE, len(gre) + len(inner), flags=2)
        out.append((p, wire.ether(NVE_MAC, ROUTER_MAC, wire.ETH_IPV4) + ip + gre + inner))
    return out


def packet_out_sentinels(batch: int) -> list[tuple[int, bytes]]:
    """(egress port, payload) of one packet-out per data port, sent after the batch's
    packet-outs: the CPU port is an ingress port too."""
    out = []
    for p in (*ACCESS_PORTS, *NETWORK_PORTS):
        frame = wire.ether(wire.BROADCAST, ROUTER_MAC, SENTINEL_ETHERTYPE)
        out.append((p, frame + _trailer(batch, p, KIND_OUT)))
    return out


def expected_data_sentinels() -> dict[int, int]:
    """How many data sentinel frames each port sends per batch (packet-outs included)."""
    a, n = len(ACCESS_PORTS), len(NETWORK_PORTS)
    # access port: flood copies from the other access ports, its proxy reply, the decap
    # floods from each network port, one packet-out; network port: one flood copy from
    # each access port, one packet-out
    counts = dict.fromkeys(ACCESS_PORTS, (a - 1) + 1 + n + 1)
    counts.update(dict.fromkeys(NETWORK_PORTS, a + 1))
    return counts


def punt_sentinel(batch: int) -> tuple[int, bytes]:
    """Phase 2: an ARP request on the first network port, punted (PUNT_UNDERLAY_ARP)."""
    port = NETWORK_PORTS[0]
    frame = wire.ether(wire.BROADCAST, ROUTER_MAC, wire.ETH_ARP)
    frame += wire.arp(1, ROUTER_MAC, SENTINEL_PA[port], "00:00:00:00:00:00", LOCAL_PA4)
    return port, frame + _trailer(batch, port, KIND_PUNT)


def markers(batch: int, seq: int) -> list[tuple[int, bytes]]:
    """A pacing marker: the flood and proxy pair from one access port, one copy out of
    every port (fuzz.runner, "Pacing")."""
    return _access_pair(MARK_PORT, batch, KIND_MARK, seq)


def parse(frame: bytes) -> Tag | None:
    """What the sentinel in ``frame`` says (a sentinel, or a frame carrying one), else None."""
    at = frame.find(MAGIC)
    if at < 0 or len(frame) < at + len(MAGIC) + _TAIL.size:
        return None
    return Tag(*_TAIL.unpack_from(frame, at + len(MAGIC)))
