"""The control-plane host of one switch: its namespace, TAPs, addresses and relay.

For a switch whose description has `underlay:`, the namespace (default `nve-SWITCH`)
gets one TAP per network port, named `portN`, with the switch's MAC, the port's MTU and
the port's `addresses`; the switch's provider addresses sit on the namespace's loopback
(so the kernel answers what is sent to them; IPv6 ones are also answered by proxy NDP on
every port, since Linux answers a Neighbor Solicitation only for addresses of the
interface it came in on). The description's static next hops and routes become permanent
neighbours and static routes (nve.underlay.static). Namespace and TAPs persist when the controller stops, so a restart finds the same interfaces, neighbours and
routes.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from nve.model import Switch
from nve.underlay import netns, static
from nve.underlay.relay import TapRelay
from nve.underlay.tap import open_tap, tap_name

log = logging.getLogger("nve.underlay")

IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface


def namespace_of(switch: Switch) -> str:
    assert switch.underlay is not None
    return switch.underlay.namespace or f"nve-{switch.name}"


@dataclass(frozen=True)
class TapPlan:
    port: int
    name: str
    mtu: int
    addresses: tuple[IPInterface, ...]


def plan_taps(switch: Switch) -> list[TapPlan]:
    return [
        TapPlan(p.port, tap_name(p.port), p.mtu, tuple(p.addresses))
        for p in switch.ports
        if p.role == "network"
    ]


class UnderlayHost:
    def __init__(self, switch: Switch, send: Callable[[int, bytes], None]):
        if switch.underlay is None:
            raise ValueError(f"switch {switch.name} has no underlay: section")
        self.switch = switch
        self.namespace = namespace_of(switch)
        self._send = send
        self.relay: TapRelay | None = None

    def start(self) -> UnderlayHost:
        ns = self.namespace
        if netns.ensure(ns):
            log.info("%s: created namespace %s", self.switch.name, ns)
        netns.ip("link", "set", "dev", "lo", "up", namespace=ns)
        # A router: the kernel answers Neighbor Solicitations for the IPv6 PAs by proxy NDP,
        # which Linux does only on interfaces that forward.
        netns.sysctl(ns, "net.ipv6.conf.all.forwarding", "1")
        netns.sysctl(ns, "net.ipv6.conf.all.proxy_ndp", "1")
        self._own_addresses("lo", [self._pa_interface(pa) for pa in self.switch.local_pas])
        fds: dict[int, int] = {}
        try:
            for tap in plan_taps(self.switch):
                fds[tap.port] = open_tap(ns, tap.name)
                self._configure(tap)
            taps = {t.port: t.name for t in plan_taps(self.switch)}
            static.apply(ns, *static.plan(self.switch, taps))
        except BaseException:
            for fd in fds.values():
                os.close(fd)
            raise
        self.relay = TapRelay(fds, self._send).start()
        log.info(
            "%s: control-plane host %s: %s",
            self.switch.name,
            ns,
            ", ".join(
                f"{t.name} {' '.join(map(str, t.addresses)) or '-'}" for t in plan_taps(self.switch)
            )
            or "no network ports",
        )
        return self

    def _pas(self, version: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        return [pa for pa in self.switch.local_pas if pa.version == version]

    @staticmethod
    def _pa_interface(pa: ipaddress.IPv4Address | ipaddress.IPv6Address) -> IPInterface:
        return ipaddress.ip_interface(f"{pa}/{pa.max_prefixlen}")

    def _configure(self, tap: TapPlan) -> None:
        ns = self.namespace
        mac = str(self.switch.nve_mac)
        netns.ip("link", "set", "dev", tap.name, "address", mac, "mtu", str(tap.mtu), namespace=ns)
        netns.sysctl(ns, f"net.ipv6.conf.{tap.name}.accept_dad", "0")
        netns.ip("link", "set", "dev", tap.name, "up", namespace=ns)
        self._own_addresses(tap.name, list(tap.addresses))
        for pa in self._pas(6):
            netns.ip("-6", "neigh", "replace", "proxy", str(pa), "dev", tap.name, namespace=ns)

    def _own_addresses(self, dev: str, wanted: list[IPInterface]) -> None:
        """Make `dev`'s global addresses exactly `wanted` (link-local and loopback kept)."""
        ns = self.namespace
        shown = json.loads(netns.ip("-j", "addr", "show", "dev", dev, namespace=ns) or "[]")
        have = {
            ipaddress.ip_interface(f"{a['local']}/{a['prefixlen']}")
            for link in shown
            for a in link.get("addr_info", [])
            if a.get("scope") == "global"
        }
        for extra in have - set(wanted):
            netns.ip("addr", "del", str(extra), "dev", dev, namespace=ns)
        for addr in wanted:
            if addr not in have:
                flags = ("nodad",) if addr.version == 6 else ()
                netns.ip("addr", "replace", str(addr), "dev", dev, *flags, namespace=ns)

    def deliver(self, port: int, frame: bytes) -> bool:
        """A punted frame for the host (ARP, ND, IP to its addresses) to its port's TAP."""
        return self.relay is not None and self.relay.deliver(port, frame)

    def close(self) -> None:
        """Stop relaying; the namespace and its TAPs stay for the next start."""
        if self.relay is not None:
            self.relay.stop()
            self.relay = None
