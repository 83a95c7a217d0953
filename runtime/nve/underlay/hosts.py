"""The control-plane hosts one controller runs: for each switch it drives whose description
has `underlay:`, the host (nve.underlay.host: namespace, TAPs, relay), the watch of its
kernel that feeds the switch's underlay tables (nve.underlay.watch) and, with
`underlay.bgp`, its FRR (nve.underlay.bgp_service).

`nve run` starts one for every selected switch and keeps them for its lifetime; a fleet
replica starts one when it takes a switch and stops it when it gives the switch up, so
that only the owner's kernel answers for the switch's addresses and only the owner's FRR
speaks for it (nve.fleet.replica). What the host's kernel sends leaves by packet-out, and
only while this controller is the switch's primary.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from nve.events import EventHandler
from nve.model import Switch
from nve.underlay.bgp_service import BgpService
from nve.underlay.frr import FrrError
from nve.underlay.frr_config import GR_RESTART_SECONDS
from nve.underlay.host import UnderlayHost
from nve.underlay.kernel import KernelView
from nve.underlay.netns import NetnsError
from nve.underlay.watch import watch_kernel

if TYPE_CHECKING:
    from nve.controller import Controller

log = logging.getLogger("nve.underlay")

# How long a starting host's switch keeps underlay entries its kernel cannot resolve yet:
# the time BGP's peers and zebra keep a restarting FRR's routes.
UNDERLAY_GRACE_SECONDS = GR_RESTART_SECONDS


class HostError(Exception):
    """A control-plane host that cannot start, naming the switch and why."""


class UnderlayHosts:
    def __init__(
        self,
        ctl: Controller,
        loop: asyncio.AbstractEventLoop,
        bgp: BgpService | None = None,
        on_view: Callable[[], None] = lambda: None,
    ) -> None:
        self.ctl = ctl
        self.loop = loop
        self.bgp = bgp
        self.on_view = on_view  # a kernel view changed: the switch needs a reconcile
        self._watches: dict[str, asyncio.Task[None]] = {}

    def _switch(self, name: str) -> Switch | None:
        return next((sw for sw in self.ctl.overlay.switches if sw.name == name), None)

    def _sender(self, name: str) -> Callable[[int, bytes], None]:
        def send(port: int, frame: bytes) -> None:  # on the relay's thread
            def out() -> None:
                session = self.ctl.sessions.get(name)
                if session is not None and session.client is not None and session.state.primary:
                    self.loop.create_task(EventHandler.packet_out(session, port, frame))

            self.loop.call_soon_threadsafe(out)

        return send

    def _follower(self, name: str) -> Callable[[KernelView], None]:
        def changed(view: KernelView) -> None:
            self.ctl.kernel_views[name] = view
            log.info(
                "%s: underlay host: %d resolved neighbours, %d routes",
                name,
                len(view.neighbours),
                len(view.routes),
            )
            self.on_view()

        return changed

    def start(self, name: str) -> bool:
        """Start the host of switch `name` if its description has `underlay:` (blocking: the
        namespace is set up with `ip`); whether it did. HostError if it cannot."""
        sw = self._switch(name)
        if sw is None or sw.underlay is None or name in self.ctl.underlay_hosts:
            return False
        try:
            host = UnderlayHost(sw, self._sender(name)).start()
            if self.bgp is not None and sw.underlay.bgp is not None:
                self.bgp.want(sw, host.namespace)  # started once the switch is ready
        except (NetnsError, FrrError) as exc:
            raise HostError(f"switch {name}: underlay: {exc}") from None
        # The switch keeps its underlay entries until the kernel's routes are resolved
        # again (Controller.underlay_held): as long as BGP's graceful restart keeps them.
        self.ctl.underlay_grace[name] = time.monotonic() + UNDERLAY_GRACE_SECONDS
        self.ctl.underlay_hosts[name] = host
        return True

    def watch(self, name: str) -> None:
        """Follow the kernel of switch `name`'s host (on the running loop)."""
        host = self.ctl.underlay_hosts.get(name)
        if host is not None and name not in self._watches:
            self._watches[name] = self.loop.create_task(
                watch_kernel(host.namespace, host.switch, self._follower(name)),
                name=f"kernel-{name}",
            )
            if name in self.ctl.underlay_grace:  # its end (by time) needs a reconcile too
                self.loop.call_later(UNDERLAY_GRACE_SECONDS + 0.5, self.on_view)

    async def stop(self, name: str, *, stop_frr: bool) -> None:
        """Stop relaying for switch `name` and following its kernel; with `stop_frr`, its
        FRR stops too (its sessions end: this controller no longer speaks for the switch;
        with graceful restart the peers keep its routes until the next owner's FRR is up).
        The namespace and its TAPs stay, for the next start on this machine."""
        task = self._watches.pop(name, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        host = self.ctl.underlay_hosts.pop(name, None)
        if host is not None:
            host.close()
        self.ctl.kernel_views.pop(name, None)
        self.ctl.underlay_grace.pop(name, None)
        if self.bgp is not None and name in self.bgp.wanted:
            try:
                # Given up to another controller, which starts it again: a graceful restart.
                await asyncio.to_thread(
                    self.bgp.forget, name, stop=stop_frr, graceful=True, why="switch given up"
                )
            except OSError as exc:
                log.warning("%s: BGP: stopping FRR: %s", name, exc)

    async def close(self) -> None:
        """Stop every host, leaving FRR running (a restart finds its sessions up)."""
        for name in list(self.ctl.underlay_hosts):
            await self.stop(name, stop_frr=False)

    async def follow_bgp(self) -> None:
        """Follow the FRR instances until cancelled (nothing to do without BGP)."""
        if self.bgp is None:
            await asyncio.Event().wait()
            return
        await self.bgp.follow(
            self._switch, lambda: {n: h.namespace for n, h in self.ctl.underlay_hosts.items()}
        )

    async def ready(self, name: str) -> None:
        """The switch is primary and reconciled: its FRR may start (or retry now)."""
        if self.bgp is not None:
            await asyncio.to_thread(self.bgp.ready, name)
