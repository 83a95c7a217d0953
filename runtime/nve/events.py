"""Data-plane events from a switch's stream: MAC learning digests, idle timeouts, packet-ins.

Learned MACs and their ageing change the desired state, so the handler only updates
`Controller.learned` and asks for a reconcile; the reconcile writes the entries.
Packet-ins are answered directly with a packet-out.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import struct
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from finsy.proto import p4r

from nve.codec import decode
from nve.compile import LearnedEndpoint
from nve.entities import TableEntry, match_value
from nve.fragment import NotFragmentable, fragment_nvgre
from nve.mac import Mac
from nve.model import LocalAttachment, Subnet
from nve.nvgre import NotNvgre, parse_nvgre, reply_nvgre
from nve.p4info import P4InfoError, decode_int, encode_int
from nve.p4names import Digest, DigestMember, Key, PacketIn, PacketOut, Punt, Table
from nve.packets import (
    Frame,
    checksum,
    echo_reply,
    frag_needed,
    neighbor_advertisement,
    ns_target,
    packet_too_big,
    parse_ethernet,
    time_exceeded,
)
from nve.tunnel_out import encapsulate, path_to

if TYPE_CHECKING:
    from nve.controller import Controller
    from nve.session import SwitchSession

log = logging.getLogger("nve.events")


def _punt_name(reason: int) -> str:
    try:
        return Punt(reason).name
    except ValueError:
        return "UNKNOWN"


OUTER_OVERHEAD = {4: 20 + 8 + 14, 6: 40 + 8 + 14}  # outer IP + GRE/key + inner Ethernet
ANSWER_HOLD_S = 0.5  # one MTU answer per frame from a port within this time
ANSWER_MEMORY = 4096  # frames remembered for that


class EventHandler:
    def __init__(
        self,
        ctl: Controller,
        request_reconcile: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
    ):
        self.ctl = ctl
        self.request_reconcile = request_reconcile
        self.clock = clock
        # MTU punts answered lately: (switch, port, frame) -> when. A flooded frame too
        # big for the tunnels is punted once per tunnel replica; its sender gets one answer.
        self._answered: dict[tuple[str, int, bytes], float] = {}

    async def __call__(self, session: SwitchSession, msg: p4r.StreamMessageResponse) -> None:
        kind = msg.WhichOneof("update")
        if kind == "digest":
            await self.on_digest(session, msg.digest)
        elif kind == "idle_timeout_notification":
            self.on_idle_timeout(session, msg.idle_timeout_notification)
        elif kind == "packet":
            await self.on_packet_in(session, msg.packet)
        elif kind == "error":
            log.warning("%s: stream error from switch: %s", session.name, msg.error.message)

    # -- learning -------------------------------------------------------------------------
    async def on_digest(self, session: SwitchSession, digest: p4r.DigestList) -> None:
        try:
            info = session.index.digest_by_id(digest.digest_id)
        except P4InfoError:
            return
        if info.name != Digest.MAC_LEARN_DIGEST:
            return
        changed = False
        names = info.members
        for data in digest.data:
            if not data.HasField("struct") or len(data.struct.members) != len(names):
                continue
            values = {n: decode_int(m.bitstring) for n, m in zip(names, data.struct.members)}
            try:
                vsid = values[DigestMember.VSID]
                mac = values[DigestMember.MAC]
                port = values[DigestMember.PORT]
            except KeyError:
                continue
            le = LearnedEndpoint(session.name, vsid, Mac(mac), port)
            if self.ctl.learn(le):
                changed = True
                log.info(
                    "%s: learned %s in VSID 0x%06X on port %d", session.name, le.mac, vsid, port
                )
        if session.client is not None:
            await session.client.digest_ack(digest.digest_id, digest.list_id)
        if changed:
            self.request_reconcile()

    def on_idle_timeout(self, session: SwitchSession, note: p4r.IdleTimeoutNotification) -> None:
        state = self.ctl.states.get(session.name)
        if state is None:
            return
        by_vsi = {i: v for v, i in state.vsi.items()}
        changed = False
        for te in note.table_entry:
            entry = decode(p4r.Entity(table_entry=te), session.index)
            if not isinstance(entry, TableEntry) or entry.table != Table.LEARN_SMAC:
                continue
            m = dict(entry.match)
            vsid = by_vsi.get(match_value(m[Key.VSI]))
            mac = Mac(match_value(m[Key.MAC]))
            if vsid is not None and self.ctl.age_out(session.name, vsid, mac):
                changed = True
                log.info("%s: aged out %s in VSID 0x%06X", session.name, mac, vsid)
        if changed:
            self.request_reconcile()

    # -- packet-in ------------------------------------------------------------------------
    async def on_packet_in(self, session: SwitchSession, pkt: p4r.PacketIn) -> None:
        meta = session.index.packet_metadata("packet_in")
        by_id = {m.id: m.name for m in meta.values()}
        values = {
            by_id.get(m.metadata_id, str(m.metadata_id)): decode_int(m.value) for m in pkt.metadata
        }
        reason = values.get(PacketIn.REASON, 0)
        name = _punt_name(reason)
        self.ctl.count_packet_in(name)
        port = values.get(PacketIn.INGRESS_PORT, 0)
        vsid = values.get(PacketIn.VSID, 0)
        if reason in (Punt.UNDERLAY_ARP, Punt.UNDERLAY_ND, Punt.UNDERLAY_LOCAL):
            # For the switch's kernel, when it has a control-plane host (nve.underlay).
            host = self.ctl.underlay_hosts.get(session.name)
            if host is not None:
                host.deliver(port, pkt.payload)
            return
        frame = parse_ethernet(pkt.payload)
        if frame is None:
            return
        reply = None
        if reason == Punt.FRAGMENT:
            await self._send_fragments(session, pkt.payload, port)
            return
        if reason == Punt.MTU_EXCEEDED:
            if self._answered_lately(session.name, port, pkt.payload):
                return
            vsid, sent = self._as_sent(session, frame, vsid, port)
            reply = self._mtu_reply(session, sent, vsid, port) if sent is not None else None
        elif reason == Punt.IPV6_NS:
            reply = self._ns_reply(frame, vsid)
        elif reason in (Punt.GATEWAY, Punt.TTL_EXPIRED):
            if not self._from_access(session, port):
                await self._reply_through_tunnel(session, reason, pkt.payload, frame, vsid, port)
                return
            vsid = self.sender_vsid(frame, vsid)
            reply = self._router_reply(reason, frame, vsid)
        if reply is not None and session.client is not None and session.client.is_primary:
            # An egress (MTU) punt had its tag removed: the answer gets the port's tag for the VSID.
            # An ingress punt (NS) is the frame as received, and the reply already copies its tag.
            tagged = reply if frame.vlan is not None else self._with_tag(session, reply, port, vsid)
            await self.packet_out(session, port, tagged)

    def sender_vsid(self, frame: Frame, vsid: int) -> int:
        """The subnet a routed frame came from: the tenant's subnet whose gateway prefix
        holds the frame's source address, else `vsid`. The v1model program punts with the
        ingress VSID already; the TNA program's TTL punt carries the VSID of the route's
        subnet (its route action rewrote it in the stage the TTL is checked in), and the
        answer must come from the sender's gateway, tagged with the sender's VLAN."""
        ip = frame.payload
        src: ipaddress.IPv4Address | ipaddress.IPv6Address
        if frame.ether_type == 0x0800 and len(ip) >= 20:
            src = ipaddress.IPv4Address(ip[12:16])
        elif frame.ether_type == 0x86DD and len(ip) >= 40:
            src = ipaddress.IPv6Address(ip[8:24])
        else:
            return vsid
        for candidate in sorted(self.ctl.index.tenant_vsids(vsid), key=lambda v: v != vsid):
            gw = (s := self._subnet(candidate)) and s.gateway
            if gw and any(a is not None and src in a.network for a in (gw.ipv4, gw.ipv6)):
                return candidate
        return vsid

    def _router_reply(self, reason: int, frame: Frame, vsid: int) -> bytes | None:
        if reason == Punt.GATEWAY:
            return self._gateway_reply(frame, vsid)
        return self._time_exceeded(frame, vsid)

    async def _reply_through_tunnel(
        self, session: SwitchSession, reason: int, packet: bytes, frame: Frame, vsid: int, port: int
    ) -> None:
        """A gateway or TTL punt from a network port, from a host behind a remote NVE (the
        NVE is the gateway of those hosts too). The answer is built from the customer
        frame, as for a local host, and goes back in NVGRE. The v1model program punts the
        NVGRE packet as received: the answer goes back to the NVE that sent it, by the port
        and neighbour it came from (nve.nvgre). The TNA program punts the customer frame
        Decap left (anything that is not NVGRE of the punt's VSID): the answer goes to the
        NVE the sender's MAC is behind, by the tunnel the switch uses for it
        (nve.tunnel_out)."""
        if session.client is None or not session.client.is_primary:
            return
        try:
            received = parse_nvgre(packet)
        except NotNvgre:
            received = None
        if received is not None and received.vsid == vsid:
            inner = parse_ethernet(received.inner)
            if inner is None:
                return
            reply = self._router_reply(reason, inner, vsid)
            if reply is not None:
                out = reply_nvgre(received, reply, session.switch.outer_ttl)
                await self.packet_out(session, port, out)
            return
        vsid = self.sender_vsid(frame, vsid)
        reply = self._router_reply(reason, frame, vsid)
        state = self.ctl.states.get(session.name)
        if reply is None or state is None:
            return
        path = path_to(state, vsid, frame.src_mac)
        if path is None:
            log.info(
                "%s: no tunnel toward %s in VSID 0x%06X: punt from port %d not answered",
                session.name,
                Mac(frame.src_mac),
                vsid,
                port,
            )
            return
        out = encapsulate(
            path, session.switch.nve_mac.packed, vsid, reply, session.switch.outer_ttl
        )
        await self.packet_out(session, path.port, out)

    def _answered_lately(self, switch: str, port: int, payload: bytes) -> bool:
        """Whether the same frame from the same port was answered within ANSWER_HOLD_S
        (then it is a replica's punt: not answered again). Remembers at most
        ANSWER_MEMORY frames."""
        now = self.clock()
        key = (switch, port, payload)
        last = self._answered.get(key)
        if last is not None and now - last < ANSWER_HOLD_S:
            return True
        if len(self._answered) >= ANSWER_MEMORY:
            self._answered = {k: t for k, t in self._answered.items() if now - t < ANSWER_HOLD_S}
            if len(self._answered) >= ANSWER_MEMORY:
                self._answered.clear()
        self._answered[key] = now
        return False

    @staticmethod
    async def packet_out(session: SwitchSession, port: int, frame: bytes) -> None:
        if session.client is None:
            return
        out = session.index.packet_metadata("packet_out")
        md = [
            p4r.PacketMetadata(
                metadata_id=out[PacketOut.EGRESS_PORT].id,
                value=encode_int(port, out[PacketOut.EGRESS_PORT].bitwidth),
            )
        ]
        md.extend(
            p4r.PacketMetadata(metadata_id=f.id, value=b"\x00")
            for f in out.values()
            if f.name != PacketOut.EGRESS_PORT
        )
        await session.client.packet_out(frame, md)

    async def _send_fragments(self, session: SwitchSession, packet: bytes, port: int) -> None:
        """PUNT_FRAGMENT: the NVGRE packet that did not fit `port` (its MTU from the
        description), sent again as NVGRE packets around fragments of its customer IPv4
        packet (nve.fragment), by packet-out to that port."""
        if session.client is None or not session.client.is_primary:
            return
        mtu = next((p.mtu for p in session.switch.ports if p.port == port), None)
        if mtu is None:
            return
        try:
            pieces = fragment_nvgre(packet, mtu)
        except NotFragmentable as exc:
            log.info("%s: punted packet for port %d not fragmented: %s", session.name, port, exc)
            return
        for piece in pieces:
            await self.packet_out(session, port, piece)
        self.ctl.stats.fragmented += 1

    def _subnet(self, vsid: int) -> Subnet | None:
        return self.ctl.index.subnet(vsid)

    def _as_sent(
        self, session: SwitchSession, frame: Frame, vsid: int, port: int
    ) -> tuple[int, Frame | None]:
        """The sender's VSID and packet, for an MTU punt of a packet that may have been routed.

        A routed packet is punted as egress left it (docs/pipeline.md): source MAC the
        destination subnet's gateway, VSID the destination's, TTL / hop limit decremented.
        The answer belongs to the sender, in its own subnet: the endpoint on this port with
        the packet's source address among the tenant's subnets. None when it is not known
        (e.g. a learned MAC, whose address the controller does not know).
        """
        sub = self._subnet(vsid)
        if sub is None or sub.gateway is None or frame.src_mac != sub.gateway.mac.packed:
            return vsid, frame
        ip = frame.payload
        if frame.ether_type == 0x0800 and len(ip) >= 20:
            src = ipaddress.ip_address(ip[12:16])
            ihl = (ip[0] & 0x0F) * 4
            hdr = bytearray(ip[:ihl])
            hdr[8] = min(hdr[8] + 1, 255)
            hdr[10:12] = b"\0\0"
            hdr[10:12] = checksum(bytes(hdr)).to_bytes(2, "big")
            ip = bytes(hdr) + ip[ihl:]
        elif frame.ether_type == 0x86DD and len(ip) >= 40:
            src = ipaddress.ip_address(ip[8:24])
            ip = ip[:7] + bytes([min(ip[7] + 1, 255)]) + ip[8:]
        else:
            return vsid, None
        tenant_vsids = self.ctl.index.tenant_vsids(vsid)
        for ep in self.ctl.index.endpoints_on(session.name, port):
            if ep.vsid in tenant_vsids and src in (ep.ipv4, ep.ipv6):
                return ep.vsid, dataclasses.replace(frame, src_mac=ep.mac.packed, payload=ip)
        return vsid, None

    def _mtu_reply(
        self, session: SwitchSession, frame: Frame, vsid: int, port: int
    ) -> bytes | None:
        """ICMP fragmentation needed / ICMPv6 packet too big for a punted oversize packet.

        From the subnet's gateway address of the packet's family; in a subnet without one
        (no gateway, or none of that family), from the packet's own destination address and
        MAC: the subnet has no router address, and a host accepts a PMTU message by the
        packet it quotes (RFC 1191 section 4, RFC 8201 section 4), so the sender still
        learns the MTU instead of losing its packets silently. Never from a multicast or
        unspecified destination."""
        sub = self._subnet(vsid)
        if sub is None:
            return None
        network_mtus = [p.mtu for p in session.switch.ports if p.role == "network"] or [1500]
        # The larger (IPv6) overhead as soon as any tunnel may use an IPv6 outer header: an MTU
        # that is too small costs a little, one that is too large is a black hole.
        outer_family = 6 if any(pa.version == 6 for pa in session.switch.local_pas) else 4
        mtu = min(network_mtus) - OUTER_OVERHEAD[outer_family]
        gw = sub.gateway
        gw_mac = gw.mac.packed if gw is not None else b""
        gw4 = gw.ipv4.ip if gw is not None and gw.ipv4 is not None else None
        gw6 = gw.ipv6.ip if gw is not None and gw.ipv6 is not None else None
        ip = frame.payload
        # validate_overlay keeps each gateway address in the field of its family.
        if frame.ether_type == 0x0800 and len(ip) >= 20:
            if isinstance(gw4, ipaddress.IPv4Address):
                return frag_needed(frame, mtu, gw_mac, gw4)
            dst4 = ipaddress.IPv4Address(ip[16:20])
            if (
                dst4.is_multicast
                or dst4.is_unspecified
                or dst4 == ipaddress.IPv4Address("255.255.255.255")
            ):
                return None
            return frag_needed(frame, mtu, frame.dst_mac, dst4)
        if frame.ether_type == 0x86DD and len(ip) >= 40:
            if isinstance(gw6, ipaddress.IPv6Address):
                return packet_too_big(frame, mtu, gw_mac, gw6)
            dst6 = ipaddress.IPv6Address(ip[24:40])
            if dst6.is_multicast or dst6.is_unspecified:
                return None
            return packet_too_big(frame, mtu, frame.dst_mac, dst6)
        return None

    @staticmethod
    def _from_access(session: SwitchSession, port: int) -> bool:
        """Whether `port` is an access port (a punt from a network port is the NVGRE packet
        as received)."""
        return any(p.port == port and p.role == "access" for p in session.switch.ports)

    def _gateway_reply(self, frame: Frame, vsid: int) -> bytes | None:
        """The answer of a tenant's gateway to ICMP addressed to one of its addresses: an
        Echo Reply from that address (any subnet's gateway in the tenant, reached through
        the sender's own gateway MAC), a Neighbor Advertisement to a unicast Neighbor
        Solicitation; nothing for other messages."""
        sub = self._subnet(vsid)
        if sub is None or sub.gateway is None or frame.dst_mac != sub.gateway.mac.packed:
            return None
        if ns_target(frame) is not None:
            return self._ns_reply(frame, vsid)
        ip = frame.payload
        if frame.ether_type == 0x0800 and len(ip) >= 20:
            dst: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.IPv4Address(ip[16:20])
        elif frame.ether_type == 0x86DD and len(ip) >= 40:
            dst = ipaddress.IPv6Address(ip[24:40])
        else:
            return None
        for other in self.ctl.index.tenant_vsids(vsid):
            gw = (s := self._subnet(other)) and s.gateway
            if gw and any(a is not None and a.ip == dst for a in (gw.ipv4, gw.ipv6)):
                return echo_reply(frame, sub.gateway.mac.packed, dst)
        return None

    def _time_exceeded(self, frame: Frame, vsid: int) -> bytes | None:
        """Time Exceeded for a packet whose TTL / hop limit ran out at the gateway, from the
        gateway address of the sender's subnet (the VSID is the ingress one: RFC 1812
        §4.3.2.4 wants an address of the interface the packet came in by)."""
        sub = self._subnet(vsid)
        if sub is None or sub.gateway is None or frame.dst_mac != sub.gateway.mac.packed:
            return None
        addr = sub.gateway.ipv4 if frame.ether_type == 0x0800 else sub.gateway.ipv6
        if addr is None:
            return None
        return time_exceeded(frame, sub.gateway.mac.packed, addr.ip)

    def _ns_reply(self, frame: Frame, vsid: int) -> bytes | None:
        """The Neighbor Advertisement answering a punted Neighbor Solicitation, or None.

        Answered for a target bound in the VSID (an endpoint, or the subnet's gateway),
        with the MAC it is bound to. A Duplicate Address Detection probe (source `::`,
        RFC 4862 §5.4.2) carries no source link-layer option: its sender is the frame's
        source MAC. The owner's own probe (source MAC = the bound MAC, whatever port the
        host is now on) is never answered, or every host would declare its address
        duplicate; a probe from any other MAC is answered (RFC 4862 §5.4.4, RFC 6957 §3):
        to all-nodes ff02::1 with S=0 (RFC 4861 §7.2.4), which the prober takes as a
        duplicate. The probe itself is forwarded by the pipeline as usual (a copy is punted).
        """
        parsed = ns_target(frame)
        if parsed is None:
            return None
        src, target = parsed
        bound: bytes | None = None
        ep = self.ctl.index.endpoint_at(vsid, target)
        sub = self._subnet(vsid)
        if ep is not None and ep.ipv6 == target:
            bound = ep.mac.packed
        elif (
            sub is not None
            and sub.gateway is not None
            and sub.gateway.ipv6 is not None
            and sub.gateway.ipv6.ip == target
        ):
            bound = sub.gateway.mac.packed
        if bound is None:
            return None
        if src.is_unspecified and frame.src_mac == bound:
            return None  # the owner's DAD probe: the address is its own
        return neighbor_advertisement(frame, target, bound)

    def _with_tag(self, session: SwitchSession, frame: bytes, port: int, vsid: int) -> bytes:
        vlan = None
        for ep in self.ctl.index.endpoints_on(session.name, port):
            if ep.vsid == vsid and isinstance(ep.attachment, LocalAttachment):
                vlan = ep.attachment.vlan
                break
        else:
            for p in session.switch.ports:
                if p.port == port:
                    for b in p.bindings:
                        if b.vsid == vsid:
                            vlan = b.vlan
        if vlan is None:
            return frame
        return frame[:12] + struct.pack("!HH", 0x8100, vlan) + frame[12:]
