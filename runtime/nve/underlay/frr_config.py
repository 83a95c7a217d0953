"""FRR's configuration for a switch's `underlay.bgp` (docs/underlay.md): one file per
daemon (zebra, bgpd, bfdd), read by daemons started with `-f`.

Choices that follow from FRR 8.4's behaviour:
- `no zebra nexthop kernel enable`: zebra writes plain multipath routes rather than kernel
  nexthop objects (with nexthop groups, ECMP did not recover after a link flap, and the
  kernel watcher reads routes, not `nhid` objects);
- `no bgp ebgp-requires-policy`: eBGP exchanges nothing without a policy otherwise;
- `bgp bestpath as-path multipath-relax`: ECMP over spines whose AS paths differ;
- `no bgp network import-check`: the provider addresses are announced whether or not the
  host has a route for them (IPv6 PAs are answered by proxy NDP, not carried by an
  interface);
- `timers connect 1`: a session comes back within a second of its peer;
- the TAPs' carrier is ignored (`no link-detect`, `no bgp fast-external-failover`): it
  drops whenever the controller stops, and a controller restart must not reset BGP or
  withdraw routes (P4Runtime reports no port status: link failures are found by BFD or
  the hold timer);
- BFD is not in the start-up configuration: `neighbor X bfd` set before the session is
  up cost one extra session reset, so it is added once the session is Established
  (`bfd_commands`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path

from nve.model import Bgp, BgpNeighbor, IPNetwork, Switch
from nve.underlay.tap import tap_name

# How long the peers keep a restarting FRR's routes, and zebra its routes in the kernel
# after it starts again (seconds; RFC 4724's default is 120).
GR_RESTART_SECONDS = 120
BFD_PROFILE = "nve"


def advertised(switch: Switch, bgp: Bgp) -> list[IPNetwork]:
    """The prefixes this switch announces: `advertise`, or its PAs as host prefixes (those
    of a family it has neighbours of)."""
    if bgp.advertise is not None:
        return list(bgp.advertise)
    families = {v for n in bgp.neighbors for v in n.families}
    return [
        ipaddress.ip_network(f"{pa}/{pa.max_prefixlen}")
        for pa in switch.local_pas
        if pa.version in families
    ]


def _header(hostname: str, run_dir: Path, daemon: str) -> list[str]:
    return [
        "frr defaults datacenter",
        f"hostname {hostname}",
        f"log file {run_dir / (daemon + '.log')} informational",
        "!",
    ]


def zebra_conf(
    hostname: str, run_dir: Path, forwarding: bool = False, steady: tuple[str, ...] = ()
) -> str:
    """`forwarding`: a router that forwards itself (a spine); a switch's host does not
    (the switch forwards), and zebra leaves the namespace's settings alone. `steady`:
    interfaces whose carrier zebra ignores (`no link-detect`): a switch's TAPs lose
    carrier whenever no controller holds them, which says nothing about the link."""
    lines = [*_header(hostname, run_dir, "zebra"), "no zebra nexthop kernel enable"]
    if forwarding:
        lines += ["ip forwarding", "ipv6 forwarding"]
    for dev in steady:
        lines += ["!", f"interface {dev}", " no link-detect", "exit"]
    return "\n".join([*lines, ""])


def bfdd_conf(hostname: str, run_dir: Path, bgp: Bgp) -> str:
    assert bgp.bfd is not None
    ms = bgp.bfd.interval_ms
    return "\n".join(
        [
            *_header(hostname, run_dir, "bfdd"),
            "bfd",
            f" profile {BFD_PROFILE}",
            f"  detect-multiplier {bgp.bfd.multiplier}",
            f"  receive-interval {ms}",
            f"  transmit-interval {ms}",
            " exit",
            "exit",
            "",
        ]
    )


def peer_name(n: BgpNeighbor, interfaces: Callable[[int], str] = tap_name) -> str:
    """How FRR names the neighbour: its address, or (unnumbered) its interface."""
    return str(n.address) if n.port is None else interfaces(n.port)


def bgpd_conf(
    hostname: str,
    run_dir: Path,
    bgp: Bgp,
    prefixes: list[IPNetwork],
    bfd_at_start: bool = False,
    interfaces: Callable[[int], str] = tap_name,
    graceful_restart: bool = False,
) -> str:
    """`bfd_at_start`: BFD in the start-up configuration, for a router whose BFD is not
    turned on session by session (a lab's spine); it costs one session reset.
    `graceful_restart`: a switch's FRR (RFC 4724): when it restarts, the peers keep its
    routes, marked stale, until it is back and has sent End-of-RIB (a switch's host moves
    between controller replicas; zebra keeps its routes in the kernel meanwhile:
    FrrInstance). Peers are GR helpers by default in FRR; a stop meant for good is made
    hard (FrrInstance.stop).
    `interfaces`: port -> interface name, for unnumbered neighbours (a switch's TAPs by
    default). An unnumbered neighbour is `neighbor IFNAME interface remote-as ASN`: bgpd
    turns on router advertisements on the interface, finds the peer's link-local address
    in its advertisements, negotiates the extended next hop capability and carries both
    families (zebra installs IPv4 routes through 169.254.0.1 with a permanent neighbour
    entry for the peer's MAC, which the kernel watcher maps like any other)."""
    lines = [
        *_header(hostname, run_dir, "bgpd"),
        f"router bgp {bgp.asn}",
        f" bgp router-id {bgp.router_id}",
        " no bgp ebgp-requires-policy",
        " no bgp default ipv4-unicast",
        " no bgp network import-check",
        " no bgp fast-external-failover",
        " bgp bestpath as-path multipath-relax",
        f" timers bgp {bgp.timers.keepalive} {bgp.timers.hold}",
    ]
    if graceful_restart:
        lines += [
            " bgp graceful-restart",
            " bgp graceful-restart preserve-fw-state",
            f" bgp graceful-restart restart-time {GR_RESTART_SECONDS}",
        ]
    for n in bgp.neighbors:
        name = peer_name(n, interfaces)
        unnumbered = " interface" if n.port is not None else ""
        lines += [
            f" neighbor {name}{unnumbered} remote-as {n.remote_asn}",
            f" neighbor {name} timers connect 1",
        ]
        if n.passive:
            lines.append(f" neighbor {name} passive")
        if bfd_at_start and bgp.bfd is not None:
            lines.append(f" neighbor {name} bfd profile {BFD_PROFILE}")
    for version, family in ((4, "ipv4"), (6, "ipv6")):
        peers = [n for n in bgp.neighbors if version in n.families]
        if not peers:
            continue
        lines.append(f" address-family {family} unicast")
        lines += [f"  network {p}" for p in prefixes if p.version == version]
        lines += [f"  neighbor {peer_name(n, interfaces)} activate" for n in peers]
        lines += [
            f"  maximum-paths {bgp.maximum_paths}",
            f"  maximum-paths ibgp {bgp.maximum_paths}",
            " exit-address-family",
        ]
    lines += ["exit", ""]
    return "\n".join(lines)


def render(
    hostname: str,
    run_dir: Path,
    bgp: Bgp,
    prefixes: list[IPNetwork],
    *,
    forwarding: bool = False,
    bfd_at_start: bool = False,
    steady: tuple[str, ...] = (),
    interfaces: Callable[[int], str] = tap_name,
    graceful_restart: bool = False,
) -> dict[str, str]:
    """File name -> text of every daemon's configuration."""
    files = {
        "zebra.conf": zebra_conf(hostname, run_dir, forwarding, steady),
        "bgpd.conf": bgpd_conf(
            hostname, run_dir, bgp, prefixes, bfd_at_start, interfaces, graceful_restart
        ),
    }
    if bgp.bfd is not None:
        files["bfdd.conf"] = bfdd_conf(hostname, run_dir, bgp)
    return files


def render_switch(switch: Switch, run_dir: Path) -> dict[str, str]:
    """The configuration of a switch's FRR, from its `underlay.bgp`."""
    assert switch.underlay is not None and switch.underlay.bgp is not None
    bgp = switch.underlay.bgp
    taps = tuple(tap_name(p.port) for p in switch.ports if p.role == "network")
    return render(
        switch.name, run_dir, bgp, advertised(switch, bgp), steady=taps, graceful_restart=True
    )


def bfd_commands(bgp: Bgp, peer: str) -> list[str]:
    """vtysh commands that turn BFD on for one (Established) neighbour."""
    return [
        "configure terminal",
        f"router bgp {bgp.asn}",
        f"neighbor {peer} bfd profile {BFD_PROFILE}",
    ]
