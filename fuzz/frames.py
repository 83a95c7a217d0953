"""The frames sent to both switches: generated from the overlay and a seed, batch by batch.

Batch ``b`` of seed ``s`` is drawn from its own generator (``random.Random("frames/s/b")``),
so any batch can be rebuilt on its own: a difference is reproduced from (seed, batch)
without generating the batches before it.

Each frame has a *category*, the path it is built for, and a *kind*:

* categories: ``bridged`` (access to a local CA), ``encap`` (access to a CA behind a
  remote NVE), ``decap`` (NVGRE from a remote NVE to a local CA, a remote CA or an unknown
  MAC), ``bum`` (broadcast, multicast, unknown unicast, from either side; underlay group
  destinations too), ``routed`` (to a subnet gateway MAC: CAs of other subnets, prefix
  routes, the VPN default route, misses, TTL 0-2, wrong checksums; from either side),
  ``punted`` (IPv6 NS on access ports, ARP and ND on network ports, customer packets
  around the network ports' MTUs), ``arp`` (requests the proxy answers or must not:
  probes, gratuitous, unknown targets, replies);
  ``packet-out`` (a frame of another category sent by the controller, out of a data
  port, a port without an interface, the CPU port or the drop port; its ``port`` is the
  CPU port and its bytes start with the packet_out header);
* kinds: ``valid`` (as built), ``mutated`` (:func:`fuzz.mutate.mutate`, sometimes sent on
  another port), ``truncated``, and ``random`` (category ``random``: random bytes or an
  Ethernet header with a random body).

Valid frames vary what the pipeline looks at: 802.1Q tags (right, wrong, priority
tagged, stacked), IPv4 options, fragments, DF, ECN and DSCP, TCP/UDP/other protocols,
IPv6 with and without a fragment header, outer IPv4 and IPv6, outer tags, FlowIDs,
known and unknown source MACs (learning digests).
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Callable
from dataclasses import dataclass

from fuzz import mutate, wire
from fuzz.overlay import (
    ALL_PORTS,
    LOCAL_PA4,
    LOCAL_PA4_ALT,
    LOCAL_PA6,
    NETWORK_PORTS,
    NVE_MAC,
    Endpoint,
    Subnet,
    World,
)

CATEGORIES = ("bridged", "encap", "decap", "bum", "routed", "punted", "arp", "packet-out")
CATEGORY_WEIGHTS = (14, 14, 14, 14, 14, 14, 14, 2)
CPU_PORT = 255
# Packet-outs: mostly to a data port; also to ports with no interface, the CPU port
# itself and the drop port.
PACKET_OUT_PORTS = (*ALL_PORTS, *ALL_PORTS, 0, 7, 100, CPU_PORT, 511)
KINDS = ("valid", "mutated", "truncated", "random")
KIND_WEIGHTS = (50, 25, 12, 13)
ROUTER_MACS = ("00:00:5e:00:53:a5", "00:00:5e:00:53:a6", "00:00:5e:00:53:b5")
ZERO_MAC = "00:00:00:00:00:00"
PROBE_SENDER = str(ipaddress.IPv4Address(0))  # ARP probe: sender IP 0.0.0.0 (RFC 5227)
NOT_NVGRE = (
    0xA0006558,
    0x60006558,
    0x30006558,
    0x00006558,
    0x20016558,
    0x20076558,
    0x20000800,
    0x21006558,
)


@dataclass(frozen=True)
class Frame:
    """One frame to send: the switch port it enters by, its bytes, what it is."""

    port: int
    data: bytes
    category: str
    kind: str


@dataclass(frozen=True)
class Source:
    """Where an access frame comes from: port, tag, source MAC and addresses."""

    port: int
    vlan: int | None
    vsid: int
    mac: str
    ipv4: str | None
    ipv6: str | None


def _rand_mac(rng: random.Random) -> str:
    return "02:%02x:%02x:%02x:%02x:%02x" % tuple(rng.randrange(256) for _ in range(5))


def _rand_v4(rng: random.Random, net: str = "0.0.0.0/0") -> str:
    n = ipaddress.IPv4Network(net)
    return str(n.network_address + rng.randrange(n.num_addresses))


def _rand_v6(rng: random.Random, net: str = "::/0") -> str:
    n = ipaddress.IPv6Network(net)
    return str(n.network_address + rng.randrange(min(n.num_addresses, 1 << 64)))


def _payload(rng: random.Random, size: int) -> bytes:
    return rng.randbytes(max(0, size))


def packet_out_header(egress_port: int) -> bytes:
    """The 2-byte packet_out header (9-bit egress port, 7 bits of padding)."""
    return (egress_port << 7).to_bytes(2, "big")


def split_packet_out(data: bytes) -> tuple[int, bytes]:
    """(egress port, payload) of a frame for the CPU port."""
    return int.from_bytes(data[:2], "big") >> 7, data[2:]


def tag(frame: bytes, vid: int, pcp: int = 0, tpid: int = wire.ETH_VLAN) -> bytes:
    """``frame`` with a tag inserted after the MACs."""
    return frame[:12] + tpid.to_bytes(2, "big") + wire.vlan(vid, 0, pcp)[:2] + frame[12:]


class FrameGenerator:
    """Frames for one overlay; ``batch(b, n)`` is the same list for the same (seed, b, n)."""

    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.seed = seed
        self.macs = sorted({e.mac for e in world.endpoints} | {NVE_MAC})
        self.with_local = [v for v in world.vsids if world.local[v]]
        self.with_remote = [v for v in self.with_local if world.remote[v]]
        self.builders: dict[str, Callable[[random.Random], tuple[int, bytes]]] = {
            "bridged": self._bridged,
            "encap": self._encap,
            "decap": self._decap,
            "bum": self._bum,
            "routed": self._routed,
            "punted": self._punted,
            "arp": self._arp,
        }

    def batch(self, index: int, size: int) -> list[Frame]:
        rng = random.Random(f"frames/{self.seed}/{index}")
        return [self.frame(rng) for _ in range(size)]

    def frame(self, rng: random.Random) -> Frame:
        kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
        if kind == "random":
            return Frame(rng.choice(ALL_PORTS), mutate.random_frame(rng, self.macs), "random", kind)
        category = rng.choices(CATEGORIES, CATEGORY_WEIGHTS)[0]
        if category == "packet-out":
            port, data = self.builders[rng.choice(CATEGORIES[:-1])](rng)
        else:
            port, data = self.builders[category](rng)
        if kind == "mutated":
            data = mutate.mutate(rng, data)
            if rng.random() < 0.1:
                port = rng.choice(ALL_PORTS)
        elif kind == "truncated":
            data = mutate.truncate(rng, data)
        if category == "packet-out":
            return Frame(
                CPU_PORT, packet_out_header(rng.choice(PACKET_OUT_PORTS)) + data, category, kind
            )
        return Frame(port, data, category, kind)

    # -- customer packets ----------------------------------------------------------------
    def _ipv4(
        self,
        rng: random.Random,
        src: str,
        dst: str,
        *,
        ttl: int | None = None,
        size: int | None = None,
        df: bool | None = None,
    ) -> bytes:
        """An IPv4 packet; ``size`` is the wanted total length (big packets)."""
        proto = rng.choices(
            (wire.PROTO_UDP, wire.PROTO_TCP, 1, wire.PROTO_GRE, rng.randrange(256)),
            (50, 25, 10, 5, 10),
        )[0]
        options = b""
        if rng.random() < 0.1:
            n = rng.randint(1, 10) * 4
            options = rng.choice((b"\x01" * (n - 1) + b"\x00", _payload(rng, n)))
        flags = (2 if (df if df is not None else rng.random() < 0.5) else 0) | (
            1 if rng.random() < 0.05 else 0
        )
        frag = rng.randrange(1, 8192) if rng.random() < 0.05 else 0
        head = 20 + len(options)
        body_len = (size - head) if size is not None else rng.choice((0, 8, 18, 40, 100, 300))
        body_len = max(0, body_len)
        if proto == wire.PROTO_UDP:
            body = wire.udp(rng.randrange(65536), rng.randrange(65536), _payload(rng, body_len - 8))
        elif proto == wire.PROTO_TCP:
            body = wire.tcp(
                rng.randrange(65536), rng.randrange(65536), _payload(rng, body_len - 20)
            )
        else:
            body = _payload(rng, body_len)
        csum = rng.randrange(65536) if rng.random() < 0.05 else None
        return (
            wire.ipv4(
                src,
                dst,
                proto,
                len(body),
                ttl=ttl if ttl is not None else rng.choice((64, 64, 128, 2, 1, 0, 255)),
                dscp=rng.choice((0, 0, 10, 46, rng.randrange(64))),
                ecn=rng.randrange(4),
                ident=rng.randrange(65536),
                flags=flags,
                frag=frag,
                options=options,
                checksum=csum,
            )
            + body
        )

    def _ipv6(
        self,
        rng: random.Random,
        src: str,
        dst: str,
        *,
        hop_limit: int | None = None,
        size: int | None = None,
    ) -> bytes:
        nh = rng.choices(
            (wire.PROTO_UDP, wire.PROTO_TCP, wire.PROTO_ICMPV6, wire.PROTO_IPV6_FRAG, 59),
            (45, 25, 15, 10, 5),
        )[0]
        body_len = (size - 40) if size is not None else rng.choice((0, 8, 24, 60, 200))
        body_len = max(0, body_len)
        if nh == wire.PROTO_UDP:
            body = wire.udp(rng.randrange(65536), rng.randrange(65536), _payload(rng, body_len - 8))
        elif nh == wire.PROTO_TCP:
            body = wire.tcp(
                rng.randrange(65536), rng.randrange(65536), _payload(rng, body_len - 20)
            )
        elif nh == wire.PROTO_ICMPV6:
            body = bytes([rng.choice((128, 129, 135, 136, 1))]) + _payload(rng, body_len - 1)
        elif nh == wire.PROTO_IPV6_FRAG:
            body = (
                bytes([wire.PROTO_UDP, 0])
                + rng.randrange(65536).to_bytes(2, "big")
                + _payload(rng, 4 + body_len)
            )
        else:
            body = _payload(rng, body_len)
        return (
            wire.ipv6(
                src,
                dst,
                nh,
                len(body),
                hop_limit=hop_limit if hop_limit is not None else rng.choice((64, 255, 2, 1, 0)),
                dscp=rng.randrange(64),
                ecn=rng.randrange(4),
                flow_label=rng.randrange(1 << 20) if rng.random() < 0.3 else 0,
            )
            + body
        )

    def _customer(
        self,
        rng: random.Random,
        dmac: str,
        smac: str,
        v4: tuple[str, str] | None,
        v6: tuple[str, str] | None,
        *,
        ttl: int | None = None,
        size: int | None = None,
        df: bool | None = None,
    ) -> bytes:
        """An untagged customer frame: IPv4 or IPv6 (when addresses are given), ARP, other."""
        kinds = ["ipv4"] * 4 * (v4 is not None) + ["ipv6"] * 3 * (v6 is not None)
        if size is None:
            kinds += ["arp", "other"]
        if not kinds:
            kinds = ["ipv4"]
            v4 = (_rand_v4(rng, "10.0.0.0/8"), _rand_v4(rng, "10.0.0.0/8"))
        kind = rng.choice(kinds)
        l3size = None if size is None else size - 14
        if kind == "ipv4":
            if v4 is None:
                v4 = (_rand_v4(rng, "10.0.0.0/8"), _rand_v4(rng, "10.0.0.0/8"))
            body = self._ipv4(rng, v4[0], v4[1], ttl=ttl, size=l3size, df=df)
            return wire.ether(dmac, smac, wire.ETH_IPV4) + body
        if kind == "ipv6" and v6 is not None:
            body = self._ipv6(rng, v6[0], v6[1], hop_limit=ttl, size=l3size)
            return wire.ether(dmac, smac, wire.ETH_IPV6) + body
        if kind == "arp":
            tpa = v4[1] if v4 else _rand_v4(rng, "10.0.0.0/8")
            spa = v4[0] if v4 else _rand_v4(rng, "10.0.0.0/8")
            body = wire.arp(rng.choice((1, 2)), smac, spa, dmac, tpa)
            return wire.ether(dmac, smac, wire.ETH_ARP) + body + _payload(rng, rng.choice((0, 18)))
        et = rng.choice((0x88B6, 0x9000, 0x88CC, 0x0842, rng.randrange(0x600, 0x10000), 0x0100))
        return wire.ether(dmac, smac, et) + _payload(rng, rng.choice((0, 10, 46, 200)))

    # -- sources and encapsulation ---------------------------------------------------------
    def _source(self, rng: random.Random, vsid: int | None = None) -> Source:
        """A sender on an access port: mostly a configured CA (its port and tag); sometimes
        an unknown MAC on a bound port (learning), a learned-MAC binding, a wrong tag."""
        w = self.world
        if vsid is None and rng.random() < 0.05 and w.extra_bindings:
            port, v, vlan = rng.choice(w.extra_bindings)
            return Source(port, vlan, v, _rand_mac(rng), None, None)
        v = vsid if vsid is not None else rng.choice(self.with_local)
        ep = rng.choice(w.local[v])
        assert ep.port is not None
        mac = ep.mac if rng.random() < 0.9 else _rand_mac(rng)
        vlan = ep.vlan
        r = rng.random()
        if r < 0.03:
            vlan = rng.randrange(1, 4095)  # a VLAN not bound on the port, most likely
        elif r < 0.05 and vlan is None:
            vlan = 0  # priority tagged
        return Source(ep.port, vlan, v, mac, ep.ipv4, ep.ipv6)

    def _on_access(self, rng: random.Random, src: Source, frame: bytes) -> tuple[int, bytes]:
        if src.vlan is not None:
            frame = tag(frame, src.vlan, pcp=rng.choice((0, 0, 0, 5)))
        r = rng.random()
        if r < 0.02:
            frame = tag(frame, rng.randrange(1, 4095))  # stacked tags
        elif r < 0.03:
            frame = tag(frame, rng.randrange(1, 4095), tpid=wire.ETH_QINQ)
        return src.port, frame

    def _peer(self, rng: random.Random, vsid: int) -> str:
        """Outer source PA: a remote NVE of the VSID, mostly; another NVE; any address."""
        w = self.world
        r = rng.random()
        if r < 0.85 and w.peers.get(vsid):
            return rng.choice(w.peers[vsid]).pa
        if r < 0.95:
            return rng.choice(w.remote_nves).pa
        return rng.choice((_rand_v4(rng, "198.51.100.0/24"), _rand_v6(rng, "2001:db8:100::/64")))

    def _encapsulate(
        self, rng: random.Random, vsid: int, inner: bytes, src_pa: str | None = None
    ) -> tuple[int, bytes]:
        """``inner`` in NVGRE to this NVE, as a remote NVE sends it, on a network port."""
        w = self.world
        pa = src_pa or self._peer(rng, vsid)
        port = rng.choice(NETWORK_PORTS)
        first_word = 0x20006558
        if rng.random() < 0.05:  # GRE, but not NVGRE: C, routing, S, K=0, version, protocol
            first_word = rng.choice(NOT_NVGRE)
        gre = wire.gre_nvgre(vsid, rng.randrange(256), first_word)
        fragment = rng.random() < 0.04
        if fragment and ":" in pa:  # an IPv6 Fragment header in front of GRE
            gre = (
                bytes([wire.PROTO_GRE, 0])
                + rng.randrange(65536).to_bytes(2, "big")
                + bytes(4)
                + gre
            )
        payload_len = len(gre) + len(inner)
        group = w.subnets[vsid].bum_group if vsid in w.subnets else None
        dmac = NVE_MAC
        if ":" in pa:
            dst = rng.choice((LOCAL_PA6, LOCAL_PA6, _rand_v6(rng, "2001:db8::/64")))
            outer = wire.ipv6(
                pa,
                dst,
                wire.PROTO_IPV6_FRAG if fragment else wire.PROTO_GRE,
                payload_len,
                hop_limit=rng.choice((64, 1, 255)),
                dscp=rng.randrange(64),
                ecn=rng.randrange(4),
            )
            et = wire.ETH_IPV6
        else:
            choices = [LOCAL_PA4, LOCAL_PA4, LOCAL_PA4_ALT, _rand_v4(rng, "192.0.2.0/24")]
            if group is not None:
                choices += [group, group]
            dst = rng.choice(choices)
            if dst == group:
                dmac = wire.ipv4_multicast_mac(group)
            opts = b"\x01\x01\x01\x00" if rng.random() < 0.05 else b""
            outer = wire.ipv4(
                pa,
                dst,
                wire.PROTO_GRE,
                payload_len,
                ttl=rng.choice((64, 1, 255)),
                dscp=rng.randrange(64),
                ecn=rng.randrange(4),
                ident=rng.randrange(65536),
                flags=rng.choice((1, 3)) if fragment else rng.choice((0, 2, 2, 2)),
                frag=rng.choice((0, 1, 185)) if fragment else 0,
                options=opts,
            )
            et = wire.ETH_IPV4
        frame = wire.ether(dmac, rng.choice(ROUTER_MACS), et) + outer + gre + inner
        if rng.random() < 0.1:
            frame = tag(frame, rng.choice((100, 200, rng.randrange(1, 4095))))
        return port, frame

    def _remote_sender(self, rng: random.Random, vsid: int) -> Endpoint | None:
        remote = self.world.remote[vsid]
        return rng.choice(remote) if remote else None

    @staticmethod
    def _addrs(
        a: Endpoint | Source | None, b: Endpoint | None
    ) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
        if a is None or b is None:
            return None, None
        v4 = (a.ipv4, b.ipv4) if a.ipv4 and b.ipv4 else None
        v6 = (a.ipv6, b.ipv6) if a.ipv6 and b.ipv6 else None
        return v4, v6

    # -- categories ----------------------------------------------------------------------
    def _bridged(self, rng: random.Random) -> tuple[int, bytes]:
        src = self._source(rng)
        dst = rng.choice(self.world.local[src.vsid])
        v4, v6 = self._addrs(src, dst)
        return self._on_access(rng, src, self._customer(rng, dst.mac, src.mac, v4, v6))

    def _encap(self, rng: random.Random) -> tuple[int, bytes]:
        src = self._source(rng, rng.choice(self.with_remote))
        dst = rng.choice(self.world.remote[src.vsid])
        v4, v6 = self._addrs(src, dst)
        return self._on_access(rng, src, self._customer(rng, dst.mac, src.mac, v4, v6))

    def _decap(self, rng: random.Random) -> tuple[int, bytes]:
        w = self.world
        vsid = rng.choice(self.with_local)
        if rng.random() < 0.05:
            vsid = rng.choice((rng.randrange(0x1000), 0xFFFFFF, rng.randrange(1 << 24)))
        sender = self._remote_sender(rng, vsid) if vsid in w.subnets else None
        smac = sender.mac if sender is not None else _rand_mac(rng)
        r = rng.random()
        dst: Endpoint | None = None
        if vsid in w.subnets and w.local[vsid] and r < 0.75:
            dst = rng.choice(w.local[vsid])
        elif vsid in w.subnets and w.remote[vsid] and r < 0.9:
            dst = rng.choice(w.remote[vsid])  # split horizon
        dmac = dst.mac if dst is not None else _rand_mac(rng)
        v4, v6 = self._addrs(sender, dst)
        inner = self._customer(rng, dmac, smac, v4, v6)
        if rng.random() < 0.03:
            inner = tag(inner, rng.randrange(1, 4095))  # a tagged inner frame is dropped
        return self._encapsulate(rng, vsid, inner)

    def _bum_dmac(self, rng: random.Random) -> str:
        return rng.choice(
            (
                wire.BROADCAST,
                wire.BROADCAST,
                wire.ipv4_multicast_mac(_rand_v4(rng, "224.0.0.0/4")),
                "33:33:%02x:%02x:%02x:%02x" % tuple(rng.randrange(256) for _ in range(4)),
                _rand_mac(rng),  # unknown unicast
                "01:80:c2:00:00:0e",
            )
        )

    def _bum(self, rng: random.Random) -> tuple[int, bytes]:
        w = self.world
        dmac = self._bum_dmac(rng)
        if rng.random() < 0.6:
            src = self._source(rng)
            v4 = (src.ipv4, _rand_v4(rng, "224.0.0.0/4")) if src.ipv4 else None
            v6 = (src.ipv6, "ff02::1") if src.ipv6 else None
            return self._on_access(rng, src, self._customer(rng, dmac, src.mac, v4, v6))
        vsid = rng.choice(w.vsids)
        sender = self._remote_sender(rng, vsid)
        smac = sender.mac if sender is not None else _rand_mac(rng)
        v4 = (sender.ipv4, "255.255.255.255") if sender is not None and sender.ipv4 else None
        return self._encapsulate(rng, vsid, self._customer(rng, dmac, smac, v4, None))

    def _routed_target(self, rng: random.Random, subnet: Subnet, v6: bool) -> str:
        """A destination for a packet to the gateway: a CA of the tenant, an address in
        a route prefix, or anything (VPN default route, or a miss)."""
        w = self.world
        tenant = w.tenant_of(subnet.vsid)
        tenant_vsids = {s.vsid for s in tenant.subnets}
        cas = [
            e.ipv6 if v6 else e.ipv4
            for e in w.endpoints
            if e.vsid in tenant_vsids and (e.ipv6 if v6 else e.ipv4)
        ]
        prefixes = [
            r.prefix for r in w.routes if r.tenant == tenant.name and (":" in r.prefix) == v6
        ]
        r = rng.random()
        if r < 0.6 and cas:
            return str(rng.choice(cas))
        if r < 0.8 and prefixes:
            p = rng.choice(prefixes)
            return _rand_v6(rng, p) if v6 else _rand_v4(rng, p)
        return _rand_v6(rng, "fd00::/8") if v6 else _rand_v4(rng, "0.0.0.0/0")

    def _routed(self, rng: random.Random) -> tuple[int, bytes]:
        w = self.world
        ttl = rng.choice((64, 64, 64, 2, 1, 0, 255))
        if rng.random() < 0.7:
            src = self._source(rng)
            subnet = w.subnets[src.vsid]
            v4 = (src.ipv4, self._routed_target(rng, subnet, False)) if src.ipv4 else None
            v6 = (src.ipv6, self._routed_target(rng, subnet, True)) if src.ipv6 else None
            frame = self._customer(rng, subnet.gw_mac, src.mac, v4, v6, ttl=ttl)
            return self._on_access(rng, src, frame)
        vsid = rng.choice(w.vsids)
        subnet = w.subnets[vsid]
        sender = self._remote_sender(rng, vsid)
        if sender is None:
            return self._bum(rng)
        v4 = (sender.ipv4, self._routed_target(rng, subnet, False)) if sender.ipv4 else None
        v6 = (sender.ipv6, self._routed_target(rng, subnet, True)) if sender.ipv6 else None
        inner = self._customer(rng, subnet.gw_mac, sender.mac, v4, v6, ttl=ttl)
        return self._encapsulate(rng, vsid, inner)

    def _punted(self, rng: random.Random) -> tuple[int, bytes]:
        w = self.world
        r = rng.random()
        if r < 0.3:  # IPv6 Neighbor Solicitation on an access port (punted and flooded)
            src = self._source(rng)
            subnet = w.subnets[src.vsid]
            targets = [e.ipv6 for e in w.local[src.vsid] + w.remote[src.vsid] if e.ipv6]
            if subnet.gw_v6 is not None:
                targets.append(str(subnet.gw_v6.ip))
            target = rng.choice(targets) if targets else _rand_v6(rng, "fd00::/8")
            group, gmac = wire.solicited_node(target)
            sip = src.ipv6 if src.ipv6 and rng.random() < 0.8 else "::"
            body = wire.icmpv6_nd(wire.ICMPV6_NS, target, src.mac if sip != "::" else None)
            ip6 = wire.ipv6(sip, group, wire.PROTO_ICMPV6, len(body), hop_limit=255)
            frame = wire.ether(gmac, src.mac, wire.ETH_IPV6) + ip6 + body
            return self._on_access(rng, src, frame)
        if r < 0.5:  # ARP on a network port (punted, consumed)
            smac = rng.choice(ROUTER_MACS)
            oper = rng.choice((1, 1, 2))
            dmac = wire.BROADCAST if oper == 1 else NVE_MAC
            body = wire.arp(oper, smac, _rand_v4(rng, "192.0.2.0/24"), ZERO_MAC, LOCAL_PA4)
            frame = wire.ether(dmac, smac, wire.ETH_ARP) + body
            if rng.random() < 0.2:
                frame = tag(frame, 100)
            return rng.choice(NETWORK_PORTS), frame
        if r < 0.65:  # IPv6 ND on a network port (punted, consumed)
            mtype = rng.choice((wire.ICMPV6_NS, wire.ICMPV6_NA, 133, 134))
            body = wire.icmpv6_nd(mtype, LOCAL_PA6, rng.choice(ROUTER_MACS))
            group, gmac = wire.solicited_node(LOCAL_PA6)
            ip6 = wire.ipv6("fe80::1", group, wire.PROTO_ICMPV6, len(body), hop_limit=255)
            frame = wire.ether(gmac, rng.choice(ROUTER_MACS), wire.ETH_IPV6) + ip6 + body
            return rng.choice(NETWORK_PORTS), frame
        # A customer packet around the network ports' MTUs (1500 and 1400): dropped when
        # too big, punted if IPv4 with DF or IPv6.
        src = self._source(rng, rng.choice(self.with_remote))
        dst = rng.choice(w.remote[src.vsid])
        v4, v6 = self._addrs(src, dst)
        size = rng.randint(1330, 1490)
        frame = self._customer(rng, dst.mac, src.mac, v4, v6, size=size, df=rng.random() < 0.8)
        return self._on_access(rng, src, frame)

    def _arp(self, rng: random.Random) -> tuple[int, bytes]:
        w = self.world
        src = self._source(rng)
        subnet = w.subnets[src.vsid]
        cas = [e.ipv4 for e in w.local[src.vsid] + w.remote[src.vsid] if e.ipv4]
        targets = [*cas, str(subnet.gw_v4.ip), _rand_v4(rng, str(subnet.gw_v4.network))]
        tpa = rng.choice(targets)
        spa = src.ipv4 or _rand_v4(rng, str(subnet.gw_v4.network))
        r = rng.random()
        if r < 0.1:
            spa = PROBE_SENDER  # probe
        elif r < 0.2:
            spa = tpa  # gratuitous
        oper, dmac, tha = 1, wire.BROADCAST, ZERO_MAC
        if rng.random() < 0.15:  # a reply, unicast
            dst = rng.choice(w.local[src.vsid])
            oper, dmac, tha = 2, dst.mac, dst.mac
        body = wire.arp(oper, src.mac, spa, tha, tpa)
        if rng.random() < 0.05:  # not Ethernet/IPv4 ARP
            body = body[:4] + bytes([rng.choice((4, 6, 8)), rng.choice((4, 6, 16))]) + body[6:]
        frame = wire.ether(dmac, src.mac, wire.ETH_ARP) + body + _payload(rng, rng.choice((0, 18)))
        return self._on_access(rng, src, frame)
