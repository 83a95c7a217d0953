"""`nve run`'s BGP side: the FRR instance of each switch with `underlay.bgp`, kept
running its description's configuration, its sessions followed (for the log, `nve
show` and the metrics) and BFD added to each session once it is Established.

The daemons outlive `nve run` (nve.underlay.frr): a restart of the controller finds them
running and leaves the sessions alone; a changed `underlay.bgp` restarts them; an
`underlay.bgp` added by a reload starts them, and one removed (or its switch removed from
the description) stops them, so zebra withdraws what BGP had installed in the kernel and
the switch's underlay tables follow.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from nve.model import Switch
from nve.underlay.frr import FrrError, FrrInstance, Peer, frr_missing

log = logging.getLogger("nve.underlay")

POLL_S = 1.0


@dataclass
class BgpState:
    """The latest reading of one switch's sessions."""

    peers: list[Peer] = field(default_factory=list)
    running: bool = False
    error: str = ""


class BgpService:
    """FRR starts once its switch is ready (pipeline and punt entries written by the first
    reconcile): started earlier, its first TCP connections would be lost and the kernel's
    SYN retries back off for tens of seconds. When the switch is ready again (a reconnect,
    a new primary), sessions that are not up are retried at once."""

    def __init__(self) -> None:
        self.wanted: dict[str, tuple[Switch, str]] = {}  # name -> (switch, namespace)
        self.instances: dict[str, FrrInstance] = {}
        self.states: dict[str, BgpState] = {}
        self.relaying: set[str] = set()  # switches that were ready at least once

    def want(self, switch: Switch, namespace: str) -> None:
        """Run this switch's FRR once it is ready (FrrError now if FRR cannot run here)."""
        why = frr_missing()
        if why is not None:
            raise FrrError(why)
        self.wanted[switch.name] = (switch, namespace)
        self.states.setdefault(switch.name, BgpState())

    def ready(self, name: str) -> None:
        """The switch `name` relays now: start its FRR, or retry its sessions that are down
        (blocking: run it on a worker thread)."""
        self.relaying.add(name)
        if name not in self.wanted:
            return
        try:
            inst = self.instances.get(name)
            if inst is None:
                self.start(*self.wanted[name])
                return
            for p in inst.peers():
                if not p.established:
                    inst.vtysh(f"clear bgp {p.address}")
        except (FrrError, OSError, ValueError) as exc:
            log.warning("%s: BGP: %s", name, exc)
            self.states[name].error = str(exc)

    def start(self, switch: Switch, namespace: str) -> None:
        """Have this switch's FRR run its description (FrrError if it cannot)."""
        inst = FrrInstance.of_switch(switch, namespace)
        inst.start()
        self.instances[switch.name] = inst
        self.states.setdefault(switch.name, BgpState())

    def forget(
        self,
        name: str,
        *,
        stop: bool = True,
        graceful: bool = False,
        why: str = "underlay.bgp removed",
    ) -> None:
        """Stop following this switch's FRR and, with `stop`, stop it if it runs (blocking);
        `graceful`: another controller starts it again (FrrInstance.stop)."""
        self.wanted.pop(name, None)
        self.states.pop(name, None)
        inst = self.instances.pop(name, None)
        if inst is not None and stop:
            inst.stop(graceful=graceful)
            log.info("%s: %s: FRR stopped", name, why)

    def sync(
        self, switch_of: Callable[[str], Switch | None], hosts: Callable[[], dict[str, str]]
    ) -> None:
        """Follow a reloaded description (blocking): `hosts()` names the switches whose
        control-plane host runs, with its namespace. A switch that lost `underlay.bgp` (or
        left the description) has its FRR stopped; one that gained it is wanted, and
        started now if its switch was ready before."""
        for name in list(self.wanted):
            sw = switch_of(name)
            if sw is None or sw.underlay is None or sw.underlay.bgp is None:
                try:
                    self.forget(name)
                except OSError as exc:
                    log.warning("%s: BGP: stopping FRR: %s", name, exc)
        for name, namespace in hosts().items():
            sw = switch_of(name)
            if name in self.wanted or sw is None or sw.underlay is None or sw.underlay.bgp is None:
                continue
            try:
                self.want(sw, namespace)
                log.info("%s: underlay.bgp added: FRR starts", name)
            except FrrError as exc:
                log.warning("%s: BGP: %s", name, exc)
                continue
            if name in self.relaying:
                self.ready(name)

    def _refresh(self, name: str, switch: Switch | None) -> None:
        """One poll of one switch (on a worker thread: vtysh is a subprocess)."""
        inst = self.instances[name]
        state = self.states[name]
        try:
            want = switch.underlay.bgp if switch is not None and switch.underlay else None
            if switch is not None and want is not None and (want != inst.bgp or not inst.running()):
                log.info("%s: underlay.bgp changed or FRR stopped: (re)starting FRR", name)
                inst = FrrInstance.of_switch(switch, inst.namespace, inst.run_dir)
                inst.start()
                self.instances[name] = inst
            peers = inst.peers()
            for address in inst.follow_bfd(peers):
                log.info("%s: BGP %s Established: BFD on", name, address)
        except (FrrError, OSError, ValueError) as exc:
            if state.error != str(exc):
                log.warning("%s: BGP: %s", name, exc)
            state.error, state.running, state.peers = str(exc), False, []
            return
        was = {p.address: p.established for p in state.peers}
        for p in peers:
            if was.get(p.address) != p.established:  # Connect <-> Active: not news
                log.info(
                    "%s: BGP %s (AS %d): %s, %d prefixes received",
                    name,
                    p.address,
                    p.remote_asn,
                    p.state,
                    p.prefixes_received,
                )
        state.error, state.running, state.peers = "", True, peers

    async def follow(
        self,
        switch_of: Callable[[str], Switch | None],
        hosts: Callable[[], dict[str, str]] = dict,
        interval: float = POLL_S,
    ) -> None:
        """Poll every instance until cancelled; `switch_of(name)` is the current description,
        `hosts()` the running control-plane hosts (`sync`)."""
        while True:
            await asyncio.to_thread(self.sync, switch_of, hosts)
            for name in list(self.instances):
                await asyncio.to_thread(self._refresh, name, switch_of(name))
            await asyncio.sleep(interval)


def show_lines(switch: Switch, namespace: str) -> list[str]:
    """`nve show`: the switch's BGP sessions as its FRR reports them now."""
    if switch.underlay is None or switch.underlay.bgp is None:
        return []
    inst = FrrInstance.of_switch(switch, namespace)
    head = f"  bgp: AS {inst.bgp.asn}, FRR in {namespace} ({inst.run_dir})"
    try:
        peers = inst.peers()
    except (FrrError, OSError, ValueError) as exc:
        return [f"{head}: not answering: {exc}"]
    lines = [head]
    for p in peers:
        up = f", up {p.uptime_ms / 1000:.0f} s" if p.established else ""
        lines.append(
            f"  bgp: {p.address} AS {p.remote_asn} ({p.family}): {p.state},"
            f" {p.prefixes_received} prefixes received{up}"
        )
    return lines
